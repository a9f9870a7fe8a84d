"""The Django admin at /admin/: open to officers, scoped to their own subtree."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from saidao.accounts.tests.factories import UserFactory
from saidao.conftest import Tree
from saidao.orgs import services
from saidao.orgs.models import Organization, Role

DINGXI_SUBTREE = ["定西市总工会", "安定区总工会", "安定区快递行业工会联合会", "通渭县总工会"]
CHANGELIST = "/admin/orgs/organization/"


def _change_url(org: Organization) -> str:
    return f"{CHANGELIST}{org.pk}/change/"


def _names(response: Any) -> list[str]:
    return sorted(o.name for o in response.context["cl"].result_list)


def _change_form(org: Organization, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": org.name,
        "level": org.level,
        "kind": org.kind,
        "region": org.region_id,
        "credit_code": org.credit_code,
        "contact_name": org.contact_name,
        "contact_phone": org.contact_phone,
        "rejection_reason": org.rejection_reason,
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer_client(client: Client, tree: Tree) -> Client:
    """The test client logged in as 定西市总工会's officer (not staff, not superuser)."""
    client.force_login(tree.city_officer)
    return client


def test_an_officer_enters_the_admin(officer_client: Client, tree: Tree) -> None:
    """An officer without is_staff opens the admin index and sees the organizations module."""
    r = officer_client.get("/admin/")
    assert r.status_code == 200
    assert CHANGELIST in r.content.decode()


def test_a_worker_is_sent_to_the_admin_login(client: Client, tree: Tree) -> None:
    """A member without an officer role is not let into the admin."""
    client.force_login(tree.anding_member.user)
    for url in ("/admin/", CHANGELIST):
        r = client.get(url)
        assert r.status_code == 302
        assert r["Location"].startswith("/admin/login/")


def test_changelist_shows_only_the_officers_subtree(officer_client: Client, tree: Tree) -> None:
    """定西's officer lists exactly 定西's subtree: not 东营, not 甘肃 or the root."""
    r = officer_client.get(CHANGELIST)
    assert r.status_code == 200
    assert _names(r) == sorted(DINGXI_SUBTREE)
    assert r.context["cl"].result_count == 4
    assert "东营市总工会" not in r.content.decode()


def test_changelist_search_stays_in_scope(officer_client: Client, tree: Tree) -> None:
    """Searching for 东营 by name or credit code finds nothing for 定西's officer."""
    for q in ("东营", tree.dongying.credit_code):
        r = officer_client.get(CHANGELIST, {"q": q})
        assert r.context["cl"].result_count == 0


def test_other_city_officer_lists_only_dongying(client: Client, tree: Tree) -> None:
    """东营's officer lists 东营 alone."""
    client.force_login(tree.other_officer)
    assert _names(client.get(CHANGELIST)) == ["东营市总工会"]


def test_the_national_officer_and_a_superuser_list_everything(client: Client, tree: Tree) -> None:
    """An officer of the root, and a superuser without any role, see all eight organizations."""
    client.force_login(tree.national_officer)
    assert len(_names(client.get(CHANGELIST))) == 8
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    assert len(_names(client.get(CHANGELIST))) == 8


def test_change_page_of_another_city_is_refused(officer_client: Client, tree: Tree) -> None:
    """The change page of 东营 is refused (403/404, or the admin's "does not exist" redirect),
    and a POST to it changes nothing."""
    r = officer_client.get(_change_url(tree.dongying))
    assert r.status_code in (302, 403, 404)
    if r.status_code == 302:
        assert r["Location"] == "/admin/"
    r = officer_client.post(_change_url(tree.dongying), _change_form(tree.dongying, name="被改了"))
    assert r.status_code in (302, 403, 404)
    tree.dongying.refresh_from_db()
    assert tree.dongying.name == "东营市总工会"


def test_change_page_within_the_subtree_opens_and_saves(officer_client: Client, tree: Tree) -> None:
    """The change page of 安定区 is 200, and the officer can correct its contact details."""
    r = officer_client.get(_change_url(tree.anding))
    assert r.status_code == 200
    assert "安定区总工会" in r.content.decode()
    r = officer_client.post(
        _change_url(tree.anding), _change_form(tree.anding, contact_name="李主席")
    )
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    tree.anding.refresh_from_db()
    assert tree.anding.contact_name == "李主席"


