"""The one reader of uploaded spreadsheets: whatever a file holds, the server reads at most the
header's columns, stops at the row cap, and measures an archive before anything parses it."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook
from pytest_django.fixtures import Settings

from saidao.core.sheets import (
    SheetErrors,
    SheetRefused,
    archive_check,
    sheet_open,
    sheet_size,
)

HEADER = ["姓名", "手机号", "工作单位", "岗位"]
TOO_MANY = "too many rows"


def xlsx(
    rows: list[list[Any]], *, header: list[Any] = HEADER, far: str | None = None
) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    if far:
        ws[far] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def read_all(file: io.BytesIO, **kwargs: Any) -> tuple[tuple[Any, ...], list[tuple[int, Any]], Any]:
    errors = SheetErrors()
    with sheet_open(
        file, errors=errors, max_rows=kwargs.pop("max_rows", 100), too_many=TOO_MANY, **kwargs
    ) as sheet:
        rows = list(sheet.rows())
        return sheet.header, rows, (errors, sheet.rows_read)


def test_a_cell_in_column_xfd_does_not_widen_the_rows(widths: list[int]) -> None:
    """4,000 rows and one cell at XFD1 (so the file says it is 16,384 columns wide): every row is
    read, and every row openpyxl builds is as wide as the header, not as the file claims."""
    rows = [[f"张{i}", f"139{i:08d}", "顺丰", "快递员"] for i in range(4000)]
    header, read, _ = read_all(xlsx(rows, far="XFD1"), max_rows=5000)
    assert header == tuple(HEADER)
    assert len(read) == 4000
    assert {len(values) for _n, values in read} == {4}
    assert read[0] == (2, ("张0", "13900000000", "顺丰", "快递员"))
    # The header row itself is read up to the column limit, no further.
    assert max(widths) <= 100
    assert set(widths[1:]) == {4}


def test_a_lying_dimension_tag_is_not_trusted(widths: list[int]) -> None:
    """A <dimension> tag claiming A1:XFD1048576 neither widens rows nor adds rows."""
    buf = xlsx([["张三", "13900000001", "", ""]])
    with zipfile.ZipFile(buf) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    start = sheet.index(b"<dimension ref=")
    end = sheet.index(b"/>", start) + 2
    parts["xl/worksheets/sheet1.xml"] = (
        sheet[:start] + b'<dimension ref="A1:XFD1048576"/>' + sheet[end:]
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    out.seek(0)
    _header, read, (_errors, rows_read) = read_all(out)
    assert read == [(2, ("张三", "13900000001", None, None))]
    assert rows_read == 1
    assert max(widths) <= 100 and set(widths[1:]) == {4}


def test_the_row_cap_stops_the_reading(widths: list[int]) -> None:
    """Past the cap (blank rows included, up to as many again) the reader stops with the
    caller's message on that row, without reading the rest of the file."""
    rows: list[list[Any]] = [["张三", "13900000001", "", ""]] + [[None]] * 5000
    _header, read, (errors, rows_read) = read_all(xlsx(rows, far="A100000"), max_rows=10)
    assert [n for n, _v in read] == [2]
    assert errors.errors == [{"row": 22, "column": "", "message": TOO_MANY}]
    assert rows_read == 21
    assert len(widths) < 30  # the header, then the rows up to the cap


def test_a_caller_that_stops_stops_the_reading(widths: list[int]) -> None:
    """Rows are a stream: a caller leaving the loop leaves the rest of the file unread."""
    rows = [[f"张{i}", f"139{i:08d}", "", ""] for i in range(3000)]
    errors = SheetErrors()
    with sheet_open(xlsx(rows), errors=errors, max_rows=5000, too_many=TOO_MANY) as sheet:
        for n, _values in sheet.rows():
            if n == 11:
                break
    assert len(widths) <= 12


def test_an_overlong_cell_is_an_error_on_its_row_and_column(settings: Settings) -> None:
    """A cell longer than the limit is refused with its row and column, not kept."""
    settings.SAIDAO_SHEET_MAX_CELL_CHARS = 50
    _header, read, (errors, _n) = read_all(xlsx([["张三", "13900000001", "x" * 51, ""]]))
    assert [(n, values[:3]) for n, values in read] == [(2, ("张三", "13900000001", None))]
    assert errors.errors == [
        {"row": 2, "column": "C（工作单位）", "message": "内容超过 50 个字，请删减后重新导入。"}
    ]


