"""Services: setup, the report workflow, computing and publishing, outcomes and titles."""

from __future__ import annotations

import dataclasses
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage

from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.competitions import selectors, services
from saidao.competitions.errors import (
    DivisionByZero,
    FormulaCycle,
    NotAssessor,
    NotReporter,
    OutsideProgram,
    OwnUnitAssessment,
    PeriodNotOpen,
    ReportStateInvalid,
    RequiredMissing,
    RuleInvalid,
    UnitMismatch,
    ValueInvalid,
    WeightsInvalid,
)
from saidao.competitions.models import (
    Award,
    HelpAssignment,
    Period,
    ProgramRole,
    Report,
    Snapshot,
    SnapshotRow,
    Title,
)
from saidao.competitions.tests.factories import (
    all_verified,
    capacity_world,
    plant_values,
    report_verified,
    watercut_world,
)
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.models import AuditEntry
from saidao.orgs.tests.factories import make_org

pytestmark = pytest.mark.django_db
D = Decimal


# --- setup ------------------------------------------------------------------------------------


def test_only_officers_of_the_program_organization_set_up(tree: Tree) -> None:
    """An officer outside the organization's subtree cannot create a program there."""
    with pytest.raises(OutsideScope):
        services.program_create(actor=tree.city_officer, organization=tree.dongying, name="X")
    p = services.program_create(actor=tree.national_officer, organization=tree.dongying, name="X")
    assert p.total_weight == 100


def test_participant_outside_the_program_subtree_is_refused(tree: Tree) -> None:
    """A unit outside the program organization's subtree, or a member whose organization is
    outside it, cannot take part."""
    w = capacity_world(tree)
    with pytest.raises(OutsideProgram) as exc:
        services.participant_add(
            actor=tree.national_officer, competition=w.competition, organization=tree.dingxi
        )
    assert "定西市总工会" in str(exc.value.message)
    ww = watercut_world(tree)
    outsider = MembershipFactory.create(organization=tree.courier).user
    with pytest.raises(OutsideProgram):
        services.participant_add(actor=w.officer, competition=ww.competition, user=outsider)
    with pytest.raises(InvalidInput):  # a person in a unit competition
        services.participant_add(actor=w.officer, competition=w.competition, user=outsider)


def test_weights_not_adding_up_are_refused_at_check_and_compute(tree: Tree) -> None:
    """competition_check and period_compute refuse weights that do not add up to the program's
    total weight (100), stating the sum."""
    w = capacity_world(tree)
    services.competition_check(competition=w.competition)
    w.competition.indicators.filter(code="capacity").update(weight=D(20))
    with pytest.raises(WeightsInvalid) as exc:
        services.competition_check(competition=w.competition)
    assert exc.value.detail["sum"] == "90"
    all_verified(w)
    with pytest.raises(WeightsInvalid):
        services.period_compute(actor=w.officer, period=w.period)


def test_formula_cycle_refused_at_check(tree: Tree) -> None:
    """Formulas referring to each other in a loop make the competition invalid."""
    w = capacity_world(tree)
    services.indicator_create(
        actor=w.officer,
        competition=w.competition,
        code="x",
        name="X",
        rule="none",
        source="formula",
        formula="y + 1",
    )
    services.indicator_create(
        actor=w.officer,
        competition=w.competition,
        code="y",
        name="Y",
        rule="none",
        source="formula",
        formula="x * 2",
    )
    with pytest.raises(FormulaCycle):
        services.competition_check(competition=w.competition)


def test_indicator_settings_are_checked(tree: Tree) -> None:
    """Bad formula, unknown count source, a weight on a veto and a duplicate code are refused."""
    w = capacity_world(tree)
    c = w.competition
    for kw in (
        {"code": "f", "name": "F", "rule": "none", "source": "formula", "formula": "a ** 2"},
        {"code": "g", "name": "G", "rule": "none", "source": "count", "count_source": "nope"},
        {"code": "h", "name": "H", "rule": "veto", "weight": 5},
        {"code": "1bad", "name": "B", "rule": "none"},
        {"code": "wells", "name": "又一个", "rule": "none"},
    ):
        with pytest.raises(RuleInvalid):
            services.indicator_create(actor=w.officer, competition=c, **kw)


