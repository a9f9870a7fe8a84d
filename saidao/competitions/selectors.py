"""Reads of labor competitions (see the list at the top of services.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from saidao.accounts.phones import mask_phone
from saidao.core.columns import rows_readable
from saidao.core.errors import NotFound
from saidao.core.sheets import Sheet, xlsx_bytes
from saidao.orgs.selectors import officer_paths, path_in_scope, scope_q

from .models import (
    Award,
    Category,
    Competition,
    HelpAssignment,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
    Snapshot,
    SnapshotRow,
    Title,
)

# --- who may do what -------------------------------------------------------------------------


def user_is_program_officer(*, user: Any, program: Program) -> bool:
    """An officer whose subtree holds the program's organization (or a superuser)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return path_in_scope(path=program.organization.path, paths=officer_paths(user=user))


def _role_paths(*, user: Any, program: Program, kind: str) -> list[str]:
    if user is None or not user.is_authenticated:
        return []
    cache: dict[tuple[int, str], list[str]] = user.__dict__.setdefault("_comp_role_paths", {})
    key = (program.pk, kind)
    if key not in cache:
        cache[key] = list(
            ProgramRole.objects.filter(program=program, user=user, kind=kind).values_list(
                "organization__path", flat=True
            )
        )
    return cache[key]


def user_is_assessor(*, user: Any, program: Program) -> bool:
    return bool(_role_paths(user=user, program=program, kind=ProgramRole.Kind.ASSESSOR))


def assessor_own_unit(*, user: Any, participant: Participant) -> bool:
    """Whether the participant lies in one of the assessor's own units."""
    program = participant.competition.program
    paths = _role_paths(user=user, program=program, kind=ProgramRole.Kind.ASSESSOR)
    return path_in_scope(path=participant.home.path, paths=paths)


def user_can_report(*, user: Any, participant: Participant) -> bool:
    """A reporter of a unit holding the participant, the individual participant, or an
    officer of the program."""
    if user is None or not user.is_authenticated:
        return False
    if participant.user_id is not None and participant.user_id == user.pk:
        return True
    program = participant.competition.program
    paths = _role_paths(user=user, program=program, kind=ProgramRole.Kind.REPORTER)
    if path_in_scope(path=participant.home.path, paths=paths):
        return True
    return user_is_program_officer(user=user, program=program)


def user_can_view_program(*, user: Any, program: Program) -> bool:
    """Officers of the program, its reporters and assessors, and individual participants."""
    if user_is_program_officer(user=user, program=program):
        return True
    if user is None or not user.is_authenticated:
        return False
    if program.roles.filter(user=user).exists():
        return True
    return Participant.objects.filter(competition__program=program, user=user).exists()


def user_can_view_snapshot(*, user: Any, snapshot: Snapshot) -> bool:
    """Published rankings: everyone who may view the program; unpublished ones: its officers
    and assessors only."""
    program = snapshot.period.competition.program
    if snapshot.published_at is not None:
        return user_can_view_program(user=user, program=program)
    return user_is_program_officer(user=user, program=program) or user_is_assessor(
        user=user, program=program
    )


@dataclass(frozen=True)
class PhoneLens:
    """Whose full phone numbers a viewer of a competition may see: everyone's for the
    program's officers, their own, and those of people whose unit lies in the viewer's officer
    scope (as for members elsewhere); every other number masked (138****1234)."""

    everything: bool = False
    user_id: int | None = None
    paths: tuple[str, ...] = ()

    def phone(self, participant: Participant) -> str | None:
        """The person's phone as this viewer may see it; None for a unit."""
        if participant.user is None:
            return None
        phone: str = participant.user.phone
        if (
            self.everything
            or participant.user_id == self.user_id
            or (self.paths and path_in_scope(path=participant.home.path, paths=list(self.paths)))
        ):
            return phone
        return mask_phone(phone)


def phone_lens(*, viewer: Any, program: Program) -> PhoneLens:
    """The viewer's PhoneLens for the program's participants (masked everything when
    anonymous)."""
    if user_is_program_officer(user=viewer, program=program):
        return PhoneLens(everything=True)
    if viewer is None or not viewer.is_authenticated:
        return PhoneLens()
    return PhoneLens(user_id=viewer.pk, paths=tuple(officer_paths(user=viewer)))


