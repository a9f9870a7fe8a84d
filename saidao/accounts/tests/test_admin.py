"""The admin for workers and memberships, open to officers and cut to their subtree."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from saidao.accounts.models import Membership, User
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.conftest import Tree

USERS = "/admin/accounts/user/"
MEMBERSHIPS = "/admin/accounts/membership/"


def _listed(resp: object) -> list[object]:
    assert resp.status_code == 200  # type: ignore[attr-defined]
    return list(resp.context["cl"].result_list)  # type: ignore[attr-defined]


def test_user_changelist_shows_only_the_officers_subtree(client: Client, tree: Tree) -> None:
    """定西's officer lists 定西's members (安定区, 通渭县), never 东营's or non-members."""
    tongwei = MembershipFactory.create(organization=tree.tongwei)
    UserFactory.create()  # a worker without a membership
    client.force_login(tree.city_officer)
    resp = client.get(USERS)
    assert set(_listed(resp)) == {tree.anding_member.user, tongwei.user}
    html = resp.content.decode()
    assert tree.anding_member.user.phone in html
    assert tree.dongying_member.user.phone not in html


def test_user_changelist_follows_moves(client: Client, tree: Tree) -> None:
    """A worker who moved to 东营 leaves 定西's list: only the current membership counts."""
    m = tree.anding_member
    Membership.objects.filter(pk=m.pk).update(left_at=timezone.now())
    Membership.objects.create(
        user=m.user, organization=tree.dongying, source=Membership.Source.INVITE
    )
    client.force_login(tree.city_officer)
    assert _listed(client.get(USERS)) == []
    client.force_login(tree.other_officer)
    assert set(_listed(client.get(USERS))) == {m.user, tree.dongying_member.user}


def test_membership_changelist_shows_only_the_officers_subtree(client: Client, tree: Tree) -> None:
    """Memberships listed to 定西's officer all lie in 定西's subtree, history included."""
    old = MembershipFactory.create(
        organization=tree.tongwei,
        joined_at=timezone.now() - dt.timedelta(days=60),
        left_at=timezone.now() - dt.timedelta(days=1),
    )
    client.force_login(tree.city_officer)
    assert set(_listed(client.get(MEMBERSHIPS))) == {tree.anding_member, old}


def test_national_officer_sees_every_city(client: Client, tree: Tree) -> None:
    """全总's officer sees both cities' members."""
    client.force_login(tree.national_officer)
    assert set(_listed(client.get(USERS))) == {
        tree.anding_member.user,
        tree.dongying_member.user,
    }
    assert set(_listed(client.get(MEMBERSHIPS))) == {tree.anding_member, tree.dongying_member}


def test_change_page_of_another_citys_member_is_refused(client: Client, tree: Tree) -> None:
    """定西's officer cannot open or change 东营's member, nor their membership."""
    other = tree.dongying_member.user
    client.force_login(tree.city_officer)
    for url in (
        f"{USERS}{other.pk}/change/",
        f"{MEMBERSHIPS}{tree.dongying_member.pk}/change/",
    ):
        resp = client.get(url)
        assert resp.status_code in (302, 403, 404), url
        assert other.phone not in resp.content.decode()
        if resp.status_code == 302:  # the admin's "does not exist" redirect
            assert resp["Location"] == "/admin/"
    resp = client.post(
        f"{USERS}{other.pk}/change/",
        {"real_name": "改名", "employer": "", "position": "", "province": "", "city": ""},
    )
    assert resp.status_code in (302, 403, 404)
    other.refresh_from_db()
    assert other.real_name != "改名"


def test_change_page_of_own_member_works(client: Client, tree: Tree) -> None:
    """定西's officer opens and edits 安定区's courier member; the phone stays read-only."""
    member = tree.anding_member.user
    client.force_login(tree.city_officer)
    resp = client.get(f"{USERS}{member.pk}/change/")
    assert resp.status_code == 200
    assert member.phone in resp.content.decode()
    resp = client.post(
        f"{USERS}{member.pk}/change/",
        {
            "real_name": "改名",
            "employer": "新单位",
            "position": "站长",
            "province": "620000",
            "city": "621100",
            "phone": "13900000000",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.real_name, member.employer) == ("改名", "新单位")
    assert member.phone != "13900000000"
    assert client.get(f"{MEMBERSHIPS}{tree.anding_member.pk}/change/").status_code == 200


def test_officers_cannot_add_or_delete_users(client: Client, tree: Tree) -> None:
    """Accounts come from sign-up and rosters; the admin cannot add or delete them."""
    client.force_login(tree.city_officer)
    assert client.get(f"{USERS}add/").status_code == 403
    member = tree.anding_member.user
    assert client.get(f"{USERS}{member.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=member.pk).exists()


def test_memberships_are_read_only_for_officers(client: Client, tree: Tree) -> None:
    """Officers view memberships but cannot change them (joins go through the services)."""
    client.force_login(tree.city_officer)
    resp = client.post(f"{MEMBERSHIPS}{tree.anding_member.pk}/change/", {"source": "demo"})
    assert resp.status_code == 403
    tree.anding_member.refresh_from_db()
    assert tree.anding_member.source == Membership.Source.INVITE


def test_plain_workers_cannot_enter_the_admin(client: Client, tree: Tree) -> None:
    """A member without a role is sent to the admin log-in."""
    client.force_login(tree.anding_member.user)
    resp = client.get(USERS)
    assert resp.status_code == 302
    assert resp["Location"].startswith("/admin/login/")


def test_superuser_sees_everyone(client: Client, tree: Tree) -> None:
    """A platform superuser sees every worker, members or not."""
    admin = User.objects.create_superuser("13900000001", "Admin-pass-2026", real_name="管理员")
    loner = UserFactory.create()
    client.force_login(admin)
    listed = set(_listed(client.get(USERS)))
    assert {tree.anding_member.user, tree.dongying_member.user, loner} <= listed
