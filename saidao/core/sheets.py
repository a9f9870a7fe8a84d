"""What every spreadsheet import shares: errors kept with their row and column, cells read as the
text a person typed, and the one reader of uploads, bounded in memory and time whatever the file
holds; and the one writer of every export, which keeps text as text."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import re
import struct
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet


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


# --- reading -----------------------------------------------------------------------------------
# Every import reads through ``sheet_open``: a spreadsheet is someone else's file, so nothing in it
# decides how much memory or time the server spends. The archive is measured before any XML is
# parsed, rows are streamed and never wider than the header, the row cap stops the reading, and a
# cell longer than any real one is refused. Each limit is a setting so tests can lower it.

LIMITS: dict[str, int] = {
    # The upload itself.
    "SAIDAO_SHEET_MAX_FILE_BYTES": 20 * 1024 * 1024,
    # An .xlsx is a zip: what its members declare they hold once uncompressed.
    "SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES": 96 * 1024 * 1024,
    "SAIDAO_SHEET_MAX_MEMBER_BYTES": 64 * 1024 * 1024,
    "SAIDAO_SHEET_MAX_MEMBERS": 2000,
    # Real spreadsheet XML compresses modestly; padding and repeated cells, by orders of magnitude.
    "SAIDAO_SHEET_MAX_RATIO": 100,
    "SAIDAO_SHEET_RATIO_FROM_BYTES": 1024 * 1024,
    "SAIDAO_SHEET_MAX_COLUMNS": 100,
    "SAIDAO_SHEET_MAX_CELL_CHARS": 10000,
    # A CSV line, and so a row however many fields it splits into; below the csv module's own
    # field limit, which would fail with a less clear message.
    "SAIDAO_SHEET_MAX_LINE_CHARS": 100_000,
    # Files holding more than this (uncompressed) are imported by a background job.
    "SAIDAO_IMPORT_BACKGROUND_BYTES": 1024 * 1024,
    # How often (in rows) a running import reports its progress.
    "SAIDAO_IMPORT_PROGRESS_EVERY": 500,
}


def sheet_limit(name: str) -> int:
    """A reading limit: the setting of that name, else the default in ``LIMITS``."""
    value: int = getattr(settings, name, LIMITS[name])
    return value


class SheetRefused(Exception):
    """The file is not read at all. ``message`` says why (too large, a compression bomb), or is
    empty when the file is simply not a spreadsheet: the caller then names the file it expects."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


def _megabytes(limit: str) -> int:
    return max(1, round(sheet_limit(limit) / (1024 * 1024)))


def _too_large() -> SheetRefused:
    return SheetRefused(
        _("文件过大（超过 %(mb)d MB），请拆分后分批导入。")
        % {"mb": _megabytes("SAIDAO_SHEET_MAX_FILE_BYTES")}
    )


def _bomb() -> SheetRefused:
    return SheetRefused(
        _(
            "文件解压后内容过多或压缩比异常（上限 %(mb)d MB），请删除多余的内容"
            "（如大片空白行、图片）或拆分后分批导入。"
        )
        % {"mb": _megabytes("SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES")}
    )


def _file_size(file: IO[bytes]) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


_EOCD = b"PK\x05\x06"


def _central_directory(file: IO[bytes], size: int) -> tuple[int, int]:
    """The number of members and the size of the central directory, read from the zip's last
    record before ``zipfile`` builds an object for each member."""
    tail = min(size, 22 + 0xFFFF)
    file.seek(size - tail)
    data = file.read(tail)
    file.seek(0)
    at = data.rfind(_EOCD)
    if at < 0 or len(data) - at < 22:
        raise SheetRefused()
    entries, directory = struct.unpack("<HI", data[at + 10 : at + 16])
    return entries, directory


def archive_check(file: IO[bytes]) -> int:
    """Measure an .xlsx before anything parses it and return what it holds uncompressed; raise
    ``SheetRefused`` when it is not a zip, or holds too much, or compresses like a bomb.

    The sizes are the ones the archive declares: ``zipfile`` never returns more than a member's
    declared size (and fails on its checksum), so a lying header cannot make openpyxl read more.
    """
    size = _file_size(file)
    if size > sheet_limit("SAIDAO_SHEET_MAX_FILE_BYTES"):
        raise _too_large()
    if file.read(4) != b"PK\x03\x04":
        file.seek(0)
        raise SheetRefused()
    file.seek(0)
    entries, directory = _central_directory(file, size)
    if directory > size:
        raise SheetRefused()
    if entries > sheet_limit("SAIDAO_SHEET_MAX_MEMBERS"):
        raise _bomb()
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise SheetRefused() from exc
    finally:
        file.seek(0)
    total = 0
    ratio, ratio_from = (
        sheet_limit("SAIDAO_SHEET_MAX_RATIO"),
        sheet_limit("SAIDAO_SHEET_RATIO_FROM_BYTES"),
    )
    for m in members:
        total += m.file_size
        if m.file_size > sheet_limit("SAIDAO_SHEET_MAX_MEMBER_BYTES"):
            raise _bomb()
        if m.file_size > ratio_from and m.file_size > ratio * max(m.compress_size, 1):
            raise _bomb()
    if total > sheet_limit("SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES"):
        raise _bomb()
    return total


def is_csv(file: IO[bytes], filename: str = "") -> bool:
    """Whether an upload is read as CSV: named .csv, or anything that is not a zip."""
    if filename.lower().endswith(".csv"):
        return True
    start = file.read(4)
    file.seek(0)
    return start[:2] != b"PK"


