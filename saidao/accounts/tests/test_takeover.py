"""Nobody acts for another: the account takeover through a roster import, and its neighbours.

The chain reproduced on the demo: an officer of one subtree imports a roster row with the
number of somebody who is an officer elsewhere, reads their full phone, issues a reset code,
sets their password and signs in as them. Each link is closed on its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saidao.accounts.models import AccountNotice, Membership, MembershipInvitation, OneTimeCode
from saidao.accounts.services import password_reset_code_issue, roster_import
from saidao.accounts.tests.factories import (
    PASSWORD,
    MembershipFactory,
    UserFactory,
    api_token,
    bearer,
    roster_xlsx,
)
from saidao.conftest import Tree
from saidao.orgs.models import Organization, Role
from saidao.orgs.selectors import officer_paths
from saidao.orgs.services import role_accept, role_grant
from saidao.orgs.tests.factories import make_org

JSON = "application/json"


def _oilfield(tree: Tree) -> Organization:
    return make_org(
        tree.dongying, "胜利油田工会", level=Organization.Level.GRASSROOTS, region="370500"
    )


def _officer_elsewhere(client: Client, tree: Tree) -> tuple[Any, Organization]:
    """A user with no membership, appointed officer of 胜利油田工会 by the oilfield's officer
    (东营), who accepts the appointment."""
    oilfield = _oilfield(tree)
    victim = UserFactory.create(real_name="油田干部", phone="13700000001")
    owner_token = api_token(client, tree.other_officer)
    resp = client.post(
        f"/api/v1/orgs/{oilfield.pk}/roles",
        {"user_id": victim.pk, "kind": "officer"},
        content_type=JSON,
        headers=bearer(owner_token),
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["accepted"] is False  # not a member there: the appointee is asked
    victim_token = api_token(client, victim)
    role_id = resp.json()["id"]
    resp = client.post(
        f"/api/v1/me/role-invitations/{role_id}/accept", headers=bearer(victim_token)
    )
    assert resp.status_code == 200, resp.content
    return victim, oilfield


def test_the_takeover_chain_fails_at_its_first_step(client: Client, tree: Tree) -> None:
    """定西's officer imports the oilfield officer's number: the account is not made a member
    (only invited), so its phone cannot be read and no code can be issued for it."""
    victim, _oilfield_org = _officer_elsewhere(client, tree)
    token = api_token(client, tree.city_officer)
    f = roster_xlsx([["油田干部", victim.phone, "", ""]])
    resp = client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    assert resp.status_code == 201, resp.content
    assert resp.json()["created"] == 0
    assert resp.json()["invited"] == 1
    assert resp.json()["activation_codes"] == []
    assert not Membership.objects.filter(user=victim, left_at__isnull=True).exists()

    assert client.get(f"/api/v1/members/{victim.pk}", headers=bearer(token)).status_code == 404
    resp = client.post(f"/api/v1/members/{victim.pk}/one-time-code", headers=bearer(token))
    assert resp.status_code == 404
    assert not OneTimeCode.objects.filter(user=victim).exists()


def test_even_after_accepting_the_invitation_no_code_opens_an_officer_elsewhere(
    client: Client, tree: Tree
) -> None:
    """Should the oilfield officer accept 定西's invitation, they are a member of 定西's
    subtree but hold a role outside it: no reset code is issued for them."""
    victim, _oilfield_org = _officer_elsewhere(client, tree)
    roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["油田干部", victim.phone, "", ""]]),
    )
    invitation = MembershipInvitation.objects.get(user=victim)
    victim_token = api_token(client, victim)
    resp = client.post(
        f"/api/v1/me/invitations/{invitation.pk}/accept", headers=bearer(victim_token)
    )
    assert resp.status_code == 201, resp.content
    token = api_token(client, tree.city_officer)
    resp = client.post(f"/api/v1/members/{victim.pk}/one-time-code", headers=bearer(token))
    assert resp.status_code == 403, resp.content
    assert resp.json()["code"] == "code_not_allowed"
    assert not OneTimeCode.objects.filter(user=victim).exists()


def test_import_answers_never_tell_where_else_a_number_is_a_member(
    client: Client, tree: Tree
) -> None:
    """A number that is a member of 东营 is counted as invited, like any existing account:
    nothing in the answer names or hints at another organization."""
    token = api_token(client, tree.city_officer)
    elsewhere = tree.dongying_member.user
    f = roster_xlsx([["东营会员", elsewhere.phone, "", ""], ["新人", "13912345670", "", ""]])
    resp = client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["created"], body["invited"], body["unchanged"]) == (1, 1, 0)
    assert "其他" not in resp.content.decode()
    assert Membership.objects.get(user=elsewhere, left_at__isnull=True).organization == (
        tree.dongying
    )


def test_an_invitation_is_accepted_only_by_its_invitee(client: Client, tree: Tree) -> None:
    """Another account cannot accept somebody's invitation (404), and the invitee can decline."""
    someone = UserFactory.create()
    roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["某人", someone.phone, "", ""]]),
    )
    invitation = MembershipInvitation.objects.get(user=someone)
    stranger = api_token(client, tree.anding_member.user)
    resp = client.post(f"/api/v1/me/invitations/{invitation.pk}/accept", headers=bearer(stranger))
    assert resp.status_code == 404
    own = api_token(client, someone)
    listed = client.get("/api/v1/me/invitations", headers=bearer(own)).json()
    assert [i["organization_name"] for i in listed] == [tree.courier.name]
    resp = client.post(f"/api/v1/me/invitations/{invitation.pk}/decline", headers=bearer(own))
    assert resp.status_code == 204
    assert not Membership.objects.filter(user=someone).exists()