# --- programs and their table ----------------------------------------------------------------


def programs_for_user(*, user: Any) -> QuerySet[Program]:
    """Programs the user administers (officer scope) or holds a reporter/assessor role in."""
    qs = Program.objects.select_related("organization")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs.order_by("-year", "name", "id")
    q = scope_q(officer_paths(user=user), field="organization__path") | Q(roles__user=user)
    return qs.filter(q).distinct().order_by("-year", "name", "id")


def program_get(*, pk: int) -> Program:
    # Read safely: a program stored with a weight beyond its column still opens, to be fixed.
    try:
        found = rows_readable(Program.objects.select_related("organization").filter(pk=pk))
    except (ValueError, TypeError):
        found = []
    if not found:
        raise NotFound(detail={"program": pk})
    return found[0]


def program_get_for_user(*, user: Any, pk: int) -> Program:
    """The program if the user administers it or holds a role in it; NotFound otherwise."""
    program = program_get(pk=pk)
    if user_is_program_officer(user=user, program=program):
        return program
    if user is not None and user.is_authenticated and program.roles.filter(user=user).exists():
        return program
    raise NotFound(detail={"program": pk})


def competition_get(*, pk: int) -> Competition:
    try:
        return Competition.objects.select_related("program__organization", "category").get(pk=pk)
    except (Competition.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"competition": pk}) from None


def period_get(*, pk: int) -> Period:
    try:
        return Period.objects.select_related(
            "competition__program__organization", "competition__category"
        ).get(pk=pk)
    except (Period.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"period": pk}) from None


def participant_get(*, pk: int) -> Participant:
    try:
        return Participant.objects.select_related(
            "competition__program__organization", "home", "bracket", "organization", "user"
        ).get(pk=pk)
    except (Participant.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"participant": pk}) from None


def report_get(*, pk: int) -> Report:
    try:
        return Report.objects.select_related(
            "participant__competition__program__organization",
            "participant__home",
            "period",
        ).get(pk=pk)
    except (Report.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"report": pk}) from None


def snapshot_get(*, pk: int) -> Snapshot:
    try:
        return Snapshot.objects.select_related("period__competition__program__organization").get(
            pk=pk
        )
    except (Snapshot.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"snapshot": pk}) from None


def title_get(*, pk: int) -> Title:
    try:
        return Title.objects.select_related(
            "snapshot__period__competition__program__organization", "participant__user"
        ).get(pk=pk)
    except (Title.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"title": pk}) from None


def help_assignment_get(*, pk: int) -> HelpAssignment:
    try:
        return HelpAssignment.objects.select_related(
            "snapshot__period__competition__program__organization", "participant"
        ).get(pk=pk)
    except (HelpAssignment.DoesNotExist, ValueError, TypeError):
        raise NotFound(detail={"help": pk}) from None


def categories_for_program(*, program: Program) -> QuerySet[Category]:
    return program.categories.order_by("position", "id")


def competitions_for_program(*, program: Program) -> QuerySet[Competition]:
    return program.competitions.select_related("category").order_by(
        "category__position", "position", "id"
    )


def indicators_for_competition(*, competition: Competition) -> QuerySet[Indicator]:
    return competition.indicators.order_by("position", "id")


def periods_for_competition(*, competition: Competition) -> QuerySet[Period]:
    return competition.periods.order_by("starts_on", "id")


def participants_for_competition(*, competition: Competition) -> QuerySet[Participant]:
    return competition.participants.select_related("bracket", "home", "organization", "user")


def participants_for_reporter(*, user: Any, competition: Competition) -> list[Participant]:
    """The participants the user may report for."""
    return [
        p
        for p in participants_for_competition(competition=competition).filter(active=True)
        if user_can_report(user=user, participant=p)
    ]


@dataclass
class TableIndicator:
    indicator: Indicator


@dataclass
class TableCompetition:
    competition: Competition
    indicators: list[Indicator]
    weight_total: Decimal
    weights_ok: bool


@dataclass
class TableCategory:
    category: Category
    competitions: list[TableCompetition] = field(default_factory=list)


