"""The competitions API under /api/v1: programs, categories, competitions, indicators,
periods, reports and their workflow and import, compute and publish, snapshots and their
diff, awards, the help list, titles, scorecards and trends. Errors are the project's
``{"code", "message", "detail"}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from saidao.accounts.models import User
from saidao.core.api import ImportJobOut, import_job_out
from saidao.core.api_types import Id
from saidao.core.columns import rows_readable
from saidao.core.errors import NotFound, OutsideScope
from saidao.core.imports import import_goes_background
from saidao.orgs.selectors import organization_get, organization_in_scope

from . import selectors, services
from .models import (
    Bracket,
    Competition,
    HelpAssignment,
    Indicator,
    Participant,
    Period,
    Program,
    Report,
    Snapshot,
    SnapshotRow,
    Title,
)
from .schemas import (
    AwardOut,
    BracketIn,
    BracketOut,
    CategoryIn,
    CategoryOut,
    ChangeOut,
    CompetitionIn,
    CompetitionOut,
    CompetitionReportIn,
    CompetitionReportOut,
    CorrectionIn,
    DiffOut,
    EvidenceOut,
    HelpIn,
    HelpOut,
    IndicatorIn,
    IndicatorOut,
    LineOut,
    NoteIn,
    NoteOut,
    ParticipantIn,
    ParticipantOut,
    PeriodIn,
    PeriodOut,
    ProgramIn,
    ProgramOut,
    ProgramRoleIn,
    ProgramRoleOut,
    ReasonIn,
    ReportImportOut,
    RowOut,
    ScorecardOut,
    SnapshotOut,
    SnapshotVerifyOut,
    StateIn,
    TableCategoryOut,
    TableCompetitionOut,
    TableIndicatorOut,
    TableOut,
    TitleIn,
    TitleOut,
    TrendOut,
    ValueOut,
    dec,
)

router = Router(tags=["competitions"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _xlsx(body: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


# --- loading with permission -------------------------------------------------------------------


def _program(request: HttpRequest, pk: Id) -> Program:
    return selectors.program_get_for_user(user=request.user, pk=pk)


def _competition(request: HttpRequest, pk: Id) -> Competition:
    c = selectors.competition_get(pk=pk)
    if not selectors.user_can_view_program(user=request.user, program=c.program):
        raise NotFound(detail={"competition": pk})
    return c


def _period(request: HttpRequest, pk: Id) -> Period:
    p = selectors.period_get(pk=pk)
    if not selectors.user_can_view_program(user=request.user, program=p.competition.program):
        raise NotFound(detail={"period": pk})
    return p


def _participant(request: HttpRequest, pk: Id) -> Participant:
    p = selectors.participant_get(pk=pk)
    if not selectors.user_can_view_program(user=request.user, program=p.competition.program):
        raise NotFound(detail={"participant": pk})
    return p


def _report(request: HttpRequest, pk: Id) -> Report:
    r = selectors.report_get(pk=pk)
    program = r.participant.competition.program
    if not (
        selectors.user_can_report(user=request.user, participant=r.participant)
        or selectors.user_is_assessor(user=request.user, program=program)
    ):
        raise NotFound(detail={"report": pk})
    return r


def _snapshot(request: HttpRequest, pk: Id) -> Snapshot:
    s = selectors.snapshot_get(pk=pk)
    if not selectors.user_can_view_snapshot(user=request.user, snapshot=s):
        raise NotFound(detail={"snapshot": pk})
    return s


def _officer_program(request: HttpRequest, program: Program) -> None:
    if not selectors.user_is_program_officer(user=request.user, program=program):
        raise OutsideScope(detail={"program": program.pk})


# --- converters --------------------------------------------------------------------------------


def _program_out(p: Program) -> ProgramOut:
    return ProgramOut(
        id=p.pk,
        name=p.name,
        year=p.year,
        organization_id=p.organization_id,
        organization_name=p.organization.name,
        total_weight=dec(p.total_weight) or "0",
        status=p.status,
        description=p.description,
    )


def _competition_out(c: Competition) -> CompetitionOut:
    return CompetitionOut(
        id=c.pk,
        program_id=c.program_id,
        category_id=c.category_id,
        category_name=c.category.name,
        name=c.name,
        description=c.description,
        participant_kind=c.participant_kind,
        period_kind=c.period_kind,
        self_score_enabled=c.self_score_enabled,
        award_top_n=c.award_top_n,
        award_top_percent=c.award_top_percent,
        bonus_pool=dec(c.bonus_pool),
        bonus_rule=c.bonus_rule,
        bonus_shares=[str(s) for s in c.bonus_shares or []],
        help_bottom_n=c.help_bottom_n,
        title_name=c.title_name,
    )


def _indicator_out(i: Indicator) -> IndicatorOut:
    return IndicatorOut(
        id=i.pk,
        code=i.code,
        name=i.name,
        unit=i.unit,
        direction=i.direction,
        source=i.source,
        formula=i.formula,
        count_source=i.count_source,
        count_param=i.count_param,
        required=i.required,
        weight=dec(i.weight) or "0",
        rule=i.rule,
        target=dec(i.target),
        full_marks=dec(i.full_marks) or "0",
        cap=dec(i.cap),
        floor=dec(i.floor) or "0",
        rank_first=dec(i.rank_first),
        rank_step=dec(i.rank_step),
        bands=[[str(t), str(p)] for t, p in i.bands or []],
        per_unit=dec(i.per_unit),
        veto_threshold=dec(i.veto_threshold),
    )


def _participant_out(p: Participant, lens: selectors.PhoneLens) -> ParticipantOut:
    return ParticipantOut(
        id=p.pk,
        code=p.code,
        name=p.name,
        phone=lens.phone(p),
        bracket_id=p.bracket_id,
        organization_id=p.organization_id,
        user_id=p.user_id,
        active=p.active,
    )


def _period_out(p: Period) -> PeriodOut:
    return PeriodOut(
        id=p.pk, key=p.key, label=p.label, starts_on=p.starts_on, ends_on=p.ends_on, state=p.state
    )


def _report_out(r: Report) -> CompetitionReportOut:
    values = [
        ValueOut(
            indicator=v.indicator.code,
            name=v.indicator.name,
            unit=v.indicator.unit,
            value=dec(v.value) or "0",
            note=v.note,
        )
        for v in sorted(r.values.all(), key=lambda v: (v.indicator.position, v.pk))
    ]
    evidence = [EvidenceOut(id=e.pk, name=e.name, url=e.file.url) for e in r.evidence.all()]
    return CompetitionReportOut(
        id=r.pk,
        participant_id=r.participant_id,
        participant_code=r.participant.code,
        period_id=r.period_id,
        version=r.version,
        is_current=r.is_current,
        state=r.state,
        self_score=dec(r.self_score),
        values=values,
        evidence=evidence,
        submitted_at=r.submitted_at,
        verified_at=r.verified_at,
        verified_by_id=r.verified_by_id,
        return_reason=r.return_reason,
        supersedes_id=r.supersedes_id,
        corrected_by_id=r.corrected_by_id,
        corrected_at=r.corrected_at,
        correction_reason=r.correction_reason,
    )


def _snapshot_out(s: Snapshot) -> SnapshotOut:
    return SnapshotOut(
        id=s.pk,
        period_id=s.period_id,
        number=s.number,
        rules_hash=s.rules_hash,
        content_hash=s.content_hash,
        computed_at=s.computed_at,
        published_at=s.published_at,
        row_count=s.row_count,
    )


def _row_out(r: SnapshotRow, lens: selectors.PhoneLens) -> RowOut:
    return RowOut(
        participant_id=r.participant_id,
        code=r.participant.code,
        name=r.participant.name,
        phone=lens.phone(r.participant),
        bracket_id=r.bracket_id,
        bracket=r.bracket.name if r.bracket else None,
        position=r.position,
        rank=r.rank,
        total=str(r.total),
        bonus=str(r.bonus),
        penalty=str(r.penalty),
        vetoed=r.vetoed,
        self_score=dec(r.self_score),
        values=r.values,
    )


def _help_out(h: HelpAssignment) -> HelpOut:
    return HelpOut(
        id=h.pk,
        participant_id=h.participant_id,
        code=h.participant.code,
        name=h.participant.name,
        rank=h.rank,
        helper_organization_id=h.helper_organization_id,
        helper_user_id=h.helper_user_id,
        action_plan=h.action_plan,
        notes=[
            NoteOut(id=n.pk, author_id=n.author_id, text=n.text, created_at=n.created_at)
            for n in h.notes.all()
        ],
        moved_up=selectors.help_moved_up(assignment=h),
    )


def _title_out(t: Title) -> TitleOut:
    url = None
    if t.certificate_code:
        try:
            url = reverse("certificates:pdf", args=[t.certificate_code])
        except NoReverseMatch:  # the certificates pages are not mounted
            url = None
    return TitleOut(
        id=t.pk,
        participant_id=t.participant_id,
        name=t.name,
        rank=t.rank,
        citation=t.citation,
        state=t.state,
        certificate_code=t.certificate_code,
        certificate_url=url,
    )


# --- programs, categories, competitions, indicators, periods ---------------------------------


@router.get("/competition-programs", response=list[ProgramOut])
def programs_list(request: HttpRequest) -> list[ProgramOut]:
    programs = rows_readable(selectors.programs_for_user(user=request.user))
    return [_program_out(p) for p in programs]


@router.post("/competition-programs", response={201: ProgramOut})
def programs_create(request: HttpRequest, payload: ProgramIn) -> Status[ProgramOut]:
    org = organization_get(pk=payload.organization_id)
    actor = _user(request)
    if not (actor.is_superuser or organization_in_scope(user=actor, organization=org)):
        # Not confirmed to exist outside the caller's subtree, as for campaigns.
        raise NotFound(detail={"organization": payload.organization_id})
    p = services.program_create(
        actor=actor,
        organization=org,
        name=payload.name,
        year=payload.year,
        total_weight=payload.total_weight,
        description=payload.description,
    )
    return Status(201, _program_out(p))


@router.get("/competition-programs/{program_id}", response=ProgramOut)
def programs_detail(request: HttpRequest, program_id: Id) -> ProgramOut:
    return _program_out(_program(request, program_id))


@router.get("/competition-programs/{program_id}/table", response=TableOut)
def programs_table(request: HttpRequest, program_id: Id) -> TableOut:
    """The program table (项目表): categories, competitions, indicators, weights."""
    program = _program(request, program_id)
    t = selectors.program_table(program=program)
    return TableOut(
        program_id=program.pk,
        name=program.name,
        total_weight=dec(program.total_weight) or "0",
        categories=[
            TableCategoryOut(
                id=c.category.pk,
                name=c.category.name,
                competitions=[
                    TableCompetitionOut(
                        id=tc.competition.pk,
                        name=tc.competition.name,
                        participant_kind=tc.competition.participant_kind,
                        period_kind=tc.competition.period_kind,
                        weight_total=dec(tc.weight_total) or "0",
                        weights_ok=tc.weights_ok,
                        indicators=[
                            TableIndicatorOut(
                                code=i.code,
                                name=i.name,
                                unit=i.unit,
                                rule=i.rule,
                                source=i.source,
                                direction=i.direction,
                                weight=dec(i.weight) or "0",
                            )
                            for i in tc.indicators
                        ],
                    )
                    for tc in c.competitions
                ],
            )
            for c in t.categories
        ],
    )


@router.get("/competition-programs/{program_id}/table.xlsx")
def programs_table_xlsx(request: HttpRequest, program_id: Id) -> HttpResponse:
    program = _program(request, program_id)
    return _xlsx(selectors.program_table_xlsx(program=program), f"program-{program.pk}.xlsx")


@router.post("/competition-programs/{program_id}/roles", response={201: ProgramRoleOut})
def programs_role_grant(
    request: HttpRequest, program_id: Id, payload: ProgramRoleIn
) -> Status[ProgramRoleOut]:
    """Make a user a reporter or assessor of the program, with the unit they belong to."""
    program = _program(request, program_id)
    try:
        user = User.objects.get(pk=payload.user_id)
    except User.DoesNotExist:
        raise NotFound(detail={"user": payload.user_id}) from None
    role = services.program_role_grant(
        actor=_user(request),
        program=program,
        user=user,
        kind=payload.kind,
        organization=organization_get(pk=payload.organization_id),
    )
    return Status(
        201,
        ProgramRoleOut(
            id=role.pk, user_id=user.pk, kind=role.kind, organization_id=role.organization_id
        ),
    )


@router.get("/competition-programs/{program_id}/categories", response=list[CategoryOut])
def categories_list(request: HttpRequest, program_id: Id) -> Any:
    return list(selectors.categories_for_program(program=_program(request, program_id)))


@router.post("/competition-programs/{program_id}/categories", response={201: CategoryOut})
def categories_create(request: HttpRequest, program_id: Id, payload: CategoryIn) -> Status[Any]:
    c = services.category_create(
        actor=_user(request),
        program=_program(request, program_id),
        name=payload.name,
        position=payload.position,
        description=payload.description,
    )
    return Status(201, c)


@router.get("/competition-programs/{program_id}/competitions", response=list[CompetitionOut])
def competitions_list(request: HttpRequest, program_id: Id) -> list[CompetitionOut]:
    program = _program(request, program_id)
    competitions = rows_readable(selectors.competitions_for_program(program=program))
    return [_competition_out(c) for c in competitions]


@router.post("/competition-categories/{category_id}/competitions", response={201: CompetitionOut})
def competitions_create(
    request: HttpRequest, category_id: Id, payload: CompetitionIn
) -> Status[CompetitionOut]:
    from .models import Category

    category = (
        Category.objects.select_related("program__organization").filter(pk=category_id).first()
    )
    if category is None or not selectors.user_can_view_program(
        user=request.user, program=category.program
    ):
        raise NotFound(detail={"category": category_id})
    c = services.competition_create(
        actor=_user(request),
        category=category,
        name=payload.name,
        participant_kind=payload.participant_kind,
        period_kind=payload.period_kind,
        description=payload.description,
        self_score_enabled=payload.self_score_enabled,
        award_top_n=payload.award_top_n,
        award_top_percent=payload.award_top_percent,
        bonus_pool=payload.bonus_pool,
        bonus_rule=payload.bonus_rule,
        bonus_shares=list(payload.bonus_shares or []),
        help_bottom_n=payload.help_bottom_n,
        title_name=payload.title_name,
    )
    return Status(201, _competition_out(c))


@router.get("/competitions/{competition_id}", response=CompetitionOut)
def competitions_detail(request: HttpRequest, competition_id: Id) -> CompetitionOut:
    return _competition_out(_competition(request, competition_id))


@router.get("/competitions/{competition_id}/indicators", response=list[IndicatorOut])
def indicators_list(request: HttpRequest, competition_id: Id) -> list[IndicatorOut]:
    c = _competition(request, competition_id)
    return [_indicator_out(i) for i in selectors.indicators_for_competition(competition=c)]


@router.post("/competitions/{competition_id}/indicators", response={201: IndicatorOut})
def indicators_create(
    request: HttpRequest, competition_id: Id, payload: IndicatorIn
) -> Status[IndicatorOut]:
    data = payload.dict()
    ind = services.indicator_create(
        actor=_user(request), competition=_competition(request, competition_id), **data
    )
    return Status(201, _indicator_out(ind))


@router.post("/competitions/{competition_id}/check", response={204: None})
def competitions_check(request: HttpRequest, competition_id: Id) -> Status[None]:
    """Weights add up, formulas refer to existing indicators without cycles, rules complete."""
    services.competition_check(competition=_competition(request, competition_id))
    return Status(204, None)


@router.get("/competitions/{competition_id}/brackets", response=list[BracketOut])
def brackets_list(request: HttpRequest, competition_id: Id) -> Any:
    return list(_competition(request, competition_id).brackets.all())


@router.post("/competitions/{competition_id}/brackets", response={201: BracketOut})
def brackets_create(request: HttpRequest, competition_id: Id, payload: BracketIn) -> Status[Any]:
    b = services.bracket_create(
        actor=_user(request),
        competition=_competition(request, competition_id),
        name=payload.name,
        position=payload.position,
    )
    return Status(201, b)


@router.get("/competitions/{competition_id}/participants", response=list[ParticipantOut])
def participants_list(request: HttpRequest, competition_id: Id) -> list[ParticipantOut]:
    """The participants; a person's phone is masked unless the caller may see it (see
    ``phone``)."""
    c = _competition(request, competition_id)
    lens = selectors.phone_lens(viewer=request.user, program=c.program)
    return [
        _participant_out(p, lens) for p in selectors.participants_for_competition(competition=c)
    ]


@router.post("/competitions/{competition_id}/participants", response={201: ParticipantOut})
def participants_create(
    request: HttpRequest, competition_id: Id, payload: ParticipantIn
) -> Status[ParticipantOut]:
    c = _competition(request, competition_id)
    bracket = None
    if payload.bracket_id is not None:
        bracket = Bracket.objects.filter(pk=payload.bracket_id, competition=c).first()
        if bracket is None:
            raise NotFound(detail={"bracket": payload.bracket_id})
    user = None
    if payload.user_id is not None:
        user = User.objects.filter(pk=payload.user_id).first()
        if user is None:
            raise NotFound(detail={"user": payload.user_id})
    p = services.participant_add(
        actor=_user(request),
        competition=c,
        organization=organization_get(pk=payload.organization_id)
        if payload.organization_id is not None
        else None,
        user=user,
        code=payload.code,
        name=payload.name,
        bracket=bracket,
    )
    lens = selectors.phone_lens(viewer=request.user, program=c.program)
    return Status(201, _participant_out(p, lens))


@router.get("/competitions/{competition_id}/periods", response=list[PeriodOut])
def periods_list(request: HttpRequest, competition_id: Id) -> list[PeriodOut]:
    c = _competition(request, competition_id)
    return [_period_out(p) for p in selectors.periods_for_competition(competition=c)]


@router.post("/competitions/{competition_id}/periods", response={201: PeriodOut})
def periods_create(
    request: HttpRequest, competition_id: Id, payload: PeriodIn
) -> Status[PeriodOut]:
    p = services.period_create(
        actor=_user(request),
        competition=_competition(request, competition_id),
        key=payload.key,
        label=payload.label,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return Status(201, _period_out(p))


@router.post("/competition-periods/{period_id}/state", response=PeriodOut)
def periods_state(request: HttpRequest, period_id: Id, payload: StateIn) -> PeriodOut:
    p = services.period_set_state(
        actor=_user(request), period=_period(request, period_id), state=payload.state
    )
    return _period_out(p)


# --- reports -----------------------------------------------------------------------------------


@router.get("/competition-periods/{period_id}/reports", response=list[CompetitionReportOut])
def reports_list(request: HttpRequest, period_id: Id) -> list[CompetitionReportOut]:
    """Current reports of the period the caller may see (their own units', or all for the
    program's officers and assessors)."""
    period = _period(request, period_id)
    program = period.competition.program
    everything = selectors.user_is_program_officer(
        user=request.user, program=program
    ) or selectors.user_is_assessor(user=request.user, program=program)
    out = []
    reports = selectors.reports_for_period(period=period).select_related("participant__home")
    for r in reports.prefetch_related("values__indicator", "evidence"):
        r.participant.competition = period.competition
        if everything or selectors.user_can_report(user=request.user, participant=r.participant):
            out.append(_report_out(r))
    return out


@router.post("/competition-reports", response={201: CompetitionReportOut})
def reports_save(
    request: HttpRequest, payload: CompetitionReportIn
) -> Status[CompetitionReportOut]:
    """Create or update the participant's draft (or returned) report for an open period."""
    participant = _participant(request, payload.participant_id)
    period = _period(request, payload.period_id)
    r = services.report_save(
        actor=_user(request),
        participant=participant,
        period=period,
        values=payload.values,
        units=payload.units,
        notes=payload.notes,
        self_score=payload.self_score,
    )
    return Status(201, _report_out(r))


@router.get("/competition-reports/{report_id}", response=CompetitionReportOut)
def reports_detail(request: HttpRequest, report_id: Id) -> CompetitionReportOut:
    return _report_out(_report(request, report_id))


@router.post("/competition-reports/{report_id}/submit", response=CompetitionReportOut)
def reports_submit(request: HttpRequest, report_id: Id) -> CompetitionReportOut:
    r = services.report_submit(actor=_user(request), report=_report(request, report_id))
    return _report_out(r)


@router.post("/competition-reports/{report_id}/verify", response=CompetitionReportOut)
def reports_verify(request: HttpRequest, report_id: Id) -> CompetitionReportOut:
    r = services.report_verify(actor=_user(request), report=_report(request, report_id))
    return _report_out(r)


@router.post("/competition-reports/{report_id}/return", response=CompetitionReportOut)
def reports_return(request: HttpRequest, report_id: Id, payload: ReasonIn) -> CompetitionReportOut:
    r = services.report_return(
        actor=_user(request), report=_report(request, report_id), reason=payload.reason
    )
    return _report_out(r)


@router.post("/competition-reports/{report_id}/correct", response={201: CompetitionReportOut})
def reports_correct(
    request: HttpRequest, report_id: Id, payload: CorrectionIn
) -> Status[CompetitionReportOut]:
    """A correction after lock: a new version with who, when and why."""
    r = services.report_correct(
        actor=_user(request),
        report=_report(request, report_id),
        values=payload.values,
        reason=payload.reason,
        units=payload.units,
        notes=payload.notes,
    )
    return Status(201, _report_out(r))


@router.post("/competition-reports/{report_id}/evidence", response={201: EvidenceOut})
def reports_evidence(
    request: HttpRequest, report_id: Id, file: File[UploadedFile]
) -> Status[EvidenceOut]:
    ev = services.evidence_attach(
        actor=_user(request), report=_report(request, report_id), file=file, name=file.name or ""
    )
    return Status(201, EvidenceOut(id=ev.pk, name=ev.name, url=ev.file.url))


@router.post(
    "/competitions/{competition_id}/reports/import",
    response={201: ReportImportOut, 202: ImportJobOut},
)
def reports_import(
    request: HttpRequest,
    competition_id: Id,
    file: File[UploadedFile],
    submit: Form[bool] = False,
) -> Status[ReportImportOut] | Status[ImportJobOut]:
    """Import an .xlsx (参赛单位编码, or 参赛人编码 and/or 参赛人手机号; 指标, 期间, 数值, 单位,
    备注; a person by the code when given, else by the full phone number): all rows or
    none; errors as ``detail.errors`` = [{"row", "column", "message"}]. A large file is
    imported in the background: 202 with the job, to poll at its ``url``."""
    competition = _competition(request, competition_id)
    if import_goes_background(file):
        job = services.reports_import_start(
            actor=_user(request), competition=competition, file=file, submit=submit
        )
        return Status(202, import_job_out(job))
    result = services.reports_import(
        actor=_user(request),
        competition=competition,
        file=file,
        submit=submit,
    )
    return Status(201, ReportImportOut(reports=len(result.reports), values=result.values))


@router.get("/competitions/{competition_id}/reports/template.xlsx")
def reports_template(
    request: HttpRequest, competition_id: Id, period_id: Id | None = None
) -> HttpResponse:
    c = _competition(request, competition_id)
    period = None
    if period_id is not None:
        period = c.periods.filter(pk=period_id).first()
    return _xlsx(services.import_template(competition=c, period=period), f"reports-{c.pk}.xlsx")


# --- scoring -----------------------------------------------------------------------------------


@router.post("/competition-periods/{period_id}/compute", response={201: SnapshotOut})
def periods_compute(request: HttpRequest, period_id: Id) -> Status[SnapshotOut]:
    """Compute the period: the latest snapshot when nothing changed, else a new one."""
    snap = services.period_compute(actor=_user(request), period=_period(request, period_id))
    return Status(201, _snapshot_out(snap))


@router.get("/competition-periods/{period_id}/snapshots", response=list[SnapshotOut])
def snapshots_list(request: HttpRequest, period_id: Id) -> list[SnapshotOut]:
    period = _period(request, period_id)
    return [
        _snapshot_out(s)
        for s in selectors.snapshots_for_period(period=period)
        if selectors.user_can_view_snapshot(user=request.user, snapshot=s)
    ]


@router.get("/competition-snapshots/{snapshot_id}", response=SnapshotOut)
def snapshots_detail(request: HttpRequest, snapshot_id: Id) -> SnapshotOut:
    return _snapshot_out(_snapshot(request, snapshot_id))


@router.post("/competition-snapshots/{snapshot_id}/publish", response=SnapshotOut)
def snapshots_publish(request: HttpRequest, snapshot_id: Id) -> SnapshotOut:
    snap = services.snapshot_publish(actor=_user(request), snapshot=_snapshot(request, snapshot_id))
    return _snapshot_out(snap)


@router.get("/competition-snapshots/{snapshot_id}/rows", response=list[RowOut])
def snapshots_rows(
    request: HttpRequest, snapshot_id: Id, bracket_id: Id | None = None
) -> list[RowOut]:
    """The ranking's rows; a person's phone is masked unless the caller may see it."""
    snap = _snapshot(request, snapshot_id)
    lens = selectors.phone_lens(viewer=request.user, program=snap.period.competition.program)
    rows = selectors.snapshot_rows(snapshot=snap, bracket_id=bracket_id)
    return [_row_out(r, lens) for r in rows]


@router.get("/competition-snapshots/{snapshot_id}/verify", response=SnapshotVerifyOut)
def snapshots_verify(request: HttpRequest, snapshot_id: Id) -> SnapshotVerifyOut:
    """Whether the stored snapshot still gives its rules hash and content hash (snapshots made
    before participants were given opaque codes too)."""
    snap = _snapshot(request, snapshot_id)
    return SnapshotVerifyOut(
        snapshot_id=snap.pk,
        content_hash=snap.content_hash,
        verified=selectors.snapshot_verify(snapshot=snap),
    )


@router.get("/competition-snapshots/{snapshot_id}/ranking.xlsx")
def snapshots_xlsx(request: HttpRequest, snapshot_id: Id) -> HttpResponse:
    snap = _snapshot(request, snapshot_id)
    body = selectors.ranking_xlsx(snapshot=snap, viewer=request.user)
    return _xlsx(body, f"ranking-{snap.pk}.xlsx")


@router.get("/competition-snapshots/{snapshot_id}/diff", response=DiffOut)
def snapshots_diff(request: HttpRequest, snapshot_id: Id, against: Id) -> DiffOut:
    """Who moved and which values changed from snapshot ``against`` to this one."""
    new = _snapshot(request, snapshot_id)
    old = _snapshot(request, against)
    if old.period_id != new.period_id:
        raise NotFound(detail={"snapshot": against})
    d = selectors.snapshot_diff(old=old, new=new)
    return DiffOut(
        old_id=old.pk,
        new_id=new.pk,
        rules_changed=d.rules_changed,
        changes=[
            ChangeOut(
                participant_id=c.participant_id,
                code=c.code,
                name=c.name,
                old_rank=c.old_rank,
                new_rank=c.new_rank,
                moved=c.moved,
                old_total=c.old_total,
                new_total=c.new_total,
                values={k: list(v) for k, v in c.values.items()},
            )
            for c in d.changes
        ],
    )


@router.get(
    "/competition-snapshots/{snapshot_id}/scorecard/{participant_id}", response=ScorecardOut
)
def snapshots_scorecard(request: HttpRequest, snapshot_id: Id, participant_id: Id) -> ScorecardOut:
    """Why the participant scored what it did and what it takes to move up one place."""
    snap = _snapshot(request, snapshot_id)
    participant = _participant(request, participant_id)
    card = selectors.scorecard(snapshot=snap, participant=participant)
    return ScorecardOut(
        snapshot_id=snap.pk,
        participant_id=participant.pk,
        rank=card.row.rank,
        total=str(card.row.total),
        vetoed=card.row.vetoed,
        lines=[
            LineOut(
                code=ln.code,
                name=ln.name,
                unit=ln.unit,
                rule=ln.rule,
                weight=dec(ln.weight) or "0",
                value=dec(ln.value),
                points=str(ln.points),
                contribution=str(ln.contribution),
                bracket_average=str(ln.bracket_average),
                versus_average=str(ln.versus_average),
                previous=None if ln.previous is None else str(ln.previous),
                change=None if ln.change is None else str(ln.change),
            )
            for ln in card.lines
        ],
        strongest=card.strongest,
        weakest=card.weakest,
        ahead_participant_id=card.ahead.participant_id if card.ahead else None,
        ahead_rank=card.ahead.rank if card.ahead else None,
        gap=None if card.gap is None else str(card.gap),
        best_lever=card.best_lever,
        lever_value_needed=dec(card.lever_value_needed),
    )


@router.get("/competition-participants/{participant_id}/trend", response=list[TrendOut])
def participants_trend(request: HttpRequest, participant_id: Id) -> list[TrendOut]:
    """The participant's total and rank over the published periods."""
    p = _participant(request, participant_id)
    return [
        TrendOut(
            period_id=t.period.pk,
            period_key=t.period.key,
            period_label=t.period.label,
            snapshot_id=t.snapshot.pk,
            total=str(t.total),
            rank=t.rank,
            of=t.of,
            vetoed=t.vetoed,
        )
        for t in selectors.participant_trend(participant=p)
    ]


# --- outcomes ----------------------------------------------------------------------------------


@router.get("/competition-snapshots/{snapshot_id}/awards", response=list[AwardOut])
def awards_list(request: HttpRequest, snapshot_id: Id) -> list[AwardOut]:
    snap = _snapshot(request, snapshot_id)
    return [
        AwardOut(
            participant_id=a.participant_id,
            code=a.participant.code,
            name=a.participant.name,
            bracket_id=a.bracket_id,
            rank=a.rank,
            amount=None if a.amount is None else str(a.amount),
        )
        for a in selectors.awards_for_snapshot(snapshot=snap)
    ]


@router.get("/competition-snapshots/{snapshot_id}/help", response=list[HelpOut])
def help_list(request: HttpRequest, snapshot_id: Id) -> list[HelpOut]:
    snap = _snapshot(request, snapshot_id)
    return [_help_out(h) for h in selectors.help_list(snapshot=snap)]


def _help(request: HttpRequest, pk: Id) -> HelpAssignment:
    h = selectors.help_assignment_get(pk=pk)
    if not selectors.user_can_view_snapshot(user=request.user, snapshot=h.snapshot):
        raise NotFound(detail={"help": pk})
    return h


@router.put("/competition-help/{help_id}", response=HelpOut)
def help_update(request: HttpRequest, help_id: Id, payload: HelpIn) -> HelpOut:
    """Assign the helper (an organization and/or a person) and the action plan."""
    h = _help(request, help_id)
    helper_user = None
    if payload.helper_user_id is not None:
        helper_user = User.objects.filter(pk=payload.helper_user_id).first()
        if helper_user is None:
            raise NotFound(detail={"user": payload.helper_user_id})
    h = services.help_assign(
        actor=_user(request),
        assignment=h,
        helper_organization=organization_get(pk=payload.helper_organization_id)
        if payload.helper_organization_id is not None
        else None,
        helper_user=helper_user,
        action_plan=payload.action_plan,
    )
    return _help_out(selectors.help_assignment_get(pk=h.pk))


@router.post("/competition-help/{help_id}/notes", response={201: NoteOut})
def help_note(request: HttpRequest, help_id: Id, payload: NoteIn) -> Status[NoteOut]:
    n = services.help_note_add(
        actor=_user(request), assignment=_help(request, help_id), text=payload.text
    )
    return Status(
        201, NoteOut(id=n.pk, author_id=n.author_id, text=n.text, created_at=n.created_at)
    )


@router.get("/competition-snapshots/{snapshot_id}/titles", response=list[TitleOut])
def titles_list(request: HttpRequest, snapshot_id: Id) -> list[TitleOut]:
    snap = _snapshot(request, snapshot_id)
    return [_title_out(t) for t in selectors.titles_for_snapshot(snapshot=snap)]


@router.post("/competition-snapshots/{snapshot_id}/titles", response={201: TitleOut})
def titles_nominate(request: HttpRequest, snapshot_id: Id, payload: TitleIn) -> Status[TitleOut]:
    snap = _snapshot(request, snapshot_id)
    t = services.title_nominate(
        actor=_user(request),
        snapshot=snap,
        participant=_participant(request, payload.participant_id),
        name=payload.name,
        citation=payload.citation,
    )
    return Status(201, _title_out(t))


def _title(request: HttpRequest, pk: Id) -> Title:
    """A title its snapshot's viewers see (404 to anyone else, as for a missing one); only
    the program's officers act on it (403 to the other viewers)."""
    t = selectors.title_get(pk=pk)
    if not selectors.user_can_view_snapshot(user=request.user, snapshot=t.snapshot):
        raise NotFound(detail={"title": pk})
    _officer_program(request, t.snapshot.period.competition.program)
    return t


@router.post("/competition-titles/{title_id}/approve", response=TitleOut)
def titles_approve(request: HttpRequest, title_id: Id) -> TitleOut:
    return _title_out(services.title_approve(actor=_user(request), title=_title(request, title_id)))


@router.post("/competition-titles/{title_id}/reject", response=TitleOut)
def titles_reject(request: HttpRequest, title_id: Id) -> TitleOut:
    return _title_out(services.title_reject(actor=_user(request), title=_title(request, title_id)))


@router.post("/competition-titles/{title_id}/publish", response=TitleOut)
def titles_publish(request: HttpRequest, title_id: Id) -> TitleOut:
    """Publish an approved title and issue its certificate."""
    return _title_out(services.title_publish(actor=_user(request), title=_title(request, title_id)))
