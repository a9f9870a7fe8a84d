"""Pages of the labor competitions: the program table, ranking boards, scorecards, reporting,
verification, computing and publishing, the help list and titles.

Every rule lives in the services ("one service, two front doors": these pages and the API);
the views call them and show what they say.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.accounts.models import User
from saidao.accounts.phones import normalize_phone
from saidao.core.activities import ActivityCard
from saidao.core.columns import rows_readable
from saidao.core.errors import NotFound, SaidaoError
from saidao.core.forms import form_add_error
from saidao.core.imports import import_goes_background
from saidao.orgs.models import Organization
from saidao.orgs.selectors import subtree_q

from . import page_selectors as pages
from . import selectors, services
from .forms import (
    EvidenceForm,
    HelpAssignForm,
    HelpNoteForm,
    ImportForm,
    NominateForm,
    PeriodForm,
    ReportForm,
    ReturnForm,
)
from .models import (
    Competition,
    Evidence,
    HelpAssignment,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
    Snapshot,
    Title,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scoped(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Anything outside the viewer's reach answers 404, never a 500 or a hint it exists."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapper


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _xlsx(body: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


def _error(request: HttpRequest, error: SaidaoError) -> None:
    messages.error(request, str(error.message))


def _officer_or_404(user: User, program: Program) -> None:
    if not selectors.user_is_program_officer(user=user, program=program):
        raise NotFound()


def _preview(user: User, competition: Competition, officer: bool) -> bool:
    """Unpublished computations are for the program's officers and assessors (as in the API)."""
    return officer or selectors.user_is_assessor(user=user, program=competition.program)


def _board_url(period: Period) -> str:
    return reverse("competitions:board", args=[period.competition_id, period.pk])


# --- the home page's activities ----------------------------------------------------------------


def competition_activities(user: Any) -> list[ActivityCard]:
    """Home-page cards: the programs the viewer administers, reports or assesses in, or
    takes part in. Registered in the app's ``ready`` with ``activity_provider``."""
    if user is None or not user.is_authenticated:
        return []
    return [
        ActivityCard(
            title=p.name,
            url=reverse("competitions:program", args=[p.pk]),
            organizer=p.organization.name,
            status=str(p.get_status_display()),
            summary=_("劳动竞赛 · %(n)d 个单项竞赛") % {"n": p.competition_count},  # type: ignore[attr-defined]
        )
        for p in pages.programs_visible(user=user)[:5]
    ]


# --- programs ----------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The programs I can see."""
    programs = rows_readable(pages.programs_visible(user=request.user)[:100])
    return render(request, "competitions/index.html", {"programs": programs})


@login_required
@_scoped
def program(request: HttpRequest, program_id: int) -> HttpResponse:
    """The 项目表: categories, competitions, indicators and weights, as on the spreadsheet."""
    user = _user(request)
    prog = pages.program_get_visible(user=user, pk=program_id)
    table = selectors.program_table(program=prog)
    kinds = set(ProgramRole.objects.filter(program=prog, user=user).values_list("kind", flat=True))
    officer = selectors.user_is_program_officer(user=user, program=prog)
    return render(
        request,
        "competitions/program.html",
        {
            "program": prog,
            "table": table,
            "officer": officer,
            "reporter": officer or ProgramRole.Kind.REPORTER in kinds,
            "assessor": ProgramRole.Kind.ASSESSOR in kinds,
            "competition_count": sum(len(c.competitions) for c in table.categories),
        },
    )


@login_required
@_scoped
def program_xlsx(request: HttpRequest, program_id: int) -> HttpResponse:
    prog = pages.program_get_visible(user=request.user, pk=program_id)
    return _xlsx(selectors.program_table_xlsx(program=prog), f"{prog.name}-项目表.xlsx")


# --- the ranking board -------------------------------------------------------------------------


