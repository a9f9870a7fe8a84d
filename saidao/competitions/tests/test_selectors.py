"""Reads: program table, scorecard, trend, diff, visibility, exports and the scoped admin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from saidao.accounts.tests.factories import UserFactory
from saidao.competitions import selectors, services
from saidao.competitions.models import Snapshot
from saidao.competitions.tests.factories import (
    all_verified,
    capacity_world,
    report_verified,
)
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db
D = Decimal


def published(w: Any, period: Any = None) -> Snapshot:
    return services.snapshot_publish(
        actor=w.officer,
        snapshot=services.period_compute(actor=w.officer, period=period or w.period),
    )


def test_program_table_in_three_queries(tree: Tree, django_assert_num_queries: Any) -> None:
    """The 项目表 lists categories, competitions, indicators and weights, flags a competition
    whose weights do not add up, in three queries whatever its size."""
    w = capacity_world(tree)
    cat2 = services.category_create(actor=w.officer, program=w.program, name="安全环保")
    comp2 = services.competition_create(
        actor=w.officer,
        category=cat2,
        name="安全生产",
        participant_kind="unit",
        period_kind="month",
    )
    services.indicator_create(
        actor=w.officer,
        competition=comp2,
        code="x",
        name="隐患整改率",
        rule="attainment",
        weight=50,
    )
    with django_assert_num_queries(3):
        table = selectors.program_table(program=w.program)
    assert [c.category.name for c in table.categories] == ["效益开发", "安全环保"]
    first = table.categories[0].competitions[0]
    assert first.competition.name == "大幅度提高单井产能" and first.weights_ok
    assert [i.code for i in first.indicators] == [
        "wells",
        "design",
        "actual",
        "ratio",
        "capacity",
        "accident",
    ]
    assert table.categories[1].competitions[0].weights_ok is False


def test_scorecard_explains_the_score_and_the_way_up(tree: Tree) -> None:
    """东辛's scorecard: each indicator's contribution against the bracket average, its
    strongest and weakest indicators, the gap to 现河 above it (9.8333 points) and how much more
    of the attainment ratio closes it (0.140476 = 9.8333 ÷ 70 per unit)."""
    w = capacity_world(tree)
    all_verified(w)
    snap = published(w)
    card = selectors.scorecard(snapshot=snap, participant=w.participants["DX"])
    lines = {ln.code: ln for ln in card.lines}
    assert lines["ratio"].contribution == D("107.5")
    # the ratio contributions are 73.3871, 107.5, 98, 114.3333, 112: average 101.0441
    assert lines["ratio"].bracket_average == D("101.0441")
    assert lines["ratio"].versus_average == D("6.4559")
    assert lines["capacity"].versus_average == D("3.0000")  # 27 vs (30+27+24+21+18)/5 = 24
    assert card.strongest == "ratio"
    assert card.ahead is not None and card.ahead.participant.code == "XH"
    assert card.gap == D("9.8333")
    assert card.best_lever == "ratio" and card.lever_value_needed == D("0.140476")
    top = selectors.scorecard(snapshot=snap, participant=w.participants["XH"])
    assert top.ahead is None and top.gap is None and top.best_lever is None


def test_scorecard_compares_with_the_previous_period(tree: Tree) -> None:
    """With a published previous quarter, each line shows the change in contribution."""
    w = capacity_world(tree)
    all_verified(w)
    published(w)
    q3 = services.period_create(actor=w.officer, competition=w.competition, key="2024-Q3")
    for code in ("GD", "HK", "XH", "ZX"):
        report_verified(w, code, period=q3)
    report_verified(w, "DX", {"wells": 34, "design": "5.6", "actual": "9.8"}, period=q3)
    snap = published(w, q3)
    card = selectors.scorecard(snapshot=snap, participant=w.participants["DX"])
    ratio = next(ln for ln in card.lines if ln.code == "ratio")
    assert ratio.previous == D("107.5") and ratio.change == D("15.0")  # 9.8/5.6*70 = 122.5
    trend = selectors.participant_trend(participant=w.participants["DX"])
    assert [(t.period.key, t.rank, str(t.total)) for t in trend] == [
        ("2024-Q2", 2, "134.5000"),
        ("2024-Q3", 1, "149.5000"),  # 122.5 + 27 (capacity still second)
    ]


def test_trend_of_unpublished_periods_on_request(tree: Tree) -> None:
    """Only published rankings count in the trend, unless asked for the latest computed."""
    w = capacity_world(tree)
    all_verified(w)
    services.period_compute(actor=w.officer, period=w.period)
    assert selectors.participant_trend(participant=w.participants["DX"]) == []
    assert (
        len(selectors.participant_trend(participant=w.participants["DX"], published_only=False))
        == 1
    )


def test_visibility_of_programs_and_snapshots(tree: Tree) -> None:
    """Officers above, reporters and assessors see the program; unpublished rankings only the
    officers and assessors; an unrelated officer nothing."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.period_compute(actor=w.officer, period=w.period)
    assert selectors.user_can_view_program(user=tree.national_officer, program=w.program)
    assert selectors.user_can_view_program(user=w.reporters["DX"], program=w.program)
    assert not selectors.user_can_view_program(user=tree.city_officer, program=w.program)
    assert not selectors.user_can_view_program(user=UserFactory.create(), program=w.program)
    assert selectors.user_can_view_snapshot(user=w.assessor, snapshot=snap)
    assert not selectors.user_can_view_snapshot(user=w.reporters["DX"], snapshot=snap)
    snap = services.snapshot_publish(actor=w.officer, snapshot=snap)
    assert selectors.user_can_view_snapshot(user=w.reporters["DX"], snapshot=snap)
    assert list(selectors.programs_for_user(user=w.reporters["DX"])) == [w.program]
    assert list(selectors.programs_for_user(user=tree.city_officer)) == []


def test_snapshot_rows_in_two_queries(tree: Tree, django_assert_num_queries: Any) -> None:
    """The ranking board's rows come with participant and bracket in one query."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.period_compute(actor=w.officer, period=w.period)
    with django_assert_num_queries(1):
        rows = list(selectors.snapshot_rows(snapshot=snap))
        names = [r.participant.name for r in rows] + [str(r.bracket) for r in rows]
    assert names[:2] == ["现河采油厂", "东辛采油厂"]


def test_scoped_admin_lists_only_the_officers_programs(client: Client, tree: Tree) -> None:
    """The 东营 officer sees the program in the admin; the 定西 officer does not."""
    w = capacity_world(tree)
    all_verified(w)
    published(w)
    client.force_login(w.officer)
    for url in (
        "/admin/competitions/program/",
        "/admin/competitions/competition/",
        "/admin/competitions/report/",
        "/admin/competitions/snapshot/",
        "/admin/competitions/helpassignment/",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
    assert "2024 高质量发展劳动竞赛" in client.get("/admin/competitions/program/").content.decode()
    client.force_login(tree.city_officer)
    resp = client.get("/admin/competitions/program/")
    assert resp.status_code == 200
    assert "2024 高质量发展劳动竞赛" not in resp.content.decode()
