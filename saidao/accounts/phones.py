"""Mainland China mobile numbers: normalizing, validating and masking."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MOBILE_REGEX = r"^1[3-9][0-9]{9}$"
_MOBILE = re.compile(MOBILE_REGEX)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def normalize_phone(value: str) -> str:
    """Strip spaces, dashes and a +86/0086 prefix; full-width digits, + and - become ASCII."""
    v = str(value).translate(_FULL_WIDTH_DIGITS)
    v = re.sub(r"[\s\-()（）]", "", v)
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    elif v.startswith("86") and len(v) == 13:
        v = v[2:]
    return v


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))


def validate_mobile(value: str) -> None:
    if not is_mobile(normalize_phone(value)):
        raise ValidationError(
            _("请输入 11 位中国大陆手机号，例如 13812345678。"), code="invalid_mobile"
        )


def mask_phone(phone: str) -> str:
    """138****1234. Anything that is not a mobile number is shown as it is."""
    if is_mobile(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    return phone
