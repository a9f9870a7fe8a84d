"""Reads of the organization tree, each filtered by the reader's part of it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from pytest_django import DjangoAssertNumQueries

from saidao.accounts.models import User
from saidao.accounts.tests.factories import UserFactory
from saidao.conftest import Tree
from saidao.core.errors import NotFound
from saidao.orgs import selectors, services
from saidao.orgs.errors import InviteCodeInvalid
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import InviteCodeFactory, make_org
from saidao.orgs.tests.helpers import apply

DINGXI_SUBTREE = ["定西市总工会", "安定区总工会", "安定区快递行业工会联合会", "通渭县总工会"]


def _fresh(user: Any) -> User:
    return User.objects.get(pk=user.pk)


def _names(qs: Any) -> list[str]:
    return [o.name for o in qs]


def test_organization_subtree_is_the_org_and_its_descendants(tree: Tree) -> None:
    """The subtree of 定西市 holds itself, 安定区, its courier federation and 通渭县, no more."""
    names = [o.name for o in selectors.organization_subtree(organization=tree.dingxi)]
    assert names == DINGXI_SUBTREE


def test_organization_ancestors_are_root_first(tree: Tree) -> None:
    """Ancestors come root first and exclude the organization itself."""
    names = [o.name for o in selectors.organization_ancestors(organization=tree.courier)]
    assert names == ["中华全国总工会", "甘肃省总工会", "定西市总工会", "安定区总工会"]


def test_the_roots_ancestors_are_empty_and_a_leafs_subtree_is_itself(tree: Tree) -> None:
    """The root has no ancestors; a leaf's subtree is the leaf alone."""
    assert list(selectors.organization_ancestors(organization=tree.national)) == []
    assert _names(selectors.organization_subtree(organization=tree.courier)) == [
        "安定区快递行业工会联合会"
    ]


def test_a_subtree_never_includes_a_sibling(tree: Tree) -> None:
    """安定区's subtree excludes its sibling 通渭县 even when 通渭县 has many children."""
    for i in range(3):
        make_org(tree.tongwei, f"通渭县工会{i}", region="621121")
    assert _names(selectors.organization_subtree(organization=tree.anding)) == [
        "安定区总工会",
        "安定区快递行业工会联合会",
    ]
    assert len(list(selectors.organization_subtree(organization=tree.tongwei))) == 4


