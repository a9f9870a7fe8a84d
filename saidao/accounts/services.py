"""Writes for workers: sign-up, log-in, joining, rosters, one-time codes, erasure."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.services import audit_record
from saidao.orgs.models import Organization, Role
from saidao.orgs.selectors import invite_code_get, officer_paths, path_in_scope
from saidao.orgs.services import invite_code_check
from saidao.regions.models import Region

from .errors import (
    AccountLocked,
    AccountNotActivated,
    AlreadyMember,
    CodeInvalid,
    InvalidCredentials,
    RosterInvalid,
)
from .models import ApiToken, LoginThrottle, Membership, OneTimeCode, PrivacyConsent, User
from .phones import is_mobile, normalize_phone
from .roster import roster_parse
from .signals import user_erased


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _field_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InvalidInput(detail={"fields": errors})


def _check_regions(
    errors: dict[str, list[str]], province: Region | None, city: Region | None
) -> None:
    if province is None:
        errors.setdefault("province", []).append(str(_("请选择省份。")))
    elif province.level != Region.Level.PROVINCE:
        errors.setdefault("province", []).append(str(_("请选择省级行政区。")))
    if city is None:
        errors.setdefault("city", []).append(str(_("请选择城市。")))
    elif province is not None and (
        city.province_id != province.code or city.zone_city_id != city.code
    ):
        errors.setdefault("city", []).append(
            str(_("所选城市不属于%(province)s，请重新选择。") % {"province": province.name})
        )


def _check_password(errors: dict[str, list[str]], password: str, user: User | None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as e:
        for error in e.error_list:
            if error.code == "password_too_short":
                # Django 5.2 changed this msgid and its zh_Hans catalog lags: say it ourselves.
                message = _("密码太短，至少需要 %(min_length)d 个字符。") % (error.params or {})
                errors.setdefault("password", []).append(str(message))
            else:
                errors.setdefault("password", []).extend(str(m) for m in error.messages)


def _check_consent(errors: dict[str, list[str]], consent_version: str) -> None:
    if consent_version != settings.SAIDAO_PRIVACY_NOTICE_VERSION:
        errors.setdefault("consent", []).append(str(_("请阅读并同意隐私政策后继续。")))


@transaction.atomic
def user_signup(
    *,
    phone: str,
    password: str,
    real_name: str,
    employer: str,
    position: str = "",
    province: Region | None,
    city: Region | None,
    consent_version: str,
    ip_address: str | None = None,
) -> User:
    """Register a worker with a mainland mobile number; records the privacy consent."""
    phone = normalize_phone(phone)
    errors: dict[str, list[str]] = {}
    if not is_mobile(phone):
        errors["phone"] = [str(_("请输入 11 位中国大陆手机号，例如 13812345678。"))]
    elif User.objects.filter(phone=phone).exists():
        errors["phone"] = [
            str(_("该手机号已注册，请直接登录；如果是工会导入的名册，请先激活账号。"))
        ]
    if not real_name.strip():
        errors["real_name"] = [str(_("请填写真实姓名。"))]
    _check_regions(errors, province, city)
    _check_password(errors, password, User(phone=phone, real_name=real_name))
    _check_consent(errors, consent_version)
    _field_errors(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                phone,
                password,
                real_name=real_name.strip(),
                employer=employer.strip(),
                position=position.strip(),
                province=province,
                city=city,
                activated_at=clock.now(),
            )
    except IntegrityError:  # a concurrent sign-up with the same number
        raise InvalidInput.for_field("phone", _("该手机号已注册，请直接登录。")) from None
    PrivacyConsent.objects.create(user=user, version=consent_version, ip_address=ip_address)
    return user


def _throttle_check(phone: str) -> LoginThrottle | None:
    t = LoginThrottle.objects.filter(phone=phone).first()
    if t and t.locked_until and t.locked_until > clock.now():
        raise AccountLocked(
            _("密码错误次数过多，账号已锁定至 %(until)s，请稍后再试。")
            % {"until": t.locked_until.astimezone(clock.SHANGHAI).strftime("%H:%M")},
            detail={"locked_until": t.locked_until.isoformat()},
        )
    return t


def _throttle_fail(phone: str) -> None:
    with transaction.atomic():
        t, _created = LoginThrottle.objects.select_for_update().get_or_create(phone=phone)
        t.failures = F("failures") + 1
        t.save(update_fields=["failures", "updated_at"])
        t.refresh_from_db()
        if t.failures >= settings.SAIDAO_LOGIN_MAX_FAILURES:
            t.locked_until = clock.now() + dt.timedelta(minutes=settings.SAIDAO_LOGIN_LOCK_MINUTES)
            t.failures = 0
            t.save(update_fields=["locked_until", "failures", "updated_at"])


def auth_login(*, phone: str, password: str) -> User:
    """Check a phone and password; repeated failures lock the number for a while."""
    phone = normalize_phone(phone)
    _throttle_check(phone)
    user = User.objects.filter(phone=phone).first()
    if (
        user is not None
        and user.is_active
        and not user.is_activated
        and not user.has_usable_password()
    ):
        raise AccountNotActivated()  # imported from a roster: no password to guess yet
    if user is None or not user.check_password(password):
        if user is None:
            User().set_password(password)  # same cost as a real check
        _throttle_fail(phone)
        raise InvalidCredentials()
    if not user.is_active:
        raise InvalidCredentials()
    if not user.is_activated:
        raise AccountNotActivated()
    LoginThrottle.objects.filter(phone=phone).delete()
    return user


def api_token_issue(*, user: User) -> str:
    """A new bearer token; only its hash is stored, so it is shown once."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_hash(key),
        expires_at=clock.now() + dt.timedelta(days=settings.SAIDAO_API_TOKEN_DAYS),
    )
    return key


