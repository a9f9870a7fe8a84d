"""Reads about members, always cut to the reader's part of the tree; phones masked outside it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from saidao.accounts import selectors
from saidao.accounts.models import Membership
from saidao.accounts.roster import roster_parse
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.conftest import Tree
from saidao.core.errors import NotFound


def _phone(viewer: object, membership: Membership) -> str:
    return selectors.phone_for_viewer(
        viewer=viewer,
        subject=membership.user,
        subject_org_path=membership.organization.path,
    )


def test_worker_sees_their_own_full_number(tree: Tree) -> None:
    """The worker always sees their own number, membership or not."""
    m = tree.anding_member
    assert _phone(m.user, m) == m.user.phone
    assert (
        selectors.phone_for_viewer(viewer=m.user, subject=m.user, subject_org_path=None)
        == m.user.phone
    )


def test_officer_of_the_subtree_sees_the_full_number(tree: Tree) -> None:
    """定西's officer (and the national one) see a courier member's full number."""
    m = tree.anding_member
    assert _phone(tree.city_officer, m) == m.user.phone
    assert _phone(tree.national_officer, m) == m.user.phone


def test_officer_of_another_city_sees_a_masked_number(tree: Tree) -> None:
    """东营's officer sees 135****xxxx for a 定西 member, and 定西's for a 东营 member."""
    m = tree.anding_member
    masked = _phone(tree.other_officer, m)
    assert masked == f"{m.user.phone[:3]}****{m.user.phone[-4:]}"
    d = tree.dongying_member
    assert _phone(tree.city_officer, d) == f"{d.user.phone[:3]}****{d.user.phone[-4:]}"


def test_other_workers_and_anonymous_see_a_masked_number(tree: Tree) -> None:
    """A fellow member of the same union, or a visitor, never sees the full number."""
    m = tree.anding_member
    colleague = MembershipFactory.create(organization=tree.courier).user
    assert _phone(colleague, m) == m.user.masked_phone
    assert _phone(AnonymousUser(), m) == m.user.masked_phone
    assert _phone(None, m) == m.user.masked_phone


def test_a_subject_without_membership_is_masked_for_officers(tree: Tree) -> None:
    """Without a membership nobody's subtree holds the worker, so officers see the mask."""
    loner = UserFactory.create()
    assert (
        selectors.phone_for_viewer(
            viewer=tree.national_officer, subject=loner, subject_org_path=None
        )
        == loner.masked_phone
    )


def test_members_for_officer_is_the_officers_subtree_only(tree: Tree) -> None:
    """定西's officer lists 定西's members; 东营's member never appears."""
    tongwei = MembershipFactory.create(organization=tree.tongwei)
    users = {m.user for m in selectors.members_for_officer(officer=tree.city_officer)}
    assert users == {tree.anding_member.user, tongwei.user}
    national = {m.user for m in selectors.members_for_officer(officer=tree.national_officer)}
    assert national == {tree.anding_member.user, tongwei.user, tree.dongying_member.user}


def test_members_for_officer_within_one_organization(tree: Tree) -> None:
    """Given an organization, only its subtree's current members come back."""
    MembershipFactory.create(organization=tree.tongwei)
    in_anding = selectors.members_for_officer(officer=tree.city_officer, organization=tree.anding)
    assert [m.user for m in in_anding] == [tree.anding_member.user]


def test_members_for_officer_leaves_out_former_members(tree: Tree) -> None:
    """Ended memberships are history, not members."""
    gone = MembershipFactory.create(
        organization=tree.courier,
        joined_at=timezone.now() - dt.timedelta(days=9),
        left_at=timezone.now() - dt.timedelta(days=1),
    )
    users = [m.user for m in selectors.members_for_officer(officer=tree.city_officer)]
    assert gone.user not in users


def test_members_for_officer_of_another_subtree_is_empty(tree: Tree) -> None:
    """Asking about 东营 as 定西's officer returns nothing, not 东营's members."""
    qs = selectors.members_for_officer(officer=tree.city_officer, organization=tree.dongying)
    assert list(qs) == []


def test_members_for_a_plain_worker_is_empty(tree: Tree) -> None:
    """A worker without an officer role has no members to see."""
    assert list(selectors.members_for_officer(officer=tree.anding_member.user)) == []


