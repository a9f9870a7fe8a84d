"""Reads the pages need beyond ``selectors``: who may see a program, the ranking board with
every participant's trend in a fixed number of queries, the reporter's overview, the
verification queue with values, and the help list with "moved up" for every row at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from saidao.core.errors import NotFound
from saidao.orgs.selectors import officer_paths, scope_q

from .models import (
    Award,
    Competition,
    HelpAssignment,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
    ReportValue,
    Snapshot,
    SnapshotRow,
    Title,
)
from .selectors import (
    PhoneLens,
    help_list,
    indicators_for_competition,
    periods_for_competition,
    program_get,
    user_can_report,
    user_can_view_program,
)

# --- who sees what -----------------------------------------------------------------------------


def programs_visible(*, user: Any) -> QuerySet[Program]:
    """Programs the user administers (officer scope), holds a role in, or takes part in as an
    individual; with their competition counts. Two queries: roles' paths, then the list."""
    qs = Program.objects.select_related("organization")
    if user is None or not user.is_authenticated:
        return qs.none()
    if not user.is_superuser:
        q = (
            scope_q(officer_paths(user=user), field="organization__path")
            | Q(pk__in=ProgramRole.objects.filter(user=user).values("program_id"))
            | Q(
                pk__in=Participant.objects.filter(user=user, active=True).values(
                    "competition__program_id"
                )
            )
        )
        qs = qs.filter(q)
    return qs.annotate(competition_count=Count("competitions", distinct=True)).order_by(
        "-year", "name", "id"
    )


def program_visible(*, user: Any, program: Program) -> bool:
    """The same rule as the API's: officers, reporters, assessors, individual participants."""
    return user_can_view_program(user=user, program=program)


def program_get_visible(*, user: Any, pk: int) -> Program:
    program = program_get(pk=pk)
    if not program_visible(user=user, program=program):
        raise NotFound(detail={"program": pk})
    return program


def competition_get_visible(*, user: Any, pk: int) -> Competition:
    try:
        competition = Competition.objects.select_related("program__organization", "category").get(
            pk=pk
        )
    except (Competition.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"competition": pk}) from None
    if not program_visible(user=user, program=competition.program):
        raise NotFound(detail={"competition": pk})
    return competition


def period_of(*, competition: Competition, pk: int) -> Period:
    period = competition.periods.filter(pk=pk).first()
    if period is None:
        raise NotFound(detail={"period": pk})
    period.competition = competition
    return period


def snapshot_for_board(*, period: Period, officer: bool) -> Snapshot | None:
    """What a viewer sees for a period: officers (and assessors: ``officer`` True) the latest
    computation, published or not; everyone else the published ranking only."""
    qs = period.snapshots.select_related("computed_by", "published_by")
    if not officer:
        qs = qs.filter(published_at__isnull=False)
    return qs.order_by("-number").first()


def period_default(*, competition: Competition, officer: bool) -> Period | None:
    """The period a competition's board opens on: the latest with a ranking to show, else
    the latest period."""
    snaps = Snapshot.objects.filter(period__competition=competition)
    if not officer:
        snaps = snaps.filter(published_at__isnull=False)
    latest = snaps.select_related("period").order_by("-period__starts_on", "-number").first()
    if latest is not None:
        return latest.period
    return competition.periods.order_by("-starts_on").first()


# --- the ranking board -------------------------------------------------------------------------


def num(d: Decimal | None, places: int = 2) -> str:
    """A decimal for people: rounded to ``places``, without trailing zeros (8.6, 34, 101.43)."""
    if d is None:
        return "—"
    q = d.quantize(Decimal(1).scaleb(-places))
    text = f"{q:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Cell:
    indicator: Indicator
    value: Decimal | None
    points: Decimal
    contribution: Decimal

    @property
    def value_text(self) -> str:
        return num(self.value, 4)

    @property
    def points_text(self) -> str:
        return num(self.points)

    @property
    def contribution_text(self) -> str:
        return num(self.contribution)


@dataclass
class BoardRow:
    row: SnapshotRow
    cells: list[Cell]
    ranks: list[int | None]  # per period of the board, oldest first (None: not ranked)
    award: bool = False
    amount: Decimal | None = None
    help: bool = False
    spark: str = ""
    phone: str | None = None  # a person's, as the viewer may see it (PhoneLens)

    @property
    def total_text(self) -> str:
        return num(self.row.total)


