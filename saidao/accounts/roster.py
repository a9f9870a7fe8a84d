"""Reading and writing roster spreadsheets (会员名册) with openpyxl."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from saidao.core.sheets import (
    Sheet,
    SheetErrors,
    SheetReader,
    SheetRefused,
    cell_text,
    sheet_open,
    xlsx_bytes,
)

from .phones import is_mobile, normalize_phone

ROSTER_COLUMNS = ("姓名", "手机号", "工作单位", "岗位")
MAX_ROWS = 20000


@dataclass
class RosterRow:
    row: int
    real_name: str
    phone: str
    employer: str
    position: str


@dataclass
class RosterParse(SheetErrors):
    rows: list[RosterRow] = field(default_factory=list)


def roster_parse(file: IO[bytes], *, progress: Callable[[int], None] | None = None) -> RosterParse:
    """Parse every row, collecting every error with its row and column; saves nothing.
    ``progress`` is told how many rows have been read, now and then."""
    result = RosterParse()
    too_many = _("名册最多 %(n)d 行，请拆分后分批导入。") % {"n": MAX_ROWS}
    try:
        with sheet_open(
            file, errors=result, max_rows=MAX_ROWS, too_many=too_many, progress=progress
        ) as sheet:
            _rows_parse(sheet, result, too_many)
    except SheetRefused as e:
        result = RosterParse()
        message = e.message or _("无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。")
        result.error(0, "", message)
        return result
    if not result.rows and not result.errors:
        result.error(2, "", _("名册中没有数据行。"))
    return result


def _rows_parse(sheet: SheetReader, result: RosterParse, too_many: str) -> None:
    header = [cell_text(v) for v in sheet.header]
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        result.error(
            1, "", _("第一行缺少列：%(cols)s。请使用模板的表头。") % {"cols": "、".join(missing)}
        )
        return
    index = {name: header.index(name) for name in ROSTER_COLUMNS}
    letters = {name: get_column_letter(i + 1) for name, i in index.items()}
    seen: dict[str, int] = {}
    for n, values in sheet.rows():
        cells = {name: cell_text(values[i]) for name, i in index.items()}
        if not any(cells.values()):
            continue
        if n - 1 > MAX_ROWS:
            result.error(n, "", too_many)
            break
        name, phone = cells["姓名"], normalize_phone(cells["手机号"])
        if not name:
            result.error(n, f"{letters['姓名']}（姓名）", _("姓名不能为空。"))
        if not phone:
            result.error(n, f"{letters['手机号']}（手机号）", _("手机号不能为空。"))
        elif not is_mobile(phone):
            result.error(
                n,
                f"{letters['手机号']}（手机号）",
                _("“%(v)s”不是有效的 11 位手机号。") % {"v": cells["手机号"]},
            )
        elif phone in seen:
            result.error(
                n,
                f"{letters['手机号']}（手机号）",
                _("手机号与第 %(row)d 行重复。") % {"row": seen[phone]},
            )
        else:
            seen[phone] = n
        if len(name) > 50:
            result.error(n, f"{letters['姓名']}（姓名）", _("姓名不能超过 50 个字。"))
        result.rows.append(RosterRow(n, name, phone, cells["工作单位"], cells["岗位"]))


def roster_workbook(rows: Iterable[Sequence[Any]], *, header: tuple[str, ...]) -> bytes:
    """The 会员名册 sheet; typed text stays text cells, never formulas (see ``xlsx_bytes``)."""
    return xlsx_bytes(Sheet("会员名册", header, rows, widths=18))


def roster_template() -> bytes:
    return roster_workbook(
        [["张三", "13812345678", "某某快递公司", "快递员"]], header=ROSTER_COLUMNS
    )