def test_members_search_by_name_or_phone_prefix(tree: Tree) -> None:
    """The search matches part of the name or the start of the number."""
    zhang = MembershipFactory.create(
        organization=tree.courier,
        user=UserFactory.create(real_name="张测试明", phone="13700000001"),
    )
    MembershipFactory.create(
        organization=tree.courier, user=UserFactory.create(real_name="李四", phone="13600000002")
    )
    by_name = selectors.members_for_officer(officer=tree.city_officer, query="测试明")
    assert [m.user for m in by_name] == [zhang.user]
    by_phone = selectors.members_for_officer(officer=tree.city_officer, query="1370")
    assert [m.user for m in by_phone] == [zhang.user]


def test_member_get_for_officer_refuses_other_subtrees(tree: Tree) -> None:
    """One member by id: found in the subtree, NotFound outside it (not even confirmed)."""
    m = selectors.member_get_for_officer(
        officer=tree.city_officer, user_id=tree.anding_member.user_id
    )
    assert m == tree.anding_member
    with pytest.raises(NotFound):
        selectors.member_get_for_officer(
            officer=tree.city_officer, user_id=tree.dongying_member.user_id
        )
    with pytest.raises(NotFound):
        selectors.member_get_for_officer(officer=tree.city_officer, user_id=10**9)


def test_account_get_for_code_finds_members_and_unactivated_imports_of_the_subtree(
    tree: Tree,
) -> None:
    """An officer may look up, for a code, a current member of their subtree, or an account
    their subtree imported that nobody activated (even without a current membership); once
    activated such an account is theirs to find only as a member. Anybody else is NotFound."""
    found = selectors.account_get_for_code(
        officer=tree.city_officer, user_id=tree.anding_member.user_id
    )
    assert found == tree.anding_member.user
    imported = UserFactory.create(activated_at=None, created_by_organization=tree.courier)
    assert selectors.account_get_for_code(officer=tree.city_officer, user_id=imported.pk) == (
        imported
    )
    for officer, user_id in (
        (tree.other_officer, imported.pk),
        (tree.city_officer, tree.dongying_member.user_id),
        (tree.city_officer, UserFactory.create().pk),
        (tree.city_officer, 10**9),
    ):
        with pytest.raises(NotFound):
            selectors.account_get_for_code(officer=officer, user_id=user_id)
    imported.activated_at = timezone.now()
    imported.save(update_fields=["activated_at"])
    with pytest.raises(NotFound):
        selectors.account_get_for_code(officer=tree.city_officer, user_id=imported.pk)


def test_member_counts_roll_up_to_each_child(tree: Tree) -> None:
    """Counts per child of 定西 include the child's whole subtree, in one query."""
    MembershipFactory.create(organization=tree.anding)
    MembershipFactory.create(organization=tree.tongwei)
    MembershipFactory.create(organization=tree.dingxi)  # in 定西 itself: not a child's
    counts = selectors.member_counts_by_child(organization=tree.dingxi)
    assert counts == {tree.anding.path: 2, tree.tongwei.path: 1}
    assert selectors.member_count_subtree(organization=tree.dingxi) == 4
    assert selectors.member_count_subtree(organization=tree.national) == 5


def test_membership_history_is_newest_first(tree: Tree) -> None:
    """A worker's history lists the current membership first, then the ended ones."""
    user = tree.anding_member.user
    old = MembershipFactory.create(
        user=user,
        organization=tree.tongwei,
        joined_at=timezone.now() - dt.timedelta(days=90),
        left_at=timezone.now() - dt.timedelta(days=30),
    )
    assert list(selectors.membership_history(user=user)) == [tree.anding_member, old]
    assert selectors.membership_current(user=user) == tree.anding_member


def test_roster_export_reads_back_with_roster_parse(tree: Tree) -> None:
    """The export is an .xlsx of the subtree's members that the import's parser accepts."""
    extra = MembershipFactory.create(organization=tree.courier)
    body = selectors.roster_export(officer=tree.city_officer, organization=tree.anding)
    parsed = roster_parse(io.BytesIO(body))
    assert parsed.errors == []
    assert sorted((r.real_name, r.phone) for r in parsed.rows) == sorted(
        [
            (tree.anding_member.user.real_name, tree.anding_member.user.phone),
            (extra.user.real_name, extra.user.phone),
        ]
    )


def test_roster_export_of_another_subtree_is_empty(tree: Tree) -> None:
    """Even called directly, the export never carries members outside the officer's subtree."""
    body = selectors.roster_export(officer=tree.city_officer, organization=tree.dongying)
    parsed = roster_parse(io.BytesIO(body))
    assert parsed.rows == []
