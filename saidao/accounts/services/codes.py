"""Codes that let somebody set an account's password.

Two kinds, for two situations:
- one-time codes an officer hands to a member (activation of an imported account, or a reset),
  issued only where the officer's subtree answers for the account, audited, and told to the
  holder;
- codes sent by SMS to the number itself (sign-up, reset, reclaiming an account an officer
  created), which prove that whoever types them holds the number.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from saidao.core import clock, sms
from saidao.core.errors import InvalidInput, NotFound
from saidao.core.services import audit_record
from saidao.orgs.models import Role
from saidao.orgs.selectors import officer_paths, path_in_scope, role_held_paths

from ..errors import CodeInvalid, CodeNotAllowed, PhoneCodeTooSoon, SmsNotSent
from ..models import AccountNotice, Membership, OneTimeCode, PhoneCode, PrivacyConsent, User
from ..phones import is_mobile, normalize_phone
from ._common import (
    Errors,
    consent_check,
    field_errors_raise,
    keyed_hash,
    password_check,
    sha256,
)
from .notices import account_notice_record
from .sign_in import sign_outs_everywhere
from .throttle import throttle_check, throttle_fail

log = logging.getLogger(__name__)

# --- one-time codes from an officer -------------------------------------------------------


def _officer_code_hash(user: User, code: str) -> str:
    return sha256(f"{user.pk}:{code}")


def one_time_code_issue(*, user: User, purpose: str, issued_by: User | None) -> str:
    """A fresh code replacing any earlier one of the same purpose. Callers check the right."""
    code = f"{secrets.randbelow(10**8):08d}"
    now = clock.now()
    OneTimeCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    OneTimeCode.objects.create(
        user=user,
        purpose=purpose,
        code_hash=_officer_code_hash(user, code),
        expires_at=now + dt.timedelta(hours=settings.SAIDAO_ONE_TIME_CODE_HOURS),
        issued_by=issued_by,
    )
    return code


def _roles_within(*, member: User, paths: list[str]) -> bool:
    """Whether every role ``member`` holds lies inside the officer's subtrees, and every
    officer role strictly below the officer's own: nobody resets a peer's or a superior's."""
    for path, kind in role_held_paths(user=member):
        if not path_in_scope(path=path, paths=paths):
            return False
        if kind == Role.Kind.OFFICER and path in paths:
            return False
    return True


def officer_code_purpose(*, officer: User, member: User) -> str:
    """The kind of code ``officer`` may issue for ``member``; raises when none.

    - An account the officer's subtree created from a roster and nobody has activated yet:
      an activation code.
    - A current member of the officer's subtree who holds no role outside it and none as high
      as the officer's: a code of the account's state (activation or reset).
    Anything else is not the officer's to open: not found if it is not in their subtree at all.
    """
    paths = officer_paths(user=officer)
    if member.pk == officer.pk:
        raise CodeNotAllowed(_("不能为自己生成验证码，请在“账号安全”中修改密码。"))
    created_here = (
        not member.is_activated
        and member.created_by_organization is not None
        and path_in_scope(path=member.created_by_organization.path, paths=paths)
    )
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=member, left_at__isnull=True)
        .first()
    )
    member_here = membership is not None and path_in_scope(
        path=membership.organization.path, paths=paths
    )
    if not created_here and not member_here:
        raise NotFound(detail={"user": member.pk})
    if not member.is_activated and not created_here:
        # Imported by another subtree: its code is theirs to give (or the owner's by SMS).
        raise CodeNotAllowed()
    if not _roles_within(member=member, paths=paths):
        raise CodeNotAllowed()
    return (
        OneTimeCode.Purpose.ACTIVATION
        if not member.is_activated
        else (OneTimeCode.Purpose.PASSWORD_RESET)
    )


@transaction.atomic
def password_reset_code_issue(*, officer: User, member: User) -> str:
    """An officer issues a one-time code for a member of their subtree (see the rules in
    ``officer_code_purpose``); it is audited and told to the holder."""
    member = User.objects.select_for_update().get(pk=member.pk)
    purpose = officer_code_purpose(officer=officer, member=member)
    code = one_time_code_issue(user=member, purpose=purpose, issued_by=officer)
    audit_record(actor=officer, action=f"one_time_code.{purpose}", target=member)
    account_notice_record(
        user=member,
        kind=AccountNotice.Kind.CODE_ISSUED,
        data={"purpose": purpose, "officer": officer.real_name},
    )
    return code


