"""The certificates API under /api/v1."""

from __future__ import annotations

import pytest
from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.certificates.models import Certificate
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db


def test_mine_lists_the_callers_certificates_with_links(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """GET /certificates/mine returns the holder's certificates with absolute PNG, PDF and
    verify links; another worker gets an empty list."""
    resp = client.get("/api/v1/certificates/mine", headers=login_headers(client, cert.holder))  # type: ignore[arg-type]
    assert resp.status_code == 200
    [row] = resp.json()
    assert row["code"] == cert.code
    assert row["holder_name"] == "吴小利"
    assert row["details"] == [["指标", "降含水 3.2 个百分点"]]
    assert row["revoked"] is False
    assert row["png_url"] == f"http://testserver/certificates/{cert.code}.png"
    assert row["verify_url"] == f"http://testserver/certificates/verify/{cert.code}/"
    other = login_headers(client, tree.dongying_member.user)
    assert client.get("/api/v1/certificates/mine", headers=other).json() == []


def test_mine_needs_authentication(client: Client) -> None:
    """Without a token the list is refused with 401."""
    assert client.get("/api/v1/certificates/mine").status_code == 401


def test_verify_is_public_and_shows_no_personal_data(client: Client, cert: Certificate) -> None:
    """Anyone may verify a code: status, masked name, title, issuer; nothing else."""
    resp = client.get(f"/api/v1/certificates/verify/{cert.code.lower()}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "valid"
    assert body["holder"] == "吴*"
    assert body["issuer"] == "安定区总工会"
    assert set(body) == {
        "code",
        "status",
        "holder",
        "title",
        "event_name",
        "issuer",
        "issued_on",
        "revoked_at",
    }
    text = resp.content.decode()
    assert "吴小利" not in text
    assert cert.holder.phone not in text  # type: ignore[union-attr]


def test_verify_unknown_code_is_404_with_a_code(client: Client) -> None:
    """An unknown code is a 404 domain error."""
    resp = client.get("/api/v1/certificates/verify/NOPE")
    assert resp.status_code == 404
    assert resp.json()["code"] == "certificate_not_found"


def test_files_for_holder_and_officer_in_scope_only(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """The PNG and PDF come to the holder and to 定西's officer; others get 404."""
    for user in (cert.holder, tree.city_officer):
        headers = login_headers(client, user)  # type: ignore[arg-type]
        png = client.get(f"/api/v1/certificates/{cert.code}.png", headers=headers)
        assert png.status_code == 200
        assert png["Content-Type"] == "image/png"
        pdf = client.get(f"/api/v1/certificates/{cert.code}.pdf", headers=headers)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
    for user in (tree.dongying_member.user, tree.other_officer):
        headers = login_headers(client, user)
        resp = client.get(f"/api/v1/certificates/{cert.code}.png", headers=headers)
        assert resp.status_code == 404
        assert resp.json()["code"] == "certificate_not_found"
        assert (
            client.get(f"/api/v1/certificates/{cert.code}.pdf", headers=headers).status_code == 404
        )


def test_revoke_through_the_api(client: Client, tree: Tree, cert: Certificate) -> None:
    """The officer over the issuer revokes with a reason; the holder may not (403); an officer
    elsewhere does not even see it (404); verify then says revoked."""
    url = f"/api/v1/certificates/{cert.code}/revoke"
    holder = login_headers(client, cert.holder)  # type: ignore[arg-type]
    assert (
        client.post(
            url, {"reason": "x"}, content_type="application/json", headers=holder
        ).status_code
        == 403
    )
    other = login_headers(client, tree.other_officer)
    assert (
        client.post(
            url, {"reason": "x"}, content_type="application/json", headers=other
        ).status_code
        == 404
    )
    officer = login_headers(client, tree.city_officer)
    resp = client.post(
        url, {"reason": "成绩作废"}, content_type="application/json", headers=officer
    )
    assert resp.status_code == 200
    assert resp.json()["revoked"] is True
    again = client.post(url, {"reason": "again"}, content_type="application/json", headers=officer)
    assert again.status_code == 409
    assert client.get(f"/api/v1/certificates/verify/{cert.code}").json()["status"] == "revoked"