def test_period_keys_and_dates(tree: Tree) -> None:
    """Quarter keys give the quarter's dates and Chinese label; a key of the wrong shape is
    refused."""
    w = capacity_world(tree)
    assert (str(w.period.starts_on), str(w.period.ends_on)) == ("2024-04-01", "2024-06-30")
    assert w.period.label == "2024年第二季度"
    with pytest.raises(InvalidInput):
        services.period_create(actor=w.officer, competition=w.competition, key="2024-06")


# --- reports ----------------------------------------------------------------------------------


def test_report_workflow_draft_submitted_verified_locked(tree: Tree) -> None:
    """draft → submitted → verified by an assessor → locked at publish; each step stamped."""
    w = capacity_world(tree)
    r = services.report_save(
        actor=w.reporters["DX"],
        participant=w.participants["DX"],
        period=w.period,
        values=plant_values("DX"),
        units={"wells": "口", "design": "吨/日", "actual": "吨/日"},
    )
    assert r.state == Report.State.DRAFT
    assert {v.indicator.code: v.value for v in r.values.all()}["actual"] == D("8.6")
    r = services.report_submit(actor=w.reporters["DX"], report=r)
    assert r.state == Report.State.SUBMITTED and r.submitted_at
    assert list(selectors.reports_to_verify(user=w.assessor)) == [r]
    r = services.report_verify(actor=w.assessor, report=r)
    assert r.state == Report.State.VERIFIED and r.verified_by == w.assessor
    for code in ("GD", "HK", "XH", "ZX"):
        report_verified(w, code)
    snap = services.period_compute(actor=w.officer, period=w.period)
    services.snapshot_publish(actor=w.officer, snapshot=snap)
    r.refresh_from_db()
    w.period.refresh_from_db()
    assert r.state == Report.State.LOCKED and w.period.state == Period.State.LOCKED


def test_return_needs_a_reason_and_reopens_for_editing(tree: Tree) -> None:
    """An assessor returns a submitted report with a reason; the reporter edits and resubmits."""
    w = capacity_world(tree)
    r = services.report_submit(
        actor=w.reporters["GD"],
        report=services.report_save(
            actor=w.reporters["GD"],
            participant=w.participants["GD"],
            period=w.period,
            values=plant_values("GD"),
        ),
    )
    with pytest.raises(InvalidInput):
        services.report_return(actor=w.assessor, report=r, reason=" ")
    r = services.report_return(actor=w.assessor, report=r, reason="设计产量与方案不符")
    assert r.state == Report.State.RETURNED and r.return_reason == "设计产量与方案不符"
    r = services.report_save(
        actor=w.reporters["GD"],
        participant=w.participants["GD"],
        period=w.period,
        values={"design": "6.0"},
    )
    r = services.report_submit(actor=w.reporters["GD"], report=r)
    assert r.state == Report.State.SUBMITTED and r.return_reason == ""


@pytest.mark.parametrize("state", [Period.State.CLOSED, Period.State.LOCKED])
def test_report_for_a_closed_or_locked_period_is_refused(tree: Tree, state: str) -> None:
    """Nothing can be reported for a closed or locked period."""
    w = capacity_world(tree)
    services.period_set_state(actor=w.officer, period=w.period, state=state)
    with pytest.raises(PeriodNotOpen) as exc:
        services.report_save(
            actor=w.reporters["DX"],
            participant=w.participants["DX"],
            period=w.period,
            values=plant_values("DX"),
        )
    assert exc.value.detail["state"] == state


