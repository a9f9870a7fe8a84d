"""Reads about workers and members, filtered by the reader's part of the tree."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from saidao.core.errors import NotFound
from saidao.orgs.models import PATH_STEP, Organization
from saidao.orgs.selectors import officer_paths, path_in_scope, scope_q, subtree_q

from .models import Membership, User
from .phones import mask_phone
from .roster import roster_workbook


def membership_current(*, user: Any) -> Membership | None:
    return (
        Membership.objects.select_related("organization", "organization__region")
        .filter(user=user, left_at__isnull=True)
        .first()
    )


def membership_history(*, user: Any) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("organization")
        .filter(user=user)
        .order_by("-joined_at", "-id")
    )


def phone_for_viewer(*, viewer: Any, subject: User, subject_org_path: str | None) -> str:
    """The full number for the worker and for officers whose subtree holds them; masked else."""
    if viewer is not None and viewer.is_authenticated and viewer.pk == subject.pk:
        return subject.phone
    if subject_org_path and path_in_scope(path=subject_org_path, paths=officer_paths(user=viewer)):
        return subject.phone
    return mask_phone(subject.phone)


def members_for_officer(
    *, officer: Any, organization: Organization | None = None, query: str = ""
) -> QuerySet[Membership]:
    """Current memberships in the officer's subtree (or in one organization's subtree within it)."""
    paths = officer_paths(user=officer)
    qs = Membership.objects.filter(left_at__isnull=True).filter(
        scope_q(paths, field="organization__path")
    )
    if organization is not None:
        qs = qs.filter(subtree_q(organization.path, field="organization__path"))
    if query:
        qs = qs.filter(user__real_name__contains=query) | qs.filter(user__phone__startswith=query)
    return qs.select_related("user", "organization").order_by("organization__path", "user__id")


def member_get_for_officer(*, officer: Any, user_id: int) -> Membership:
    membership = members_for_officer(officer=officer).filter(user_id=user_id).first()
    if membership is None:
        raise NotFound(detail={"user": user_id})
    return membership


def roster_export(*, officer: Any, organization: Organization) -> bytes:
    """The organization's current members as an .xlsx the import accepts back."""
    rows = [
        [
            m.user.real_name,
            m.user.phone,
            m.user.employer,
            m.user.position,
            m.organization.name,
            m.joined_at.strftime("%Y-%m-%d"),
            "已激活" if m.user.is_activated else "待激活",
        ]
        for m in members_for_officer(officer=officer, organization=organization).iterator()
    ]
    return roster_workbook(
        rows, header=("姓名", "手机号", "工作单位", "岗位", "所属组织", "入会日期", "账号状态")
    )


def member_counts_by_child(*, organization: Organization) -> dict[str, int]:
    """Current members in each child's subtree, keyed by child path: one grouped query.

    Every child's path has the same length, so grouping on that prefix rolls members up.
    """
    length = len(organization.path) + PATH_STEP
    rows = (
        Membership.objects.filter(left_at__isnull=True)
        .filter(subtree_q(organization.path, field="organization__path"))
        .exclude(organization__path=organization.path)
        .annotate(prefix=Substr("organization__path", 1, length))
        .values("prefix")
        .annotate(n=Count("id"))
    )
    return {r["prefix"]: r["n"] for r in rows}


def member_count_subtree(*, organization: Organization) -> int:
    return (
        Membership.objects.filter(left_at__isnull=True)
        .filter(subtree_q(organization.path, field="organization__path"))
        .count()
    )
