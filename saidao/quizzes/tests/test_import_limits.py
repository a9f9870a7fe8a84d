"""A question file is read as a stream: the row cap stops the reading, a CSV is capped in size,
and a compression bomb is refused before it is parsed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from pytest_django.fixtures import Settings

from saidao.quizzes import importing

from .factories import questions_file, row


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry for every row openpyxl hands over while the test runs."""
    seen: list[int] = []
    original = ReadOnlyWorksheet._cells_by_row  # type: ignore[attr-defined]

    def counting(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for r in original(self, *args, **kwargs):
            seen.append(len(r))
            yield r

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return seen


def test_the_row_cap_stops_reading_as_soon_as_it_is_passed(
    monkeypatch: pytest.MonkeyPatch, rows_read: list[int]
) -> None:
    """With a cap of 20 questions, a 600-question file is refused at row 22 and the rows after
    it are never read."""
    monkeypatch.setattr(importing, "MAX_ROWS", 20)
    file = questions_file([row(stem=f"第{i}题") for i in range(600)])
    parsed = importing.questions_parse(file, filename="q.xlsx")
    assert parsed.errors == [
        {"row": 22, "column": "", "message": "一次最多导入 20 道题，请拆分后分批导入。"}
    ]
    assert len(rows_read) <= 23


def test_a_csv_over_the_size_cap_is_refused_unread(settings: Settings) -> None:
    """A CSV larger than the cap: one clear message on the file, no row errors."""
    settings.SAIDAO_SHEET_MAX_FILE_BYTES = 1000
    body = ("题型,题干,选项A,选项B,答案\n" + "单选,题,甲,乙,A\n" * 200).encode()
    parsed = importing.questions_parse(io.BytesIO(body), filename="q.csv")
    assert parsed.questions == []
    assert [e["row"] for e in parsed.errors] == [0]
    assert parsed.errors[0]["message"] == "文件过大（超过 1 MB），请拆分后分批导入。"


def test_an_overlong_cell_is_a_row_and_column_error(settings: Settings) -> None:
    """A cell past the length limit is reported on its row and column, like any other error."""
    settings.SAIDAO_SHEET_MAX_CELL_CHARS = 100
    file = questions_file([row(stem="第一题"), row(stem="长" * 101)])
    parsed = importing.questions_parse(file, filename="q.xlsx")
    assert {
        "row": 3,
        "column": "B（题干）",
        "message": "内容超过 100 个字，请删减后重新导入。",
    } in (parsed.errors)
