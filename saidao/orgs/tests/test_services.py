"""Writes to the organization tree: creation, registration and its decision, moves, roles
and invite codes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import translation
from django.utils.functional import Promise

from saidao.accounts.models import User
from saidao.accounts.tests.factories import UserFactory
from saidao.conftest import Tree
from saidao.core import clock
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.models import AuditEntry
from saidao.orgs import selectors, services
from saidao.orgs.errors import (
    AlreadyDecided,
    InviteCodeExpired,
    InviteCodeRevoked,
    ParentNotApproved,
    TreeCycle,
)
from saidao.orgs.models import PATH_STEP, InviteCode, Organization, Role
from saidao.orgs.tests.factories import InviteCodeFactory, make_org, valid_credit_code
from saidao.orgs.tests.helpers import apply

L = Organization.Level
S = Organization.Status


def _fresh(user: Any) -> User:
    """The user re-read, so the per-request cache of role paths is empty."""
    return User.objects.get(pk=user.pk)


def _tree_rows() -> list[tuple[Any, ...]]:
    return list(Organization.objects.order_by("pk").values_list("pk", "parent_id", "path", "depth"))


def _audit(action: str, target: Any) -> AuditEntry:
    return AuditEntry.objects.get(
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk)
    )


# --- the tree's paths -------------------------------------------------------------------


def test_paths_extend_the_parent_path_by_one_segment(tree: Tree) -> None:
    """Each organization's path is its parent's path plus one fixed-width segment, and its
    depth is one more than its parent's."""
    for org in Organization.objects.exclude(parent=None).select_related("parent"):
        assert org.parent is not None
        assert org.path.startswith(org.parent.path)
        assert len(org.path) == len(org.parent.path) + PATH_STEP
        assert org.depth == org.parent.depth + 1
    assert tree.national.depth == 0 and len(tree.national.path) == PATH_STEP


def test_siblings_get_distinct_increasing_paths(tree: Tree) -> None:
    """Children created one after another get distinct paths in creation order."""
    a = make_org(tree.tongwei, "通渭县甲工会")
    b = make_org(tree.tongwei, "通渭县乙工会")
    assert tree.tongwei.path < a.path < b.path
    assert a.path[:-PATH_STEP] == b.path[:-PATH_STEP] == tree.tongwei.path


def test_a_second_root_is_refused(tree: Tree) -> None:
    """There is only one national root; creating another root raises InvalidInput."""
    with pytest.raises(InvalidInput) as info:
        make_org(None, "另一个全总")
    assert "根组织" in str(info.value.message)
    assert Organization.objects.filter(parent=None).count() == 1


# --- registration ----------------------------------------------------------------------


def test_apply_under_an_approved_parent_is_pending(tree: Tree) -> None:
    """An application under an approved parent is stored pending, below the parent, with the
    applicant recorded and an audit entry written; the applicant is not yet an officer."""
    applicant = UserFactory.create()
    org = apply(applicant, tree.anding, "  安定区某快递公司工会  ")
    assert org.status == S.PENDING
    assert org.name == "安定区某快递公司工会"
    assert org.parent_id == tree.anding.pk
    assert org.path.startswith(tree.anding.path) and org.depth == tree.anding.depth + 1
    assert org.applied_by_id == applicant.pk
    assert _audit("organization.apply", org).actor_id == applicant.pk
    assert not Role.objects.filter(user=applicant).exists()


@pytest.mark.parametrize("status", [S.PENDING, S.REJECTED])
def test_apply_under_an_unapproved_parent_is_refused(tree: Tree, status: str) -> None:
    """A parent that is pending or rejected cannot take applications: ParentNotApproved."""
    parent = apply(UserFactory.create(), tree.anding, "待批的上级", level=L.TOWNSHIP)
    if status == S.REJECTED:
        services.organization_reject(
            officer=tree.city_officer, organization=parent, reason="材料不全"
        )
    count = Organization.objects.count()
    with pytest.raises(ParentNotApproved) as info:
        apply(UserFactory.create(), Organization.objects.get(pk=parent.pk))
    assert info.value.code == "parent_not_approved"
    assert info.value.detail == {"parent": parent.pk}
    assert Organization.objects.count() == count