def test_wrong_type_or_unit_is_refused(tree: Tree) -> None:
    """Text, booleans, NaN or a value too large are refused; so is a unit that is not the
    indicator's, and a formula indicator cannot be reported."""
    w = capacity_world(tree)
    kw = {"actor": w.reporters["DX"], "participant": w.participants["DX"], "period": w.period}
    for bad in ("八点六", True, "NaN", "1e30", None, ""):
        with pytest.raises(ValueInvalid):
            services.report_save(**kw, values={"actual": bad})  # type: ignore[arg-type]
    with pytest.raises(UnitMismatch) as exc:
        services.report_save(**kw, values={"actual": "8.6"}, units={"actual": "吨"})  # type: ignore[arg-type]
    assert exc.value.detail["expected"] == "吨/日"
    with pytest.raises(ValueInvalid):
        services.report_save(**kw, values={"ratio": "1.5"})  # type: ignore[arg-type]
    assert not Report.objects.exists()


def test_missing_required_indicator_at_submit_and_at_compute(tree: Tree) -> None:
    """Submit refuses a report lacking a required indicator, naming it; compute refuses while a
    participant has no verified report, listing it."""
    w = capacity_world(tree)
    r = services.report_save(
        actor=w.reporters["DX"],
        participant=w.participants["DX"],
        period=w.period,
        values={"wells": 34, "actual": "8.6"},
    )
    with pytest.raises(RequiredMissing) as exc:
        services.report_submit(actor=w.reporters["DX"], report=r)
    assert exc.value.detail["missing"][0]["indicators"] == ["单井设计产量"]
    for code in ("GD", "HK", "XH", "ZX"):
        report_verified(w, code)
    with pytest.raises(RequiredMissing) as exc2:
        services.period_compute(actor=w.officer, period=w.period)
    assert [m["participant"] for m in exc2.value.detail["missing"]] == ["DX"]


def test_division_by_zero_at_compute(tree: Tree) -> None:
    """A zero design output stops the compute with a clear error naming the participant."""
    w = capacity_world(tree)
    for code in ("GD", "DX", "XH", "ZX"):
        report_verified(w, code)
    report_verified(w, "HK", {"wells": 28, "design": 0, "actual": 7})
    with pytest.raises(DivisionByZero) as exc:
        services.period_compute(actor=w.officer, period=w.period)
    assert exc.value.detail["participant"] == "HK"
    assert not Snapshot.objects.exists()


def test_assessor_cannot_verify_their_own_units_report(tree: Tree) -> None:
    """An assessor whose unit holds the participant is refused; one without the role too."""
    w = capacity_world(tree)
    insider = UserFactory.create()
    services.program_role_grant(
        actor=w.officer,
        program=w.program,
        user=insider,
        kind=ProgramRole.Kind.ASSESSOR,
        organization=w.units["DX"],
    )
    r = services.report_submit(
        actor=w.reporters["DX"],
        report=services.report_save(
            actor=w.reporters["DX"],
            participant=w.participants["DX"],
            period=w.period,
            values=plant_values("DX"),
        ),
    )
    with pytest.raises(OwnUnitAssessment):
        services.report_verify(actor=insider, report=r)
    with pytest.raises(NotAssessor):
        services.report_verify(actor=w.reporters["GD"], report=r)
    assert r not in selectors.reports_to_verify(user=insider)
    assert services.report_verify(actor=w.assessor, report=r).state == Report.State.VERIFIED


def test_reporters_report_only_for_their_units(tree: Tree) -> None:
    """The reporter of 孤岛 cannot report for 东辛; a program officer can."""
    w = capacity_world(tree)
    with pytest.raises(NotReporter):
        services.report_save(
            actor=w.reporters["GD"],
            participant=w.participants["DX"],
            period=w.period,
            values=plant_values("DX"),
        )
    r = services.report_save(
        actor=w.officer,
        participant=w.participants["DX"],
        period=w.period,
        values=plant_values("DX"),
    )
    assert r.created_by == w.officer


def test_submitted_report_cannot_be_edited(tree: Tree) -> None:
    """Once submitted, a report changes only by being returned."""
    w = capacity_world(tree)
    kw = {"actor": w.reporters["DX"], "participant": w.participants["DX"], "period": w.period}
    r = services.report_save(**kw, values=plant_values("DX"))  # type: ignore[arg-type]
    services.report_submit(actor=w.reporters["DX"], report=r)
    with pytest.raises(ReportStateInvalid):
        services.report_save(**kw, values={"actual": "9"})  # type: ignore[arg-type]


