"""A roster file cannot make the server spend memory or time it does not say: rows are read as
wide as the header, reading stops at the cap, and a compression bomb is refused unparsed."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from saidao.accounts import roster
from saidao.accounts.roster import roster_parse
from saidao.accounts.tests.factories import roster_xlsx


def _far_cell(file: io.BytesIO, cell: str) -> io.BytesIO:
    from openpyxl import load_workbook

    wb = load_workbook(file)
    ws = wb.active
    assert ws is not None
    ws[cell] = "x"
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_a_cell_in_column_xfd_neither_widens_rows_nor_breaks_the_import(
    widths: list[int],
) -> None:
    """4,000 rows plus one cell at XFD1: every row is imported, and no row openpyxl builds for
    the data is wider than the roster's four columns."""
    rows = [[f"张{i}", f"139{i:08d}", "顺丰", "快递员"] for i in range(4000)]
    parsed = roster_parse(_far_cell(roster_xlsx(rows), "XFD1"))
    assert parsed.errors == []
    assert len(parsed.rows) == 4000
    assert parsed.rows[-1].row == 4001 and parsed.rows[-1].phone == "13900003999"
    assert len(widths) == 4001
    assert set(widths[1:]) == {4}


def test_blank_rows_to_the_bottom_of_the_sheet_are_not_all_read(widths: list[int]) -> None:
    """A cell at A1000000 under one data row: reading stops at the cap (blank rows counted up
    to as many again) with the cap's message on that row."""
    parsed = roster_parse(_far_cell(roster_xlsx([["张三", "13900000001", "", ""]]), "A1000000"))
    cap = 2 * roster.MAX_ROWS + 2
    assert parsed.errors == [
        {"row": cap, "column": "", "message": f"名册最多 {roster.MAX_ROWS} 行，请拆分后分批导入。"}
    ]
    assert len(widths) <= cap


def test_a_compression_bomb_is_refused_before_openpyxl_parses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A roster whose sheet holds 100 MB of whitespace in a small zip: one clear message on the
    file, and openpyxl never opens it."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl was asked to parse the file")

    monkeypatch.setattr("openpyxl.reader.excel.ExcelReader.__init__", refuse)
    with zipfile.ZipFile(roster_xlsx([["张三", "13900000001", "", ""]])) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for name, data in parts.items():
            if name == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"<sheetData>", 1)
                with dst.open(name, "w") as member:
                    member.write(head + b"<sheetData>")
                    for _ in range(100):
                        member.write(b" " * (1024 * 1024))
                    member.write(tail)
            else:
                dst.writestr(name, data)
    assert len(bomb.getvalue()) < 1024 * 1024
    parsed = roster_parse(bomb)
    assert parsed.rows == []
    assert len(parsed.errors) == 1
    assert parsed.errors[0]["row"] == 0
    assert "解压后内容过多" in parsed.errors[0]["message"]


def test_a_file_that_is_not_an_xlsx_keeps_its_message() -> None:
    """Not a zip at all: the roster's own message, as before."""
    parsed = roster_parse(io.BytesIO(b"\xd0\xcf\x11\xe0 an old .xls"))
    assert parsed.errors == [
        {
            "row": 0,
            "column": "",
            "message": "无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。",
        }
    ]