def test_an_appointment_of_an_outsider_grants_nothing_until_accepted(tree: Tree) -> None:
    """A role given to somebody outside the organization's subtree is pending: it puts nothing
    in their scope until they accept it themselves."""
    outsider = UserFactory.create()
    role = role_grant(
        actor=tree.city_officer, organization=tree.anding, user=outsider, kind="officer"
    )
    assert role.accepted_at is None
    assert officer_paths(user=outsider) == []
    assert AccountNotice.objects.filter(user=outsider, kind="role_invited").exists()
    role_accept(user=outsider, role=role)
    fresh = type(outsider).objects.get(pk=outsider.pk)
    assert officer_paths(user=fresh) == [tree.anding.path]


def test_an_appointment_of_a_member_of_the_subtree_holds_at_once(tree: Tree) -> None:
    """A current member of the organization's subtree needs no acceptance."""
    member = tree.anding_member.user
    role = role_grant(
        actor=tree.city_officer, organization=tree.anding, user=member, kind="officer"
    )
    assert role.accepted_at is not None
    assert officer_paths(user=member) == [tree.anding.path]


def test_nobody_accepts_an_appointment_for_another(client: Client, tree: Tree) -> None:
    """The accept endpoint finds only the caller's own appointments."""
    outsider = UserFactory.create()
    role = role_grant(
        actor=tree.city_officer, organization=tree.anding, user=outsider, kind="officer"
    )
    token = api_token(client, tree.city_officer)
    resp = client.post(f"/api/v1/me/role-invitations/{role.pk}/accept", headers=bearer(token))
    assert resp.status_code == 404
    role.refresh_from_db()
    assert role.accepted_at is None


def test_no_code_for_a_peer_or_a_superior(tree: Tree) -> None:
    """An officer cannot open the account of another officer of their own organization, nor of
    anybody holding a role above them; an officer below them is theirs to help."""
    from saidao.core.errors import SaidaoError

    peer = MembershipFactory.create(organization=tree.courier).user
    Role.objects.create(organization=tree.dingxi, user=peer, kind=Role.Kind.OFFICER)
    with pytest.raises(SaidaoError) as info:
        password_reset_code_issue(officer=tree.city_officer, member=peer)
    assert info.value.code == "code_not_allowed"

    superior = MembershipFactory.create(organization=tree.courier).user
    Role.objects.create(organization=tree.gansu, user=superior, kind=Role.Kind.REVIEWER)
    with pytest.raises(SaidaoError) as info:
        password_reset_code_issue(officer=tree.city_officer, member=superior)
    assert info.value.code == "code_not_allowed"

    below = MembershipFactory.create(organization=tree.courier).user
    Role.objects.create(organization=tree.anding, user=below, kind=Role.Kind.OFFICER)
    assert password_reset_code_issue(officer=tree.city_officer, member=below)


def test_an_unactivated_account_is_opened_only_by_the_subtree_that_created_it(
    tree: Tree,
) -> None:
    """东营 imports a new number; 定西 imports the same number later: 定西 only invites it, and
    cannot issue it a code (not found), while 东营 can."""
    from saidao.core.errors import SaidaoError

    result = roster_import(
        officer=tree.other_officer,
        organization=tree.dongying,
        file=roster_xlsx([["新工人", "13912345671", "", ""]]),
    )
    ((created, _code),) = result.created
    again = roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["新工人", "13912345671", "", ""]]),
    )
    assert (len(again.created), again.invited) == (0, 1)
    with pytest.raises(SaidaoError) as info:
        password_reset_code_issue(officer=tree.city_officer, member=created)
    assert info.value.code == "not_found"
    assert password_reset_code_issue(officer=tree.other_officer, member=created)


def test_every_code_issued_is_told_to_its_holder_at_the_next_sign_in(
    client: Client, tree: Tree
) -> None:
    """The code is audited and waits as a notice, which the next log-in returns once."""
    from saidao.core.models import AuditEntry

    member = tree.anding_member.user
    password_reset_code_issue(officer=tree.city_officer, member=member)
    assert AuditEntry.objects.filter(action="one_time_code.password_reset").exists()
    resp = client.post(
        "/api/v1/auth/login",
        {"phone": member.phone, "password": PASSWORD},
        content_type=JSON,
    )
    notices = resp.json()["notices"]
    assert [n["kind"] for n in notices] == ["code_issued"]
    assert tree.city_officer.real_name in notices[0]["message"]
    again = client.post(
        "/api/v1/auth/login",
        {"phone": member.phone, "password": PASSWORD},
        content_type=JSON,
    )
    assert again.json()["notices"] == []