def test_subtree_is_one_query(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Reading a whole subtree, with each row's parent and region, takes exactly one query."""
    for i in range(5):
        make_org(tree.courier, f"快递网点工会{i}")
    with django_assert_num_queries(1):
        rows = list(selectors.organization_subtree(organization=tree.national))
        labels = [(o.parent.name if o.parent else None, o.region.name) for o in rows]
    assert len(rows) == len(labels) == 13


def test_ancestors_are_one_query(
    tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Reading every ancestor of a deep organization takes exactly one query."""
    deep = make_org(tree.courier, "快递网点工会")
    with django_assert_num_queries(1):
        names = _names(selectors.organization_ancestors(organization=deep))
    assert len(names) == 5


def _path_indexes() -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "orgs_organization")
    return {
        name
        for name, c in constraints.items()
        if c["columns"] == ["path"] and (c["index"] or c["unique"])
    }


def _pg_plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_pg_plan_nodes(child))
    return nodes


def test_subtree_query_uses_the_path_index(tree: Tree) -> None:
    """The subtree query is a range/prefix search on an index of ``path``, never a full scan.

    SQLite: EXPLAIN QUERY PLAN searches orgs_organization using a path index. PostgreSQL:
    with sequential scans disabled, EXPLAIN shows an index on path serving the prefix filter.
    """
    qs = selectors.organization_subtree(organization=tree.dingxi)
    indexes = _path_indexes()
    if connection.vendor == "sqlite":
        plan = qs.explain()
        main = [
            line
            for line in plan.splitlines()
            if "orgs_organization" in line and " T2 " not in line and "T2 USING" not in line
        ]
        assert main, plan
        assert all("SEARCH orgs_organization USING INDEX" in line for line in main), plan
        # The unique constraint's index (sqlite_autoindex_...) serves the path range.
        assert any(re.search(r"USING INDEX \S+ \(path>\? AND path<\?\)", line) for line in main), (
            plan
        )
        assert "SCAN orgs_organization" not in plan
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        raw = qs.explain(format="json")
        nodes = _pg_plan_nodes(json.loads(raw)[0]["Plan"])
        base = [
            n
            for n in nodes
            if n.get("Relation Name") == "orgs_organization"
            and n.get("Alias") == "orgs_organization"
        ]
        assert base and all(n["Node Type"] != "Seq Scan" for n in base), raw
        used = {n["Index Name"] for n in nodes if "Index Name" in n}
        assert used & indexes, raw
        assert "path" in json.dumps(base) or any(
            "path" in str(n.get("Index Cond", "")) for n in nodes
        ), raw
    else:  # pragma: no cover - the suite runs on SQLite and PostgreSQL only
        pytest.fail(f"unexpected database vendor {connection.vendor}")


# --- scope -----------------------------------------------------------------------------


def test_a_city_officer_administers_their_city_subtree_only(tree: Tree) -> None:
    """定西's officer sees 定西's subtree and nothing of 东营, 甘肃 or the root."""
    qs = selectors.organizations_for_officer(user=tree.city_officer).order_by("path")
    assert _names(qs) == DINGXI_SUBTREE


def test_the_national_officer_administers_everything(tree: Tree) -> None:
    """An officer of the root sees every organization."""
    qs = selectors.organizations_for_officer(user=tree.national_officer)
    assert qs.count() == Organization.objects.count() == 8


def test_workers_and_anonymous_users_administer_nothing(tree: Tree) -> None:
    """A member without a role, and an anonymous user, have no scope at all."""
    from django.contrib.auth.models import AnonymousUser

    assert not selectors.organizations_for_officer(user=tree.anding_member.user).exists()
    assert selectors.officer_paths(user=AnonymousUser()) == []
    assert selectors.officer_paths(user=None) == []


def test_nested_and_disjoint_roles_combine_without_duplicates(tree: Tree) -> None:
    """Roles in 定西 and in its child 安定区 collapse to 定西; a second role in 东营 adds it."""
    user = UserFactory.create()
    for org in (tree.dingxi, tree.anding, tree.dongying):
        Role.objects.create(organization=org, user=user, kind=Role.Kind.OFFICER)
    assert selectors.officer_paths(user=_fresh(user)) == [tree.dingxi.path, tree.dongying.path]
    names = _names(selectors.organizations_for_officer(user=_fresh(user)).order_by("path"))
    assert names == [*DINGXI_SUBTREE, "东营市总工会"]


def test_only_officer_roles_in_approved_organizations_give_scope(tree: Tree) -> None:
    """A reviewer role is not an officer role, and an officer role in a pending organization
    gives no scope until it is approved."""
    reviewer = UserFactory.create()
    Role.objects.create(organization=tree.dingxi, user=reviewer, kind=Role.Kind.REVIEWER)
    assert selectors.officer_paths(user=reviewer) == []
    assert selectors.role_paths(user=_fresh(reviewer), kinds=(Role.Kind.REVIEWER,)) == [
        tree.dingxi.path
    ]
    pending = apply(UserFactory.create(), tree.anding)
    early = UserFactory.create()
    Role.objects.create(organization=pending, user=early, kind=Role.Kind.OFFICER)
    assert selectors.user_is_officer(user=early) is False


def test_pending_roles_give_no_scope(tree: Tree) -> None:
    """A role not yet accepted (accepted_at empty) counts for nothing: no officer scope, no
    reviewer paths, not among the roles held; it is listed as an invitation instead."""
    user = UserFactory.create()
    officer = Role.objects.create(
        organization=tree.dingxi, user=user, kind=Role.Kind.OFFICER, accepted_at=None
    )
    Role.objects.create(
        organization=tree.anding, user=user, kind=Role.Kind.REVIEWER, accepted_at=None
    )
    assert selectors.officer_paths(user=_fresh(user)) == []
    assert selectors.role_paths(user=_fresh(user), kinds=(Role.Kind.REVIEWER,)) == []
    assert selectors.user_is_officer(user=_fresh(user)) is False
    assert selectors.role_held_paths(user=user) == []
    assert len(selectors.role_invitations_pending(user=user)) == 2
    services.role_accept(user=user, role=officer)
    assert selectors.officer_paths(user=_fresh(user)) == [tree.dingxi.path]
    assert selectors.role_held_paths(user=user) == [(tree.dingxi.path, Role.Kind.OFFICER)]


def test_scope_q_of_no_paths_matches_nothing(tree: Tree) -> None:
    """An empty list of subtrees selects no rows."""
    assert not Organization.objects.filter(selectors.scope_q([])).exists()


def test_organization_get_for_officer(tree: Tree) -> None:
    """Inside the scope the organization is returned; outside it, or when it does not exist,
    NotFound is raised, so other cities' organizations are not even confirmed to exist."""
    assert selectors.organization_get_for_officer(user=tree.city_officer, pk=tree.anding.pk) == (
        tree.anding
    )
    for pk in (tree.dongying.pk, tree.gansu.pk, 10**9):
        with pytest.raises(NotFound):
            selectors.organization_get_for_officer(user=tree.city_officer, pk=pk)


def test_organization_in_scope(tree: Tree) -> None:
    """An officer's scope is their organization and everything below it, not above or beside."""
    user = tree.city_officer
    assert selectors.organization_in_scope(user=user, organization=tree.dingxi)
    assert selectors.organization_in_scope(user=user, organization=tree.courier)
    assert not selectors.organization_in_scope(user=user, organization=tree.gansu)
    assert not selectors.organization_in_scope(user=user, organization=tree.dongying)


def test_pending_applications_are_those_below_the_officers_roots(tree: Tree) -> None:
    """定西's officer sees pending applications under 定西 (oldest first), not under 东营,
    and not approved organizations."""
    first = apply(UserFactory.create(), tree.anding, "甲工会")
    second = apply(UserFactory.create(), tree.tongwei, "乙工会", region="621121")
    apply(UserFactory.create(), tree.dongying, "东营某工会", region="370500")
    assert list(selectors.applications_pending_for_officer(user=tree.city_officer)) == [
        first,
        second,
    ]
    assert _names(selectors.applications_pending_for_officer(user=tree.other_officer)) == [
        "东营某工会"
    ]


def test_applications_of_user_are_their_own_newest_first(tree: Tree) -> None:
    """A user's applications are theirs only, newest first, with any decision."""
    applicant = UserFactory.create()
    a = apply(applicant, tree.anding, "甲工会")
    b = apply(applicant, tree.tongwei, "乙工会", region="621121")
    apply(UserFactory.create(), tree.anding, "别人的工会")
    services.organization_reject(officer=tree.city_officer, organization=a, reason="名称不规范")
    rows = list(selectors.applications_of_user(user=applicant))
    assert {r.pk for r in rows} == {a.pk, b.pk}
    assert rows[0].created_at >= rows[1].created_at


def test_organizations_approved_excludes_applications(tree: Tree) -> None:
    """The public directory lists approved organizations only, optionally by level."""
    apply(UserFactory.create(), tree.anding, "待批工会")
    names = _names(selectors.organizations_approved())
    assert "待批工会" not in names and len(names) == 8
    assert _names(selectors.organizations_approved(level=Organization.Level.CITY)) == [
        "定西市总工会",
        "东营市总工会",
    ]


def test_organization_children_are_direct_children_only(tree: Tree) -> None:
    """定西's children are 安定区 and 通渭县, not the courier federation below 安定区."""
    assert _names(selectors.organization_children(organization=tree.dingxi)) == [
        "安定区总工会",
        "通渭县总工会",
    ]


def test_invite_code_get_normalizes_and_reports_unknown_codes(tree: Tree) -> None:
    """Codes are found case-insensitively with surrounding spaces ignored; unknown codes raise
    InviteCodeInvalid."""
    invite = InviteCodeFactory.create(organization=tree.anding, code="ABCD2345")
    assert selectors.invite_code_get(code="  abcd2345 ") == invite
    with pytest.raises(InviteCodeInvalid):
        selectors.invite_code_get(code="NOPE9999")


def test_roles_for_organization(tree: Tree) -> None:
    """An organization's roles are its own, not those of its subtree."""
    roles = list(selectors.roles_for_organization(organization=tree.dingxi))
    assert [(r.user_id, r.kind) for r in roles] == [(tree.city_officer.pk, Role.Kind.OFFICER)]