@pytest.mark.parametrize(
    "credit_code", ["91350100M000100Y44", "123", "91350100M000100YI3", "ABCDEFGHJKLMNPQRTU"]
)
def test_apply_with_an_invalid_credit_code_names_the_field(tree: Tree, credit_code: str) -> None:
    """A bad credit code raises InvalidInput whose detail points at the credit_code field."""
    with pytest.raises(InvalidInput) as info:
        apply(UserFactory.create(), tree.anding, credit_code=credit_code)
    fields = info.value.detail["fields"]
    assert list(fields) == ["credit_code"]
    assert fields["credit_code"] and all(isinstance(m, str) for m in fields["credit_code"])


def test_apply_with_a_registered_credit_code_is_refused(tree: Tree) -> None:
    """A credit code already used by an organization is refused, whatever its case or spacing."""
    taken = tree.courier.credit_code
    for variant in (taken, taken.lower(), f" {taken[:9]} {taken[9:]} "):
        with pytest.raises(InvalidInput) as info:
            apply(UserFactory.create(), tree.anding, credit_code=variant)
        assert info.value.detail["fields"]["credit_code"] == ["该统一社会信用代码已登记过组织。"]


def test_apply_stores_the_normalized_credit_code(tree: Tree) -> None:
    """A credit code typed in lower case with spaces is stored normalized."""
    code = valid_credit_code("621102")
    org = apply(UserFactory.create(), tree.anding, credit_code=f" {code[:6]} {code[6:].lower()}")
    assert org.credit_code == code


@pytest.mark.parametrize("level", [L.NATIONAL, L.PROVINCIAL, L.CITY])
def test_apply_at_a_level_above_the_parent_is_refused(tree: Tree, level: str) -> None:
    """Under a county federation an applicant cannot register a city, provincial or national
    organization; the error is on the level field and names the parent's level."""
    with pytest.raises(InvalidInput) as info:
        apply(UserFactory.create(), tree.anding, level=level)
    assert info.value.detail["fields"]["level"] == ["组织层级不能高于上级工会（县级）。"]


@pytest.mark.parametrize("level", [L.COUNTY, L.TOWNSHIP, L.GRASSROOTS])
def test_apply_at_the_parent_level_or_below_is_accepted(tree: Tree, level: str) -> None:
    """The same level as the parent (e.g. an industry federation) or any lower level is fine."""
    assert apply(UserFactory.create(), tree.anding, level=level).level == level


def test_apply_reports_every_bad_field_at_once(tree: Tree) -> None:
    """Blank name, contact and phone, an unknown kind and level are all reported together."""
    with pytest.raises(InvalidInput) as info:
        services.organization_apply(
            applicant=UserFactory.create(),
            parent=tree.anding,
            name=" ",
            level="planet",
            kind="club",
            region=tree.anding.region,
            credit_code="bad",
            contact_name="",
            contact_phone=" ",
        )
    assert set(info.value.detail["fields"]) == {
        "name",
        "level",
        "kind",
        "credit_code",
        "contact_name",
        "contact_phone",
    }


# --- approval and rejection ------------------------------------------------------------


@pytest.mark.parametrize("approver", ["parent", "city", "national"])
def test_an_officer_of_the_parent_or_any_ancestor_approves(tree: Tree, approver: str) -> None:
    """An officer of 安定区 (the parent), 定西市 or 全总 (ancestors) may approve; the applicant
    becomes the organization's officer, and the decision is recorded and audited."""
    if approver == "parent":
        officer = UserFactory.create()
        Role.objects.create(organization=tree.anding, user=officer, kind=Role.Kind.OFFICER)
    else:
        officer = tree.city_officer if approver == "city" else tree.national_officer
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    org = services.organization_approve(officer=_fresh(officer), organization=pending)
    org.refresh_from_db()
    assert org.status == S.APPROVED
    assert org.decided_by_id == officer.pk and org.decided_at is not None
    role = Role.objects.get(organization=org, user=applicant)
    assert (role.kind, role.granted_by_id) == (Role.Kind.OFFICER, officer.pk)
    assert selectors.officer_paths(user=_fresh(applicant)) == [org.path]
    assert _audit("organization.approve", org).actor_id == officer.pk


