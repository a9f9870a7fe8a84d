"""The organizations REST API: registration, decisions, the tree, invite codes — and the
isolation of one city's officer from another city's organizations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from saidao.accounts.tests.factories import UserFactory
from saidao.conftest import Tree
from saidao.core import clock
from saidao.core.models import AuditEntry
from saidao.orgs import services
from saidao.orgs.models import InviteCode, Organization, Role
from saidao.orgs.tests.factories import make_org
from saidao.orgs.tests.helpers import apply, apply_payload, bearer

DINGXI_SUBTREE = ["定西市总工会", "安定区总工会", "安定区快递行业工会联合会", "通渭县总工会"]
JSON = "application/json"


def _post(client: Client, url: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(url, body or {}, content_type=JSON, headers=headers)


def _state() -> list[list[Any]]:
    """Everything the forbidden calls could have changed."""
    orgs = list(
        Organization.objects.order_by("pk").values_list(
            "pk", "parent_id", "path", "depth", "status", "rejection_reason"
        )
    )
    invites = list(InviteCode.objects.order_by("pk").values_list("pk", "code", "revoked_at"))
    roles = list(Role.objects.order_by("pk").values_list("pk", "organization_id", "user_id"))
    return [orgs, invites, roles]


# --- authentication and the schema -----------------------------------------------------


def test_the_officer_endpoints_need_a_login(client: Client, tree: Tree) -> None:
    """Without a token (or with a wrong one) the API answers 401 with the error body."""
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = client.get("/api/v1/orgs", headers=headers)
        assert r.status_code == 401
        assert r.json() == {"code": "not_authenticated", "message": "请先登录。", "detail": {}}


def test_openapi_schema_lists_the_main_paths(client: Client) -> None:
    """GET /api/v1/openapi.json is public and documents login, regions and applying."""
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ("/api/v1/auth/login", "/api/v1/regions", "/api/v1/orgs/apply"):
        assert p in paths, sorted(paths)
    assert "post" in paths["/api/v1/orgs/apply"]
    assert "get" in paths["/api/v1/regions"]


# --- isolation: 定西's officer against 东营 ----------------------------------------------


@pytest.fixture
def dongying_pending(tree: Tree) -> Organization:
    """A pending application under 东营, which only 东营's officers (and above) may decide."""
    return apply(UserFactory.create(), tree.dongying, "东营某石化企业工会", region="370500")


@pytest.fixture
def dongying_invite(tree: Tree) -> InviteCode:
    return services.invite_code_create(actor=tree.other_officer, organization=tree.dongying)


def test_city_officer_cannot_reach_another_city_through_the_api(
    client: Client, tree: Tree, dongying_pending: Organization, dongying_invite: InviteCode
) -> None:
    """定西's officer gets 403/404 for every read and write on 东营 and on its pending
    application (details, children, subtree, invite codes, approve, reject, invite creation,
    moves in either direction, revoking its code), and nothing changes."""
    h = bearer(client, tree.city_officer)
    before = _state()
    d, p = tree.dongying.pk, dongying_pending.pk
    calls: list[tuple[str, str, Any]] = [
        ("get", f"/api/v1/orgs/{d}", None),
        ("get", f"/api/v1/orgs/{d}/children", None),
        ("get", f"/api/v1/orgs/{d}/subtree", None),
        ("get", f"/api/v1/orgs/{d}/invite-codes", None),
        ("get", f"/api/v1/orgs/{d}/roles", None),
        ("get", f"/api/v1/orgs/{p}", None),
        ("post", f"/api/v1/orgs/{d}/approve", None),
        ("post", f"/api/v1/orgs/{p}/approve", None),
        ("post", f"/api/v1/orgs/{d}/reject", {"reason": "越权"}),
        ("post", f"/api/v1/orgs/{p}/reject", {"reason": "越权"}),
        ("post", f"/api/v1/orgs/{d}/invite-codes", {}),
        ("post", f"/api/v1/orgs/{d}/move", {"parent_id": tree.dingxi.pk}),
        ("post", f"/api/v1/orgs/{tree.anding.pk}/move", {"parent_id": d}),
        ("post", f"/api/v1/invite-codes/{dongying_invite.code}/revoke", None),
        ("post", f"/api/v1/orgs/{d}/roles", {"user_id": tree.city_officer.pk, "kind": "officer"}),
    ]
    for method, url, body in calls:
        r = client.get(url, headers=h) if method == "get" else _post(client, url, h, body)
        assert r.status_code in (403, 404), (url, r.status_code, r.content)
        assert set(r.json()) == {"code", "message", "detail"}, url
    assert _state() == before
    assert not AuditEntry.objects.filter(actor=tree.city_officer).exists()


