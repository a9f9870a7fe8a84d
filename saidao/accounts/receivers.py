"""What accounts does when rooms below it, or Django's auth, say something happened."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop

from saidao.core import sms
from saidao.orgs.models import Role
from saidao.orgs.signals import role_invited

from .models import AccountNotice, User
from .services import account_notice_record, web_session_forget, web_session_record


def _logged_in(sender: Any, request: HttpRequest | None, user: User, **_kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if request is None or session is None or not session.session_key:
        return
    web_session_record(
        user=user,
        session_key=session.session_key,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=request.META.get("REMOTE_ADDR"),
    )


def _logged_out(sender: Any, request: HttpRequest | None, **_kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        web_session_forget(session_key=session.session_key)


def _role_invited(sender: Any, role: Role, **_kwargs: Any) -> None:
    account_notice_record(
        user=role.user,
        kind=AccountNotice.Kind.ROLE_INVITED,
        data={"organization": role.organization.name, "kind": str(role.get_kind_display())},
    )


def _sms_kinds() -> None:
    """The account notices that go by SMS where configured, with the text the console shows
    (providers send the deployment's approved template with the same parameters)."""

    def text(message: str) -> Callable[[Mapping[str, str]], str]:
        return lambda params: gettext(message) % dict(params)

    kinds = {
        AccountNotice.Kind.CODE_ISSUED: (
            ("officer",),
            gettext_noop(
                "工会干部%(officer)s为您的赛道账号生成了验证码。"
                "如非您本人请求，请用短信验证码找回账号。"
            ),
        ),
        AccountNotice.Kind.PASSWORD_CHANGED: (
            (),
            gettext_noop("您的赛道账号密码已修改。如非本人操作，请立即找回账号。"),
        ),
        AccountNotice.Kind.ACCOUNT_RECLAIMED: (
            (),
            gettext_noop("您已找回赛道账号，其他设备已退出登录。"),
        ),
        AccountNotice.Kind.MEMBERSHIP_INVITED: (
            ("organization",),
            gettext_noop("%(organization)s邀请您入会，请登录赛道确认。"),
        ),
        AccountNotice.Kind.ROLE_INVITED: (
            ("organization", "kind"),
            gettext_noop("%(organization)s任命您为%(kind)s，请登录赛道确认。"),
        ),
    }
    for name, (params, message) in kinds.items():
        sms.template_kind_register(name, sms.TemplateKind(params, params, text(message)))


def connect() -> None:
    _sms_kinds()
    user_logged_in.connect(_logged_in, dispatch_uid="saidao-session-record")
    user_logged_out.connect(_logged_out, dispatch_uid="saidao-session-forget")
    role_invited.connect(_role_invited, dispatch_uid="saidao-role-invited-notice")
