"""The formula language: a whitelist over Python's ast, Decimal arithmetic, cycles and zero."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saidao.competitions.errors import DivisionByZero, FormulaCycle, FormulaInvalid
from saidao.competitions.formula import evaluation_order, parse

D = Decimal


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("actual / design", D("8.6") / D("5.6")),
        ("(before - after) * 100", D("1200")),
        ("max(0, before - after) + min(actual, 10)", D("20.6")),
        ("abs(after - before)", D("12")),
        ("-actual + +design", D("-3.0")),
        ("actual ÷ design × 2", D("8.6") / D("5.6") * 2),
        ("（actual － 0）", None),
    ],
)
def test_evaluates_whitelisted_expressions(source: str, expected: Decimal | None) -> None:
    """Numbers, indicator codes, + - * / (and × ÷, full-width parentheses), unary signs and
    min/max/abs are evaluated with Decimal arithmetic."""
    values = {"actual": D("8.6"), "design": D("5.6"), "before": D("99"), "after": D("87")}
    if expected is None:
        with pytest.raises(FormulaInvalid):
            parse(source)  # a full-width minus is not an operator
        return
    assert parse(source).evaluate(values) == expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "actual.real",
        "actual ** 2",
        "actual // 2",
        "actual % 2",
        "'text'",
        "[1, 2]",
        "lambda: 1",
        "actual if design else 0",
        "actual < design",
        "max(actual)",
        "abs(1, 2)",
        "max(a=1, b=2)",
        "min",
        "actual; design",
        "",
        "actual +",
        "True",
        "open('x')",
        "1" + " + 1" * 300,
    ],
)
def test_refuses_anything_outside_the_whitelist(source: str) -> None:
    """Attribute access, calls other than min/max/abs, powers, strings, comparisons, booleans,
    empty or over-long formulas are refused with FormulaInvalid; nothing is executed."""
    with pytest.raises(FormulaInvalid):
        parse(source)


def test_names_are_collected() -> None:
    """The indicator codes a formula reads are known after parsing (functions excluded)."""
    assert parse("max(actual, design) / wells").names == {"actual", "design", "wells"}


def test_missing_input_gives_none() -> None:
    """A formula whose input has no value has no value (not zero)."""
    assert parse("actual / design").evaluate({"actual": D(1)}) is None


def test_division_by_zero_is_a_clear_error() -> None:
    """Dividing by zero raises DivisionByZero naming the formula."""
    with pytest.raises(DivisionByZero) as exc:
        parse("actual / (design - 5.6)").evaluate({"actual": D(1), "design": D("5.6")})
    assert exc.value.detail["formula"] == "actual / (design - 5.6)"


def test_evaluation_order_and_cycles() -> None:
    """Formulas are ordered after what they read; a loop is refused naming it; an unknown
    name is refused."""
    fs = {"ratio": parse("actual / design"), "score": parse("ratio * 100"), "x": parse("score")}
    assert evaluation_order(fs, {"actual", "design"}) == ["ratio", "score", "x"]
    loop = {"a": parse("b"), "b": parse("a + 1")}
    with pytest.raises(FormulaCycle) as exc:
        evaluation_order(loop, set())
    assert exc.value.detail["cycle"] == ["a", "b", "a"]
    self_loop = {"a": parse("a * 2")}
    with pytest.raises(FormulaCycle):
        evaluation_order(self_loop, set())
    with pytest.raises(FormulaInvalid) as bad:
        evaluation_order({"a": parse("nothing + 1")}, {"b"})
    assert bad.value.detail["unknown"] == ["nothing"]


decimals = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=3, allow_nan=False)


@given(a=decimals, b=decimals, c=decimals)
def test_matches_decimal_arithmetic(a: Decimal, b: Decimal, c: Decimal) -> None:
    """For any values, the evaluator agrees with Decimal arithmetic on the same expression."""
    f = parse("(a + b) * c - max(a, b, c) + abs(c)")
    assert f.evaluate({"a": a, "b": b, "c": c}) == (a + b) * c - max(a, b, c) + abs(c)
    g = parse("a / c")
    if c == 0:
        with pytest.raises(DivisionByZero):
            g.evaluate({"a": a, "c": c})
    else:
        assert g.evaluate({"a": a, "c": c}) == a / c


@given(st.text(max_size=40))
def test_arbitrary_text_never_escapes(source: str) -> None:
    """Any text either parses into a whitelisted formula or raises FormulaInvalid; nothing
    else (no other exception, no execution)."""
    try:
        f = parse(source)
    except FormulaInvalid:
        return
    values = dict.fromkeys(f.names, D(2))
    with contextlib.suppress(DivisionByZero):
        f.evaluate(values)
