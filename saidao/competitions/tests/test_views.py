"""The competition pages: the program table, ranking boards with trends, scorecards,
reporting and import, verification, computing and publishing, help lists and titles."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pytest_django import DjangoAssertNumQueries

from saidao.accounts.models import User
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.competitions import services
from saidao.competitions.demo import (
    AREA_REPORTER,
    ASSESSOR,
    PLANTS,
    DemoCompetitions,
    competitions_demo_seed,
)
from saidao.competitions.models import (
    Competition,
    Evidence,
    HelpAssignment,
    Period,
    Report,
    Snapshot,
    Title,
)
from saidao.competitions.tests.factories import (
    all_verified,
    capacity_world,
    plant_values,
    reports_xlsx,
    watercut_world,
)
from saidao.competitions.views import competition_activities, sparkline_svg
from saidao.conftest import Tree
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import make_org

OFFICER_PHONE = "13900000004"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def seed_demo(tree: Tree) -> DemoCompetitions:
    """The demo program on the foundation demo's oilfield corner of the tree: 胜利油田工会 under
    东营市总工会 with 东辛采油厂, 胜利采油厂 and its 管理六区, and the oilfield officer."""
    K = Organization.Kind
    oilfield = make_org(tree.dongying, "胜利油田工会", region="370500", kind=K.ENTERPRISE)
    make_org(oilfield, "东辛采油厂工会", region="370502", kind=K.ENTERPRISE)
    plant = make_org(oilfield, "胜利采油厂工会", region="370502", kind=K.ENTERPRISE)
    make_org(plant, "胜利采油厂管理六区分工会", region="370502", kind=K.ENTERPRISE)
    officer = UserFactory.create(phone=OFFICER_PHONE, real_name="冀贞")
    MembershipFactory.create(user=officer, organization=oilfield)
    Role.objects.create(organization=oilfield, user=officer, kind=Role.Kind.OFFICER)
    return competitions_demo_seed(password_hash="!")


@pytest.fixture
def demo(tree: Tree) -> DemoCompetitions:
    return seed_demo(tree)


def _officer() -> User:
    return User.objects.get(phone=OFFICER_PHONE)


def _period(comp: Competition, key: str) -> Period:
    return comp.periods.get(key=key)


def _reporter(key: str) -> User:
    plant = next(p for p in PLANTS if p.key == key)
    return User.objects.get(phone=plant.reporter[1])


def _assessor() -> User:
    return User.objects.get(phone=ASSESSOR[1])


def _board(comp: Competition, key: str) -> str:
    return reverse("competitions:board", args=[comp.pk, _period(comp, key).pk])


# --- the program table and the list -----------------------------------------------------------


def test_program_table_lists_categories_competitions_indicators_and_weights(
    client: Client, demo: DemoCompetitions, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The 项目表 shows the 13 大项 in order, each competition with its indicators, rules and
    weights adding up to 100, in a fixed number of queries (session, user, roles x3,
    program, table x3, my roles, officer check)."""
    client.force_login(_officer())
    url = reverse("competitions:program", args=[demo.program.pk])
    with django_assert_num_queries(8):
        html = client.get(url).content.decode()
    assert html.index("1. 高质量勘探") < html.index("2. 效益开发") < html.index("13. 基层建设")
    assert (
        "大幅度提高单井产能" in html and "单井产能符合率" in html and "= actual / designed" in html
    )
    assert "权重之和与总权重不符" not in html
    resp = client.get(reverse("competitions:program_xlsx", args=[demo.program.pk]))
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws is not None
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "大幅度提高单井产能" in names