def _use_officer_code(*, phone: str, code: str, purpose: str, ip_address: str | None) -> User:
    """Consume a valid code; call inside a transaction, and count a CodeInvalid outside it
    (see ``_failures_counted``) so that the rollback does not erase the failure."""
    throttle_check(phone=phone, ip_address=ip_address)
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
                code_hash=_officer_code_hash(user, code.strip()),
            )
            .first()
        )
    if user is None or otc is None:
        raise CodeInvalid()
    otc.used_at = clock.now()
    otc.save(update_fields=["used_at", "updated_at"])
    return user


@contextmanager
def _failures_counted(phone: str, ip_address: str | None) -> Iterator[None]:
    """Count a wrong code toward the delays after its transaction has rolled back."""
    try:
        yield
    except CodeInvalid:
        throttle_fail(phone=phone, ip_address=ip_address)
        raise


def account_activate(
    *,
    phone: str,
    code: str,
    password: str,
    consent_version: str,
    ip_address: str | None = None,
) -> User:
    """An imported member activates their account with the code the officer gave them."""
    phone = normalize_phone(phone)
    errors: Errors = {}
    password_check(errors, password, None)
    consent_check(errors, consent_version)
    field_errors_raise(errors)
    with _failures_counted(phone, ip_address), transaction.atomic():
        user = _use_officer_code(
            phone=phone, code=code, purpose=OneTimeCode.Purpose.ACTIVATION, ip_address=ip_address
        )
        user.set_password(password)
        user.activated_at = clock.now()
        user.save(update_fields=["password", "activated_at", "updated_at"])
        PrivacyConsent.objects.get_or_create(
            user=user, version=consent_version, defaults={"ip_address": ip_address}
        )
    return user


def password_reset(*, phone: str, code: str, password: str, ip_address: str | None = None) -> User:
    """Set a new password with an officer's reset code; every session and token ends."""
    phone = normalize_phone(phone)
    errors: Errors = {}
    password_check(errors, password, None)
    field_errors_raise(errors)
    with _failures_counted(phone, ip_address), transaction.atomic():
        user = _use_officer_code(
            phone=phone,
            code=code,
            purpose=OneTimeCode.Purpose.PASSWORD_RESET,
            ip_address=ip_address,
        )
        user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        sign_outs_everywhere(user=user)
    return user


# --- codes sent by SMS to the number ------------------------------------------------------

PHONE_CODE_TTL = dt.timedelta(minutes=5)
PHONE_CODE_TRIES = 5


def _phone_code_hash(phone: str, purpose: str, code: str) -> str:
    return keyed_hash(f"{phone}:{purpose}:{code}")


def _phone_code_limits(*, phone: str, ip_address: str | None, now: dt.datetime) -> None:
    recent = PhoneCode.objects.filter(phone=phone, created_at__gt=now - dt.timedelta(hours=1))
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    gap = dt.timedelta(seconds=settings.SAIDAO_SMS_CODE_INTERVAL_SECONDS)
    if last is not None and last > now - gap:
        wait = int((last + gap - now).total_seconds()) + 1
        raise PhoneCodeTooSoon(
            _("验证码已发送，请 %(seconds)d 秒后再重新获取。") % {"seconds": wait},
            detail={"retry_after": wait},
        )
    if recent.count() >= settings.SAIDAO_SMS_CODES_PER_NUMBER_HOUR:
        raise PhoneCodeTooSoon(detail={"retry_after": 3600})
    if ip_address:
        from_address = PhoneCode.objects.filter(
            ip_address=ip_address, created_at__gt=now - dt.timedelta(hours=1)
        ).count()
        if from_address >= settings.SAIDAO_SMS_CODES_PER_ADDRESS_HOUR:
            raise PhoneCodeTooSoon(detail={"retry_after": 3600})