def test_evidence_is_stored_on_the_default_storage(tree: Tree) -> None:
    """An evidence file is saved with the report and can be read back."""
    w = capacity_world(tree)
    r = services.report_save(
        actor=w.reporters["DX"],
        participant=w.participants["DX"],
        period=w.period,
        values=plant_values("DX"),
    )
    f = io.BytesIO(b"%PDF-1.4 test")
    f.name = "产量日报.pdf"
    ev = services.evidence_attach(actor=w.reporters["DX"], report=r, file=f)
    assert ev.name == "产量日报.pdf"
    path = str(ev.file.name)
    with default_storage.open(path) as fh:
        assert fh.read() == b"%PDF-1.4 test"
    default_storage.delete(path)


def test_correction_after_lock_makes_a_new_version(tree: Tree) -> None:
    """After publishing, an assessor corrects 东辛's actual output: a new current version with
    who, when and why; the old version unchanged; the next compute gives a new snapshot whose
    diff shows the value and the move."""
    w = capacity_world(tree)
    all_verified(w)
    first = services.period_compute(actor=w.officer, period=w.period)
    services.snapshot_publish(actor=w.officer, snapshot=first)
    old = Report.objects.get(participant=w.participants["DX"], is_current=True)
    with pytest.raises(InvalidInput):
        services.report_correct(actor=w.assessor, report=old, values={"actual": "9.9"}, reason="")
    new = services.report_correct(
        actor=w.assessor, report=old, values={"actual": "9.9"}, reason="计量表校准后复核"
    )
    old.refresh_from_db()
    assert (old.is_current, new.is_current, new.version, new.supersedes) == (False, True, 2, old)
    assert new.corrected_by == w.assessor and new.corrected_at and new.state == Report.State.LOCKED
    assert {v.indicator.code: v.value for v in old.values.all()}["actual"] == D("8.6")
    assert {v.indicator.code: v.value for v in new.values.all()}["actual"] == D("9.9")
    assert AuditEntry.objects.filter(action="competition_report.correct").count() == 1
    with pytest.raises(ReportStateInvalid):
        services.report_correct(actor=w.assessor, report=old, values={"actual": "1"}, reason="x")
    second = services.period_compute(actor=w.officer, period=w.period)
    assert second.pk != first.pk and second.content_hash != first.content_hash
    assert second.rules_hash == first.rules_hash and second.published_at is None
    diff = selectors.snapshot_diff(old=first, new=second)
    dx = next(c for c in diff.changes if c.code == "DX")
    assert dx.values["actual"] == ("8.600000", "9.900000")
    assert (dx.old_rank, dx.new_rank, dx.moved) == (2, 1, 1)
    xh = next(c for c in diff.changes if c.code == "XH")
    assert (xh.old_rank, xh.new_rank) == (1, 2)


# --- computing and publishing -----------------------------------------------------------------


