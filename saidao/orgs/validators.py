"""Validation of the unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_REGEX = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


def credit_code_check_char(first17: str) -> str:
    """The 18th character that GB 32100-2015 derives from the first 17."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def validate_credit_code(value: str) -> None:
    """Raise ValidationError unless ``value`` is 18 valid characters with a correct check char.

    No prefix is enforced: grassroots unions and federations register differently.
    """
    code = normalize_credit_code(value)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为 18 位，您输入了 %(n)d 位。"),
            code="length",
            params={"n": len(code)},
        )
    bad = sorted({c for c in code if c not in CREDIT_CODE_ALPHABET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、Z、S、V）。"),
            code="chars",
            params={"chars": "".join(bad)},
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位不正确，请核对后重新输入。"), code="checksum"
        )