def phone_code_request(*, phone: str, purpose: str, ip_address: str | None = None) -> None:
    """Send a 6-digit code to ``phone`` by SMS.

    The answer is the same whether or not the number has an account: for a reset, a number
    without one is sent nothing; for a sign-up, a number with one is sent a code all the same
    and told so when the code is used (by then its holder has shown they own it).
    """
    if purpose not in PhoneCode.Purpose.values:
        raise InvalidInput.for_field("purpose", _("验证码用途不正确。"))
    if not sms.sms_configured("verification"):
        raise sms.SmsNotConfigured()
    phone = normalize_phone(phone)
    if not is_mobile(phone):
        raise InvalidInput.for_field("phone", _("请输入 11 位中国大陆手机号，例如 13812345678。"))
    now = clock.now()
    _phone_code_limits(phone=phone, ip_address=ip_address, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    # The row first: it counts toward the limits even if the provider then fails.
    row = PhoneCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_phone_code_hash(phone, purpose, code),
        created_at=now,
        expires_at=now + PHONE_CODE_TTL,
        ip_address=ip_address,
    )
    exists = User.objects.filter(phone=phone, is_active=True).exists()
    if purpose == PhoneCode.Purpose.RESET and not exists:
        return
    try:
        minutes = str(int(PHONE_CODE_TTL.total_seconds() // 60))
        sms.sms_send(
            phone=phone, template="verification", params={"code": code, "minutes": minutes}
        )
    except sms.SmsDeliveryFailed as e:
        PhoneCode.objects.filter(pk=row.pk).update(used_at=now)  # never delivered: not usable
        log.warning("verification SMS not delivered: %s", e.detail)
        # The provider's words are the operator's business, not the visitor's.
        raise SmsNotSent() from None


def phone_code_use(*, phone: str, purpose: str, code: str) -> None:
    """Consume the number's latest live code of ``purpose``; each wrong try counts, and the
    code dies after its last try. Commits the try count even when it refuses."""
    phone = normalize_phone(phone)
    now = clock.now()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .filter(Q(tries__lt=PHONE_CODE_TRIES))
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            ok = False
        else:
            ok = secrets.compare_digest(
                row.code_hash, _phone_code_hash(phone, purpose, code.strip())
            )
            if ok:
                row.used_at = now
            else:
                row.tries += 1
            row.save(update_fields=["used_at", "tries"])
    if not ok:
        raise CodeInvalid(_("短信验证码不正确或已过期，请重新获取。"))


def account_recover(
    *,
    phone: str,
    code: str,
    password: str,
    consent_version: str,
    ip_address: str | None = None,
) -> User:
    """Set a password with an SMS code: the holder of the number takes the account back.

    This is also how the owner reclaims an account an officer created for their number: it
    is activated for them, every code an officer issued for it is revoked, and every session
    and token ends (whoever activated it with an officer's code is signed out).
    """
    phone = normalize_phone(phone)
    errors: Errors = {}
    password_check(errors, password, None)
    consent_check(errors, consent_version)
    field_errors_raise(errors)
    throttle_check(phone=phone, ip_address=ip_address)
    try:
        phone_code_use(phone=phone, purpose=PhoneCode.Purpose.RESET, code=code)
    except CodeInvalid:
        throttle_fail(phone=phone, ip_address=ip_address)
        raise
    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone=phone, is_active=True).first()
        if user is None:  # erased meanwhile: no code was sent for it
            raise CodeInvalid(_("短信验证码不正确或已过期，请重新获取。"))
        PrivacyConsent.objects.get_or_create(
            user=user, version=consent_version, defaults={"ip_address": ip_address}
        )
        reclaimed = user.created_by_organization_id is not None
        user.set_password(password)
        fields = ["password", "updated_at"]
        if not user.is_activated:
            user.activated_at = clock.now()
            fields.append("activated_at")
        user.save(update_fields=fields)
        revoked = OneTimeCode.objects.filter(user=user, used_at__isnull=True).update(
            used_at=clock.now()
        )
        sign_outs_everywhere(user=user)
        audit_record(
            actor=user,
            action="account.reclaim" if reclaimed else "password.reset_sms",
            target=user,
            data={"officer_codes_revoked": revoked},
        )
        account_notice_record(
            user=user,
            kind=AccountNotice.Kind.ACCOUNT_RECLAIMED
            if reclaimed
            else AccountNotice.Kind.PASSWORD_CHANGED,
        )
    return user