def test_an_officer_elsewhere_cannot_approve(tree: Tree) -> None:
    """东营's officer cannot approve an application under 安定区: OutsideScope, no change."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    with pytest.raises(OutsideScope):
        services.organization_approve(officer=tree.other_officer, organization=pending)
    pending.refresh_from_db()
    assert pending.status == S.PENDING and pending.decided_by_id is None
    assert not Role.objects.filter(user=applicant).exists()
    assert not AuditEntry.objects.filter(action="organization.approve").exists()


def test_an_officer_of_a_sibling_cannot_approve(tree: Tree) -> None:
    """An officer of 通渭县 (a sibling of 安定区) cannot decide applications under 安定区."""
    tongwei_officer = UserFactory.create()
    Role.objects.create(organization=tree.tongwei, user=tongwei_officer, kind=Role.Kind.OFFICER)
    pending = apply(UserFactory.create(), tree.anding)
    with pytest.raises(OutsideScope):
        services.organization_approve(officer=tongwei_officer, organization=pending)


def test_a_worker_and_the_applicant_cannot_approve(tree: Tree) -> None:
    """Neither a plain member nor the applicant may approve the application."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    for user in (tree.anding_member.user, applicant):
        with pytest.raises(OutsideScope):
            services.organization_approve(officer=user, organization=pending)
    pending.refresh_from_db()
    assert pending.status == S.PENDING


def test_approving_twice_is_already_decided(tree: Tree) -> None:
    """A second decision on an approved application raises AlreadyDecided (a 409 conflict)."""
    pending = apply(UserFactory.create(), tree.anding)
    services.organization_approve(officer=tree.city_officer, organization=pending)
    with pytest.raises(AlreadyDecided) as info:
        services.organization_approve(officer=tree.national_officer, organization=pending)
    assert info.value.status == 409
    with pytest.raises(AlreadyDecided):
        services.organization_reject(officer=tree.city_officer, organization=pending, reason="迟")
    pending.refresh_from_db()
    assert pending.status == S.APPROVED and pending.decided_by_id == tree.city_officer.pk


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_rejecting_needs_a_reason(tree: Tree, reason: str) -> None:
    """An empty or blank reason is refused on the reason field; the application stays pending."""
    pending = apply(UserFactory.create(), tree.anding)
    with pytest.raises(InvalidInput) as info:
        services.organization_reject(officer=tree.city_officer, organization=pending, reason=reason)
    assert list(info.value.detail["fields"]) == ["reason"]
    pending.refresh_from_db()
    assert pending.status == S.PENDING


def test_rejecting_stores_the_reason_for_the_applicant(tree: Tree) -> None:
    """A rejection stores the trimmed reason, grants no role, and shows in the applicant's
    own applications."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    services.organization_reject(
        officer=tree.city_officer, organization=pending, reason="  营业执照不清晰，请重新上传。 "
    )
    org = selectors.applications_of_user(user=applicant).get()
    assert org.status == S.REJECTED
    assert org.rejection_reason == "营业执照不清晰，请重新上传。"
    assert org.decided_by_id == tree.city_officer.pk
    assert not Role.objects.filter(user=applicant).exists()
    assert _audit("organization.reject", org).data["reason"].strip() == org.rejection_reason


def test_rejecting_outside_scope_is_refused(tree: Tree) -> None:
    """东营's officer cannot reject an application under 安定区."""
    pending = apply(UserFactory.create(), tree.anding)
    with pytest.raises(OutsideScope):
        services.organization_reject(
            officer=tree.other_officer, organization=pending, reason="不归我管"
        )
    pending.refresh_from_db()
    assert (pending.status, pending.rejection_reason) == (S.PENDING, "")


def test_deciding_the_root_is_outside_everyones_scope(tree: Tree) -> None:
    """The root has no parent, so no officer can decide it (it is never an application)."""
    with pytest.raises(OutsideScope):
        services.organization_approve(officer=tree.national_officer, organization=tree.national)


# --- moves -----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["dingxi", "anding", "courier", "tongwei"])
def test_moving_under_itself_or_a_descendant_is_a_cycle(tree: Tree, target: str) -> None:
    """Moving 定西市 under itself or anything below it raises TreeCycle and changes nothing."""
    before = _tree_rows()
    with pytest.raises(TreeCycle) as info:
        services.organization_move(
            actor=tree.national_officer, organization=tree.dingxi, new_parent=getattr(tree, target)
        )
    assert info.value.code == "tree_cycle"
    assert _tree_rows() == before
    assert not AuditEntry.objects.filter(action="organization.move").exists()