def test_city_officer_lists_only_their_subtree(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """GET /api/v1/orgs gives 定西's subtree in tree order, nothing of 东营 or above, in a
    fixed number of queries (token, role paths, count, page) however big the subtree."""
    h = bearer(client, tree.city_officer)
    with django_assert_num_queries(4):
        r = client.get("/api/v1/orgs", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 4
    assert [o["name"] for o in body["items"]] == DINGXI_SUBTREE
    for i in range(5):
        make_org(tree.tongwei, f"通渭县工会{i}", region="621121")
    with django_assert_num_queries(4):
        r = client.get("/api/v1/orgs", headers=h)
    assert r.json()["count"] == 9
    assert "东营市总工会" not in {o["name"] for o in r.json()["items"]}


def test_other_city_officer_sees_only_dongying(client: Client, tree: Tree) -> None:
    """Symmetrically, 东营's officer sees 东营 alone and gets 404 on 安定区."""
    h = bearer(client, tree.other_officer)
    body = client.get("/api/v1/orgs", headers=h).json()
    assert [o["name"] for o in body["items"]] == ["东营市总工会"]
    assert client.get(f"/api/v1/orgs/{tree.anding.pk}", headers=h).status_code == 404


def test_a_worker_lists_no_organizations(client: Client, tree: Tree) -> None:
    """A member without a role gets an empty list and 404 on any organization."""
    h = bearer(client, tree.anding_member.user)
    assert client.get("/api/v1/orgs", headers=h).json() == {"items": [], "count": 0}
    assert client.get(f"/api/v1/orgs/{tree.courier.pk}", headers=h).status_code == 404


def test_city_officer_reads_within_anding(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Inside the subtree the officer reads 安定区's details, children and subtree, each in a
    fixed number of queries."""
    h = bearer(client, tree.city_officer)
    a = tree.anding.pk
    with django_assert_num_queries(3):
        r = client.get(f"/api/v1/orgs/{a}", headers=h)
    assert r.status_code == 200
    detail = r.json()
    assert detail["name"] == "安定区总工会"
    assert (detail["region_code"], detail["region_name"]) == ("621102", "安定区")
    assert (detail["parent_id"], detail["depth"], detail["status"]) == (
        tree.dingxi.pk,
        3,
        "approved",
    )
    assert detail["credit_code"] == tree.anding.credit_code
    with django_assert_num_queries(4):
        r = client.get(f"/api/v1/orgs/{a}/children", headers=h)
    assert [o["name"] for o in r.json()] == ["安定区快递行业工会联合会"]
    with django_assert_num_queries(5):
        r = client.get(f"/api/v1/orgs/{a}/subtree", headers=h)
    assert r.json()["count"] == 2
    assert [o["name"] for o in r.json()["items"]] == ["安定区总工会", "安定区快递行业工会联合会"]


def test_city_officer_creates_and_lists_invite_codes_within_anding(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The officer creates invite codes for 安定区 (201 with a join link) and lists them in a
    fixed number of queries, newest first."""
    h = bearer(client, tree.city_officer)
    url = f"/api/v1/orgs/{tree.anding.pk}/invite-codes"
    expires = (clock.now() + dt.timedelta(days=30)).isoformat()
    r = _post(client, url, h, {"expires_at": expires})
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["organization_id"] == tree.anding.pk
    assert first["organization_name"] == "安定区总工会"
    assert first["join_url"] == f"http://testserver/accounts/join/?code={first['code']}"
    assert first["expires_at"] is not None and first["uses"] == 0
    second = _post(client, url, h).json()
    with django_assert_num_queries(4):
        listed = client.get(url, headers=h).json()
    assert [i["code"] for i in listed] == [second["code"], first["code"]]


def test_an_invite_code_expiring_in_the_past_is_refused(client: Client, tree: Tree) -> None:
    """An expiry before now answers 400 on the expires_at field; no code is created."""
    h = bearer(client, tree.city_officer)
    past = (clock.now() - dt.timedelta(hours=1)).isoformat()
    r = _post(client, f"/api/v1/orgs/{tree.anding.pk}/invite-codes", h, {"expires_at": past})
    assert r.status_code == 400
    assert "expires_at" in r.json()["detail"]["fields"]
    assert not InviteCode.objects.exists()


def test_city_officer_revokes_an_invite_code(client: Client, tree: Tree) -> None:
    """Revoking a code of 安定区 stamps revoked_at."""
    h = bearer(client, tree.city_officer)
    invite = services.invite_code_create(actor=tree.city_officer, organization=tree.anding)
    r = _post(client, f"/api/v1/invite-codes/{invite.code.lower()}/revoke", h)
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None


# --- registration through the API ------------------------------------------------------


def test_apply_through_the_api_is_pending(client: Client, tree: Tree) -> None:
    """POST /api/v1/orgs/apply under 安定区 answers 201 with a pending organization."""
    applicant = UserFactory.create()
    h = bearer(client, applicant)
    r = _post(client, "/api/v1/orgs/apply", h, apply_payload(tree.anding))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["parent_id"], body["region_name"]) == (
        "pending",
        tree.anding.pk,
        "安定区",
    )
    assert Organization.objects.get(pk=body["id"]).applied_by_id == applicant.pk


def test_apply_with_a_bad_credit_code_answers_400_on_that_field(client: Client, tree: Tree) -> None:
    """A wrong check character answers 400 code "invalid" with detail.fields.credit_code."""
    h = bearer(client, UserFactory.create())
    r = _post(
        client,
        "/api/v1/orgs/apply",
        h,
        apply_payload(tree.anding, credit_code="91350100M000100Y44"),
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid"
    assert list(body["detail"]["fields"]) == ["credit_code"]
    assert "校验位" in body["detail"]["fields"]["credit_code"][0]


def test_apply_with_a_taken_credit_code_is_refused(client: Client, tree: Tree) -> None:
    """A credit code that already belongs to an organization answers 400 on credit_code."""
    h = bearer(client, UserFactory.create())
    r = _post(
        client,
        "/api/v1/orgs/apply",
        h,
        apply_payload(tree.anding, credit_code=tree.dongying.credit_code),
    )
    assert r.status_code == 400
    assert "credit_code" in r.json()["detail"]["fields"]


def test_apply_under_a_pending_parent_is_refused(client: Client, tree: Tree) -> None:
    """Applying under a pending organization answers 400 parent_not_approved."""
    parent = apply(UserFactory.create(), tree.anding, level=Organization.Level.TOWNSHIP)
    h = bearer(client, UserFactory.create())
    r = _post(client, "/api/v1/orgs/apply", h, apply_payload(parent))
    assert r.status_code == 400
    assert r.json()["code"] == "parent_not_approved"


def test_apply_above_the_parents_level_is_refused(client: Client, tree: Tree) -> None:
    """A city-level organization cannot apply under a county federation."""
    h = bearer(client, UserFactory.create())
    r = _post(client, "/api/v1/orgs/apply", h, apply_payload(tree.anding, level="city"))
    assert r.status_code == 400
    assert "level" in r.json()["detail"]["fields"]


def test_apply_with_unknown_parent_or_region_is_404(client: Client, tree: Tree) -> None:
    """An unknown parent id or region code answers 404, naming the region code."""
    h = bearer(client, UserFactory.create())
    r = _post(client, "/api/v1/orgs/apply", h, apply_payload(tree.anding, parent_id=10**9))
    assert r.status_code == 404
    r = _post(client, "/api/v1/orgs/apply", h, apply_payload(tree.anding, region_code="999999"))
    assert r.status_code == 404
    assert "999999" in r.json()["message"]
    assert Organization.objects.count() == 8


def test_apply_needs_a_login(client: Client, tree: Tree) -> None:
    """Anonymous applications are refused with 401."""
    r = client.post("/api/v1/orgs/apply", apply_payload(tree.anding), content_type=JSON)
    assert r.status_code == 401


def test_city_officer_approves_an_application_under_anding(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """定西's officer sees the pending application under 安定区 and approves it; the applicant
    then administers the new organization through the API. A second approval is 409."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    h = bearer(client, tree.city_officer)
    with django_assert_num_queries(3):
        listed = client.get("/api/v1/orgs/pending", headers=h).json()
    assert [o["id"] for o in listed] == [pending.pk]
    r = _post(client, f"/api/v1/orgs/{pending.pk}/approve", h)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "approved"
    assert client.get("/api/v1/orgs/pending", headers=h).json() == []
    again = _post(client, f"/api/v1/orgs/{pending.pk}/approve", h)
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    mine = client.get("/api/v1/orgs", headers=bearer(client, applicant)).json()
    assert [o["id"] for o in mine["items"]] == [pending.pk]


def test_rejection_reason_is_shown_to_the_applicant(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """A rejection without a reason is 400; with one, the applicant's GET
    /api/v1/orgs/applications shows the status and the reason."""
    applicant = UserFactory.create()
    pending = apply(applicant, tree.anding)
    h = bearer(client, tree.city_officer)
    url = f"/api/v1/orgs/{pending.pk}/reject"
    r = _post(client, url, h, {"reason": "  "})
    assert r.status_code == 400
    assert list(r.json()["detail"]["fields"]) == ["reason"]
    r = _post(client, url, h, {"reason": "请补充工会成立批复文件。"})
    assert r.status_code == 200
    ha = bearer(client, applicant)
    with django_assert_num_queries(2):
        rows = client.get("/api/v1/orgs/applications", headers=ha).json()
    assert len(rows) == 1
    assert (rows[0]["id"], rows[0]["status"], rows[0]["rejection_reason"]) == (
        pending.pk,
        "rejected",
        "请补充工会成立批复文件。",
    )


def test_other_city_officer_cannot_decide_anding_applications(client: Client, tree: Tree) -> None:
    """东营's officer gets 404 approving or rejecting an application under 安定区."""
    pending = apply(UserFactory.create(), tree.anding)
    h = bearer(client, tree.other_officer)
    assert _post(client, f"/api/v1/orgs/{pending.pk}/approve", h).status_code == 404
    r = _post(client, f"/api/v1/orgs/{pending.pk}/reject", h, {"reason": "x"})
    assert r.status_code == 404
    pending.refresh_from_db()
    assert pending.status == Organization.Status.PENDING


# --- moves and roles -------------------------------------------------------------------


def test_city_officer_moves_within_the_subtree(client: Client, tree: Tree) -> None:
    """Moving the courier federation from 安定区 to 通渭县 answers the moved organization; moving
    定西 under its own descendant answers 400 tree_cycle."""
    h = bearer(client, tree.city_officer)
    r = _post(client, f"/api/v1/orgs/{tree.courier.pk}/move", h, {"parent_id": tree.tongwei.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["parent_id"], r.json()["depth"]) == (tree.tongwei.pk, 4)
    r = _post(client, f"/api/v1/orgs/{tree.dingxi.pk}/move", h, {"parent_id": tree.anding.pk})
    assert r.status_code == 400
    assert r.json()["code"] == "tree_cycle"


def test_city_officer_grants_and_lists_roles(client: Client, tree: Tree) -> None:
    """The officer appoints a member of 安定区's subtree as reviewer (held at once) and an
    outsider as reviewer (pending until they accept it under /me/role-invitations); the role
    list shows both with their state; an unknown user is 404."""
    h = bearer(client, tree.city_officer)
    member = tree.anding_member.user
    outsider = UserFactory.create()
    url = f"/api/v1/orgs/{tree.anding.pk}/roles"
    r = _post(client, url, h, {"user_id": member.pk, "kind": "reviewer"})
    assert r.status_code == 201
    assert r.json()["accepted"] is True
    r = _post(client, url, h, {"user_id": outsider.pk, "kind": "reviewer"})
    assert r.status_code == 201
    assert r.json()["accepted"] is False
    role_id = r.json()["id"]
    listed = {x["user_id"]: (x["kind"], x["accepted"]) for x in client.get(url, headers=h).json()}
    assert listed == {member.pk: ("reviewer", True), outsider.pk: ("reviewer", False)}
    assert _post(client, url, h, {"user_id": 10**9, "kind": "reviewer"}).status_code == 404

    mine = bearer(client, outsider)
    [invitation] = client.get("/api/v1/me/role-invitations", headers=mine).json()
    assert (invitation["id"], invitation["organization_id"]) == (role_id, tree.anding.pk)
    r = _post(client, f"/api/v1/me/role-invitations/{role_id}/accept", mine)
    assert r.status_code == 200, r.content
    assert r.json()["accepted"] is True
    assert client.get("/api/v1/me/role-invitations", headers=mine).json() == []


# --- the public directory --------------------------------------------------------------


def test_directory_is_public_and_lists_approved_organizations(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Anyone may list approved organizations' public names (no contact details), filtered by
    parent or level; pending applications are not listed."""
    apply(UserFactory.create(), tree.dingxi, "待批工会")
    with django_assert_num_queries(2):
        r = client.get("/api/v1/orgs/directory", {"parent": tree.dingxi.pk})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [o["name"] for o in items] == ["安定区总工会", "通渭县总工会"]
    assert set(items[0]) == {"id", "name", "level", "kind", "region_name"}
    r = client.get("/api/v1/orgs/directory", {"level": "city"})
    assert [o["name"] for o in r.json()["items"]] == ["定西市总工会", "东营市总工会"]