def api_token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), expires_at__gt=clock.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None


@transaction.atomic
def profile_update(
    *,
    user: User,
    real_name: str,
    employer: str,
    position: str,
    province: Region | None,
    city: Region | None,
) -> User:
    errors: dict[str, list[str]] = {}
    if not real_name.strip():
        errors["real_name"] = [str(_("请填写真实姓名。"))]
    _check_regions(errors, province, city)
    _field_errors(errors)
    user.real_name, user.employer, user.position = (
        real_name.strip(),
        employer.strip(),
        position.strip(),
    )
    user.province, user.city = province, city
    user.save(update_fields=["real_name", "employer", "position", "province", "city", "updated_at"])
    return user


def _membership_switch(
    *, user: User, organization: Organization, source: str, invite: Any = None
) -> Membership:
    """End the user's current membership (kept as history) and start one in ``organization``."""
    now = clock.now()
    current = Membership.objects.select_for_update().filter(user=user, left_at__isnull=True).first()
    if current is not None:
        if current.organization_id == organization.pk:
            raise AlreadyMember(detail={"organization": organization.pk})
        current.left_at = now
        current.save(update_fields=["left_at", "updated_at"])
    return Membership.objects.create(
        user=user, organization=organization, source=source, invite_code=invite, joined_at=now
    )


@transaction.atomic
def membership_join(*, user: User, code: str) -> Membership:
    """Join an organization with its invite code; a code of another one moves the membership."""
    if not code.strip():
        raise InvalidInput.for_field("code", _("请输入邀请码。"))
    invite = invite_code_get(code=code)
    invite_code_check(invite=invite)
    membership = _membership_switch(
        user=user, organization=invite.organization, source=Membership.Source.INVITE, invite=invite
    )
    type(invite).objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    return membership


def _require_officer_of_member(*, officer: User, member: User) -> Membership:
    current = (
        Membership.objects.select_related("organization")
        .filter(user=member, left_at__isnull=True)
        .first()
    )
    if current is None or not path_in_scope(
        path=current.organization.path, paths=officer_paths(user=officer)
    ):
        raise OutsideScope(detail={"user": member.pk})
    return current


def _issue_code(*, user: User, purpose: str, issued_by: User | None) -> str:
    code = f"{secrets.randbelow(10**8):08d}"
    OneTimeCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
        used_at=clock.now()  # a new code replaces any earlier one
    )
    OneTimeCode.objects.create(
        user=user,
        purpose=purpose,
        code_hash=_hash(f"{user.pk}:{code}"),
        expires_at=clock.now() + dt.timedelta(hours=settings.SAIDAO_ONE_TIME_CODE_HOURS),
        issued_by=issued_by,
    )
    return code


@transaction.atomic
def password_reset_code_issue(*, officer: User, member: User) -> str:
    """An officer issues a one-time code with which a member in their subtree sets a password."""
    _require_officer_of_member(officer=officer, member=member)
    purpose = (
        OneTimeCode.Purpose.PASSWORD_RESET
        if member.is_activated
        else OneTimeCode.Purpose.ACTIVATION
    )
    code = _issue_code(user=member, purpose=purpose, issued_by=officer)
    audit_record(actor=officer, action=f"one_time_code.{purpose}", target=member)
    return code


