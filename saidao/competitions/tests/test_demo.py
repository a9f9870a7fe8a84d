"""The demo labor competition, seeded by ``saidao demo`` through the services: the figures of
工人日报 2024-08-13 come out as the paper tells them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from saidao.accounts.models import User
from saidao.accounts.services import auth_login
from saidao.certificates.models import Certificate
from saidao.competitions.demo import (
    AREA_REPORTER,
    ASSESSOR,
    CAPACITY_NAME,
    CATEGORIES,
    PLANTS,
    PROGRAM_NAME,
    TITLE_NAME,
    WATER_NAME,
    WORKERS,
)
from saidao.competitions.models import (
    Competition,
    HelpAssignment,
    Program,
    Report,
    Snapshot,
    Title,
)
from saidao.competitions.selectors import program_table, snapshot_published
from saidao.competitions.views import competition_activities
from saidao.demo.seed import DEMO_LOGINS, DEMO_PASSWORD, demo_seed

MEMBERS = 120


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded(regions: None) -> Program:
    demo_seed(members=MEMBERS)
    return Program.objects.get(name=PROGRAM_NAME)


def _published(competition: Competition, key: str) -> Snapshot:
    snapshot = snapshot_published(period=competition.periods.get(key=key))
    assert snapshot is not None
    return snapshot


def test_the_program_has_13_categories_owned_by_the_oilfield_union(seeded: Program) -> None:
    """胜利油田工会 owns the program; its 项目表 lists the 13 大项 in order, every competition's
    weighted indicators add up to the program's total weight of 100."""
    assert seeded.organization.name == "胜利油田工会"
    table = program_table(program=seeded)
    assert [c.category.name for c in table.categories] == list(CATEGORIES)
    assert len(CATEGORIES) == 13
    competitions = [tc for c in table.categories for tc in c.competitions]
    assert {CAPACITY_NAME, WATER_NAME} <= {tc.competition.name for tc in competitions}
    assert all(tc.weights_ok for tc in competitions)
    assert all(c.competitions for c in table.categories)


def test_dongxin_is_second_in_single_well_capacity(seeded: Program) -> None:
    """In 2024-Q2 东辛采油厂's 34 new wells at 8.6 t/day against a 5.6 t/day design rank it
    second of six plants, behind 现河采油厂's higher attainment; the published ranking came
    from locked reports, and the award list holds the top three."""
    capacity = seeded.competitions.get(name=CAPACITY_NAME)
    snapshot = _published(capacity, "2024-Q2")
    rows = list(snapshot.rows.select_related("participant").order_by("position"))
    assert len(rows) == 6
    dongxin = next(r for r in rows if r.participant.name == "东辛采油厂")
    assert dongxin.rank == 2
    assert rows[0].participant.name == "现河采油厂"
    assert [dongxin.values[c][0] for c in ("wells", "designed", "actual")] == [
        "34.000000",
        "5.600000",
        "8.600000",
    ]
    assert dongxin.values["attainment"][0] == "1.535714"
    assert rows[0].values["attainment"][0] > dongxin.values["attainment"][0]
    period = snapshot.period
    assert set(period.reports.filter(is_current=True).values_list("state", flat=True)) == {
        Report.State.LOCKED
    }
    assert sorted(snapshot.awards.values_list("rank", flat=True)) == [1, 2, 3]


def test_wu_hao_holds_the_second_quarter_title(seeded: Program) -> None:
    """吴昊 of 胜利采油厂 管理六区 ranks first in 最佳降含水 for 2024-Q2 (water cut down 12
    points, 4.5 t/day more oil) and holds the published title 2024年第二季度 最佳降含水标兵 with
    its certificate."""
    water = seeded.competitions.get(name=WATER_NAME)
    snapshot = _published(water, "2024-Q2")
    first = snapshot.rows.select_related("participant__user").order_by("position")[0]
    assert first.participant.name == "吴昊"
    assert first.values["watercut_drop"][0] == "12.000000"
    assert first.values["oil_gain"][0] == "4.500000"
    assert first.participant.home.name == "胜利采油厂管理六区分工会"
    title = Title.objects.get(snapshot=snapshot)
    assert title.name == f"2024年第二季度 {TITLE_NAME}"
    assert title.participant.user is not None and title.participant.user.real_name == "吴昊"
    assert title.state == Title.State.PUBLISHED
    cert = Certificate.objects.get(code=title.certificate_code)
    assert cert.holder == first.participant.user
    assert cert.title == title.name


def test_history_shows_trends_and_help_lists(seeded: Program) -> None:
    """Three published quarters: each quarter's last plant is on the help list with a helper and
    a plan; 河口 (Q1) and 滨南 (Q2) moved up the next quarter; 2024-Q4 is open with reports
    waiting for the assessor."""
    capacity = seeded.competitions.get(name=CAPACITY_NAME)
    helped = {
        h.snapshot.period.key: h
        for h in HelpAssignment.objects.filter(
            snapshot__period__competition=capacity
        ).select_related("snapshot__period", "participant", "helper_organization")
    }
    assert {k: h.participant.name for k, h in helped.items()} == {
        "2024-Q1": "河口采油厂",
        "2024-Q2": "滨南采油厂",
        "2024-Q3": "孤东采油厂",
    }
    assert all(h.helper_organization and h.action_plan for h in helped.values())
    assert helped["2024-Q1"].notes.exists()
    q2 = _published(capacity, "2024-Q2")
    q3 = _published(capacity, "2024-Q3")
    assert q2.rows.get(participant=helped["2024-Q1"].participant).rank < 6
    assert q3.rows.get(participant=helped["2024-Q2"].participant).rank < 6
    q4 = capacity.periods.get(key="2024-Q4")
    assert q4.reports.filter(state=Report.State.SUBMITTED).count() == 2


def test_the_oilfield_officer_reaches_the_program_from_the_home_page(
    seeded: Program, client: Client
) -> None:
    """The oilfield officer's home page lists the program; its board shows 东辛 second."""
    officer = User.objects.get(phone=DEMO_LOGINS[3].phone)
    cards = competition_activities(officer)
    assert [c.title for c in cards] == [PROGRAM_NAME]
    client.force_login(officer)
    program_url = reverse("competitions:program", args=[seeded.pk])
    assert program_url in client.get("/").content.decode()
    capacity = seeded.competitions.get(name=CAPACITY_NAME)
    q2 = capacity.periods.get(key="2024-Q2")
    html = client.get(reverse("competitions:board", args=[capacity.pk, q2.pk])).content.decode()
    assert "东辛采油厂" in html and "现河采油厂" in html
    assert competition_activities(User.objects.get(phone=DEMO_LOGINS[1].phone)) == []


@pytest.mark.usefixtures("seeded")
def test_the_demo_reporters_assessor_and_workers_log_in() -> None:
    """东辛's reporter, the assessor 张在朋, 管理六区's reporter and 吴昊 log in with the demo
    password."""
    for phone in (PLANTS[0].reporter[1], ASSESSOR[1], AREA_REPORTER[1], WORKERS[0].phone):
        assert auth_login(phone=phone, password=DEMO_PASSWORD).is_activated