def test_compute_stores_every_value_and_is_idempotent(tree: Tree) -> None:
    """The snapshot holds each participant's value, points and contribution for every
    indicator, total and rank; computing again from the same reports returns the same snapshot."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.period_compute(actor=w.officer, period=w.period)
    assert snap.number == 1 and snap.row_count == 5 and len(snap.content_hash) == 64
    rows = list(selectors.snapshot_rows(snapshot=snap))
    assert [(r.participant.code, r.rank) for r in rows] == [
        ("XH", 1),
        ("DX", 2),
        ("ZX", 3),
        ("HK", 4),
        ("GD", 5),
    ]
    dx = rows[1]
    assert dx.total == D("134.5")
    assert dx.values["ratio"] == ["1.535714", "153.5714", "107.5000"]
    assert dx.values["capacity"] == ["292.400000", "90.0000", "27.0000"]
    assert dx.values["accident"] == [None, "0.0000", "0.0000"]
    again = services.period_compute(actor=w.officer, period=w.period)
    assert again.pk == snap.pk and Snapshot.objects.count() == 1


def test_publish_freezes_builds_awards_with_bonus_and_the_help_list(tree: Tree) -> None:
    """Publishing: awards for the top 3 with 50/30/20 % of the pool, the bottom unit on the
    help list, the period locked; publishing another snapshot of the period is refused."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.period_compute(actor=w.officer, period=w.period)
    with pytest.raises(OutsideScope):
        services.snapshot_publish(actor=tree.city_officer, snapshot=snap)
    services.snapshot_publish(actor=w.officer, snapshot=snap)
    awards = [
        (a.participant.code, a.rank, a.amount) for a in selectors.awards_for_snapshot(snapshot=snap)
    ]
    assert awards == [("XH", 1, D("50000.00")), ("DX", 2, D("30000.00")), ("ZX", 3, D("20000.00"))]
    helps = list(selectors.help_list(snapshot=snap))
    assert [(h.participant.code, h.rank) for h in helps] == [("GD", 5)]
    assert services.snapshot_publish(actor=w.officer, snapshot=snap).pk == snap.pk
    assert Award.objects.count() == 3
    # a correction and a recompute: the new snapshot cannot be published over the first
    dx = Report.objects.get(participant=w.participants["DX"], is_current=True)
    services.report_correct(actor=w.officer, report=dx, values={"actual": "9"}, reason="复核")
    second = services.period_compute(actor=w.officer, period=w.period)
    from saidao.competitions.errors import SnapshotPublished

    with pytest.raises(SnapshotPublished):
        services.snapshot_publish(actor=w.officer, snapshot=second)
    assert SnapshotRow.objects.filter(
        snapshot=snap, participant=w.participants["DX"]
    ).get().total == D("134.5")