def _use_code(*, phone: str, code: str, purpose: str) -> User:
    """Consume a valid code; call inside a transaction, and count a CodeInvalid outside it
    (see ``_code_failure_counted``) so that the rollback does not erase the failure."""
    phone = normalize_phone(phone)
    _throttle_check(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    otc = None
    if user is not None:
        otc = (
            OneTimeCode.objects.select_for_update()
            .filter(
                user=user,
                purpose=purpose,
                used_at__isnull=True,
                expires_at__gt=clock.now(),
                code_hash=_hash(f"{user.pk}:{code.strip()}"),
            )
            .first()
        )
    if user is None or otc is None:
        raise CodeInvalid()
    otc.used_at = clock.now()
    otc.save(update_fields=["used_at", "updated_at"])
    return user


@contextmanager
def _code_failure_counted(phone: str) -> Iterator[None]:
    """Count a wrong code toward the lock-out after its transaction has rolled back."""
    try:
        yield
    except CodeInvalid:
        _throttle_fail(normalize_phone(phone))
        raise


def account_activate(
    *, phone: str, code: str, password: str, consent_version: str, ip_address: str | None = None
) -> User:
    """An imported member activates their account with the code the officer gave them."""
    errors: dict[str, list[str]] = {}
    _check_password(errors, password, None)
    _check_consent(errors, consent_version)
    _field_errors(errors)
    with _code_failure_counted(phone), transaction.atomic():
        user = _use_code(phone=phone, code=code, purpose=OneTimeCode.Purpose.ACTIVATION)
        user.set_password(password)
        user.activated_at = clock.now()
        user.save(update_fields=["password", "activated_at", "updated_at"])
        PrivacyConsent.objects.get_or_create(
            user=user, version=consent_version, defaults={"ip_address": ip_address}
        )
    return user


def password_reset(*, phone: str, code: str, password: str) -> User:
    errors: dict[str, list[str]] = {}
    _check_password(errors, password, None)
    _field_errors(errors)
    with _code_failure_counted(phone), transaction.atomic():
        user = _use_code(phone=phone, code=code, purpose=OneTimeCode.Purpose.PASSWORD_RESET)
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        ApiToken.objects.filter(user=user).delete()
    return user


@dataclass
class RosterImportResult:
    created: list[tuple[User, str]] = field(default_factory=list)  # (user, activation code)
    added: list[User] = field(default_factory=list)
    unchanged: int = 0


@transaction.atomic
def roster_import(
    *, officer: User, organization: Organization, file: IO[bytes]
) -> RosterImportResult:
    """Import a roster into ``organization``: all rows or none.

    New numbers become accounts that wait for activation with a one-time code; numbers of
    workers without a membership join; members of another organization are an error (they move
    with an invite code themselves).
    """
    if not path_in_scope(path=organization.path, paths=officer_paths(user=officer)):
        raise OutsideScope(detail={"organization": organization.pk})
    if not organization.is_approved:
        raise InvalidInput(_("组织通过审批后才能导入名册。"))
    parsed = roster_parse(file)
    unreadable = [e["message"] for e in parsed.errors if e["row"] == 0]
    if unreadable:  # not an .xlsx at all: one message on the file, not "row 0"
        raise RosterInvalid(unreadable[0], detail={"fields": {"file": unreadable}})
    errors = list(parsed.errors)
    phones = [r.phone for r in parsed.rows if r.phone]
    existing = {u.phone: u for u in User.objects.filter(phone__in=phones)}
    current = {
        m.user_id: m
        for m in Membership.objects.filter(user__in=existing.values(), left_at__isnull=True)
    }
    for r in parsed.rows:
        u = existing.get(r.phone)
        m = current.get(u.pk) if u else None
        if m is not None and m.organization_id != organization.pk:
            errors.append(
                {
                    "row": r.row,
                    "column": "手机号",
                    "message": str(_("该手机号已是其他工会组织的会员，需本人使用邀请码转入。")),
                }
            )
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise RosterInvalid(detail={"errors": errors})
    result = RosterImportResult()
    for r in parsed.rows:
        u = existing.get(r.phone)
        if u is None:
            u = User.objects.create_user(
                r.phone, None, real_name=r.real_name, employer=r.employer, position=r.position
            )
            code = _issue_code(user=u, purpose=OneTimeCode.Purpose.ACTIVATION, issued_by=officer)
            Membership.objects.create(
                user=u, organization=organization, source=Membership.Source.ROSTER
            )
            result.created.append((u, code))
        elif u.pk in current:
            result.unchanged += 1
        else:
            Membership.objects.create(
                user=u, organization=organization, source=Membership.Source.ROSTER
            )
            result.added.append(u)
    audit_record(
        actor=officer,
        action="roster.import",
        target=organization,
        data={
            "created": len(result.created),
            "added": len(result.added),
            "unchanged": result.unchanged,
        },
    )
    return result


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Erase a worker's personal data at their request (PIPL).

    The row stays, anonymized, so that memberships and participation that others count keep
    their totals; the current membership ends; tokens, codes and roles go.
    """
    now = clock.now()
    Membership.objects.filter(user=user, left_at__isnull=True).update(left_at=now)
    ApiToken.objects.filter(user=user).delete()
    OneTimeCode.objects.filter(user=user).delete()
    Role.objects.filter(user=user).delete()
    LoginThrottle.objects.filter(phone=user.phone).delete()
    user.phone = f"deleted-{user.pk}"
    user.real_name = str(_("已注销用户"))
    user.employer = ""
    user.position = ""
    user.province = None
    user.city = None
    user.is_active = False
    user.deleted_at = now
    user.set_unusable_password()
    user.save()
    user_erased.send(sender=User, user=user)
