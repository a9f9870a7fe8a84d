from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import models

from saidao.certificates import services
from saidao.certificates.errors import CertificateAlreadyRevoked
from saidao.certificates.models import Certificate
from saidao.certificates.services import (
    CODE_ALPHABET,
    CODE_LENGTH,
    certificate_revoke,
    normalize_code,
)
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_issue_is_idempotent_on_source(tree: Tree) -> None:
    """A second issue with the same source returns the first certificate unchanged."""
    worker = tree.anding_member.user
    first = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:1")
    again = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:1", title="别的")
    assert again.pk == first.pk
    assert again.title == first.title
    assert Certificate.objects.count() == 1
    other = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:2")
    assert other.code != first.code


def test_code_is_crockford_base32_and_reads_back_loosely(tree: Tree) -> None:
    """Codes are 12 Crockford characters; lower case, dashes and O/I/L typed for 0/1 still match."""
    cert = issue(holder=None, issuer=tree.anding)
    assert len(cert.code) == CODE_LENGTH
    assert set(cert.code) <= set(CODE_ALPHABET)
    typed = "-".join([cert.code[:4], cert.code[4:8], cert.code[8:]]).lower()
    assert normalize_code(typed.replace("0", "o").replace("1", "l")) == cert.code


def test_revoke_is_audited_and_happens_once(tree: Tree, cert: Certificate) -> None:
    """An officer over the issuer revokes with a reason; the audit keeps it; twice is a conflict."""
    revoked = certificate_revoke(certificate=cert, actor=tree.city_officer, reason="成绩作废")
    assert revoked.is_revoked
    assert revoked.revoked_by == tree.city_officer
    assert revoked.revoked_reason == "成绩作废"
    entry = AuditEntry.objects.get(action="certificate.revoke")
    assert entry.target_id == str(cert.pk)
    assert entry.data["reason"] == "成绩作废"
    with pytest.raises(CertificateAlreadyRevoked):
        certificate_revoke(certificate=cert, actor=tree.city_officer, reason="再撤一次")


def test_revoke_needs_scope_and_a_reason(tree: Tree, cert: Certificate) -> None:
    """An officer outside the issuer's subtree, or the holder, cannot revoke; a blank reason
    is refused."""
    with pytest.raises(OutsideScope):
        certificate_revoke(certificate=cert, actor=tree.other_officer, reason="x")
    with pytest.raises(OutsideScope):
        certificate_revoke(certificate=cert, actor=tree.anding_member.user, reason="x")
    with pytest.raises(InvalidInput):
        certificate_revoke(certificate=cert, actor=tree.city_officer, reason="  ")
    cert.refresh_from_db()
    assert not cert.is_revoked


def test_issue_refuses_an_unknown_kind_or_a_blank_name(tree: Tree) -> None:
    """The kind must be one of the choices and the printed name cannot be blank."""
    with pytest.raises(InvalidInput):
        issue(holder=None, issuer=tree.anding, kind="medal")
    with pytest.raises(InvalidInput):
        issue(holder=None, issuer=tree.anding, holder_name=" ")


def test_certificate_outlives_its_holders_account() -> None:
    """The holder's account going away leaves the certificate (and its printed name) in place:
    the foreign key sets null rather than cascading."""
    field = Certificate._meta.get_field("holder")
    assert field.remote_field.on_delete is models.SET_NULL
    assert Certificate._meta.get_field("issuer").remote_field.on_delete is models.PROTECT


def test_erasing_the_holders_account_masks_the_printed_name(
    tree: Tree, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker who erases their account (PIPL) leaves the issuer's record with the name masked
    as the verify page shows it, no link to the account, and no cached drawing with the name."""
    from saidao.accounts.services import user_delete
    from saidao.certificates.files import certificate_file

    worker = tree.anding_member.user
    cert = issue(holder=worker, issuer=tree.dingxi, holder_name="吴小利")
    other = issue(holder=tree.dongying_member.user, issuer=tree.dongying, source="test:2")
    certificate_file(cert, ext="png", verify_url="https://example.test/v")
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=worker)
    cert.refresh_from_db()
    assert (cert.holder_id, cert.holder_name) == (None, "吴*")
    assert default_storage.listdir(f"certificates/{cert.code}")[1] == []
    other.refresh_from_db()
    assert other.holder_id == tree.dongying_member.user_id


def test_a_colliding_code_is_drawn_again(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a fresh code already exist, issuing draws another instead of failing."""
    first = issue(holder=None, issuer=tree.anding, source="a")
    codes = iter([first.code, "ZZZZZZZZZZZZ"])
    monkeypatch.setattr(services, "new_code", lambda: next(codes))
    second = issue(holder=None, issuer=tree.anding, source="b")
    assert second.code == "ZZZZZZZZZZZZ"
    assert Certificate.objects.count() == 2