@dataclass
class ProgramTable:
    """The 项目表: categories, their competitions, each one's indicators and weights."""

    program: Program
    categories: list[TableCategory]


def program_table(*, program: Program) -> ProgramTable:
    """Three queries whatever the program's size."""
    cats = [TableCategory(c) for c in categories_for_program(program=program)]
    by_cat = {c.category.pk: c for c in cats}
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    for ind in Indicator.objects.filter(competition__program=program).order_by(
        "competition_id", "position", "id"
    ):
        indicators[ind.competition_id].append(ind)
    for comp in program.competitions.order_by("category_id", "position", "id"):
        inds = indicators.get(comp.pk, [])
        total = sum((i.weight for i in inds if i.is_weighted), Decimal(0))
        by_cat[comp.category_id].competitions.append(
            TableCompetition(comp, inds, total, total == program.total_weight)
        )
    return ProgramTable(program=program, categories=cats)


# --- reports -----------------------------------------------------------------------------------


def reports_for_period(*, period: Period, current: bool = True) -> QuerySet[Report]:
    qs = Report.objects.filter(period=period).select_related("participant__bracket")
    if current:
        qs = qs.filter(is_current=True)
    return qs.order_by("participant__code", "-version")


def report_current(*, participant: Participant, period: Period) -> Report | None:
    return (
        Report.objects.filter(participant=participant, period=period, is_current=True)
        .prefetch_related("values__indicator", "evidence")
        .first()
    )


def report_versions(*, participant: Participant, period: Period) -> QuerySet[Report]:
    return (
        Report.objects.filter(participant=participant, period=period)
        .select_related("corrected_by", "verified_by", "submitted_by")
        .order_by("-version")
    )


def reports_to_verify(*, user: Any, program: Program | None = None) -> QuerySet[Report]:
    """Submitted reports in the programs the user assesses, except their own units'."""
    roles = ProgramRole.objects.filter(user=user, kind=ProgramRole.Kind.ASSESSOR)
    if program is not None:
        roles = roles.filter(program=program)
    qs = Report.objects.none()
    role_list = list(roles.select_related("organization"))
    if not role_list:
        return qs
    programs = {r.program_id for r in role_list}
    own = [r.organization.path for r in role_list]
    qs = Report.objects.filter(
        participant__competition__program_id__in=programs,
        state=Report.State.SUBMITTED,
        is_current=True,
    ).exclude(scope_q(own, field="participant__home__path"))
    return qs.select_related("participant__competition", "period", "submitted_by").order_by(
        "submitted_at", "id"
    )


# --- snapshots ---------------------------------------------------------------------------------


def snapshot_latest(*, period: Period) -> Snapshot | None:
    return period.snapshots.order_by("-number").first()


def snapshot_published(*, period: Period) -> Snapshot | None:
    return period.snapshots.filter(published_at__isnull=False).first()


def snapshots_for_period(*, period: Period) -> QuerySet[Snapshot]:
    return period.snapshots.select_related("computed_by", "published_by").order_by("-number")


def snapshot_rows(*, snapshot: Snapshot, bracket_id: int | None = None) -> QuerySet[SnapshotRow]:
    qs = snapshot.rows.select_related("participant__user", "participant__home", "bracket")
    if bracket_id is not None:
        qs = qs.filter(bracket_id=bracket_id)
    return qs.order_by("position")


def snapshot_verify(*, snapshot: Snapshot) -> bool:
    """Whether the stored snapshot still gives its rules hash and content hash; snapshots
    made before the person codes too, as their rows keep the code they were hashed with."""
    from .scoring import snapshot_verify as verify

    return verify(snapshot=snapshot)


@dataclass
class RowChange:
    participant_id: int
    code: str
    name: str
    old_rank: int | None
    new_rank: int | None
    old_total: str | None
    new_total: str | None
    # indicator code → (old value, new value) for the values that changed
    values: dict[str, tuple[str | None, str | None]]

    @property
    def moved(self) -> int | None:
        """Places gained (positive) or lost."""
        if self.old_rank is None or self.new_rank is None:
            return None
        return self.old_rank - self.new_rank


@dataclass
class SnapshotDiff:
    old: Snapshot
    new: Snapshot
    rules_changed: bool
    changes: list[RowChange]