@dataclass
class Board:
    competition: Competition
    period: Period
    periods: list[Period]
    snapshot: Snapshot | None
    indicators: list[Indicator]
    rows: list[BoardRow]
    brackets: bool
    worst: int = 2
    trend_labels: list[str] = field(default_factory=list)


def _d(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


def ranking_board(
    *,
    competition: Competition,
    period: Period,
    snapshot: Snapshot | None,
    lens: PhoneLens | None = None,
) -> Board:
    """The board of one period: rows, per-indicator cells, award and help marks, a person's
    phone as ``lens`` shows it (masked when none), and every participant's rank in each period
    up to this one (published rankings; the shown snapshot for this period). Seven queries
    whatever the number of participants or periods."""
    lens = lens or PhoneLens()
    periods = [p for p in periods_for_competition(competition=competition)]
    indicators = list(indicators_for_competition(competition=competition))
    upto = [p for p in periods if p.starts_on <= period.starts_on]
    board = Board(
        competition=competition,
        period=period,
        periods=periods,
        snapshot=snapshot,
        indicators=indicators,
        rows=[],
        brackets=False,
        trend_labels=[p.label for p in upto],
    )
    if snapshot is None:
        return board
    rows = list(
        snapshot.rows.select_related("participant__user", "participant__home", "bracket").order_by(
            "position"
        )
    )
    # The trend: one snapshot per earlier period (its published one), this period's shown one.
    published = {
        s.period_id: s.pk
        for s in Snapshot.objects.filter(
            period_id__in=[p.pk for p in upto if p.pk != period.pk], published_at__isnull=False
        ).only("pk", "period_id")
    }
    published[period.pk] = snapshot.pk
    by_snapshot = {sid: pid for pid, sid in published.items()}
    ranks: dict[int, dict[int, int | None]] = defaultdict(dict)
    for participant_id, snapshot_id, rank, vetoed in SnapshotRow.objects.filter(
        snapshot_id__in=list(by_snapshot),
        participant_id__in=[r.participant_id for r in rows],
    ).values_list("participant_id", "snapshot_id", "rank", "vetoed"):
        ranks[participant_id][by_snapshot[snapshot_id]] = None if vetoed else rank
    awards: dict[int, Decimal | None] = {}
    if snapshot.published_at:
        awards = dict(
            Award.objects.filter(snapshot=snapshot).values_list("participant_id", "amount")
        )
    helped = (
        set(snapshot.help_list.values_list("participant_id", flat=True))
        if snapshot.published_at
        else set()
    )
    worst = 2
    for r in rows:
        cells = []
        for ind in indicators:
            v = r.values.get(ind.code) or [None, "0", "0"]
            cells.append(Cell(ind, _d(v[0]), Decimal(v[1]), Decimal(v[2])))
        trend = [ranks[r.participant_id].get(p.pk) for p in upto]
        worst = max(worst, *(x for x in trend if x is not None), 2)
        board.rows.append(
            BoardRow(
                row=r,
                cells=cells,
                ranks=trend,
                award=r.participant_id in awards,
                amount=awards.get(r.participant_id),
                help=r.participant_id in helped,
                phone=lens.phone(r.participant),
            )
        )
        if r.bracket_id is not None:
            board.brackets = True
    board.worst = worst
    return board


# --- reporting ---------------------------------------------------------------------------------


@dataclass
class ReportSlot:
    participant: Participant
    period: Period
    report: Report | None


@dataclass
class ReportingCompetition:
    competition: Competition
    periods: list[Period]  # open periods
    slots: list[ReportSlot]


def reporting_overview(*, user: Any, program: Program) -> list[ReportingCompetition]:
    """For each competition of the program: its open periods, the participants the user may
    report for, and their current reports."""
    competitions = list(
        program.competitions.select_related("category").order_by(
            "category__position", "position", "id"
        )
    )
    open_periods: dict[int, list[Period]] = defaultdict(list)
    for p in Period.objects.filter(competition__program=program, state=Period.State.OPEN).order_by(
        "starts_on", "id"
    ):
        open_periods[p.competition_id].append(p)
    participants: dict[int, list[Participant]] = defaultdict(list)
    for part in (
        Participant.objects.filter(competition__program=program, active=True)
        .select_related("home", "competition__program__organization", "user")
        .order_by("code")
    ):
        if part.competition_id in open_periods and user_can_report(user=user, participant=part):
            participants[part.competition_id].append(part)
    reports = {
        (r.participant_id, r.period_id): r
        for r in Report.objects.filter(
            participant_id__in=[p.pk for ps in participants.values() for p in ps],
            period_id__in=[p.pk for ps in open_periods.values() for p in ps],
            is_current=True,
        )
    }
    out = []
    for c in competitions:
        if not participants.get(c.pk):
            continue
        slots = [
            ReportSlot(part, period, reports.get((part.pk, period.pk)))
            for period in open_periods[c.pk]
            for part in participants[c.pk]
        ]
        out.append(ReportingCompetition(c, open_periods[c.pk], slots))
    return out


def report_with_values(*, participant: Participant, period: Period) -> Report | None:
    report = (
        Report.objects.filter(participant=participant, period=period, is_current=True)
        .select_related("submitted_by", "verified_by")
        .prefetch_related(
            Prefetch(
                "values",
                queryset=ReportValue.objects.select_related("indicator").order_by(
                    "indicator__position", "indicator_id"
                ),
            ),
            "evidence",
        )
        .first()
    )
    if report is not None:
        report.lines = value_lines(report)  # type: ignore[attr-defined]
    return report


def value_lines(report: Report) -> list[tuple[str, str, str, str]]:
    """(indicator, value, unit, note) of a report whose values are prefetched with indicators."""
    return [
        (v.indicator.name, num(v.value, 4), v.indicator.unit, v.note) for v in report.values.all()
    ]


def signed(d: Decimal | None, places: int = 2) -> str:
    """+5, −1.77, 0: a change with its sign."""
    if d is None:
        return "—"
    text = num(d, places)
    return text if text.startswith("-") or text == "0" else f"+{text}"


# --- verification ------------------------------------------------------------------------------


@dataclass
class Queue:
    to_verify: list[Report]
    own_unit: list[Report]  # submitted reports of the assessor's own units: not theirs to verify


def verification_queue(*, user: Any, program: Program) -> Queue:
    """Submitted reports of the program that the user assesses, with values and evidence;
    those of the assessor's own units apart. Four queries."""
    own_paths = list(
        ProgramRole.objects.filter(
            program=program, user=user, kind=ProgramRole.Kind.ASSESSOR
        ).values_list("organization__path", flat=True)
    )
    if not own_paths:
        return Queue([], [])
    reports = list(
        Report.objects.filter(
            participant__competition__program=program,
            state=Report.State.SUBMITTED,
            is_current=True,
        )
        .select_related("participant__competition", "participant__home", "period", "submitted_by")
        .prefetch_related(
            Prefetch(
                "values",
                queryset=ReportValue.objects.select_related("indicator").order_by(
                    "indicator__position", "indicator_id"
                ),
            ),
            "evidence",
        )
        .order_by("submitted_at", "id")
    )
    queue = Queue([], [])
    for r in reports:
        r.lines = value_lines(r)  # type: ignore[attr-defined]
        home = r.participant.home.path
        if any(home.startswith(p) for p in own_paths):
            queue.own_unit.append(r)
        else:
            queue.to_verify.append(r)
    return queue


# --- help list ---------------------------------------------------------------------------------


@dataclass
class HelpRow:
    assignment: HelpAssignment
    next_rank: int | None  # rank in the next period's published ranking
    moved_up: bool | None  # None while the next period has no published ranking


def help_rows(*, snapshot: Snapshot) -> list[HelpRow]:
    """The help list with, for each row, the next period's published rank: five queries."""
    assignments = list(help_list(snapshot=snapshot))
    period = snapshot.period
    nxt = (
        Period.objects.filter(competition_id=period.competition_id, starts_on__gt=period.starts_on)
        .order_by("starts_on")
        .first()
    )
    next_ranks: dict[int, int] = {}
    has_next = False
    if nxt is not None:
        pub = nxt.snapshots.filter(published_at__isnull=False).first()
        if pub is not None:
            has_next = True
            next_ranks = dict(
                pub.rows.filter(
                    participant_id__in=[a.participant_id for a in assignments]
                ).values_list("participant_id", "rank")
            )
    out = []
    for a in assignments:
        rank = next_ranks.get(a.participant_id)
        moved = None if not has_next or rank is None else rank < a.rank
        out.append(HelpRow(a, rank, moved))
    return out


def titles_page(*, snapshot: Snapshot) -> list[Title]:
    return list(snapshot.titles.select_related("participant", "decided_by").order_by("rank", "id"))