def _bomb(megabytes: int) -> io.BytesIO:
    """A real .xlsx whose sheet XML is padded with ``megabytes`` MB of whitespace (still valid
    XML), compressed to a small fraction of that."""
    with zipfile.ZipFile(xlsx([["张三", "13900000001", "", ""]])) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                dst.writestr(name, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with dst.open(name, "w") as member:
                member.write(head + b"<sheetData>")
                blank = b" " * (1024 * 1024)
                for _ in range(megabytes):
                    member.write(blank)
                member.write(tail)
    out.seek(0)
    return out


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb(100).getvalue()


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl must not open the file at all."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl was asked to parse the file")

    monkeypatch.setattr("saidao.core.sheets.load_workbook", refuse)
    monkeypatch.setattr("openpyxl.reader.excel.ExcelReader.__init__", refuse)


def test_a_whitespace_bomb_is_refused_before_parsing(bomb: bytes, no_parsing: None) -> None:
    """100 MB of whitespace in well under 1 MB: refused on the sizes the archive declares, with
    a clear message, before openpyxl is called."""
    assert len(bomb) < 1024 * 1024
    with pytest.raises(SheetRefused) as exc:
        read_all(io.BytesIO(bomb))
    assert "解压后内容过多" in exc.value.message


def test_an_absurd_compression_ratio_is_refused(no_parsing: None) -> None:
    """A member well under the size limits but compressed a thousand to one is a bomb too."""
    small = _bomb(4)
    with pytest.raises(SheetRefused) as exc:
        archive_check(small)
    assert exc.value.message


def test_limits_on_the_whole_archive(settings: Settings, no_parsing: None) -> None:
    """The sum of the members, the upload's size and the number of members are each capped."""
    rows = [[f"张{i}", f"139{i:08d}", "", ""] for i in range(2000)]
    file = xlsx(rows)
    total = archive_check(file)
    assert total > 100_000
    settings.SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES = total - 1
    with pytest.raises(SheetRefused):
        archive_check(file)
    settings.SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES = total
    settings.SAIDAO_SHEET_MAX_FILE_BYTES = len(file.getvalue()) - 1
    with pytest.raises(SheetRefused):
        archive_check(file)
    settings.SAIDAO_SHEET_MAX_FILE_BYTES = 10**9
    settings.SAIDAO_SHEET_MAX_MEMBERS = 3
    with pytest.raises(SheetRefused):
        archive_check(file)


def test_a_file_that_is_not_a_zip_is_refused_without_a_message(no_parsing: None) -> None:
    """Not an .xlsx at all: refused with no message of its own, so that each import says which
    file it expects."""
    for body in (b"", b"name,phone\n", b"PK\x03\x04 broken"):
        with pytest.raises(SheetRefused) as exc:
            read_all(io.BytesIO(body))
        assert exc.value.message == ""


def test_csv_is_streamed_with_a_size_cap(settings: Settings) -> None:
    """A CSV is read in both encodings Excel writes, rows as wide as the header; a file over the
    size cap or a line over the line cap is refused with a clear message."""
    text = "姓名,手机号,工作单位,岗位\n张三,13900000001,顺丰,快递员,extra,extra\n\n李四,139\n"
    for encoding in ("utf-8-sig", "gb18030"):
        file = io.BytesIO(text.encode(encoding))
        header, read, _ = read_all(file, csv_ok=True, filename="r.csv")
        assert header == tuple(HEADER)
        assert read == [
            (2, ("张三", "13900000001", "顺丰", "快递员")),
            (4, ("李四", "139", None, None)),
        ]
    settings.SAIDAO_SHEET_MAX_LINE_CHARS = 20
    with pytest.raises(SheetRefused) as exc:
        read_all(io.BytesIO(text.encode()), csv_ok=True, filename="r.csv")
    assert "20" in exc.value.message
    settings.SAIDAO_SHEET_MAX_FILE_BYTES = 10
    with pytest.raises(SheetRefused) as exc:
        sheet_size(io.BytesIO(text.encode()), filename="r.csv", csv_ok=True)
    assert exc.value.message