def test_admin_form_still_validates_the_credit_code(officer_client: Client, tree: Tree) -> None:
    """Saving 安定区 with a wrong check character is refused by the model field's validator."""
    bad = tree.anding.credit_code[:17] + ("0" if tree.anding.credit_code[17] != "0" else "1")
    r = officer_client.post(_change_url(tree.anding), _change_form(tree.anding, credit_code=bad))
    assert r.status_code == 200
    assert "credit_code" in r.context["adminform"].form.errors
    tree.anding.refresh_from_db()
    assert tree.anding.credit_code != bad


def test_organizations_are_neither_added_nor_deleted_in_the_admin(
    officer_client: Client, tree: Tree
) -> None:
    """Rows come from the services: the add page and the delete page are forbidden."""
    assert officer_client.get(f"{CHANGELIST}add/").status_code == 403
    assert officer_client.get(f"{CHANGELIST}{tree.anding.pk}/delete/").status_code == 403
    assert Organization.objects.filter(pk=tree.anding.pk).exists()


def test_roles_and_invite_codes_are_scoped_too(officer_client: Client, tree: Tree) -> None:
    """The role and invite-code changelists show only rows of 定西's subtree."""
    ours = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    theirs = services.invite_code_create(actor=tree.other_officer, organization=tree.dongying)
    r = officer_client.get("/admin/orgs/role/")
    assert [x.user_id for x in r.context["cl"].result_list] == [tree.city_officer.pk]
    r = officer_client.get("/admin/orgs/invitecode/")
    codes = [x.code for x in r.context["cl"].result_list]
    assert codes == [ours.code]
    assert theirs.code not in r.content.decode()
    other_role = Role.objects.get(user=tree.other_officer)
    r = officer_client.get(f"/admin/orgs/role/{other_role.pk}/change/")
    assert r.status_code in (302, 403, 404)


def test_regions_are_read_only_and_hidden_from_officers(officer_client: Client, tree: Tree) -> None:
    """Officers may look regions up (for the region autocomplete) but not change them, and the
    module is not on their index."""
    assert "/admin/regions/region/" not in officer_client.get("/admin/").content.decode()
    r = officer_client.get(
        "/admin/autocomplete/",
        {"app_label": "orgs", "model_name": "organization", "field_name": "region", "term": "安定"},
    )
    assert r.status_code == 200
    assert {"id": "621102", "text": "安定区（621102）"} in r.json()["results"]
    r = officer_client.post("/admin/regions/region/621102/change/", {"name": "改名"})
    assert r.status_code in (302, 403)


def test_officer_cannot_change_level_or_region_in_admin(client: Client, tree: Tree) -> None:
    """Level and region are read-only for officers, so the admin cannot break the level rule."""
    client.force_login(tree.city_officer)
    client.post(
        f"/admin/orgs/organization/{tree.anding.pk}/change/",
        {
            "name": "安定区总工会",
            "level": "national",
            "kind": tree.anding.kind,
            "region": "110000",
            "credit_code": tree.anding.credit_code,
            "contact_name": "新联系人",
            "contact_phone": "0932-7654321",
        },
    )
    tree.anding.refresh_from_db()
    assert tree.anding.level == "county"
    assert tree.anding.region_id == "621102"
    assert tree.anding.contact_name == "新联系人"


def test_officer_cannot_delete_own_officer_role_in_admin(client: Client, tree: Tree) -> None:
    """Deleting one's own officer role is refused, as role_revoke refuses it."""
    role = Role.objects.get(user=tree.city_officer, kind=Role.Kind.OFFICER)
    client.force_login(tree.city_officer)
    resp = client.post(f"/admin/orgs/role/{role.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 403
    assert Role.objects.filter(pk=role.pk).exists()


def test_a_pending_role_cannot_be_changed_or_accepted_in_admin(
    officer_client: Client, tree: Tree
) -> None:
    """Appointments go through role_grant: in the admin an officer can neither raise a role's
    kind nor mark an outsider's pending appointment accepted."""
    role = services.role_grant(
        actor=tree.city_officer,
        organization=tree.anding,
        user=UserFactory.create(),
        kind=Role.Kind.REVIEWER,
    )
    assert role.accepted_at is None
    url = f"/admin/orgs/role/{role.pk}/change/"
    assert officer_client.get(url).status_code == 200
    officer_client.post(
        url, {"kind": "officer", "accepted_at_0": "2026-01-01", "accepted_at_1": "08:00:00"}
    )
    role.refresh_from_db()
    assert (role.kind, role.accepted_at) == (Role.Kind.REVIEWER, None)
