"""Checks the account services share: field errors, regions, passwords, consent, hashing."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from saidao.core.errors import InvalidInput
from saidao.regions.models import Region

from ..models import User

Errors = dict[str, list[str]]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(value: str) -> str:
    """A hash keyed with the secret: a short code's hash read from a dump can't be searched."""
    return salted_hmac("saidao.accounts.code", value).hexdigest()


def field_errors_raise(errors: Errors) -> None:
    if errors:
        raise InvalidInput(detail={"fields": errors})


def regions_check(errors: Errors, province: Region | None, city: Region | None) -> None:
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


def password_check(
    errors: Errors, password: str, user: User | None, *, field: str = "password"
) -> None:
    try:
        validate_password(password, user)
    except ValidationError as e:
        for error in e.error_list:
            if error.code == "password_too_short":
                # Django 5.2 changed this msgid and its zh_Hans catalog lags: say it ourselves.
                message = _("密码太短，至少需要 %(min_length)d 个字符。") % (error.params or {})
                errors.setdefault(field, []).append(str(message))
            else:
                errors.setdefault(field, []).extend(str(m) for m in error.messages)


def consent_check(errors: Errors, consent_version: str) -> None:
    if consent_version != settings.SAIDAO_PRIVACY_NOTICE_VERSION:
        errors.setdefault("consent", []).append(str(_("请阅读并同意隐私政策后继续。")))
