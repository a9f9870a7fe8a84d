"""What every spreadsheet import shares: errors kept with their row and column, and cells read
as the text a person typed; and the one writer of every export, which keeps text as text."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter


@dataclass
class SheetErrors:
    """Every error of a file, each ``{"row", "column", "message"}``, so that a person can fix
    them all at once; an import with any error saves nothing."""

    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


def cell_text(value: Any) -> str:
    """A cell as text: empty for nothing, ``13900000001`` for a phone number or code that the
    spreadsheet stored as the number 13900000001.0, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- writing -----------------------------------------------------------------------------------
# Every export writes through ``xlsx_bytes`` or ``csv_bytes``: text people typed (names, titles,
# questions) must never become a formula in the reader's spreadsheet program.

# What XML 1.0, and so an .xlsx, cannot hold: control characters other than tab and line breaks,
# lone surrogates and the two non-characters. openpyxl refuses the first and writes the others
# into a file that no longer opens.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RETURNS = re.compile("\r\n?")
_KEPT = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)
_TITLE_DROP = re.compile(r"[\\*?:/\[\]]")


def sheet_text(value: str) -> str:
    """Text as an .xlsx keeps it: characters it cannot hold dropped, and line breaks as "\\n"
    (the file's XML would turn a carriage return into one anyway)."""
    return _RETURNS.sub("\n", _UNWRITABLE.sub("", value))


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header row, then ``rows`` (any iterable, written as it is consumed, so a
    large export need not sit in memory). ``widths`` gives columns from A their widths, ``None``
    keeping the default; a single number applies to every column of the header."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    widths: float | Sequence[float | None] = ()


def xlsx_bytes(sheet: Sheet, *more: Sheet) -> bytes:
    """The sheets as an .xlsx file. Text is always a text cell: ``=1+1`` or a HYPERLINK formula
    in a name stays the characters typed, without an apostrophe or any mark, so that the
    matching import reads back the same text. Numbers, dates and booleans stay what they are."""
    wb = Workbook(write_only=True)
    for s in (sheet, *more):
        ws = wb.create_sheet(_TITLE_DROP.sub("", s.title)[:31] or "Sheet")
        widths = [s.widths] * len(s.header) if isinstance(s.widths, int | float) else s.widths
        for i, width in enumerate(widths, start=1):
            if width is not None:
                ws.column_dimensions[get_column_letter(i)].width = width
        ws.append([_cell(ws, v) for v in s.header])
        for row in s.rows:
            ws.append([_cell(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(ws: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, _KEPT):
        if isinstance(value, datetime.datetime | datetime.time) and value.tzinfo is not None:
            # Excel has no time zones: the local time a person would read on the page.
            if isinstance(value, datetime.datetime):
                value = timezone.localtime(value)
            value = value.replace(tzinfo=None)
        return value
    text = sheet_text(str(value))
    if not text:
        return None
    cell = WriteOnlyCell(ws, value=text)
    # openpyxl makes any text starting with "=" a formula (and "#N/A" an error): undo that.
    cell.data_type = "s"
    return cell


# A CSV has no text cells: a spreadsheet program computes any field that looks like a formula.
# Such text is written behind an apostrophe (and so is text that starts with one, so that the
# mark can be told apart); ``csv_text`` removes it again on import.
_CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel on Windows opens the Chinese text correctly;
    text that a spreadsheet would run as a formula carries a leading apostrophe."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_csv_field(v) for v in header])
    for row in rows:
        writer.writerow([_csv_field(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _csv_field(value: Any) -> Any:
    if isinstance(value, str) and value.startswith((*_CSV_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def csv_text(value: str) -> str:
    """A CSV field as typed: the apostrophe ``csv_bytes`` put before formula-looking text (or
    before text starting with an apostrophe) removed; any other field unchanged."""
    if value.startswith("'") and value[1:].startswith((*_CSV_FORMULA_STARTS, "'")):
        return value[1:]
    return value
