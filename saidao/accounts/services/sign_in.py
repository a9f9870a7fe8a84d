"""Signing in and out: log-in, bearer tokens, browser sessions, changing one's password."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.errors import NotFound
from saidao.core.services import audit_record

from ..errors import InvalidCredentials
from ..models import AccountNotice, ApiToken, User, UserSession
from ..phones import normalize_phone
from ._common import Errors, field_errors_raise, password_check, sha256
from .notices import account_notice_record
from .throttle import throttle_check, throttle_clear, throttle_fail

_DUMMY = User()


def _same_cost_check(password: str) -> None:
    """Hash a password for nothing: an unknown number costs what a known one does."""
    _DUMMY.set_password(password)


def auth_login(*, phone: str, password: str, ip_address: str | None = None) -> User:
    """Check a phone and password.

    Every refusal is the same answer, whether the number has an account, is waiting for
    activation, or was erased: a stranger learns nothing from trying numbers. Failures slow
    down further attempts (see ``throttle``).
    """
    phone = normalize_phone(phone)
    throttle_check(phone=phone, ip_address=ip_address)
    user = User.objects.filter(phone=phone).first()
    ok = False
    if user is None or not user.has_usable_password():
        _same_cost_check(password)
    else:
        ok = user.check_password(password)
    if user is None or not ok or not user.is_active or not user.is_activated:
        throttle_fail(phone=phone, ip_address=ip_address)
        raise InvalidCredentials()
    throttle_clear(phone=phone, ip_address=ip_address)
    return user


def api_token_issue(*, user: User, user_agent: str = "", ip_address: str | None = None) -> str:
    """A new bearer token; only its hash is stored, so it is shown once."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=sha256(key),
        expires_at=clock.now() + dt.timedelta(days=settings.SAIDAO_API_TOKEN_DAYS),
        user_agent=user_agent[:200],
        ip_address=ip_address,
    )
    return key


def api_token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=sha256(key), expires_at__gt=clock.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None


def api_token_of_key(*, key: str) -> ApiToken | None:
    return ApiToken.objects.filter(key_hash=sha256(key)).first()


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens; anybody else's is not found."""
    deleted, _by_model = ApiToken.objects.filter(pk=token_id, user=user).delete()
    if not deleted:
        raise NotFound(detail={"token": token_id})


def api_token_revoke_key(*, key: str) -> None:
    """Log out a bearer token: the token itself stops working at once."""
    ApiToken.objects.filter(key_hash=sha256(key)).delete()


def web_session_record(
    *, user: User, session_key: str, user_agent: str = "", ip_address: str | None = None
) -> None:
    """Remember a signed-in browser so that its owner can list it and sign it out."""
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "created_at": clock.now(),
            "user_agent": user_agent[:200],
            "ip_address": ip_address,
        },
    )


def web_session_forget(*, session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


def _sessions_end(qs: QuerySet[UserSession]) -> None:
    keys = list(qs.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    qs.delete()


@transaction.atomic
def web_session_revoke(*, user: User, session_id: int) -> None:
    """Sign out one of ``user``'s own browsers."""
    qs = UserSession.objects.filter(pk=session_id, user=user)
    if not qs.exists():
        raise NotFound(detail={"session": session_id})
    _sessions_end(qs)


def sign_outs_everywhere(
    *, user: User, keep_session_key: str | None = None, keep_token_hash: str | None = None
) -> None:
    """End every session and token of ``user`` but the ones named (the caller's own)."""
    tokens = ApiToken.objects.filter(user=user)
    if keep_token_hash:
        tokens = tokens.exclude(key_hash=keep_token_hash)
    tokens.delete()
    sessions = UserSession.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    _sessions_end(sessions)


@transaction.atomic
def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    session: SessionBase | None = None,
    token_key: str | None = None,
) -> User:
    """Change one's own password; every other session and token of the account ends."""
    errors: Errors = {}
    if not user.check_password(old_password):
        errors["old_password"] = [str(_("当前密码不正确。"))]
    password_check(errors, new_password, user, field="new_password")
    if not errors and old_password == new_password:
        errors["new_password"] = [str(_("新密码不能与当前密码相同。"))]
    field_errors_raise(errors)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sign_outs_everywhere(
        user=user,
        keep_session_key=session.session_key if session is not None else None,
        keep_token_hash=sha256(token_key) if token_key else None,
    )
    audit_record(actor=user, action="password.change", target=user)
    account_notice_record(user=user, kind=AccountNotice.Kind.PASSWORD_CHANGED)
    return user
