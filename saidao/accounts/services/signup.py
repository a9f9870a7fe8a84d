"""Registering a worker and keeping their profile."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from saidao.core import clock, sms
from saidao.core.errors import InvalidInput
from saidao.regions.models import Region

from ..models import PhoneCode, PrivacyConsent, User
from ..phones import is_mobile, normalize_phone
from ._common import Errors, consent_check, field_errors_raise, password_check, regions_check
from .codes import phone_code_use

ALREADY_REGISTERED = _("该手机号已注册，请直接登录；忘记密码可通过短信找回。")


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
    sms_code: str = "",
    ip_address: str | None = None,
) -> User:
    """Register a worker with a mainland mobile number; records the privacy consent.

    Where SMS is configured the number is proven first with a code sent to it, and only its
    holder learns whether it already has an account.
    """
    phone = normalize_phone(phone)
    errors: Errors = {}
    verify = sms.sms_configured()
    if not is_mobile(phone):
        errors["phone"] = [str(_("请输入 11 位中国大陆手机号，例如 13812345678。"))]
    elif verify and not sms_code.strip():
        errors["sms_code"] = [str(_("请输入短信验证码。"))]
    if not real_name.strip():
        errors["real_name"] = [str(_("请填写真实姓名。"))]
    elif len(real_name.strip()) > 50:
        errors["real_name"] = [str(_("姓名不能超过 50 个字。"))]
    regions_check(errors, province, city)
    password_check(errors, password, User(phone=phone, real_name=real_name))
    consent_check(errors, consent_version)
    field_errors_raise(errors)
    if verify:
        phone_code_use(phone=phone, purpose=PhoneCode.Purpose.SIGNUP, code=sms_code)
    with transaction.atomic():
        if User.objects.filter(phone=phone).exists():
            raise InvalidInput.for_field("phone", ALREADY_REGISTERED)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    phone,
                    password,
                    real_name=real_name.strip(),
                    employer=employer.strip()[:100],
                    position=position.strip()[:50],
                    province=province,
                    city=city,
                    activated_at=clock.now(),
                )
        except IntegrityError:  # a concurrent sign-up with the same number
            raise InvalidInput.for_field("phone", ALREADY_REGISTERED) from None
        PrivacyConsent.objects.create(user=user, version=consent_version, ip_address=ip_address)
    return user


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
    errors: Errors = {}
    if not real_name.strip():
        errors["real_name"] = [str(_("请填写真实姓名。"))]
    regions_check(errors, province, city)
    field_errors_raise(errors)
    user.real_name, user.employer, user.position = (
        real_name.strip(),
        employer.strip(),
        position.strip(),
    )
    user.province, user.city = province, city
    user.save(update_fields=["real_name", "employer", "position", "province", "city", "updated_at"])
    return user
