"""Importing period reports from .xlsx: all or nothing, every error with its row and reason."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from saidao.competitions import services
from saidao.competitions.errors import ImportInvalid
from saidao.competitions.models import Period, Report, ReportValue
from saidao.competitions.tests.factories import (
    PLANTS,
    capacity_world,
    reports_xlsx,
    watercut_world,
)
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db


def plant_rows(codes: list[str], period: str = "2024-Q2") -> list[list[Any]]:
    rows: list[list[Any]] = []
    for _name, code, wells, design, actual in PLANTS:
        if code in codes:
            rows += [
                [code, "新井数", period, wells, "口", ""],
                [code, "单井设计产量", period, float(design), "吨/日", ""],
                [code, "单井实际产量", period, float(actual), "吨/日", "34 口新井平均"],
            ]
    return rows


def errors_of(exc: pytest.ExceptionInfo[ImportInvalid]) -> list[tuple[int, str]]:
    return [(e["row"], e["message"]) for e in exc.value.detail["errors"]]


def test_an_officer_imports_every_plant_and_submits(tree: Tree) -> None:
    """One file with every plant's values makes one submitted report per plant; values and
    notes are kept."""
    w = capacity_world(tree)
    codes = [c for _n, c, *_r in PLANTS]
    result = services.reports_import(
        actor=w.officer,
        competition=w.competition,
        file=reports_xlsx(plant_rows(codes)),
        submit=True,
    )
    assert len(result.reports) == 5 and result.values == 15
    assert set(Report.objects.values_list("state", flat=True)) == {Report.State.SUBMITTED}
    v = ReportValue.objects.get(report__participant__code="DX", indicator__code="actual")
    assert str(v.value) == "8.600000" and v.note == "34 口新井平均"


def test_every_error_with_row_and_reason_and_nothing_saved(tree: Tree) -> None:
    """A file with unknown participant, unknown indicator, a formula indicator, unknown period,
    text for a number, a wrong unit and a duplicate row is refused whole: each error names
    its row; no report is saved."""
    w = capacity_world(tree)
    rows = [
        *plant_rows(["DX"]),
        ["NOPE", "新井数", "2024-Q2", 3, "口", ""],  # row 5
        ["GD", "产量", "2024-Q2", 3, "口", ""],  # row 6
        ["GD", "单井产能完成率", "2024-Q2", 1.5, "", ""],  # row 7
        ["GD", "新井数", "2025-Q9", 30, "口", ""],  # row 8
        ["GD", "单井设计产量", "2024-Q2", "六点二", "吨/日", ""],  # row 9
        ["GD", "单井实际产量", "2024-Q2", 6.5, "吨", ""],  # row 10
        ["DX", "新井数", "2024-Q2", 34, "口", ""],  # row 11 duplicates row 2
    ]
    with pytest.raises(ImportInvalid) as exc:
        services.reports_import(actor=w.officer, competition=w.competition, file=reports_xlsx(rows))
    errors = errors_of(exc)
    by_row = {r: m for r, m in errors}
    assert sorted(by_row) == [5, 6, 7, 8, 9, 10, 11]
    assert "NOPE" in by_row[5]
    assert "产量" in by_row[6]
    assert "系统计算" in by_row[7]
    assert "2025-Q9" in by_row[8]
    assert "不是数字" in by_row[9]
    assert "吨/日" in by_row[10] and "吨" in by_row[10]
    assert "第 2 行" in by_row[11]
    assert all(e["column"] for e in exc.value.detail["errors"] if e["row"] != 11)
    assert not Report.objects.exists()


def test_closed_period_and_foreign_reporter_are_row_errors(tree: Tree) -> None:
    """Rows for a closed period, or for a unit the reporter does not report for, are errors
    (a row can have both)."""
    w = capacity_world(tree)
    services.period_set_state(actor=w.officer, period=w.period, state=Period.State.CLOSED)
    with pytest.raises(ImportInvalid) as exc:
        services.reports_import(
            actor=w.reporters["DX"],
            competition=w.competition,
            file=reports_xlsx(plant_rows(["DX", "GD"])),
        )
    msgs = errors_of(exc)
    assert len(msgs) == 9
    assert sum("已截止" in m for _r, m in msgs) == 6
    assert sum("填报员" in m for _r, m in msgs) == 3


def test_missing_required_indicator_on_submit_fails_the_whole_import(tree: Tree) -> None:
    """Submitting on import needs every required indicator; a plant lacking one fails the file
    (every row of that plant listed) and nothing is saved, not even the complete plants."""
    w = capacity_world(tree)
    rows = plant_rows(["GD"]) + plant_rows(["DX"])[:2]
    with pytest.raises(ImportInvalid) as exc:
        services.reports_import(
            actor=w.officer, competition=w.competition, file=reports_xlsx(rows), submit=True
        )
    assert [r for r, _m in errors_of(exc)] == [5, 6]
    assert "单井实际产量" in errors_of(exc)[0][1]
    assert not Report.objects.exists()


def test_bad_file_and_header(tree: Tree) -> None:
    """Not an .xlsx, or a header without the needed columns, is one clear error."""
    w = capacity_world(tree)
    with pytest.raises(ImportInvalid) as exc:
        services.reports_import(actor=w.officer, competition=w.competition, file=io.BytesIO(b"x"))
    assert errors_of(exc)[0][0] == 0
    with pytest.raises(ImportInvalid) as exc2:
        services.reports_import(
            actor=w.officer,
            competition=w.competition,
            file=reports_xlsx([["DX", "新井数"]], header=("编码", "指标")),
        )
    assert "参赛单位编码" in errors_of(exc2)[0][1]
    with pytest.raises(ImportInvalid) as exc3:
        services.reports_import(actor=w.officer, competition=w.competition, file=reports_xlsx([]))
    assert "没有数据" in errors_of(exc3)[0][1]


def test_individuals_are_identified_by_phone(tree: Tree) -> None:
    """An individual competition's file names each worker by phone number."""
    w = watercut_world(tree)
    wu = w.reporters["吴昊"]
    rows = [
        [int(wu.phone), "含水下降", "2024-Q2", 12, "百分点", "堵水工艺治理两口井"],
        [wu.phone, "日增油", "2024-Q2", 4.5, "吨/日", ""],
    ]
    header = ("参赛人手机号", "指标", "期间", "数值", "单位", "备注")
    result = services.reports_import(
        actor=wu, competition=w.competition, file=reports_xlsx(rows, header=header)
    )
    assert [r.participant.name for r in result.reports] == ["吴昊"]


def test_template_has_the_header_and_one_row_per_reported_indicator(tree: Tree) -> None:
    """The template lists the columns and each reported indicator with its unit."""
    w = capacity_world(tree)
    data = services.import_template(competition=w.competition, period=w.period)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["参赛单位编码", "指标", "期间", "数值", "单位", "备注"]
    assert [r[1] for r in rows[1:]] == ["新井数", "单井设计产量", "单井实际产量", "重大安全事故"]
    assert [r[4] for r in rows[1:]] == ["口", "吨/日", "吨/日", "起"]