def test_a_move_rewrites_paths_and_depths_of_the_whole_subtree(tree: Tree) -> None:
    """Moving 安定区 (with its courier federation) from 定西市 up under 甘肃省 re-parents it and
    rewrites both rows' paths and depths; the rest of the tree is untouched."""
    others = [r for r in _tree_rows() if r[0] not in (tree.anding.pk, tree.courier.pk)]
    moved = services.organization_move(
        actor=tree.national_officer, organization=tree.anding, new_parent=tree.gansu
    )
    courier = Organization.objects.get(pk=tree.courier.pk)
    assert moved.parent_id == tree.gansu.pk
    assert moved.path.startswith(tree.gansu.path) and len(moved.path) == 3 * PATH_STEP
    assert moved.depth == 2
    assert courier.parent_id == moved.pk
    assert courier.path == moved.path + tree.courier.path[-PATH_STEP:]
    assert courier.depth == 3
    others_after = [r for r in _tree_rows() if r[0] not in (tree.anding.pk, tree.courier.pk)]
    assert others_after == others
    assert [o.name for o in selectors.organization_subtree(organization=tree.dingxi)] == [
        "定西市总工会",
        "通渭县总工会",
    ]
    assert [o.name for o in selectors.organization_ancestors(organization=courier)] == [
        "中华全国总工会",
        "甘肃省总工会",
        "安定区总工会",
    ]
    entry = _audit("organization.move", moved)
    assert entry.data == {
        "from": tree.anding.path,
        "to": moved.path,
        "new_parent": tree.gansu.pk,
    }


def test_a_move_down_increases_depths(tree: Tree) -> None:
    """Moving 通渭县 under 安定区 puts it one level deeper, and its own children follow."""
    child = make_org(tree.tongwei, "通渭县某乡镇工会", level=L.TOWNSHIP, region="621121")
    services.organization_move(
        actor=tree.city_officer, organization=tree.tongwei, new_parent=tree.anding
    )
    tongwei = Organization.objects.get(pk=tree.tongwei.pk)
    child.refresh_from_db()
    assert (tongwei.depth, child.depth) == (4, 5)
    assert child.path.startswith(tongwei.path) and tongwei.path.startswith(tree.anding.path)


def test_a_moved_subtree_does_not_collide_with_later_siblings(tree: Tree) -> None:
    """After a move the new parent's next child gets a fresh path, distinct from the moved one."""
    moved = services.organization_move(
        actor=tree.national_officer, organization=tree.anding, new_parent=tree.gansu
    )
    newcomer = make_org(tree.gansu, "甘肃省某产业工会", level=L.PROVINCIAL, region="620000")
    assert newcomer.path != moved.path
    assert not newcomer.path.startswith(moved.path)


def test_moving_to_the_current_parent_changes_nothing(tree: Tree) -> None:
    """A move to the organization's own parent is a no-op."""
    before = _tree_rows()
    services.organization_move(
        actor=tree.city_officer, organization=tree.anding, new_parent=tree.dingxi
    )
    assert _tree_rows() == before


def test_an_officer_outside_scope_cannot_move(tree: Tree) -> None:
    """东营's officer cannot move 安定区, and 定西's officer cannot move 安定区 under 东营
    (the target is outside scope); nothing changes."""
    before = _tree_rows()
    with pytest.raises(OutsideScope):
        services.organization_move(
            actor=tree.other_officer, organization=tree.anding, new_parent=tree.dongying
        )
    with pytest.raises(OutsideScope):
        services.organization_move(
            actor=tree.city_officer, organization=tree.anding, new_parent=tree.dongying
        )
    with pytest.raises(OutsideScope):
        services.organization_move(
            actor=tree.city_officer, organization=tree.dongying, new_parent=tree.dingxi
        )
    assert _tree_rows() == before


def test_moving_under_a_pending_organization_is_refused(tree: Tree) -> None:
    """An organization cannot be moved under an application that is still pending."""
    pending = apply(UserFactory.create(), tree.tongwei, level=L.TOWNSHIP, region="621121")
    before = _tree_rows()
    with pytest.raises(ParentNotApproved):
        services.organization_move(
            actor=tree.city_officer, organization=tree.courier, new_parent=pending
        )
    assert _tree_rows() == before


def test_the_root_cannot_move(tree: Tree) -> None:
    """The national root has no place to move to."""
    with pytest.raises(InvalidInput):
        services.organization_move(
            actor=tree.national_officer, organization=tree.national, new_parent=tree.gansu
        )


# --- roles -----------------------------------------------------------------------------