def test_help_follow_up_and_moving_up_next_period(tree: Tree) -> None:
    """The bottom unit gets a helper and plan and notes; next quarter's published ranking tells
    whether it moved up."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.snapshot_publish(
        actor=w.officer, snapshot=services.period_compute(actor=w.officer, period=w.period)
    )
    help_ = HelpAssignment.objects.get(snapshot=snap)
    helper = UserFactory.create(real_name="张在朋")
    help_ = services.help_assign(
        actor=w.officer,
        assignment=help_,
        helper_organization=w.assessor_unit,
        helper_user=helper,
        action_plan="评估、优化方案，提升单井产能",
    )
    services.help_note_add(actor=helper, assignment=help_, text="已现场评估 6 口井")
    with pytest.raises(OutsideScope):
        services.help_note_add(actor=w.reporters["DX"], assignment=help_, text="x")
    with pytest.raises(OutsideProgram):
        services.help_assign(
            actor=tree.national_officer, assignment=help_, helper_organization=tree.dingxi
        )
    assert selectors.help_moved_up(assignment=help_) is None
    q3 = services.period_create(actor=w.officer, competition=w.competition, key="2024-Q3")
    for code in ("DX", "HK", "XH", "ZX"):
        report_verified(w, code, period=q3)
    report_verified(w, "GD", {"wells": 30, "design": "5.0", "actual": "9.5"}, period=q3)
    services.snapshot_publish(
        actor=w.officer, snapshot=services.period_compute(actor=w.officer, period=q3)
    )
    assert selectors.help_moved_up(assignment=help_) is True
    trend = selectors.participant_trend(participant=w.participants["GD"])
    assert [(t.period.key, t.rank) for t in trend] == [("2024-Q2", 5), ("2024-Q3", 1)]


def test_titles_nominated_approved_published_with_a_certificate(tree: Tree) -> None:
    """吴昊 (12-point water-cut fall, 4.5 t/d more oil) ranks first; his title is nominated,
    approved by an officer and published with a certificate (kind title, source
    competition-title:<id>); publishing twice issues one certificate."""
    from saidao.certificates.models import Certificate

    w = watercut_world(tree)
    for name, vals in w.extra["values"].items():
        r = services.report_save(
            actor=w.reporters[name],
            participant=w.participants[name],
            period=w.period,
            values=vals,
            self_score=90,
        )
        services.report_verify(
            actor=w.assessor, report=services.report_submit(actor=w.reporters[name], report=r)
        )
    snap = services.period_compute(actor=w.officer, period=w.period)
    first = selectors.snapshot_rows(snapshot=snap)[0]
    assert first.participant.name == "吴昊" and first.self_score == D(90)
    assert first.values["oil_gain"][1] == "150.0000" and first.values["cut_fall"][1] == "100.0000"
    with pytest.raises(Exception):  # noqa: B017 - not yet published
        services.title_nominate(actor=w.officer, snapshot=snap, participant=first.participant)
    services.snapshot_publish(actor=w.officer, snapshot=snap)
    title = services.title_nominate(actor=w.officer, snapshot=snap, participant=first.participant)
    assert title.name == "2024年第二季度 最佳降含水标兵" and title.rank == 1
    with pytest.raises(Exception):  # noqa: B017 - must be approved first
        services.title_publish(actor=w.officer, title=title)
    title = services.title_approve(actor=w.officer, title=title)
    title = services.title_publish(actor=w.officer, title=title)
    assert title.state == Title.State.PUBLISHED and title.certificate_code
    cert = Certificate.objects.get(code=title.certificate_code)
    assert cert.kind == "title" and cert.source == f"competition-title:{title.pk}"
    assert cert.holder == w.reporters["吴昊"] and cert.title == "2024年第二季度 最佳降含水标兵"
    services.title_publish(actor=w.officer, title=title)
    assert Certificate.objects.count() == 1
    assert list(selectors.titles_for_user(user=w.reporters["吴昊"])) == [title]


def test_individual_outside_subtree_and_unit_titles_refused(tree: Tree) -> None:
    """Titles go to individuals only."""
    w = capacity_world(tree)
    all_verified(w)
    snap = services.snapshot_publish(
        actor=w.officer, snapshot=services.period_compute(actor=w.officer, period=w.period)
    )
    with pytest.raises(InvalidInput):
        services.title_nominate(
            actor=w.officer, snapshot=snap, participant=w.participants["DX"], name="标兵"
        )


def test_count_source_members(tree: Tree) -> None:
    """A count indicator takes its value from the platform: current members of the unit's
    subtree."""
    w = capacity_world(tree)
    sub = make_org(w.units["DX"], "东辛一矿", region="370500")
    MembershipFactory.create(organization=sub)
    services.indicator_create(
        actor=w.officer,
        competition=w.competition,
        code="members",
        name="会员数",
        rule="none",
        source="count",
        count_source="members",
    )
    all_verified(w)
    snap = services.period_compute(actor=w.officer, period=w.period)
    row = snap.rows.get(participant=w.participants["DX"])
    assert row.values["members"][0] == "2.000000"  # the reporter and the sub-unit's member


def test_count_source_campaign_participants(tree: Tree) -> None:
    """A count indicator can take the number of distinct members of the unit who took part in a
    campaign (named by its slug) during the period: 东辛 two (one of them twice), 孤岛 one,
    the others none."""
    from saidao.campaigns.tests.factories import make_campaign
    from saidao.core import clock
    from saidao.leaderboards.services import participation_record

    w = capacity_world(tree)
    campaign = make_campaign(actor=tree.other_officer, organizer=tree.dongying, slug="jingsai")
    today = clock.today()
    period = services.period_create(
        actor=w.officer,
        competition=w.competition,
        key=f"{today.year}-Q{(today.month - 1) // 3 + 1}",
    )
    extra = MembershipFactory.create(organization=w.units["DX"]).user
    takers = [
        (w.reporters["DX"], "DX"),
        (extra, "DX"),
        (extra, "DX"),
        (w.reporters["GD"], "GD"),
    ]
    for n, (user, code) in enumerate(takers):
        participation_record(
            campaign=campaign,
            worker=user,
            kind="entry",
            key=f"jingsai-{n}",
            organization=w.units[code],
            zone_city=None,
        )
    services.indicator_create(
        actor=w.officer,
        competition=w.competition,
        code="joined",
        name="参与人数",
        unit="人",
        rule="none",
        source="count",
        count_source="campaign_participants",
        count_param="jingsai",
    )
    all_verified(w, period=period)
    snap = services.period_compute(actor=w.officer, period=period)
    joined = {
        r.participant.code: r.values["joined"][0] for r in snap.rows.select_related("participant")
    }
    assert (joined["DX"], joined["GD"], joined["HK"]) == ("2.000000", "1.000000", "0.000000")


# --- computing a whole program's period --------------------------------------------------------


def _second_competition(w: Any, values: dict[str, dict[str, str]] | None = None) -> Any:
    """The capacity competition again in the same program, its own period 2024-Q2, the same
    plants verified (with ``values`` by plant code where given)."""
    from saidao.competitions.models import Competition
    from saidao.competitions.tests.factories import capacity_rules

    comp = services.competition_create(
        actor=w.officer,
        category=w.category,
        name="第二项单井产能",
        participant_kind=Competition.ParticipantKind.UNIT,
        period_kind=Competition.PeriodKind.QUARTER,
    )
    capacity_rules(w.officer, comp)
    period = services.period_create(actor=w.officer, competition=comp, key="2024-Q2")
    parts = {
        code: services.participant_add(
            actor=w.officer, competition=comp, organization=org, code=code
        )
        for code, org in w.units.items()
    }
    w2 = dataclasses.replace(w, competition=comp, period=period, participants=parts)
    for code in parts:
        report_verified(w2, code, (values or {}).get(code))
    return w2


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_program_period_compute_scores_every_competition_the_same_with_any_workers(
    tree: Tree, workers: int
) -> None:
    """program_period_compute computes the period of every competition of the program, in
    competition order, with the same content hashes and rows as period_compute one by one,
    whether scored here (1 worker) or in 2 or 3 forked processes; computing again returns the
    same snapshots; an officer outside the program is refused."""
    w = capacity_world(tree)
    all_verified(w)
    w2 = _second_competition(w, {"DX": {**plant_values("DX"), "actual": "9.9"}})
    with pytest.raises(OutsideScope):
        services.program_period_compute(actor=tree.city_officer, program=w.program, key="2024-Q2")
    snaps = services.program_period_compute(
        actor=w.officer, program=w.program, key="2024-Q2", workers=workers
    )
    assert [s.period_id for s in snaps] == [w.period.pk, w2.period.pk]
    assert all(s.number == 1 and s.row_count == 5 for s in snaps)
    assert snaps[0].content_hash != snaps[1].content_hash  # DX's output differs
    rows = {
        s.pk: [
            (r.participant.code, r.rank, r.total, r.values)
            for r in selectors.snapshot_rows(snapshot=s)
        ]
        for s in snaps
    }
    assert rows[snaps[0].pk][1][:3] == ("DX", 2, D("134.5"))
    one_by_one = [services.period_compute(actor=w.officer, period=p) for p in (w.period, w2.period)]
    assert [s.pk for s in one_by_one] == [s.pk for s in snaps]  # same hash: nothing new
    again = services.program_period_compute(
        actor=w.officer, program=w.program, key="2024-Q2", workers=workers
    )
    assert [s.pk for s in again] == [s.pk for s in snaps]
    assert services.program_period_compute(actor=w.officer, program=w.program, key="2030") == []


def test_program_period_compute_raises_a_worker_error_with_its_detail(tree: Tree) -> None:
    """A domain error met in a scoring process (a zero design output in the second
    competition) reaches the caller as the same error with its detail, and nothing of the
    period computation is stored."""
    w = capacity_world(tree)
    all_verified(w)
    _second_competition(w, {"HK": {"wells": "28", "design": "0", "actual": "7"}})
    with pytest.raises(DivisionByZero) as exc:
        services.program_period_compute(
            actor=w.officer, program=w.program, key="2024-Q2", workers=2
        )
    assert exc.value.detail["participant"] == "HK"
    assert Snapshot.objects.count() == 0