@login_required
@_scoped
def competition(request: HttpRequest, competition_id: int) -> HttpResponse:
    """A competition opens on its latest ranking."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    officer = selectors.user_is_program_officer(user=user, program=comp.program)
    period = pages.period_default(competition=comp, officer=officer)
    if period is None:
        return render(
            request,
            "competitions/board.html",
            {
                "competition": comp,
                "program": comp.program,
                "officer": officer,
                "board": None,
                "period_form": PeriodForm(),
            },
        )
    return redirect(_board_url(period))


@login_required
@_scoped
def board(request: HttpRequest, competition_id: int, period_id: int) -> HttpResponse:
    """Rank, participant, total, bracket and per-indicator points of one period, each
    participant's trend as a sparkline, the award and help lists marked. Officers also see the
    unpublished computation, what changed since the one before, and the controls."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    officer = selectors.user_is_program_officer(user=user, program=comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = pages.snapshot_for_board(period=period, officer=_preview(user, comp, officer))
    lens = selectors.phone_lens(viewer=user, program=comp.program)
    b = pages.ranking_board(competition=comp, period=period, snapshot=snapshot, lens=lens)
    for row in b.rows:
        row.spark = sparkline_svg(row.ranks, labels=b.trend_labels, worst=b.worst)
    diff = None
    counts: list[tuple[str, int]] = []
    if officer:
        if snapshot is not None and snapshot.number > 1:
            previous = period.snapshots.filter(number=snapshot.number - 1).first()
            if previous is not None:
                diff = selectors.snapshot_diff(old=previous, new=snapshot)
        by_state = dict(
            Report.objects.filter(period=period, is_current=True)
            .values_list("state")
            .annotate(n=Count("id"))
            .values_list("state", "n")
        )
        counts = [(str(label), by_state.get(value, 0)) for value, label in Report.State.choices]
    mine = None
    if snapshot is not None and comp.participant_kind == Competition.ParticipantKind.INDIVIDUAL:
        mine = next((r for r in b.rows if r.row.participant.user_id == user.pk), None)
    return render(
        request,
        "competitions/board.html",
        {
            "competition": comp,
            "program": comp.program,
            "period": period,
            "board": b,
            "snapshot": snapshot,
            "officer": officer,
            "diff": diff,
            "counts": counts,
            "mine": mine,
            "period_form": PeriodForm() if officer else None,
        },
    )


