"""Reads of the organization tree, always filtered by the reader's part of it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from saidao.core.errors import NotFound

from .errors import InviteCodeInvalid
from .models import InviteCode, Organization, Role


def subtree_q(path: str, *, field: str = "path") -> Q:
    """Rows whose ``field`` lies in the subtree rooted at ``path`` (itself included).

    One indexed query: on PostgreSQL a LIKE prefix over the pattern-ops index; on SQLite a
    range over the binary-collated index (its LIKE is case-insensitive and skips the index).
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": path, f"{field}__lt": path + "~"})
    return Q(**{f"{field}__startswith": path})


def scope_q(paths: list[str], *, field: str = "path") -> Q:
    """Rows inside any of the subtrees ``paths``; matches nothing for an empty list."""
    q = Q(pk__in=[])
    for p in paths:
        q |= subtree_q(p, field=field)
    return q


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    out: list[str] = []
    for p in sorted(paths):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return out


def role_paths(*, user: Any, kinds: tuple[str, ...] = (Role.Kind.OFFICER,)) -> list[str]:
    """The roots of the subtrees in which ``user`` holds one of ``kinds``.

    Cached on the user object for the length of a request.
    """
    if user is None or not user.is_authenticated:
        return []
    cache: dict[tuple[str, ...], list[str]] = user.__dict__.setdefault("_saidao_role_paths", {})
    if kinds not in cache:
        paths = Role.objects.filter(
            user=user,
            kind__in=kinds,
            accepted_at__isnull=False,
            organization__status=Organization.Status.APPROVED,
        ).values_list("organization__path", flat=True)
        cache[kinds] = _minimal(list(paths))
    return cache[kinds]


def officer_paths(*, user: Any) -> list[str]:
    return role_paths(user=user)


def user_is_officer(*, user: Any) -> bool:
    return bool(officer_paths(user=user))


def path_in_scope(*, path: str, paths: list[str]) -> bool:
    return any(path.startswith(p) for p in paths)


def organization_in_scope(*, user: Any, organization: Organization) -> bool:
    return path_in_scope(path=organization.path, paths=officer_paths(user=user))


def organizations_for_officer(*, user: Any) -> QuerySet[Organization]:
    """Every organization the officer administers, with parent and region for display."""
    return Organization.objects.filter(scope_q(officer_paths(user=user))).select_related(
        "parent", "region"
    )


def organization_get(*, pk: int) -> Organization:
    try:
        return Organization.objects.select_related("parent", "region").get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"organization": pk}) from None


def organization_get_for_officer(*, user: Any, pk: int) -> Organization:
    """The organization if it lies in the officer's subtree; NotFound otherwise, so that
    organizations outside it are not even confirmed to exist."""
    org = organization_get(pk=pk)
    if not organization_in_scope(user=user, organization=org):
        raise NotFound(detail={"organization": pk})
    return org


def organization_children(*, organization: Organization) -> QuerySet[Organization]:
    return organization.children.select_related("region").order_by("path")


def organization_subtree(*, organization: Organization) -> QuerySet[Organization]:
    """The organization and all its descendants, in tree order: one indexed query."""
    return (
        Organization.objects.filter(subtree_q(organization.path))
        .select_related("parent", "region")
        .order_by("path")
    )


def organization_ancestors(*, organization: Organization) -> QuerySet[Organization]:
    """Root first, not including the organization: one query on the unique path index."""
    return Organization.objects.filter(path__in=organization.ancestor_paths()).order_by("path")


def organizations_approved(*, level: str | None = None) -> QuerySet[Organization]:
    qs = Organization.objects.filter(status=Organization.Status.APPROVED).select_related("region")
    if level:
        qs = qs.filter(level=level)
    return qs.order_by("path")


def applications_pending_for_officer(*, user: Any) -> QuerySet[Organization]:
    """Applications the officer may decide: pending organizations strictly below their roots."""
    paths = officer_paths(user=user)
    return (
        Organization.objects.filter(scope_q(paths), status=Organization.Status.PENDING)
        .exclude(path__in=paths)
        .select_related("parent", "region", "applied_by")
        .order_by("created_at")
    )


def applications_of_user(*, user: Any) -> QuerySet[Organization]:
    return (
        Organization.objects.filter(applied_by=user)
        .select_related("parent")
        .order_by("-created_at")
    )


def invite_codes_for_organization(*, organization: Organization) -> QuerySet[InviteCode]:
    return organization.invite_codes.select_related("created_by").order_by("-created_at")


def invite_code_get(*, code: str) -> InviteCode:
    try:
        return InviteCode.objects.select_related("organization").get(code=code.strip().upper())
    except InviteCode.DoesNotExist:
        raise InviteCodeInvalid(detail={"code": code}) from None


def role_invitations_pending(*, user: Any) -> QuerySet[Role]:
    """Appointments waiting for ``user`` to accept or decline them."""
    return (
        Role.objects.filter(user=user, accepted_at__isnull=True)
        .select_related("organization", "granted_by")
        .order_by("-created_at", "-id")
    )


def role_held_paths(*, user: Any) -> list[tuple[str, str]]:
    """(organization path, kind) of every role ``user`` has accepted, whatever its kind."""
    return list(
        Role.objects.filter(user=user, accepted_at__isnull=False).values_list(
            "organization__path", "kind"
        )
    )


def roles_for_organization(*, organization: Organization) -> QuerySet[Role]:
    return organization.roles.select_related("user").order_by("kind", "id")