def sheet_size(file: IO[bytes], *, filename: str = "", csv_ok: bool = False) -> int:
    """What reading the file means, in bytes: an .xlsx's uncompressed size, a CSV's size. Raises
    ``SheetRefused`` as ``archive_check`` does, so a bomb is refused before it is stored."""
    if csv_ok and is_csv(file, filename):
        size = _file_size(file)
        if size > sheet_limit("SAIDAO_SHEET_MAX_FILE_BYTES"):
            raise _too_large()
        return size
    return archive_check(file)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class SheetReader:
    """The first worksheet (or the CSV) of an upload: ``header`` is the first row up to its last
    filled cell; ``rows()`` yields ``(row number, values)`` for every row with anything in the
    header's columns, each exactly as wide as the header."""

    header: tuple[Any, ...]
    _rows: Iterator[tuple[Any, ...]]
    errors: SheetErrors
    max_rows: int
    too_many: str
    progress: Callable[[int], None] | None = None
    rows_read: int = 0

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """Stop, with ``too_many`` as the error of that row, once more rows than ``max_rows``
        (blank ones included, up to as many again) have been read: a file never makes the
        server read past its cap. The caller's own count of filled rows usually stops first."""
        width = len(self.header)
        cap = 2 * self.max_rows + 1
        longest = sheet_limit("SAIDAO_SHEET_MAX_CELL_CHARS")
        every = max(sheet_limit("SAIDAO_IMPORT_PROGRESS_EVERY"), 1)
        labels = [
            f"{get_column_letter(i + 1)}（{cell_text(v)}）" for i, v in enumerate(self.header)
        ]
        n = 1
        while True:
            try:
                raw = next(self._rows)
            except StopIteration:
                return
            except SheetRefused:
                raise
            except Exception as exc:  # a damaged file: bad XML, a broken zip, a bad encoding
                raise SheetRefused() from exc
            n += 1
            self.rows_read += 1
            if self.progress is not None and self.rows_read % every == 0:
                self.progress(self.rows_read)
            if n > cap:
                self.errors.error(n, "", self.too_many)
                return
            values = tuple(raw[:width]) + (None,) * (width - len(raw))
            if all(_blank(v) for v in values):
                continue
            if any(isinstance(v, str) and len(v) > longest for v in values):
                kept = []
                for i, v in enumerate(values):
                    if isinstance(v, str) and len(v) > longest:
                        self.errors.error(
                            n,
                            labels[i],
                            _("内容超过 %(n)d 个字，请删减后重新导入。") % {"n": longest},
                        )
                        v = None
                    kept.append(v)
                values = tuple(kept)
            yield n, values


def _header(first: Sequence[Any]) -> tuple[Any, ...]:
    cells = list(first[: sheet_limit("SAIDAO_SHEET_MAX_COLUMNS")])
    while cells and _blank(cells[-1]):
        cells.pop()
    return tuple(cells)


def _xlsx_rows(file: IO[bytes]) -> Generator[Iterator[tuple[Any, ...]]]:
    archive_check(file)
    try:
        wb = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:
        raise SheetRefused() from exc
    try:
        ws = wb.worksheets[0]
        if not isinstance(ws, ReadOnlyWorksheet):  # a chartsheet first
            raise SheetRefused()
        # The <dimension> tag is the file's word for its size: openpyxl would pad every row to
        # it. Forget it, and never read past the header's columns.
        ws.reset_dimensions()
        widest = sheet_limit("SAIDAO_SHEET_MAX_COLUMNS")
        try:
            head = next(ws.iter_rows(max_row=1, max_col=widest, values_only=True), ())
        except Exception as exc:  # bad XML
            raise SheetRefused() from exc
        header = _header(head)
        body = ws.iter_rows(min_row=2, max_col=max(len(header), 1), values_only=True)
        yield iter([header])
        yield body
    finally:
        wb.close()


def _csv_lines(file: IO[bytes]) -> Generator[str]:
    """The lines of a UTF-8 (or GB18030, as Excel saves CSV in China) file, decoded as they are
    read; a line longer than any real row is refused rather than held."""
    encoding = "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(lambda: file.read(64 * 1024), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "gb18030"
    file.seek(0)
    longest = sheet_limit("SAIDAO_SHEET_MAX_LINE_CHARS")
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    try:
        while line := text.readline(longest + 1):
            if len(line) > longest:
                raise SheetRefused(
                    _("一行超过 %(n)d 个字，请检查文件后重新导入。") % {"n": longest}
                )
            yield line
    finally:
        text.detach()


def _csv_rows(file: IO[bytes]) -> Generator[Iterator[tuple[Any, ...]]]:
    size = _file_size(file)
    if size > sheet_limit("SAIDAO_SHEET_MAX_FILE_BYTES"):
        raise _too_large()
    lines = _csv_lines(file)
    rows = (tuple(csv_text(v) for v in row) for row in csv.reader(lines))
    try:
        try:
            first = next(rows, ())
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SheetRefused() from exc
        yield iter([_header(first)])
        yield rows
    finally:
        lines.close()


@contextlib.contextmanager
def sheet_open(
    file: IO[bytes],
    *,
    errors: SheetErrors,
    max_rows: int,
    too_many: str,
    filename: str = "",
    csv_ok: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Iterator[SheetReader]:
    """Open an upload for reading: an .xlsx in openpyxl's read-only mode after ``archive_check``
    (or a CSV, streamed, when ``csv_ok``). Raises ``SheetRefused`` when it cannot be read, here
    or later from ``rows()`` when the file turns out to be damaged."""
    file.seek(0)
    parts = _csv_rows(file) if csv_ok and is_csv(file, filename) else _xlsx_rows(file)
    try:
        header = next(next(parts))
        body = next(parts)
    except StopIteration as exc:
        raise SheetRefused() from exc
    try:
        yield SheetReader(header, body, errors, max_rows, too_many, progress)
    finally:
        parts.close()


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