@login_required
@_scoped
def board_xlsx(request: HttpRequest, competition_id: int, period_id: int) -> HttpResponse:
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    officer = selectors.user_is_program_officer(user=user, program=comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = pages.snapshot_for_board(period=period, officer=_preview(user, comp, officer))
    if snapshot is None:
        raise NotFound()
    snapshot.period = period
    body = selectors.ranking_xlsx(snapshot=snapshot, viewer=user)
    return _xlsx(body, f"{comp.name}-{period.label}-排名.xlsx")


@login_required
@_scoped
def scorecard(
    request: HttpRequest, competition_id: int, period_id: int, participant_id: int
) -> HttpResponse:
    """Why a participant scored what it did: each indicator's value, points and weighted
    contribution against the bracket's average and last period, and what it would take to
    move up one place."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    officer = selectors.user_is_program_officer(user=user, program=comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = pages.snapshot_for_board(period=period, officer=_preview(user, comp, officer))
    participant = comp.participants.select_related("bracket").filter(pk=participant_id).first()
    if snapshot is None or participant is None:
        raise NotFound()
    card = selectors.scorecard(snapshot=snapshot, participant=participant)
    trend = selectors.participant_trend(participant=participant)
    moved = max(
        (ln for ln in card.lines if ln.change is not None and ln.change != 0),
        key=lambda ln: (abs(ln.change or 0), ln.code),
        default=None,
    )
    names = {ln.code: ln for ln in card.lines}
    lines = [
        {
            "line": ln,
            "value": pages.num(ln.value, 4),
            "points": pages.num(ln.points),
            "weight": pages.num(ln.weight),
            "contribution": pages.num(ln.contribution),
            "versus": pages.signed(ln.versus_average),
            "change": pages.signed(ln.change),
        }
        for ln in card.lines
    ]
    return render(
        request,
        "competitions/scorecard.html",
        {
            "competition": comp,
            "program": comp.program,
            "period": period,
            "snapshot": snapshot,
            "participant": participant,
            "card": card,
            "lines": lines,
            "total": pages.num(card.row.total),
            "gap": pages.num(card.gap),
            "lever_value": pages.num(card.lever_value_needed, 4),
            "moved_change": pages.signed(moved.change) if moved else "",
            "strongest_diff": pages.num(abs(names[card.strongest].versus_average))
            if card.strongest
            else "",
            "weakest_diff": pages.num(abs(names[card.weakest].versus_average))
            if card.weakest
            else "",
            "of": snapshot.row_count,
            "moved": moved,
            "strongest": names.get(card.strongest or ""),
            "weakest": names.get(card.weakest or ""),
            "lever": names.get(card.best_lever or ""),
            "trend": trend,
            "spark": sparkline_svg(
                [None if t.vetoed else t.rank for t in trend],
                labels=[t.period.label for t in trend],
                worst=max([t.of for t in trend] or [2]),
                width=160,
                height=40,
            ),
            "officer": officer,
        },
    )


# --- officers: periods, computing, publishing ----------------------------------------------------


@login_required
@require_POST
@_scoped
def period_new(request: HttpRequest, competition_id: int) -> HttpResponse:
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    _officer_or_404(user, comp.program)
    form = PeriodForm(request.POST)
    if form.is_valid():
        try:
            period = services.period_create(
                actor=user, competition=comp, key=form.cleaned_data["key"]
            )
        except SaidaoError as e:
            _error(request, e)
        else:
            messages.success(request, _("已新建考核期：%(p)s。") % {"p": period.label})
            return redirect(_board_url(period))
    return redirect(reverse("competitions:competition", args=[comp.pk]))


@login_required
@require_POST
@_scoped
def period_state(request: HttpRequest, period_id: int) -> HttpResponse:
    """Close a period for reports, or open it again."""
    user = _user(request)
    period = selectors.period_get(pk=period_id)
    _officer_or_404(user, period.competition.program)
    try:
        services.period_set_state(actor=user, period=period, state=request.POST.get("state", ""))
    except SaidaoError as e:
        _error(request, e)
    return redirect(_board_url(period))


@login_required
@require_POST
@_scoped
def compute(request: HttpRequest, period_id: int) -> HttpResponse:
    """Compute the period from its verified reports; the board then shows what changed."""
    user = _user(request)
    period = selectors.period_get(pk=period_id)
    _officer_or_404(user, period.competition.program)
    before = selectors.snapshot_latest(period=period)
    try:
        snapshot = services.period_compute(actor=user, period=period)
    except SaidaoError as e:
        _error(request, e)
    else:
        if before is not None and before.pk == snapshot.pk:
            messages.info(request, _("填报和规则都没有变化，结果与上次计算相同。"))
        else:
            messages.success(
                request,
                _("已计算第 %(n)d 版排名（%(c)d 个参赛者），发布前只有干部可见。")
                % {"n": snapshot.number, "c": snapshot.row_count},
            )
    return redirect(_board_url(period))


@login_required
@require_POST
@_scoped
def publish(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    user = _user(request)
    snapshot = selectors.snapshot_get(pk=snapshot_id)
    _officer_or_404(user, snapshot.period.competition.program)
    try:
        services.snapshot_publish(actor=user, snapshot=snapshot)
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(request, _("排名已发布；激励名单和帮扶名单已生成。"))
    return redirect(_board_url(snapshot.period))


# --- the help list ---------------------------------------------------------------------------


def _published(period: Period) -> Snapshot:
    snapshot = selectors.snapshot_published(period=period)
    if snapshot is None:
        raise NotFound()
    snapshot.period = period
    return snapshot


@login_required
@_scoped
def help_page(request: HttpRequest, competition_id: int, period_id: int) -> HttpResponse:
    """The bottom of the published ranking: helper, action plan, follow-up notes, and whether
    each moved up in the next period."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    officer = selectors.user_is_program_officer(user=user, program=comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = _published(period)
    rows = pages.help_rows(snapshot=snapshot)
    if not officer and not any(r.assignment.helper_user_id == user.pk for r in rows):
        raise NotFound()
    orgs = Organization.objects.filter(subtree_q(comp.program.organization.path)).order_by("path")[
        :300
    ]
    return render(
        request,
        "competitions/help.html",
        {
            "competition": comp,
            "program": comp.program,
            "period": period,
            "snapshot": snapshot,
            "rows": rows,
            "officer": officer,
            "orgs": list(orgs) if officer else [],
            "note_form": HelpNoteForm(),
        },
    )


def _assignment(request: HttpRequest, assignment_id: int) -> HelpAssignment:
    assignment = selectors.help_assignment_get(pk=assignment_id)
    if not pages.program_visible(
        user=request.user, program=assignment.snapshot.period.competition.program
    ):
        raise NotFound()
    return assignment


def _help_url(assignment: HelpAssignment) -> str:
    period = assignment.snapshot.period
    return reverse("competitions:help", args=[period.competition_id, period.pk])


@login_required
@require_POST
@_scoped
def help_assign(request: HttpRequest, assignment_id: int) -> HttpResponse:
    user = _user(request)
    assignment = _assignment(request, assignment_id)
    program = assignment.snapshot.period.competition.program
    _officer_or_404(user, program)
    orgs = Organization.objects.filter(subtree_q(program.organization.path))
    form = HelpAssignForm(request.POST, organizations=orgs)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect(_help_url(assignment))
    helper = None
    phone = (form.cleaned_data.get("helper_phone") or "").strip()
    if phone:
        helper = User.objects.filter(phone=normalize_phone(phone), deleted_at__isnull=True).first()
        if helper is None:
            messages.error(request, _("没有找到手机号为 %(p)s 的用户。") % {"p": phone})
            return redirect(_help_url(assignment))
    try:
        services.help_assign(
            actor=user,
            assignment=assignment,
            helper_organization=form.cleaned_data.get("helper_organization"),
            helper_user=helper,
            action_plan=form.cleaned_data.get("action_plan") or "",
        )
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(
            request, _("已保存“%(p)s”的帮扶安排。") % {"p": assignment.participant.name}
        )
    return redirect(_help_url(assignment))


@login_required
@require_POST
@_scoped
def help_note(request: HttpRequest, assignment_id: int) -> HttpResponse:
    user = _user(request)
    assignment = _assignment(request, assignment_id)
    try:
        services.help_note_add(actor=user, assignment=assignment, text=request.POST.get("text", ""))
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(request, _("已添加跟踪记录。"))
    return redirect(_help_url(assignment))


# --- titles ----------------------------------------------------------------------------------


@login_required
@_scoped
def titles(request: HttpRequest, competition_id: int, period_id: int) -> HttpResponse:
    """Nominate from the published ranking, approve or reject, publish with a certificate."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    _officer_or_404(user, comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = _published(period)
    listed = pages.titles_page(snapshot=snapshot)
    nominated = {t.participant_id for t in listed}
    candidates = [
        r
        for r in snapshot.rows.select_related("participant").order_by("position")[:10]
        if not r.vetoed and r.participant_id not in nominated
    ]
    for r in candidates:
        r.total_text = pages.num(r.total)  # type: ignore[attr-defined]
    return render(
        request,
        "competitions/titles.html",
        {
            "competition": comp,
            "program": comp.program,
            "period": period,
            "snapshot": snapshot,
            "titles": listed,
            "candidates": candidates,
            "individual": comp.participant_kind == Competition.ParticipantKind.INDIVIDUAL,
            "default_name": f"{period.label} {comp.title_name}" if comp.title_name else "",
        },
    )


@login_required
@require_POST
@_scoped
def title_nominate(request: HttpRequest, competition_id: int, period_id: int) -> HttpResponse:
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    _officer_or_404(user, comp.program)
    period = pages.period_of(competition=comp, pk=period_id)
    snapshot = _published(period)
    form = NominateForm(request.POST)
    url = reverse("competitions:titles", args=[comp.pk, period.pk])
    if not form.is_valid():
        return redirect(url)
    participant = comp.participants.filter(pk=form.cleaned_data["participant"]).first()
    if participant is None:
        raise NotFound()
    try:
        title = services.title_nominate(
            actor=user,
            snapshot=snapshot,
            participant=participant,
            name=request.POST.get("name", ""),
            citation=form.cleaned_data.get("citation") or "",
        )
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(
            request, _("已提名 %(p)s：%(t)s。") % {"p": participant.name, "t": title.name}
        )
    return redirect(url)


TITLE_ACTIONS: dict[str, Callable[..., Title]] = {
    "approve": services.title_approve,
    "reject": services.title_reject,
    "publish": services.title_publish,
}


@login_required
@require_POST
@_scoped
def title_action(request: HttpRequest, title_id: int, action: str) -> HttpResponse:
    user = _user(request)
    title = selectors.title_get(pk=title_id)
    period = title.snapshot.period
    _officer_or_404(user, period.competition.program)
    if action not in TITLE_ACTIONS:
        raise NotFound()
    try:
        title = TITLE_ACTIONS[action](actor=user, title=title)
    except SaidaoError as e:
        _error(request, e)
    else:
        done = {
            "approve": _("已批准：%(t)s。"),
            "reject": _("未批准：%(t)s。"),
            "publish": _("已公布并颁发证书：%(t)s。"),
        }[action]
        messages.success(request, done % {"t": title.name})
    return redirect(reverse("competitions:titles", args=[period.competition_id, period.pk]))


# --- reporters ---------------------------------------------------------------------------------


@login_required
@_scoped
def reporting(request: HttpRequest, program_id: int) -> HttpResponse:
    """The reporter's list: for each competition's open period, my participants and the
    state of their reports."""
    user = _user(request)
    prog = pages.program_get_visible(user=user, pk=program_id)
    return render(
        request,
        "competitions/reporting.html",
        {
            "program": prog,
            "competitions": pages.reporting_overview(user=user, program=prog),
            "states": Report.State,
        },
    )


def _report_target(
    request: HttpRequest, participant_id: int, period_id: int
) -> tuple[Participant, Period]:
    participant = selectors.participant_get(pk=participant_id)
    if not selectors.user_can_report(user=request.user, participant=participant):
        raise NotFound()
    period = participant.competition.periods.filter(pk=period_id).first()
    if period is None:
        raise NotFound()
    period.competition = participant.competition
    return participant, period


@login_required
@_scoped
def report_form(request: HttpRequest, participant_id: int, period_id: int) -> HttpResponse:
    """Enter a period's values, save a draft or submit; attach evidence. Every button of the
    page submits this one form, so the values typed are saved whichever is pressed: 上传 saves
    them as the draft before it attaches the file (it once posted the file alone, and the
    page came back with the old draft)."""
    user = _user(request)
    participant, period = _report_target(request, participant_id, period_id)
    comp = participant.competition
    indicators = list(
        comp.indicators.filter(source=Indicator.Source.REPORTED).order_by("position", "id")
    )
    report = pages.report_with_values(participant=participant, period=period)
    form = ReportForm(
        request.POST or None,
        indicators=indicators,
        report=report,
        self_score=comp.self_score_enabled,
    )
    action = request.POST.get("action")
    # A file chosen and then 保存草稿 or 提交审核 pressed is attached too, not dropped.
    upload = action == "upload" or bool(request.FILES.get("file"))
    if request.method == "POST" and form.is_valid():
        values, notes = form.values()
        units = {i.code: i.unit for i in indicators if i.code in values}
        raw_self = (form.cleaned_data.get("self_score") or "").strip()
        try:
            report = services.report_save(
                actor=user,
                participant=participant,
                period=period,
                values=values,
                units=units,
                notes=notes,
                self_score=raw_self or None,
            )
            attached = not upload or _report_evidence_attach(request, user=user, report=report)
            upload = False
            if action == "submit" and attached:
                services.report_submit(actor=user, report=report)
                messages.success(request, _("已提交，等待考核员审核。"))
            else:
                messages.success(request, _("草稿已保存。"))
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            return redirect(reverse("competitions:report", args=[participant.pk, period.pk]))
    if upload and request.method == "POST":
        # The values were refused before the file was looked at, and a browser cannot put a
        # chosen file back into the page: say so beside the errors.
        messages.error(request, _("佐证材料未上传：请改正填报中的错误，再重新选择文件。"))
    editable = period.state == Period.State.OPEN and (
        report is None or report.state in (Report.State.DRAFT, Report.State.RETURNED)
    )
    return render(
        request,
        "competitions/report.html",
        {
            "participant": participant,
            "competition": comp,
            "program": comp.program,
            "period": period,
            "report": report,
            "form": form,
            "editable": editable,
            "evidence_form": EvidenceForm(),
            "versions": list(selectors.report_versions(participant=participant, period=period))
            if report is not None and report.version > 1
            else [],
        },
    )


def _report_evidence_attach(request: HttpRequest, *, user: User, report: Report) -> bool:
    """Attach the file posted with the report form; False (with the reason shown) when none
    was chosen or it is refused."""
    form = EvidenceForm(request.POST, request.FILES)
    if not request.FILES.get("file"):
        messages.error(request, _("请先选择要上传的文件。"))
        return False
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return False
    f = form.cleaned_data["file"]
    try:
        services.evidence_attach(actor=user, report=report, file=f, name=f.name)
    except SaidaoError as e:
        _error(request, e)
        return False
    messages.success(request, _("已上传：%(n)s。") % {"n": f.name})
    return True


@login_required
@require_POST
@_scoped
def evidence_upload(request: HttpRequest, participant_id: int, period_id: int) -> HttpResponse:
    user = _user(request)
    participant, period = _report_target(request, participant_id, period_id)
    url = reverse("competitions:report", args=[participant.pk, period.pk])
    report = selectors.report_current(participant=participant, period=period)
    form = EvidenceForm(request.POST, request.FILES)
    if report is None:
        messages.error(request, _("请先保存填报，再上传佐证材料。"))
    elif not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
    else:
        f = form.cleaned_data["file"]
        try:
            services.evidence_attach(actor=user, report=report, file=f, name=f.name)
        except SaidaoError as e:
            _error(request, e)
        else:
            messages.success(request, _("已上传：%(n)s。") % {"n": f.name})
    return redirect(url)


@login_required
@_scoped
def evidence(request: HttpRequest, evidence_id: int) -> FileResponse:
    """An evidence file, to the report's reporters, the program's assessors and officers."""
    ev = (
        Evidence.objects.select_related(
            "report__participant__competition__program__organization", "report__participant__home"
        )
        .filter(pk=evidence_id)
        .first()
    )
    if ev is None:
        raise NotFound()
    participant = ev.report.participant
    program = participant.competition.program
    if not (
        selectors.user_can_report(user=request.user, participant=participant)
        or selectors.user_is_assessor(user=request.user, program=program)
    ):
        raise NotFound()
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.name)


@login_required
@_scoped
def import_page(request: HttpRequest, competition_id: int) -> HttpResponse:
    """Import a period's values from .xlsx: all or nothing, every error with its row."""
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if import_goes_background(upload):
                job = services.reports_import_start(
                    actor=user, competition=comp, file=upload, submit=form.cleaned_data["submit"]
                )
                return redirect(reverse("core:import_job", args=[job.pk]))
            result = services.reports_import(
                actor=user,
                competition=comp,
                file=upload,
                submit=form.cleaned_data["submit"],
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(
                request,
                _("已导入 %(r)d 份填报、%(v)d 个数值。")
                % {"r": len(result.reports), "v": result.values},
            )
    periods = list(comp.periods.filter(state=Period.State.OPEN).order_by("starts_on"))
    return render(
        request,
        "competitions/import.html",
        {
            "competition": comp,
            "program": comp.program,
            "form": form,
            "result": result,
            "periods": periods,
            "unit": comp.participant_kind == Competition.ParticipantKind.UNIT,
        },
    )


@login_required
@_scoped
def import_template(request: HttpRequest, competition_id: int) -> HttpResponse:
    user = _user(request)
    comp = pages.competition_get_visible(user=user, pk=competition_id)
    period = None
    if request.GET.get("period"):
        try:
            period = pages.period_of(competition=comp, pk=int(request.GET["period"]))
        except ValueError:
            raise NotFound() from None
    body = services.import_template(competition=comp, period=period)
    return _xlsx(body, f"{comp.name}-填报模板.xlsx")


# --- assessors -----------------------------------------------------------------------------------


@login_required
@_scoped
def verify_queue(request: HttpRequest, program_id: int) -> HttpResponse:
    """Submitted reports waiting for me; my own units' apart (not mine to verify)."""
    user = _user(request)
    prog = pages.program_get_visible(user=user, pk=program_id)
    queue = pages.verification_queue(user=user, program=prog)
    return render(
        request,
        "competitions/verify.html",
        {
            "program": prog,
            "queue": queue,
            "assessor": selectors.user_is_assessor(user=user, program=prog),
            "return_form": ReturnForm(),
        },
    )


def _verify_url(report: Report) -> str:
    return reverse("competitions:verify", args=[report.participant.competition.program_id])


@login_required
@require_POST
@_scoped
def report_verify(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    report = selectors.report_get(pk=report_id)
    if not pages.program_visible(user=user, program=report.participant.competition.program):
        raise NotFound()
    try:
        services.report_verify(actor=user, report=report)
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(
            request,
            _("已审核通过：%(p)s %(t)s。")
            % {"p": report.participant.name, "t": report.period.label},
        )
    return redirect(_verify_url(report))


@login_required
@require_POST
@_scoped
def report_return(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    report = selectors.report_get(pk=report_id)
    if not pages.program_visible(user=user, program=report.participant.competition.program):
        raise NotFound()
    try:
        services.report_return(actor=user, report=report, reason=request.POST.get("reason", ""))
    except SaidaoError as e:
        _error(request, e)
    else:
        messages.success(request, _("已退回：%(p)s。") % {"p": report.participant.name})
    return redirect(_verify_url(report))


# --- the sparkline -------------------------------------------------------------------------------


def sparkline_svg(
    ranks: Sequence[int | None],
    *,
    labels: Sequence[str] = (),
    width: int = 84,
    height: int = 24,
    worst: int | None = None,
) -> SafeString:
    """A participant's rank over periods as a small inline SVG, drawn on the server.

    First place is at the top; a period without a rank (not taking part, or vetoed) breaks the
    line. ``worst`` fixes the scale so sparklines in one table compare.
    """
    known = [r for r in ranks if r is not None]
    if not known:
        return mark_safe("")
    worst = max(worst or 0, *known, 2)
    pad = 3.0
    n = len(ranks)
    step = (width - 2 * pad) / max(n - 1, 1)

    def y(rank: int) -> float:
        return pad + (rank - 1) / (worst - 1) * (height - 2 * pad)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, r in enumerate(ranks):
        if r is None:
            segments.append([])
        else:
            segments[-1].append((pad + i * step, y(r)))
    parts: list[str] = [
        f'<line x1="{pad}" y1="{pad:.1f}" x2="{width - pad}" y2="{pad:.1f}"/>',
    ]
    for seg in segments:
        if len(seg) > 1:
            pts = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in seg)
            parts.append(f'<polyline points="{pts}"/>')
        elif seg:
            parts.append(f'<circle cx="{seg[0][0]:.1f}" cy="{seg[0][1]:.1f}" r="1.5"/>')
    last = next(((i, r) for i, r in reversed(list(enumerate(ranks))) if r is not None), None)
    if last is not None:
        parts.append(f'<circle cx="{pad + last[0] * step:.1f}" cy="{y(last[1]):.1f}" r="2.5"/>')
    title = " · ".join(
        f"{label} {r if r is not None else '—'}"
        for label, r in zip(labels or [str(i + 1) for i in range(n)], ranks, strict=False)
    )
    return format_html(
        '<svg class="cmp-spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        title,
        title,
        mark_safe("".join(parts)),  # noqa: S308 - numbers we formatted ourselves
    )