def test_an_officer_grants_roles_inside_scope_only(tree: Tree) -> None:
    """定西's officer appoints a member of 安定区's subtree as reviewer in 安定区 (held at once,
    audited) but appoints nobody in 东营."""
    user = tree.anding_member.user
    role = services.role_grant(
        actor=tree.city_officer, organization=tree.anding, user=user, kind=Role.Kind.REVIEWER
    )
    assert (role.organization_id, role.granted_by_id) == (tree.anding.pk, tree.city_officer.pk)
    assert role.accepted_at is not None
    assert _audit("role.grant", role).data == {"kind": "reviewer"}
    assert selectors.role_paths(user=_fresh(user), kinds=(Role.Kind.REVIEWER,)) == [
        tree.anding.path
    ]
    with pytest.raises(OutsideScope):
        services.role_grant(
            actor=tree.city_officer, organization=tree.dongying, user=user, kind="reviewer"
        )
    with pytest.raises(InvalidInput):
        services.role_grant(actor=tree.city_officer, organization=tree.anding, user=user, kind="x")


def test_appointing_an_outsider_waits_for_their_acceptance(tree: Tree) -> None:
    """Somebody who is not a current member of the organization's subtree (here a member of
    东营) gets a pending role, audited as an invitation, that grants nothing until they
    accept it themselves."""
    user = tree.dongying_member.user
    role = services.role_grant(
        actor=tree.city_officer, organization=tree.anding, user=user, kind=Role.Kind.OFFICER
    )
    assert role.accepted_at is None
    assert _audit("role.invite", role).data == {"kind": "officer"}
    assert not AuditEntry.objects.filter(action="role.grant").exists()
    assert selectors.officer_paths(user=_fresh(user)) == []
    assert list(selectors.role_invitations_pending(user=user)) == [role]

    with pytest.raises(NotFound):  # nobody accepts for another
        services.role_accept(user=tree.city_officer, role=role)
    accepted = services.role_accept(user=user, role=role)
    assert accepted.accepted_at is not None
    assert _audit("role.accept", role).actor_id == user.pk
    assert selectors.officer_paths(user=_fresh(user)) == [tree.anding.path]
    assert list(selectors.role_invitations_pending(user=user)) == []


def test_an_outsider_may_decline_an_appointment(tree: Tree) -> None:
    """Declining a pending role removes it (audited); it never granted anything."""
    user = UserFactory.create()
    role = services.role_grant(
        actor=tree.city_officer, organization=tree.anding, user=user, kind=Role.Kind.JUDGE
    )
    assert role.accepted_at is None
    services.role_decline(user=user, role=role)
    assert not Role.objects.filter(pk=role.pk).exists()
    assert AuditEntry.objects.get(action="role.decline").actor_id == user.pk


def test_granting_the_same_role_twice_keeps_one_row(tree: Tree) -> None:
    """Granting a role the user already holds returns the existing role."""
    user = UserFactory.create()
    a = services.role_grant(
        actor=tree.city_officer, organization=tree.anding, user=user, kind="judge"
    )
    b = services.role_grant(
        actor=tree.city_officer, organization=tree.anding, user=user, kind="judge"
    )
    assert a.pk == b.pk
    assert Role.objects.filter(user=user).count() == 1


def test_an_officer_cannot_revoke_their_own_officer_role(tree: Tree) -> None:
    """Revoking one's own officer role is refused; revoking someone else's works."""
    own = Role.objects.get(user=tree.city_officer)
    with pytest.raises(InvalidInput):
        services.role_revoke(actor=tree.city_officer, role=own)
    other = Role.objects.create(
        organization=tree.anding, user=UserFactory.create(), kind=Role.Kind.OFFICER
    )
    services.role_revoke(actor=tree.city_officer, role=other)
    assert not Role.objects.filter(pk=other.pk).exists()
    assert Role.objects.filter(pk=own.pk).exists()


# --- invite codes ----------------------------------------------------------------------


def test_invite_code_for_an_approved_organization(tree: Tree) -> None:
    """An officer creates an 8-character code of the unambiguous alphabet, audited."""
    invite = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", invite.code)
    assert (invite.organization_id, invite.created_by_id) == (tree.anding.pk, tree.city_officer.pk)
    assert invite.expires_at is None and invite.revoked_at is None
    assert _audit("invite_code.create", invite).actor_id == tree.city_officer.pk
    services.invite_code_check(invite=invite)


def test_invite_codes_are_distinct(tree: Tree) -> None:
    """Several codes for one organization are all different."""
    codes = {
        services.invite_code_create(actor=tree.city_officer, organization=tree.anding).code
        for _i in range(20)
    }
    assert len(codes) == 20


def test_no_invite_code_for_a_pending_organization(tree: Tree) -> None:
    """A pending organization cannot hand out invite codes yet."""
    pending = apply(UserFactory.create(), tree.anding)
    with pytest.raises(InvalidInput) as info:
        services.invite_code_create(actor=tree.city_officer, organization=pending)
    assert "通过审批后" in str(info.value.message)
    assert not InviteCode.objects.exists()


