"""Certificates in the scoped admin: officers see their subtree's, and revoke with a reason."""

from __future__ import annotations

import pytest
from django.test import Client

from saidao.certificates.models import Certificate
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree
from saidao.core.models import AuditEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/certificates/certificate/"


def test_officers_see_only_certificates_issued_in_their_subtree(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """定西's officer sees 安定区's certificate, not 东营's; 东营's officer the reverse; a worker
    is kept out of the admin."""
    theirs = issue(holder=None, issuer=tree.dongying, source="dongying:1", holder_name="李明")
    client.force_login(tree.city_officer)
    resp = client.get(CHANGELIST)
    assert resp.status_code == 200
    assert [c.code for c in resp.context["cl"].result_list] == [cert.code]
    assert client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code in (302, 403, 404)
    assert client.get(f"{CHANGELIST}{cert.pk}/change/").status_code == 200
    client.force_login(tree.other_officer)
    assert [c.code for c in client.get(CHANGELIST).context["cl"].result_list] == [theirs.code]
    client.force_login(tree.anding_member.user)
    assert client.get(CHANGELIST).status_code == 302


def test_revoke_action_asks_for_a_reason_then_revokes_and_audits(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """The action first shows the reason form; submitted with a reason it revokes through the
    service, which writes the audit entry."""
    client.force_login(tree.city_officer)
    form = {"action": "revoke", "_selected_action": [str(cert.pk)]}
    resp = client.post(CHANGELIST, form)
    assert resp.status_code == 200
    assert "revoke-reason" in resp.content.decode()
    cert.refresh_from_db()
    assert not cert.is_revoked
    resp = client.post(CHANGELIST, {**form, "apply": "1", "reason": "成绩作废"})
    assert resp.status_code == 302
    cert.refresh_from_db()
    assert cert.is_revoked
    assert cert.revoked_by == tree.city_officer
    assert AuditEntry.objects.filter(action="certificate.revoke", target_id=str(cert.pk)).exists()


def test_nobody_adds_or_edits_certificates_in_the_admin(
    client: Client, tree: Tree, cert: Certificate
) -> None:
    """Certificates come from the services only: no add page, and the fields are read-only."""
    client.force_login(tree.city_officer)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    client.post(f"{CHANGELIST}{cert.pk}/change/", {"holder_name": "别人"})
    cert.refresh_from_db()
    assert cert.holder_name == "吴小利"