def snapshot_diff(*, old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """Who moved and which values changed between two snapshots of the same period."""

    def rows(s: Snapshot) -> dict[int, SnapshotRow]:
        return {r.participant_id: r for r in s.rows.select_related("participant")}

    a, b = rows(old), rows(new)
    changes: list[RowChange] = []
    for pid in sorted(set(a) | set(b)):
        ra, rb = a.get(pid), b.get(pid)
        p = (rb or ra).participant  # type: ignore[union-attr]
        va = ra.values if ra else {}
        vb = rb.values if rb else {}
        values = {
            code: ((va.get(code) or [None])[0], (vb.get(code) or [None])[0])
            for code in sorted(set(va) | set(vb))
            if (va.get(code) or [None])[0] != (vb.get(code) or [None])[0]
        }
        old_total = str(ra.total) if ra else None
        new_total = str(rb.total) if rb else None
        if (
            values
            or old_total != new_total
            or (ra and rb and ra.rank != rb.rank)
            or not (ra and rb)
        ):
            changes.append(
                RowChange(
                    participant_id=pid,
                    code=p.code,
                    name=p.name,
                    old_rank=ra.rank if ra else None,
                    new_rank=rb.rank if rb else None,
                    old_total=old_total,
                    new_total=new_total,
                    values=values,
                )
            )
    changes.sort(key=lambda c: (-(abs(c.moved or 0)), c.code))
    return SnapshotDiff(old, new, old.rules_hash != new.rules_hash, changes)


# --- outcomes ----------------------------------------------------------------------------------


def awards_for_snapshot(*, snapshot: Snapshot) -> QuerySet[Award]:
    return snapshot.awards.select_related("participant", "bracket").order_by(
        "bracket_id", "rank", "participant__code"
    )


def help_list(*, snapshot: Snapshot) -> QuerySet[HelpAssignment]:
    return (
        snapshot.help_list.select_related("participant", "helper_organization", "helper_user")
        .prefetch_related("notes__author")
        .order_by("rank", "participant__code")
    )


def help_moved_up(*, assignment: HelpAssignment) -> bool | None:
    """Whether the participant ranked better in the next period's published snapshot than on
    this help list; None while the next period has no published ranking."""
    period = assignment.snapshot.period
    nxt = (
        Period.objects.filter(competition_id=period.competition_id, starts_on__gt=period.starts_on)
        .order_by("starts_on")
        .first()
    )
    if nxt is None:
        return None
    pub = snapshot_published(period=nxt)
    if pub is None:
        return None
    row = pub.rows.filter(participant_id=assignment.participant_id).first()
    if row is None:
        return None
    return row.rank < assignment.rank


def titles_for_snapshot(*, snapshot: Snapshot) -> QuerySet[Title]:
    return snapshot.titles.select_related("participant").order_by("rank", "id")


def titles_for_user(*, user: Any) -> QuerySet[Title]:
    return (
        Title.objects.filter(participant__user=user, state=Title.State.PUBLISHED)
        .select_related("snapshot__period__competition")
        .order_by("-published_at")
    )


# --- scorecard and trend -----------------------------------------------------------------------


@dataclass
class ScoreLine:
    code: str
    name: str
    unit: str
    rule: str
    weight: Decimal
    value: Decimal | None
    points: Decimal
    contribution: Decimal
    bracket_average: Decimal  # the bracket's average contribution on this indicator
    versus_average: Decimal  # contribution − bracket average
    previous: Decimal | None  # contribution in the previous period's published snapshot
    change: Decimal | None


@dataclass
class Scorecard:
    """Why a participant scored what it did, and what it would take to move up one place."""

    snapshot: Snapshot
    row: SnapshotRow
    lines: list[ScoreLine]
    # the indicator that moved it most vs. the bracket average (by |versus_average|)
    strongest: str | None
    weakest: str | None
    ahead: SnapshotRow | None  # the participant one place up (None when first)
    gap: Decimal | None  # total points needed to reach it
    # the indicator where one more unit of value earns the most points, and how much more
    # value closes the gap (None when no indicator can close it, e.g. all capped)
    best_lever: str | None
    lever_value_needed: Decimal | None


def scorecard(*, snapshot: Snapshot, participant: Participant) -> Scorecard:
    from .scoring import scorecard_build

    card: Scorecard = scorecard_build(snapshot=snapshot, participant=participant)
    return card


@dataclass
class TrendPoint:
    period: Period
    snapshot: Snapshot
    total: Decimal
    rank: int
    of: int
    vetoed: bool


def participant_trend(*, participant: Participant, published_only: bool = True) -> list[TrendPoint]:
    """The participant's total and rank per period (published snapshots, or the latest of each
    period when ``published_only`` is False), oldest first: two queries."""
    snaps = Snapshot.objects.filter(period__competition_id=participant.competition_id)
    if published_only:
        snaps = snaps.filter(published_at__isnull=False)
    latest: dict[int, Snapshot] = {}
    for s in snaps.select_related("period").order_by("period__starts_on", "number"):
        latest[s.period_id] = s
    rows = {
        r.snapshot_id: r
        for r in SnapshotRow.objects.filter(
            snapshot_id__in=[s.pk for s in latest.values()], participant=participant
        )
    }
    out = []
    for s in latest.values():
        r = rows.get(s.pk)
        if r is not None:
            out.append(TrendPoint(s.period, s, r.total, r.rank, s.row_count, r.vetoed))
    return out


# --- exports -----------------------------------------------------------------------------------


def _workbook(title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    # Names and indicators are typed by people: text cells only (see xlsx_bytes).
    return xlsx_bytes(Sheet(title, header, rows, widths=16))


def ranking_xlsx(*, snapshot: Snapshot, viewer: Any = None) -> bytes:
    """The ranking as .xlsx: rank, code, name, (a person's phone as ``viewer`` may see it),
    bracket, each indicator's value and points, total."""
    competition = snapshot.period.competition
    people = competition.participant_kind == Competition.ParticipantKind.INDIVIDUAL
    lens = phone_lens(viewer=viewer, program=competition.program)
    indicators = list(indicators_for_competition(competition=competition))
    header = [_("名次"), _("参赛编码"), _("名称"), *([_("手机号")] if people else []), _("分组")]
    for ind in indicators:
        header += [
            f"{ind.name}（{ind.unit}）" if ind.unit else ind.name,
            _("%(n)s得分") % {"n": ind.name},
        ]
    header += [_("加分"), _("扣分"), _("一票否决"), _("总分")]
    rows: list[list[Any]] = []
    for r in snapshot_rows(snapshot=snapshot):
        line: list[Any] = [
            r.rank,
            r.participant.code,
            r.participant.name,
            *([lens.phone(r.participant)] if people else []),
            r.bracket.name if r.bracket else "",
        ]
        for ind in indicators:
            v = r.values.get(ind.code) or [None, None, None]
            line += [
                float(v[0]) if v[0] is not None else None,
                float(v[2]) if v[2] is not None else None,
            ]
        line += [float(r.bonus), float(r.penalty), _("是") if r.vetoed else "", float(r.total)]
        rows.append(line)
    return _workbook(_("排名"), header, rows)


def program_table_xlsx(*, program: Program) -> bytes:
    """The 项目表 as .xlsx: one row per indicator."""
    table = program_table(program=program)
    header = [
        _("竞赛大项"),
        _("单项竞赛"),
        _("参赛对象"),
        _("考核周期"),
        _("指标"),
        _("计量单位"),
        _("方向"),
        _("数据来源"),
        _("计分规则"),
        _("权重"),
    ]
    rows: list[list[Any]] = []
    for cat in table.categories:
        for tc in cat.competitions:
            c = tc.competition
            for ind in tc.indicators or [None]:  # type: ignore[list-item]
                rows.append(
                    [
                        cat.category.name,
                        c.name,
                        c.get_participant_kind_display(),
                        c.get_period_kind_display(),
                        ind.name if ind else "",
                        ind.unit if ind else "",
                        ind.get_direction_display() if ind else "",
                        ind.get_source_display() if ind else "",
                        ind.get_rule_display() if ind else "",
                        float(ind.weight) if ind else None,
                    ]
                )
    return _workbook(_("项目表"), header, rows)
