"""The pages: public verify, the worker's list, and the PNG/PDF downloads."""

from __future__ import annotations

from typing import Any

import pytest
import segno
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from saidao.accounts.tests.factories import UserFactory
from saidao.certificates import files, render
from saidao.certificates.models import Certificate
from saidao.certificates.services import certificate_revoke
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db


def test_verify_page_confirms_without_personal_data(client: Client, cert: Certificate) -> None:
    """Anyone with the code sees it is valid, the masked name, title and issuer, and nothing
    personal: no full name, no phone, no employer."""
    holder = cert.holder
    assert holder is not None
    resp = client.get(f"/certificates/verify/{cert.code}/")
    assert resp.status_code == 200
    page = resp.content.decode()
    assert 'data-status="valid"' in page
    assert "吴*" in page
    assert "吴小利" not in page
    assert holder.phone not in page
    assert holder.employer not in page
    assert cert.title in page
    assert "安定区总工会" in page
    assert resp["X-Robots-Tag"] == "noindex"


def test_verify_accepts_the_code_as_printed(client: Client, cert: Certificate) -> None:
    """The code typed with dashes and in lower case finds the same certificate."""
    printed = render.display_code(cert.code).lower()
    resp = client.get(f"/certificates/verify/{printed}/")
    assert resp.status_code == 200
    assert 'data-status="valid"' in resp.content.decode()


def test_verify_shows_a_revoked_certificate_as_revoked(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """After revocation the verify page says so plainly."""
    certificate_revoke(certificate=cert, actor=tree.city_officer, reason="成绩作废")
    page = client.get(f"/certificates/verify/{cert.code}/").content.decode()
    assert 'data-status="revoked"' in page
    assert "该证书已撤销" in page
    assert "成绩作废" not in page  # the reason is for the officers, not the public


def test_unknown_code_is_a_404_with_a_clear_message(client: Client) -> None:
    """An unknown code answers 404 with a message in the visitor's chosen language."""
    resp = client.get("/certificates/verify/ZZZZZZZZZZZZ/")
    assert resp.status_code == 404
    assert "未找到该证书" in resp.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    resp = client.get("/certificates/verify/ZZZZZZZZZZZZ/")
    assert resp.status_code == 404
    assert "Certificate not found" in resp.content.decode()


def test_lookup_form_sends_to_the_verify_page(client: Client, cert: Certificate) -> None:
    """The empty form shows; a typed code redirects to its verify page."""
    assert client.get("/certificates/verify/").status_code == 200
    resp = client.get("/certificates/verify/", {"code": f" {cert.code} "})
    assert resp.status_code == 302
    assert resp["Location"] == f"/certificates/verify/{cert.code}/"


def test_holder_and_officer_in_scope_download_others_get_404(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """The holder and 定西's officer (over 安定区) get the PNG and the PDF; another worker and
    东营's officer get 404; an anonymous visitor is sent to log in."""
    resp = client.get(f"/certificates/{cert.code}.png")
    assert resp.status_code == 302
    assert "/accounts/login" in resp["Location"]
    for user in (tree.anding_member.user, tree.city_officer, tree.national_officer):
        client.force_login(user)
        png = client.get(f"/certificates/{cert.code}.png")
        assert png.status_code == 200, user
        assert png["Content-Type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")
        pdf = client.get(f"/certificates/{cert.code}.pdf")
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    for user in (tree.dongying_member.user, tree.other_officer, UserFactory.create()):
        client.force_login(user)
        assert client.get(f"/certificates/{cert.code}.png").status_code == 404
        assert client.get(f"/certificates/{cert.code}.pdf").status_code == 404


def test_download_link_attaches_and_the_file_is_cached(
    client: Client, cert: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?download=1 sends the PNG as an attachment; the second request reads the stored file
    instead of drawing again; a revoke draws anew."""
    calls: list[str] = []
    original = render.certificate_png

    def counting(certificate: Certificate, **kwargs: Any) -> bytes:
        calls.append(certificate.code)
        return original(certificate, **kwargs)

    monkeypatch.setitem(files._RENDERERS, "png", counting)
    client.force_login(cert.holder)  # type: ignore[arg-type]
    first = client.get(f"/certificates/{cert.code}.png", {"download": "1"})
    assert first["Content-Disposition"].startswith("attachment;")
    second = client.get(f"/certificates/{cert.code}.png")
    assert second["Content-Disposition"].startswith("inline;")
    assert first.content == second.content
    assert len(calls) == 1


def test_qr_points_at_the_absolute_verify_url(
    client: Client, cert: Certificate, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The QR code encodes the verify page on the public address when one is set, else on the
    request's host."""
    seen: list[str] = []
    make = segno.make

    def spy(content: str, **kwargs: Any) -> Any:
        seen.append(content)
        return make(content, **kwargs)

    monkeypatch.setattr(segno, "make", spy)
    client.force_login(cert.holder)  # type: ignore[arg-type]
    client.get(f"/certificates/{cert.code}.png")
    assert seen == [f"http://testserver/certificates/verify/{cert.code}/"]
    settings.SAIDAO_PUBLIC_URL = "https://saidao.example.cn/"
    client.get(f"/certificates/{cert.code}.pdf")
    assert seen[-1] == f"https://saidao.example.cn/certificates/verify/{cert.code}/"


@pytest.mark.parametrize("n", [1, 8])
def test_my_certificates_lists_mine_only_in_fixed_queries(
    client: Client, tree: Tree, n: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The worker's page lists their own certificates with PNG, PDF and verify links, in the
    same number of queries for 1 or 8 certificates; others' certificates are not there."""
    worker = tree.anding_member.user
    for i in range(n):
        issue(holder=worker, issuer=tree.anding, source=f"mine:{i}", title=f"标兵{i}")
    other = issue(holder=tree.dongying_member.user, issuer=tree.dongying, source="theirs")
    client.force_login(worker)
    with django_assert_num_queries(4):
        resp = client.get("/certificates/mine/")
    page = resp.content.decode()
    assert page.count('data-testid="certificate"') == n
    mine = Certificate.objects.filter(holder=worker).first()
    assert mine is not None
    assert f"/certificates/{mine.code}.png" in page
    assert f"/certificates/{mine.code}.pdf" in page
    assert other.code not in page


def test_my_certificates_needs_login(client: Client) -> None:
    """Anonymous visitors are sent to log in."""
    resp = client.get("/certificates/mine/")
    assert resp.status_code == 302


def test_a_revoke_removes_the_cached_drawings(
    client: Client, tree: Tree, cert: Certificate, django_capture_on_commit_callbacks: Any
) -> None:
    """Files drawn while the certificate was valid are deleted once it is revoked, and the next
    download draws the revoked one."""
    from django.core.files.storage import default_storage

    client.force_login(tree.city_officer)
    valid = client.get(f"/certificates/{cert.code}.png").content
    client.get(f"/certificates/{cert.code}.pdf")
    assert len(default_storage.listdir(f"certificates/{cert.code}")[1]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        certificate_revoke(certificate=cert, actor=tree.city_officer, reason="作废")
    assert default_storage.listdir(f"certificates/{cert.code}")[1] == []
    assert client.get(f"/certificates/{cert.code}.png").content != valid
