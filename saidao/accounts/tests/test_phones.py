"""Mainland mobile numbers: normalizing what people type, validating, masking."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from saidao.accounts.models import User
from saidao.accounts.phones import (
    MOBILE_REGEX,
    is_mobile,
    mask_phone,
    normalize_phone,
    validate_mobile,
)

mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z", fullmatch=True)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        (" 138 1234\t5678 ", "13812345678"),
        ("(+86) 138 1234 5678", "13812345678"),
        ("（+86）13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("+86 １３８-１２３４-５６７８", "13812345678"),
        ("＋８６　１３８－１２３４－５６７８", "13812345678"),  # IME: full-width +, -, space
    ],
)
def test_normalize_phone_strips_prefix_spaces_dashes_and_full_width(
    typed: str, expected: str
) -> None:
    """A +86/0086/86 prefix, spaces, dashes and brackets go; full-width digits become ASCII."""
    assert normalize_phone(typed) == expected


def test_normalize_phone_keeps_a_short_86_number() -> None:
    """A number that merely starts with 86 but is not 13 digits long keeps its digits."""
    assert normalize_phone("86123") == "86123"


@pytest.mark.parametrize("number", ["13012345678", "13812345678", "19912345678", "15000000000"])
def test_is_mobile_accepts_mainland_mobiles(number: str) -> None:
    """11 digits starting with 1 and a second digit 3-9 are mainland mobile numbers."""
    assert is_mobile(number)
    validate_mobile(number)  # does not raise


@pytest.mark.parametrize(
    "number",
    [
        "12812345678",  # second digit 2
        "11812345678",  # second digit 1
        "23812345678",  # does not start with 1
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "1381234567a",
        "",
        "0932-1234567",  # a landline
    ],
)
def test_is_mobile_rejects_everything_else(number: str) -> None:
    """Landlines, wrong lengths, wrong prefixes and letters are not mobile numbers."""
    assert not is_mobile(number)
    with pytest.raises(ValidationError) as info:
        validate_mobile(number)
    assert info.value.code == "invalid_mobile"
    assert "11 位中国大陆手机号" in info.value.messages[0]


def test_validate_mobile_normalizes_first() -> None:
    """validate_mobile accepts what a person types, as long as it normalizes to a mobile."""
    validate_mobile("+86 138-1234-5678")
    validate_mobile("１３８１２３４５６７８")


def test_mobile_regex_is_the_documented_pattern() -> None:
    """The DB check constraint and the validator share ^1[3-9]\\d{9}$."""
    assert MOBILE_REGEX == r"^1[3-9][0-9]{9}$"


def test_mask_phone_hides_the_middle_four_digits() -> None:
    """138****1234: the first three and last four digits stay visible."""
    assert mask_phone("13812341234") == "138****1234"


def test_mask_phone_leaves_non_mobiles_alone() -> None:
    """An erased account's placeholder (deleted-7) is not a number, so it is shown as is."""
    assert mask_phone("deleted-7") == "deleted-7"


def test_user_str_never_shows_the_full_number() -> None:
    """A user's str() (used by the admin and logs) carries the masked number only."""
    user = User(phone="13812345678", real_name="张三")
    assert str(user) == "张三（138****5678）"
    assert user.masked_phone == "138****5678"


@given(mobiles)
def test_mask_keeps_first_three_and_last_four(phone: str) -> None:
    """For every mobile: masked keeps the first 3 and last 4 digits, is 11 long, hides 4."""
    masked = mask_phone(phone)
    assert len(masked) == 11
    assert masked[:3] == phone[:3]
    assert masked[-4:] == phone[-4:]
    assert masked[3:7] == "****"
    assert not is_mobile(masked)


@given(mobiles, st.sampled_from(["", "+86", "+86 ", "0086", "86"]), st.sampled_from(["", " ", "-"]))
def test_normalize_recovers_any_formatting_of_a_mobile(phone: str, prefix: str, sep: str) -> None:
    """However a mobile is prefixed and grouped (3-4-4), it normalizes back to its 11 digits."""
    typed = prefix + sep.join([phone[:3], phone[3:7], phone[7:]])
    assert normalize_phone(typed) == phone
    assert normalize_phone(normalize_phone(typed)) == phone
