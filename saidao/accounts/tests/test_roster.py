"""Reading and writing roster spreadsheets: every error with its row, nothing saved."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from saidao.accounts.roster import (
    MAX_ROWS,
    ROSTER_COLUMNS,
    RosterRow,
    roster_parse,
    roster_template,
    roster_workbook,
)
from saidao.accounts.tests.factories import roster_xlsx


def test_parse_reads_good_rows_with_their_excel_row_numbers() -> None:
    """Each data row comes back stripped and normalized, numbered as Excel numbers it."""
    parsed = roster_parse(
        roster_xlsx(
            [
                [" 张三 ", "138 1234 5678", " 顺丰速运 ", "快递员"],
                ["李四", "+86-139-1234-5678", None, None],
            ]
        )
    )
    assert parsed.errors == []
    assert parsed.rows == [
        RosterRow(2, "张三", "13812345678", "顺丰速运", "快递员"),
        RosterRow(3, "李四", "13912345678", "", ""),
    ]


def test_parse_accepts_a_phone_typed_into_a_numeric_cell() -> None:
    """Excel stores 13812345678 as a number (int or float); it is still a phone number."""
    parsed = roster_parse(roster_xlsx([["张三", 13812345678, "", ""], ["李四", 13912345678.0]]))
    assert parsed.errors == []
    assert [r.phone for r in parsed.rows] == ["13812345678", "13912345678"]


def test_parse_skips_blank_rows_and_keeps_row_numbers() -> None:
    """Blank rows are ignored but still counted, so later errors name the right row."""
    parsed = roster_parse(
        roster_xlsx([["张三", "13812345678", "", ""], [], [" ", "", None, ""], ["", "1", "", ""]])
    )
    assert [r.row for r in parsed.rows] == [2, 5]
    assert {e["row"] for e in parsed.errors} == {5}


def test_parse_collects_every_error_with_row_and_column() -> None:
    """Bad phone, empty name, empty phone, duplicate and too-long name: all reported."""
    parsed = roster_parse(
        roster_xlsx(
            [
                ["张三", "13812345678", "", ""],  # 2
                ["李四", "1381234567", "", ""],  # 3: 10 digits
                ["", "13912345678", "", ""],  # 4: no name
                ["王五", "", "某单位", ""],  # 5: no phone
                ["赵六", "+86 138 1234 5678", "", ""],  # 6: same as row 2
                ["长" * 51, "13712345678", "", ""],  # 7: name too long
            ]
        )
    )
    assert [(e["row"], e["column"], e["message"]) for e in parsed.errors] == [
        (3, "B（手机号）", "“1381234567”不是有效的 11 位手机号。"),
        (4, "A（姓名）", "姓名不能为空。"),
        (5, "B（手机号）", "手机号不能为空。"),
        (6, "B（手机号）", "手机号与第 2 行重复。"),
        (7, "A（姓名）", "姓名不能超过 50 个字。"),
    ]


def test_parse_finds_columns_by_header_in_any_order() -> None:
    """Columns are found by their header, so extra or reordered columns are fine."""
    parsed = roster_parse(
        roster_xlsx(
            [["备注", "快递员", "13812345678", "某公司", "张三"], ["", "", "bad", "", "李四"]],
            header=("说明", "岗位", "手机号", "工作单位", "姓名"),
        )
    )
    assert parsed.rows[0] == RosterRow(2, "张三", "13812345678", "某公司", "快递员")
    assert parsed.errors == [
        {"row": 3, "column": "C（手机号）", "message": "“bad”不是有效的 11 位手机号。"}
    ]


def test_parse_names_missing_header_columns() -> None:
    """A first row without the template's columns is one error on row 1 naming them."""
    parsed = roster_parse(roster_xlsx([["张三", "13812345678"]], header=("姓名", "电话")))
    assert parsed.rows == []
    assert parsed.errors == [
        {
            "row": 1,
            "column": "",
            "message": "第一行缺少列：手机号、工作单位、岗位。请使用模板的表头。",
        }
    ]


@pytest.mark.parametrize(
    "body", [b"", b"\x00\x01 not a spreadsheet", "姓名,手机号\n张三,13812345678\n".encode()]
)
def test_parse_reports_a_file_that_is_not_xlsx(body: bytes) -> None:
    """Empty files, binary junk and CSV give one message asking for .xlsx (row 0: the file)."""
    parsed = roster_parse(io.BytesIO(body))
    assert parsed.rows == []
    assert parsed.errors == [
        {
            "row": 0,
            "column": "",
            "message": "无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。",
        }
    ]


def test_parse_reports_an_empty_roster() -> None:
    """A header without rows is an error, not a silent no-op."""
    parsed = roster_parse(roster_xlsx([]))
    assert parsed.errors == [{"row": 2, "column": "", "message": "名册中没有数据行。"}]


def test_parse_reads_the_first_sheet_only() -> None:
    """The roster is the first worksheet; other sheets (notes, pivots) are ignored."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(ROSTER_COLUMNS))
    ws.append(["张三", "13812345678", "", ""])
    notes = wb.create_sheet("说明")
    notes.append(["这里不是名册", "bad phone"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    parsed = roster_parse(buf)
    assert parsed.errors == []
    assert [r.real_name for r in parsed.rows] == ["张三"]


def test_parse_stops_at_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A roster longer than MAX_ROWS is refused with a message to split it."""
    monkeypatch.setattr("saidao.accounts.roster.MAX_ROWS", 3)
    rows = [[f"工人{i}", f"1381234{i:04d}", "", ""] for i in range(5)]
    parsed = roster_parse(roster_xlsx(rows))
    assert parsed.errors == [
        {"row": 5, "column": "", "message": "名册最多 3 行，请拆分后分批导入。"}
    ]
    assert MAX_ROWS == 20000


def test_template_is_a_valid_roster() -> None:
    """The downloadable template parses cleanly with its one example row."""
    parsed = roster_parse(io.BytesIO(roster_template()))
    assert parsed.errors == []
    assert parsed.rows == [RosterRow(2, "张三", "13812345678", "某某快递公司", "快递员")]


def test_workbook_writes_header_and_rows() -> None:
    """roster_workbook writes one sheet, 会员名册, with the header first."""
    body = roster_workbook([["张三", "13812345678", "x"]], header=("姓名", "手机号", "其他"))
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    assert ws.title == "会员名册"
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [
        ["姓名", "手机号", "其他"],
        ["张三", "13812345678", "x"],
    ]