def test_index_lists_the_programs_i_can_see(
    client: Client,
    demo: DemoCompetitions,
    tree: Tree,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """The oilfield officer, a plant's reporter and 吴昊 (a participant) see the program; the
    定西 officer sees none. The list costs the same few queries."""
    for user in (_officer(), _reporter("dongxin"), User.objects.get(real_name="吴昊")):
        client.force_login(user)
        with django_assert_num_queries(4):
            html = client.get(reverse("competitions:index")).content.decode()
        assert "2024年推动油田高质量发展劳动竞赛" in html
    client.force_login(tree.city_officer)
    assert "2024年推动油田高质量发展劳动竞赛" not in client.get("/competitions/").content.decode()


def test_pages_outside_the_officers_subtree_answer_404(
    client: Client, demo: DemoCompetitions, tree: Tree
) -> None:
    """定西's officer gets 404 on every page of the oilfield's program; a visitor who is not
    signed in is sent to log in."""
    cap = demo.capacity
    q2 = _period(cap, "2024-Q2")
    dx = cap.participants.get(code="DX")
    urls = [
        reverse("competitions:program", args=[demo.program.pk]),
        reverse("competitions:program_xlsx", args=[demo.program.pk]),
        reverse("competitions:competition", args=[cap.pk]),
        reverse("competitions:board", args=[cap.pk, q2.pk]),
        reverse("competitions:board_xlsx", args=[cap.pk, q2.pk]),
        reverse("competitions:scorecard", args=[cap.pk, q2.pk, dx.pk]),
        reverse("competitions:help", args=[cap.pk, q2.pk]),
        reverse("competitions:titles", args=[demo.water.pk, _period(demo.water, "2024-Q2").pk]),
        reverse("competitions:reporting", args=[demo.program.pk]),
        reverse("competitions:verify", args=[demo.program.pk]),
        reverse("competitions:import", args=[cap.pk]),
        reverse("competitions:report", args=[dx.pk, _period(cap, "2024-Q4").pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url
    client.force_login(tree.city_officer)
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("competitions:compute", args=[q2.pk])).status_code == 404


# --- the ranking board --------------------------------------------------------------------------


def test_board_shows_ranks_points_trends_and_marks(
    client: Client, demo: DemoCompetitions, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """2024-Q2: 现河 first, 东辛 second with 101.43; per-indicator points and values; a
    sparkline per row over Q1..Q2; the top three marked for incentives (with their bonus), 滨南
    marked for help. Six plants or five workers: the same number of queries."""
    client.force_login(_officer())
    url = _board(demo.capacity, "2024-Q2")
    with django_assert_num_queries(14):
        resp = client.get(url)
    html = resp.content.decode()
    rows = resp.context["board"].rows
    assert [(r.row.rank, r.row.participant.name) for r in rows][:2] == [
        (1, "现河采油厂"),
        (2, "东辛采油厂"),
    ]
    assert rows[1].total_text == "101.43"
    assert rows[1].ranks == [2, 2]
    assert [r.award for r in rows] == [True, True, True, False, False, False]
    assert [r.help for r in rows] == [False] * 5 + [True]
    assert html.count('class="cmp-spark"') == 6
    assert "¥150000" in html and "8.6" in html and "61.43" in html
    url = _board(demo.water, "2024-Q3")
    with django_assert_num_queries(14):
        client.get(url)


def test_board_export_is_the_ranking_as_xlsx(client: Client, demo: DemoCompetitions) -> None:
    """The .xlsx has a row per plant in rank order with its total."""
    client.force_login(_reporter("binnan"))
    q2 = _period(demo.capacity, "2024-Q2")
    resp = client.get(reverse("competitions:board_xlsx", args=[demo.capacity.pk, q2.pk]))
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws is not None
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[1][2] == "东辛采油厂"
    assert rows[1][-1] == pytest.approx(101.4286)


def test_the_board_opens_on_the_latest_ranking(client: Client, demo: DemoCompetitions) -> None:
    """A competition's address opens the latest period with a published ranking."""
    client.force_login(_reporter("dongxin"))
    resp = client.get(reverse("competitions:competition", args=[demo.capacity.pk]))
    assert resp["Location"] == _board(demo.capacity, "2024-Q3")


def test_scorecard_explains_the_score_and_the_way_up(
    client: Client, demo: DemoCompetitions
) -> None:
    """东辛's 2024-Q2 scorecard: second of six, 1.77 points behind 现河, attainment the indicator
    that pulls it up most and the one that moved most since Q1, and how much more attainment
    would close the gap."""
    client.force_login(_reporter("dongxin"))
    cap = demo.capacity
    q2 = _period(cap, "2024-Q2")
    dx = cap.participants.get(code="DX")
    resp = client.get(reverse("competitions:scorecard", args=[cap.pk, q2.pk, dx.pk]))
    html = resp.content.decode()
    card = resp.context["card"]
    assert card.row.rank == 2 and resp.context["of"] == 6
    assert card.ahead.participant.name == "现河采油厂"
    assert "还差 1.77 分" in html
    assert "最拉分的指标是“单井产能符合率”" in html
    assert resp.context["moved"].code == "attainment"
    assert "“单井产能符合率”再提高 0.0443" in html
    assert 'class="cmp-spark"' in html


def test_first_place_scorecard_and_a_vetoed_one(client: Client, demo: DemoCompetitions) -> None:
    """现河 is first in Q2; 孤东, vetoed in Q3 for a safety accident, is told so."""
    client.force_login(_officer())
    cap = demo.capacity
    q2, q3 = _period(cap, "2024-Q2"), _period(cap, "2024-Q3")
    xh, gd = cap.participants.get(code="XH"), cap.participants.get(code="GD")
    html = client.get(reverse("competitions:scorecard", args=[cap.pk, q2.pk, xh.pk])).content
    assert "本期第一名" in html.decode()
    html = client.get(reverse("competitions:scorecard", args=[cap.pk, q3.pk, gd.pk])).content
    assert "本期被一票否决" in html.decode()


def test_sparkline_puts_first_place_on_top_and_breaks_on_gaps() -> None:
    """Rank 1 is drawn at the top, the worst rank at the bottom; a period without a rank
    splits the line; no ranks, no drawing."""
    svg = str(sparkline_svg([1, 3, None, 2], labels=["Q1", "Q2", "Q3", "Q4"], worst=3))
    assert svg.startswith("<svg") and "Q3 —" in svg
    assert 'points="3.0,3.0 29.0,21.0"' in svg
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2
    assert str(sparkline_svg([None, None])) == ""


# --- computing, publishing, the diff ------------------------------------------------------------


def test_officer_computes_recomputes_and_sees_the_diff(client: Client, tree: Tree) -> None:
    """Computing twice from the same reports keeps one snapshot and says so; after a report is
    returned and corrected the next computation is a new snapshot and the board shows who
    moved. A reporter does not see the unpublished ranking; the assessor does."""
    world = capacity_world(tree)
    all_verified(world)
    client.force_login(world.officer)
    compute = reverse("competitions:compute", args=[world.period.pk])
    board = reverse("competitions:board", args=[world.competition.pk, world.period.pk])
    html = client.post(compute, follow=True).content.decode()
    assert "已计算第 1 版排名" in html and 'data-testid="unpublished"' in html
    html = client.post(compute, follow=True).content.decode()
    assert "结果与上次计算相同" in html
    assert Snapshot.objects.filter(period=world.period).count() == 1
    client.force_login(world.reporters["GD"])
    assert 'data-testid="no-ranking"' in client.get(board).content.decode()
    client.force_login(world.assessor)
    assert 'data-testid="unpublished"' in client.get(board).content.decode()
    report = Report.objects.get(participant=world.participants["GD"], period=world.period)
    services.report_return(actor=world.assessor, report=report, reason="单井实际产量有误")
    services.report_save(
        actor=world.reporters["GD"],
        participant=world.participants["GD"],
        period=world.period,
        values={**plant_values("GD"), "actual": "12.5"},
    )
    services.report_submit(actor=world.reporters["GD"], report=report)
    services.report_verify(actor=world.assessor, report=report)
    client.force_login(world.officer)
    resp = client.post(compute, follow=True)
    html = resp.content.decode()
    assert "已计算第 2 版排名" in html
    diff = resp.context["diff"]
    assert diff.old.number == 1 and diff.new.number == 2
    gd = next(c for c in diff.changes if c.code == "GD")
    assert gd.values["actual"] == ("6.500000", "12.500000")
    assert 'data-testid="diff"' in html and "孤岛采油厂" in html


def test_publish_freezes_and_builds_the_lists(client: Client, tree: Tree) -> None:
    """Publishing locks the reports, shows the published badge, awards the top three and puts
    the bottom plant on the help list."""
    world = capacity_world(tree)
    all_verified(world)
    snapshot = services.period_compute(actor=world.officer, period=world.period)
    client.force_login(world.officer)
    html = client.post(
        reverse("competitions:publish", args=[snapshot.pk]), follow=True
    ).content.decode()
    assert "排名已发布" in html and 'data-testid="published"' in html
    assert html.count('data-testid="award"') == 3 and html.count('data-testid="help"') == 1
    assert not Report.objects.filter(period=world.period, state=Report.State.VERIFIED).exists()


def test_a_computation_that_cannot_run_explains_why(client: Client, tree: Tree) -> None:
    """With a plant's report missing, computing shows which plant lacks which indicators."""
    world = capacity_world(tree)
    client.force_login(world.officer)
    html = client.post(
        reverse("competitions:compute", args=[world.period.pk]), follow=True
    ).content.decode()
    assert "缺少已审核的必填指标" in html
    assert not Snapshot.objects.exists()


def test_officer_opens_and_closes_periods(client: Client, demo: DemoCompetitions) -> None:
    """A new period from its key; closing it stops reports; a bad key is explained."""
    client.force_login(_officer())
    url = reverse("competitions:period_new", args=[demo.capacity.pk])
    resp = client.post(url, {"key": "2025-Q1"}, follow=True)
    period = demo.capacity.periods.get(key="2025-Q1")
    assert "已新建考核期：2025年第一季度" in resp.content.decode()
    html = client.post(url, {"key": "2025-13"}, follow=True).content.decode()
    assert "格式不对" in html
    client.post(reverse("competitions:period_state", args=[period.pk]), {"state": "closed"})
    period.refresh_from_db()
    assert period.state == Period.State.CLOSED


# --- reporting -----------------------------------------------------------------------------------


def test_reporter_saves_a_draft_attaches_evidence_and_submits(
    client: Client, demo: DemoCompetitions
) -> None:
    """胜利采油厂's reporter finds its 2024-Q4 draft on the list, fixes a value, attaches a file,
    and submits; a value that is not a number is explained and nothing changes."""
    reporter = _reporter("shengli")
    client.force_login(reporter)
    cap = demo.capacity
    q4 = _period(cap, "2024-Q4")
    sl = cap.participants.get(code="SL")
    listing = client.get(reverse("competitions:reporting", args=[demo.program.pk])).content
    assert "胜利采油厂" in listing.decode() and "东辛采油厂" not in listing.decode()
    url = reverse("competitions:report", args=[sl.pk, q4.pk])
    form = client.get(url).context["form"]
    ids = {ind.code: ind.pk for ind, _v, _n in form.rows()}
    data = {f"v_{ids['wells']}": "10", f"v_{ids['designed']}": "5.2"}
    data |= {f"v_{ids['actual']}": "八点一", f"v_{ids['accident']}": "0", "action": "save"}
    html = client.post(url, data).content.decode()
    assert "不是数字" in html
    report = Report.objects.get(participant=sl, period=q4)
    assert report.values.get(indicator_id=ids["actual"]).value == Decimal("7")
    data[f"v_{ids['actual']}"] = "8.1"
    assert client.post(url, data).status_code == 302
    upload = SimpleUploadedFile("月报.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    client.post(reverse("competitions:evidence_upload", args=[sl.pk, q4.pk]), {"file": upload})
    ev = Evidence.objects.get(report=report)
    assert client.get(reverse("competitions:evidence", args=[ev.pk])).status_code == 200
    resp = client.post(url, {**data, "action": "submit"}, follow=True)
    assert "已提交，等待考核员审核" in resp.content.decode()
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED
    assert report.values.get(indicator_id=ids["actual"]).value == Decimal("8.1")
    client.force_login(_reporter("dongxin"))
    assert client.get(url).status_code == 404
    assert client.get(reverse("competitions:evidence", args=[ev.pk])).status_code == 404


def test_import_lists_every_error_and_saves_nothing(client: Client, demo: DemoCompetitions) -> None:
    """A sheet with a wrong unit, a non-number, an unknown plant and a locked period is refused
    whole: each error with its row and reason. The template downloads."""
    client.force_login(_reporter("binnan"))
    url = reverse("competitions:import", args=[demo.capacity.pk])
    before = Report.objects.count()
    sheet = reports_xlsx(
        [
            ("BN", "新井投产数", "2024-Q4", 12, "口", ""),
            ("BN", "单井设计日产", "2024-Q4", 5.5, "吨", ""),
            ("BN", "单井实际日产", "2024-Q4", "很多", "吨/日", ""),
            ("ZZ", "新井投产数", "2024-Q4", 3, "口", ""),
            ("BN", "新井投产数", "2024-Q3", 3, "口", ""),
        ]
    )
    html = client.post(url, {"file": sheet, "submit": "on"}).content.decode()
    assert "第 3 行" in html and "计量单位是“吨/日”" in html
    assert "第 4 行" in html and "第 5 行" in html and "第 6 行" in html
    assert "已锁定" in html
    assert Report.objects.count() == before
    q4 = _period(demo.capacity, "2024-Q4")
    resp = client.get(
        reverse("competitions:import_template", args=[demo.capacity.pk]) + f"?period={q4.pk}"
    )
    assert resp.status_code == 200
    assert load_workbook(io.BytesIO(resp.content)).active is not None


def test_import_saves_and_submits_a_whole_sheet(client: Client, tree: Tree) -> None:
    """A good sheet from a reporter of all the plants' parent saves and submits every report."""
    world = watercut_world(tree)
    reporter = UserFactory.create()
    MembershipFactory.create(user=reporter, organization=world.units["area"])
    services.program_role_grant(
        actor=world.officer,
        program=world.program,
        user=reporter,
        kind="reporter",
        organization=world.units["area"],
    )
    client.force_login(reporter)
    rows = []
    for name, values in world.extra["values"].items():
        phone = world.participants[name].user.phone  # type: ignore[union-attr]
        rows.append((phone, "含水下降", "2024-Q2", values["cut_fall"], "百分点", ""))
        rows.append((phone, "日增油", "2024-Q2", values["oil_gain"], "吨/日", ""))
    sheet = reports_xlsx(rows, header=("参赛人手机号", "指标", "期间", "数值", "单位", "备注"))
    url = reverse("competitions:import", args=[world.competition.pk])
    html = client.post(url, {"file": sheet, "submit": "on"}).content.decode()
    assert "已导入 3 份填报、6 个数值" in html
    assert Report.objects.filter(state=Report.State.SUBMITTED).count() == 3


# --- verification --------------------------------------------------------------------------------


def test_assessor_verifies_and_returns_from_the_queue(
    client: Client, demo: DemoCompetitions, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """张在朋's queue holds 2024-Q4's two submitted reports with their values; he verifies one
    and returns the other with a reason the reporter then sees."""
    client.force_login(_assessor())
    url = reverse("competitions:verify", args=[demo.program.pk])
    with django_assert_num_queries(10):
        resp = client.get(url)
    queue = resp.context["queue"]
    assert [r.participant.code for r in queue.to_verify] == ["DX", "XH"]
    assert "8.2 吨/日" in resp.content.decode()
    dx, xh = queue.to_verify
    html = client.post(
        reverse("competitions:report_verify", args=[dx.pk]), follow=True
    ).content.decode()
    assert "已审核通过：东辛采油厂" in html
    client.post(reverse("competitions:report_return", args=[xh.pk]), {"reason": "请附月报"})
    xh.refresh_from_db()
    assert xh.state == Report.State.RETURNED
    client.force_login(_reporter("xianhe"))
    page = client.get(reverse("competitions:report", args=[xh.participant_id, xh.period_id]))
    assert "已退回：请附月报" in page.content.decode()


def test_an_assessor_cannot_verify_their_own_units_report(
    client: Client, demo: DemoCompetitions
) -> None:
    """东辛's reporter, made an assessor of 东辛 too, sees 东辛's report apart as not theirs to
    verify, and verifying it anyway shows the service's refusal; the report stays submitted."""
    reporter = _reporter("dongxin")
    dongxin = Organization.objects.get(name="东辛采油厂工会")
    services.program_role_grant(
        actor=_officer(), program=demo.program, user=reporter, kind="assessor", organization=dongxin
    )
    client.force_login(reporter)
    resp = client.get(reverse("competitions:verify", args=[demo.program.pk]))
    queue = resp.context["queue"]
    assert [r.participant.code for r in queue.own_unit] == ["DX"]
    assert [r.participant.code for r in queue.to_verify] == ["XH"]
    report = queue.own_unit[0]
    html = client.post(
        reverse("competitions:report_verify", args=[report.pk]), follow=True
    ).content.decode()
    assert "属于您所在的单位，不能由您审核" in html
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED


# --- help list and titles ------------------------------------------------------------------------


def test_help_list_shows_helper_plan_notes_and_moving_up(
    client: Client, demo: DemoCompetitions, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Q1's help list: 河口 with its helper, plan and note, marked as moved up to fifth in Q2;
    Q3's 孤东 waits for Q4. The officer assigns a helper by phone and adds a note."""
    client.force_login(_officer())
    cap = demo.capacity
    url = reverse("competitions:help", args=[cap.pk, _period(cap, "2024-Q1").pk])
    with django_assert_num_queries(13):
        resp = client.get(url)
    html = resp.content.decode()
    assert "河口采油厂" in html and "下期进位：第 5 名" in html
    assert "胜利油田工程技术管理中心工会" in html and "已走出末位" in html
    q3 = _period(cap, "2024-Q3")
    assignment = HelpAssignment.objects.get(snapshot__period=q3)
    html = client.get(reverse("competitions:help", args=[cap.pk, q3.pk])).content.decode()
    assert "下期排名尚未发布" in html
    client.post(
        reverse("competitions:help_assign", args=[assignment.pk]),
        {"helper_phone": AREA_REPORTER[1], "action_plan": "现场安全标准化检查"},
    )
    client.post(
        reverse("competitions:help_note", args=[assignment.pk]), {"text": "已检查 3 个井场"}
    )
    assignment.refresh_from_db()
    assert assignment.helper_user is not None
    assert assignment.helper_user.phone == AREA_REPORTER[1]
    assert assignment.action_plan == "现场安全标准化检查"
    assert assignment.notes.get().text == "已检查 3 个井场"
    html = client.post(
        reverse("competitions:help_assign", args=[assignment.pk]),
        {"helper_phone": "13800000000"},
        follow=True,
    ).content.decode()
    assert "没有找到手机号为 13800000000 的用户" in html


def test_titles_are_nominated_approved_published_with_a_certificate(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """From the published ranking the officer nominates 吴昊, approves and publishes; the page
    then links the certificate's PDF, which downloads."""
    world = watercut_world(tree)
    for name, values in world.extra["values"].items():
        report = services.report_save(
            actor=world.reporters[name],
            participant=world.participants[name],
            period=world.period,
            values=values,
        )
        report = services.report_submit(actor=world.reporters[name], report=report)
        services.report_verify(actor=world.assessor, report=report)
    snapshot = services.period_compute(actor=world.officer, period=world.period)
    services.snapshot_publish(actor=world.officer, snapshot=snapshot)
    client.force_login(world.officer)
    url = reverse("competitions:titles", args=[world.competition.pk, world.period.pk])
    candidates = client.get(url).context["candidates"]
    assert candidates[0].participant.name == "吴昊"
    client.post(
        reverse("competitions:title_nominate", args=[world.competition.pk, world.period.pk]),
        {"participant": candidates[0].participant_id, "name": "", "citation": "堵水治理两口井"},
    )
    title = Title.objects.get()
    assert title.name == "2024年第二季度 最佳降含水标兵"
    for action in ("approve", "publish"):
        client.post(reverse("competitions:title_action", args=[title.pk, action]))
    title.refresh_from_db()
    assert title.state == Title.State.PUBLISHED and title.certificate_code
    with django_assert_num_queries(8):
        html = client.get(url).content.decode()
    pdf = reverse("certificates:pdf", args=[title.certificate_code])
    assert pdf in html
    resp = client.get(pdf)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    html = client.post(
        reverse("competitions:title_action", args=[title.pk, "approve"]), follow=True
    ).content.decode()
    assert 'class="msg msg-error"' in html


def test_the_home_page_links_the_program(client: Client, demo: DemoCompetitions) -> None:
    """The activity provider gives the oilfield officer and 吴昊 a card to the program, and
    nobody else one."""
    for user in (_officer(), User.objects.get(real_name="吴昊")):
        cards = competition_activities(user)
        assert [c.url for c in cards] == [reverse("competitions:program", args=[demo.program.pk])]
    assert competition_activities(UserFactory.create()) == []


def test_a_competition_without_periods_invites_the_officer_to_open_one(
    client: Client, demo: DemoCompetitions
) -> None:
    """The 项目表's rules-only competitions have no period yet: their page says so and offers
    the officer the form for a new one."""
    client.force_login(_officer())
    rules_only = demo.program.competitions.get(name="高效勘探增储")
    html = client.get(reverse("competitions:competition", args=[rules_only.pk])).content.decode()
    assert "还没有考核期" in html and "新建考核期" in html


def test_reporting_list_costs_a_fixed_number_of_queries(
    client: Client, demo: DemoCompetitions, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """A plant's reporter sees its one 2024-Q4 slot; the officer (who may report for every
    plant) sees all six, each with its report's state: a fixed number of queries, not one per
    participant."""
    url = reverse("competitions:reporting", args=[demo.program.pk])
    client.force_login(_reporter("dongxin"))
    with django_assert_num_queries(10):
        resp = client.get(url)
    slots = [s for rc in resp.context["competitions"] for s in rc.slots]
    assert [(s.participant.code, s.report.state) for s in slots] == [("DX", "submitted")]
    client.force_login(_officer())
    with django_assert_num_queries(9):  # no role lookup: an officer sees the program anyway
        resp = client.get(url)
    slots = [s for rc in resp.context["competitions"] for s in rc.slots]
    assert len([s for s in slots if s.period.competition_id == demo.capacity.pk]) == 6