def test_no_invite_code_outside_scope(tree: Tree) -> None:
    """定西's officer cannot create a code for 东营."""
    with pytest.raises(OutsideScope):
        services.invite_code_create(actor=tree.city_officer, organization=tree.dongying)
    assert not InviteCode.objects.exists()


def test_an_expiring_invite_code_expires(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """A code with a future expiry works until then and raises InviteCodeExpired afterwards."""
    now = clock.now()
    expires = now + dt.timedelta(days=7)
    invite = services.invite_code_create(
        actor=tree.city_officer, organization=tree.anding, expires_at=expires
    )
    assert invite.expires_at == expires
    services.invite_code_check(invite=invite)
    monkeypatch.setattr(clock, "now", lambda: expires + dt.timedelta(seconds=1))
    with pytest.raises(InviteCodeExpired) as info:
        services.invite_code_check(invite=invite)
    assert info.value.detail == {"code": invite.code, "expired_at": expires.isoformat()}


@pytest.mark.parametrize("delta", [dt.timedelta(0), dt.timedelta(minutes=-1)])
def test_an_expiry_in_the_past_is_refused(
    tree: Tree, monkeypatch: pytest.MonkeyPatch, delta: dt.timedelta
) -> None:
    """An expiry at or before now is refused on the expires_at field."""
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now)
    with pytest.raises(InvalidInput) as info:
        services.invite_code_create(
            actor=tree.city_officer, organization=tree.anding, expires_at=now + delta
        )
    assert list(info.value.detail["fields"]) == ["expires_at"]
    assert not InviteCode.objects.exists()


def test_revoking_an_invite_code(tree: Tree) -> None:
    """Revoking stamps revoked_at once (a second revoke keeps it) and the code stops working."""
    invite = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    services.invite_code_revoke(actor=tree.city_officer, invite=invite)
    first = invite.revoked_at
    assert first is not None
    services.invite_code_revoke(actor=tree.city_officer, invite=invite)
    invite.refresh_from_db()
    assert invite.revoked_at == first
    assert AuditEntry.objects.filter(action="invite_code.revoke").count() == 1
    with pytest.raises(InviteCodeRevoked) as info:
        services.invite_code_check(invite=invite)
    assert info.value.detail == {"code": invite.code}


def test_revoking_outside_scope_is_refused(tree: Tree) -> None:
    """东营's officer cannot revoke a code of 安定区."""
    invite = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    with pytest.raises(OutsideScope):
        services.invite_code_revoke(actor=tree.other_officer, invite=invite)
    invite.refresh_from_db()
    assert invite.revoked_at is None


def test_a_revoked_code_reports_revoked_even_when_also_expired(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revocation is the stronger reason and is reported first."""
    expires = clock.now() + dt.timedelta(hours=1)
    invite = services.invite_code_create(
        actor=tree.city_officer, organization=tree.anding, expires_at=expires
    )
    services.invite_code_revoke(actor=tree.city_officer, invite=invite)
    monkeypatch.setattr(clock, "now", lambda: expires + dt.timedelta(days=1))
    with pytest.raises(InviteCodeRevoked):
        services.invite_code_check(invite=invite)


def test_a_code_of_an_unapproved_organization_does_not_work(tree: Tree) -> None:
    """A code whose organization is not approved is reported as not found."""
    pending = apply(UserFactory.create(), tree.anding)
    invite = InviteCodeFactory.create(organization=pending)
    with pytest.raises(NotFound):
        services.invite_code_check(invite=invite)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (InviteCodeExpired, "邀请码已过期，请向工会索取新的邀请码。"),
        (InviteCodeRevoked, "邀请码已作废，请向工会索取新的邀请码。"),
    ],
)
def test_invite_code_errors_carry_translatable_messages(error: type[Any], text: str) -> None:
    """The errors' messages are lazy translations rendered in the active language: Chinese by
    default (also in the API's {"code","message","detail"}), English under "en"."""
    e = error(detail={"code": "ABCDEFGH"})
    assert isinstance(e.message, Promise)
    with translation.override("zh-hans"):
        assert str(e.message) == text
        assert e.as_dict() == {
            "code": error.code,
            "message": text,
            "detail": {"code": "ABCDEFGH"},
        }
    with translation.override("en"):
        english = str(e.message)
    assert english != text
    assert "invite code" in english.lower()
    assert e.status == 400
