"""The unified social credit code (统一社会信用代码) check of GB 32100-2015."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from saidao.orgs.validators import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_REGEX,
    credit_code_check_char,
    normalize_credit_code,
    validate_credit_code,
)

KNOWN_VALID = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


def _error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_credit_code(value)
    return info.value


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes_pass(code: str) -> None:
    """Real, published credit codes validate, and their check char is the one computed."""
    validate_credit_code(code)
    assert credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", [" 91350100m000100y43 ", "9111 0000 6000 3734 1l"])
def test_case_and_spaces_are_normalized(code: str) -> None:
    """Lower case and spaces from typing on a phone are accepted after normalizing."""
    validate_credit_code(code)
    assert normalize_credit_code(code) in KNOWN_VALID


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_a_wrong_check_char_fails_with_a_clear_message(code: str) -> None:
    """Every other last character fails as a checksum error that says the check digit is wrong."""
    for c in CREDIT_CODE_ALPHABET:
        if c == code[17]:
            continue
        e = _error(code[:17] + c)
        assert e.code == "checksum"
        assert "校验位不正确" in e.messages[0]


@pytest.mark.parametrize(
    ("code", "n"),
    [("9135010000", 10), ("91350100M000100Y4", 17), ("91350100M000100Y431", 19), ("", 0)],
)
def test_wrong_length_fails_and_says_how_many_were_typed(code: str, n: int) -> None:
    """A code that is not 18 characters fails with code "length", quoting the length typed."""
    e = _error(code)
    assert e.code == "length"
    assert e.messages == [f"统一社会信用代码应为 18 位，您输入了 {n} 位。"]


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters_fail(letter: str) -> None:
    """I, O, Z, S and V are not in the alphabet: the error names the offending letter."""
    code = "91350100M000100Y4" + letter
    e = _error(code)
    assert e.code == "chars"
    assert letter in e.messages[0]
    assert "不使用 I、O、Z、S、V" in e.messages[0]
    e = _error(letter + code[1:])
    assert e.code == "chars"


@pytest.mark.parametrize("char", ["-", "!", "中", "_"])
def test_punctuation_and_other_scripts_fail(char: str) -> None:
    """Characters outside the 31-char alphabet fail as forbidden characters."""
    e = _error("91350100M000100Y4" + char)
    assert e.code == "chars"


def test_database_regex_agrees_with_the_alphabet() -> None:
    """The check constraint's regex accepts exactly the 31 alphabet characters."""
    pattern = re.compile(CREDIT_CODE_REGEX)
    for c in map(chr, range(33, 127)):
        assert bool(pattern.match(c * 18)) is (c in CREDIT_CODE_ALPHABET), c
    assert len(CREDIT_CODE_ALPHABET) == 31


first17 = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)


@given(body=first17, data=st.data())
def test_check_char_makes_any_body_valid_and_any_single_change_invalid(
    body: str, data: st.DataObject
) -> None:
    """For any 17 chars of the alphabet, appending credit_code_check_char gives a valid code,
    and replacing any single character by a different alphabet character makes it invalid."""
    code = body + credit_code_check_char(body)
    validate_credit_code(code)
    i = data.draw(st.integers(min_value=0, max_value=17), label="position")
    new = data.draw(st.sampled_from(CREDIT_CODE_ALPHABET).filter(lambda c: c != code[i]))
    changed = code[:i] + new + code[i + 1 :]
    with pytest.raises(ValidationError) as info:
        validate_credit_code(changed)
    assert info.value.code == "checksum"


@given(body=first17)
def test_every_position_and_replacement_is_caught(body: str) -> None:
    """Exhaustively for one body: all 18 x 30 single-character substitutions are rejected."""
    code = body + credit_code_check_char(body)
    for i in range(18):
        for new in CREDIT_CODE_ALPHABET:
            if new != code[i]:
                with pytest.raises(ValidationError):
                    validate_credit_code(code[:i] + new + code[i + 1 :])
