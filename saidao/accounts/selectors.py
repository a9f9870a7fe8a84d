"""Reads about workers and members, filtered by the reader's part of the tree."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.db.models import Count, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from saidao.core import clock
from saidao.core.errors import NotFound
from saidao.orgs.models import PATH_STEP, Organization
from saidao.orgs.selectors import officer_paths, path_in_scope, scope_q, subtree_q

from .models import AccountNotice, ApiToken, Membership, MembershipInvitation, User, UserSession
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


def account_get_for_code(*, officer: Any, user_id: int) -> User:
    """An account ``officer`` might issue a code for: a current member of their subtree, or an
    account their subtree imported that nobody has activated. Anything else is not found."""
    paths = officer_paths(user=officer)
    member = members_for_officer(officer=officer).filter(user_id=user_id).first()
    if member is not None:
        return member.user
    created = (
        User.objects.select_related("created_by_organization")
        .filter(pk=user_id, activated_at__isnull=True, created_by_organization__isnull=False)
        .first()
    )
    origin = created.created_by_organization if created is not None else None
    if created is not None and origin is not None and path_in_scope(path=origin.path, paths=paths):
        return created
    raise NotFound(detail={"user": user_id})


def api_tokens_of_user(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, expires_at__gt=clock.now()).order_by("-created_at")


def web_sessions_of_user(*, user: Any) -> QuerySet[UserSession]:
    """Signed-in browsers whose session has not expired or been ended."""
    live = Session.objects.filter(expire_date__gt=clock.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=live).order_by("-created_at")


def account_notices(*, user: Any) -> QuerySet[AccountNotice]:
    return AccountNotice.objects.filter(user=user).order_by("-created_at", "-id")


def account_notice_message(*, notice: AccountNotice) -> str:
    """The sentence a notice shows its holder."""
    data = notice.data or {}
    kinds = AccountNotice.Kind
    if notice.kind == kinds.CODE_ISSUED:
        return _(
            "工会干部%(officer)s为您的账号生成了%(purpose)s验证码。如非您本人请求，"
            "请立即通过短信找回账号并修改密码。"
        ) % {
            "officer": data.get("officer", ""),
            "purpose": _("激活") if data.get("purpose") == "activation" else _("重置密码"),
        }
    if notice.kind == kinds.PASSWORD_CHANGED:
        return _("您的密码已修改，其他设备已退出登录。如非本人操作，请立即通过短信找回账号。")
    if notice.kind == kinds.ACCOUNT_RECLAIMED:
        return _("您已通过短信找回账号：工会干部此前生成的验证码已作废，其他设备已退出登录。")
    if notice.kind == kinds.MEMBERSHIP_INVITED:
        return _("%(org)s邀请您入会，请在“我的”页面确认或拒绝。") % {
            "org": data.get("organization", "")
        }
    if notice.kind == kinds.ROLE_INVITED:
        return _("%(org)s任命您为%(kind)s，请在“我的”页面确认或拒绝。") % {
            "org": data.get("organization", ""),
            "kind": data.get("kind", ""),
        }
    return str(notice.get_kind_display())


def membership_invitations_pending(*, user: Any) -> QuerySet[MembershipInvitation]:
    return (
        MembershipInvitation.objects.filter(user=user, status=MembershipInvitation.Status.PENDING)
        .select_related("organization")
        .order_by("-created_at", "-id")
    )
