"""Writes of labor competitions (劳动竞赛).

Services (all keyword-only; ``actor`` is the acting user; errors in ``.errors``):

Setup — officers of the program's organization (or above it):
    program_create(*, actor, organization, name, year=None, total_weight=Decimal(100),
                   description="", status="active") -> Program
    program_role_grant(*, actor, program, user, kind, organization) -> ProgramRole
        kind: ProgramRole.Kind.REPORTER | ASSESSOR; organization: the unit they belong to.
    category_create(*, actor, program, name, position=None, description="") -> Category
    competition_create(*, actor, category, name, participant_kind, period_kind,
                       description="", self_score_enabled=False, award_top_n=None,
                       award_top_percent=None, bonus_pool=None, bonus_rule="none",
                       bonus_shares=None, help_bottom_n=0, title_name="",
                       position=None) -> Competition
    bracket_create(*, actor, competition, name, position=None) -> Bracket
    participant_add(*, actor, competition, organization=None, user=None, code="",
                    name="", bracket=None) -> Participant
        units: an organization in the program's subtree; individuals: a user whose current
        membership lies in it (OutsideProgram otherwise). A unit's code defaults to its
        credit code; a person's is the next opaque code of the competition (P00001, ...):
        their phone never becomes a code (a given code must have that form).
    indicator_create(*, actor, competition, code, name, rule, unit="", direction="higher",
                     source="reported", formula="", count_source="", count_param="",
                     required=True, weight=0, target=None, full_marks=100, cap=None, floor=0,
                     rank_first=None, rank_step=None, bands=None, per_unit=None,
                     veto_threshold=None, position=None) -> Indicator
    competition_check(*, competition) -> None
        WeightsInvalid, FormulaInvalid/FormulaCycle, RuleInvalid.
    period_create(*, actor, competition, key, label="", starts_on=None, ends_on=None) -> Period
        key "2024-Q2" / "2024-06" / "2024" (by the competition's period kind); dates and label
        derived from it when not given.
    period_set_state(*, actor, period, state) -> Period

Reports — reporters (ProgramRole REPORTER whose unit holds the participant, the individual
participant, or a program officer); assessors verify:
    report_save(*, actor, participant, period, values, units=None, notes=None,
                self_score=None) -> Report
        values: {indicator code: number or numeric string}; units/notes: {code: str}.
        Creates or updates the current draft/returned report (PeriodNotOpen, ValueInvalid,
        UnitMismatch, ReportStateInvalid).
    report_submit(*, actor, report) -> Report          RequiredMissing
    report_verify(*, actor, report) -> Report          NotAssessor, OwnUnitAssessment
    report_return(*, actor, report, reason) -> Report
    report_lock(*, actor, report) -> Report            (verified → locked; officers)
    report_correct(*, actor, report, values, reason, units=None, notes=None) -> Report
        After lock: a new version (is_current) with corrected_by/at/reason; assessors (not of
        their own unit) or program officers.
    evidence_attach(*, actor, report, file, name="") -> Evidence
    reports_import(*, actor, competition, file, submit=False) -> ImportResult
    reports_import_start(*, actor, competition, file, submit=False) -> ImportJob (a large file)
        .xlsx (columns 参赛单位编码, or 参赛人编码 and/or 参赛人手机号, then 指标, 期间, 数值, 单位,
        备注; a person by the code when given, else by the full phone): all or nothing;
        ImportInvalid with detail["errors"] = [{"row", "column", "message"}].
    import_template(*, competition, period=None) -> bytes

Scoring — program officers:
    period_compute(*, actor, period) -> Snapshot
        Scores the current verified/locked reports; returns the latest snapshot unchanged when
        the content hash is the same, else a new one (RequiredMissing, DivisionByZero, ...).
    snapshot_publish(*, actor, snapshot) -> Snapshot
        Freezes it as the period's result, locks the period and its verified reports, and
        builds the award list (bonus shares) and the help list.

Outcomes:
    help_assign(*, actor, assignment, helper_organization=None, helper_user=None,
                action_plan="") -> HelpAssignment
    help_note_add(*, actor, assignment, text) -> HelpNote
    title_nominate(*, actor, snapshot, participant, name="", citation="") -> Title
        name defaults to "<period label> <competition.title_name>".
    title_approve(*, actor, title) -> Title
    title_reject(*, actor, title) -> Title
    title_publish(*, actor, title) -> Title     issues the certificate (kind "title",
                                                  source "competition-title:<id>")

Selectors (selectors.py): user_is_program_officer, user_is_assessor, assessor_own_unit,
user_can_report, programs_for_user, program_get, program_get_for_user, competition_get,
period_get, participant_get, report_get, snapshot_get, title_get, help_assignment_get,
categories_for_program, competitions_for_program, indicators_for_competition,
periods_for_competition, participants_for_competition, participants_for_reporter,
program_table(*, program) -> ProgramTable, reports_for_period, report_current,
report_versions, reports_to_verify(*, user, program=None), snapshot_latest,
snapshot_published, snapshots_for_period, snapshot_rows(*, snapshot, bracket_id=None),
snapshot_diff(*, old, new) -> SnapshotDiff, awards_for_snapshot, help_list, help_moved_up,
titles_for_snapshot, titles_for_user, scorecard(*, snapshot, participant) -> Scorecard,
participant_trend(*, participant, published_only=True) -> list[TrendPoint],
phone_lens(*, viewer, program) -> PhoneLens (.phone(participant): full or masked),
snapshot_verify(*, snapshot) -> bool, ranking_xlsx(*, snapshot, viewer=None) -> bytes,
program_table_xlsx(*, program) -> bytes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from saidao.accounts.models import Membership
from saidao.core import clock
from saidao.core.columns import values_check
from saidao.core.errors import Conflict, InvalidInput, OutsideScope
from saidao.core.imports import ImportProgress, import_job_create
from saidao.core.models import ImportJob
from saidao.core.services import audit_record
from saidao.core.tasks import enqueue
from saidao.orgs.models import Organization

from .errors import (
    NotAssessor,
    NotReporter,
    OutsideProgram,
    OwnUnitAssessment,
    PeriodNotOpen,
    ReportStateInvalid,
    RequiredMissing,
    RuleInvalid,
    SnapshotPublished,
    UnitMismatch,
    ValueInvalid,
    WeightsInvalid,
)
from .models import (
    PERSON_CODE_DIGITS,
    PERSON_CODE_PREFIX,
    PERSON_CODE_REGEX,
    VALUE_PLACES,
    Bracket,
    Category,
    Competition,
    Evidence,
    HelpAssignment,
    HelpNote,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
    ReportValue,
    Snapshot,
    Title,
)
from .selectors import (
    assessor_own_unit,
    user_can_report,
    user_is_assessor,
    user_is_program_officer,
)

# --- setup -------------------------------------------------------------------------------------


def _require_officer(*, actor: Any, program: Program) -> None:
    if not user_is_program_officer(user=actor, program=program):
        raise OutsideScope(detail={"program": program.pk})


def _in_subtree(path: str, root: str) -> bool:
    return path.startswith(root)


@transaction.atomic
def program_create(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    year: int | None = None,
    total_weight: Decimal | int = Decimal(100),
    description: str = "",
    status: str = Program.Status.ACTIVE,
) -> Program:
    program = Program(
        organization=organization,
        name=name.strip(),
        year=year,
        total_weight=Decimal(total_weight),
        description=description,
        status=status,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _require_officer(actor=actor, program=program)
    if not program.name:
        raise InvalidInput.for_field("name", _("请填写名称。"))
    values_check(Program, year=year, total_weight=program.total_weight)
    if program.total_weight <= 0:
        raise WeightsInvalid(_("总权重必须大于零。"))
    program.save()
    audit_record(actor=actor, action="competition_program.create", target=program)
    return program


@transaction.atomic
def program_role_grant(
    *, actor: Any, program: Program, user: Any, kind: str, organization: Organization
) -> ProgramRole:
    _require_officer(actor=actor, program=program)
    if kind not in ProgramRole.Kind.values:
        raise InvalidInput.for_field("kind", _("角色无效。"))
    if not _in_subtree(organization.path, program.organization.path):
        raise OutsideProgram(detail={"organization": organization.pk})
    role, _created = ProgramRole.objects.get_or_create(
        program=program,
        user=user,
        kind=kind,
        organization=organization,
        defaults={"granted_by": actor if getattr(actor, "pk", None) else None},
    )
    audit_record(
        actor=actor,
        action="competition_role.grant",
        target=role,
        data={"user": user.pk, "kind": kind, "organization": organization.pk},
    )
    return role


def _next_position(qs: Any) -> int:
    return int(qs.aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def category_create(
    *,
    actor: Any,
    program: Program,
    name: str,
    position: int | None = None,
    description: str = "",
) -> Category:
    _require_officer(actor=actor, program=program)
    values_check(Category, position=position)
    if program.categories.filter(name=name).exists():
        raise InvalidInput.for_field("name", _("已有同名的竞赛大项。"))
    return Category.objects.create(
        program=program,
        name=name,
        description=description,
        position=position if position is not None else _next_position(program.categories),
    )


@transaction.atomic
def competition_create(
    *,
    actor: Any,
    category: Category,
    name: str,
    participant_kind: str,
    period_kind: str,
    description: str = "",
    self_score_enabled: bool = False,
    award_top_n: int | None = None,
    award_top_percent: int | None = None,
    bonus_pool: Decimal | int | None = None,
    bonus_rule: str = Competition.BonusRule.NONE,
    bonus_shares: list[Any] | None = None,
    help_bottom_n: int = 0,
    title_name: str = "",
    position: int | None = None,
) -> Competition:
    program = category.program
    _require_officer(actor=actor, program=program)
    errors: dict[str, list[str]] = {}
    if participant_kind not in Competition.ParticipantKind.values:
        errors["participant_kind"] = [_("参赛对象无效。")]
    if period_kind not in Competition.PeriodKind.values:
        errors["period_kind"] = [_("考核周期无效。")]
    if bonus_rule not in Competition.BonusRule.values:
        errors["bonus_rule"] = [_("奖金分配办法无效。")]
    if award_top_percent is not None and not 0 < award_top_percent <= 100:
        errors["award_top_percent"] = [_("比例须在 1 到 100 之间。")]
    try:
        values_check(
            Competition,
            award_top_n=award_top_n,
            bonus_pool=bonus_pool,
            help_bottom_n=help_bottom_n,
            position=position,
        )
    except InvalidInput as exc:
        errors.update(exc.detail["fields"])
    shares = [Decimal(str(s)) for s in (bonus_shares or [])]
    if bonus_rule == Competition.BonusRule.RANK_SHARES and (
        not shares or sum(shares) > 100 or any(s < 0 for s in shares)
    ):
        errors["bonus_shares"] = [_("名次分配比例须为非负数，合计不超过 100。")]
    if bonus_rule != Competition.BonusRule.NONE and not bonus_pool:
        errors["bonus_pool"] = [_("请填写奖金池。")]
    if program.competitions.filter(name=name).exists():
        errors["name"] = [_("已有同名的单项竞赛。")]
    if errors:
        raise InvalidInput(detail={"fields": errors})
    comp = Competition.objects.create(
        program=program,
        category=category,
        name=name,
        description=description,
        participant_kind=participant_kind,
        period_kind=period_kind,
        self_score_enabled=self_score_enabled,
        award_top_n=award_top_n,
        award_top_percent=award_top_percent,
        bonus_pool=Decimal(bonus_pool) if bonus_pool is not None else None,
        bonus_rule=bonus_rule,
        bonus_shares=[str(s) for s in shares],
        help_bottom_n=help_bottom_n,
        title_name=title_name,
        position=position
        if position is not None
        else _next_position(Competition.objects.filter(category=category)),
    )
    audit_record(actor=actor, action="competition.create", target=comp)
    return comp


@transaction.atomic
def bracket_create(
    *, actor: Any, competition: Competition, name: str, position: int | None = None
) -> Bracket:
    _require_officer(actor=actor, program=competition.program)
    values_check(Bracket, position=position)
    return Bracket.objects.create(
        competition=competition,
        name=name,
        position=position if position is not None else _next_position(competition.brackets),
    )


def _current_org(user: Any) -> Organization | None:
    m = (
        Membership.objects.filter(user=user, left_at__isnull=True)
        .select_related("organization")
        .first()
    )
    return m.organization if m else None


def _next_person_code(competition: Competition) -> str:
    """The competition's next person code, one above the highest so far; the competition row
    is locked so that two people added at once do not get the same one."""
    Competition.objects.select_for_update().filter(pk=competition.pk).first()
    people = competition.participants.filter(user__isnull=False)
    # Person codes are P and digits (a constraint): the longest, then the last, is the highest.
    last = (
        people.annotate(digits=Length("code"))
        .order_by("-digits", "-code")
        .values_list("code", flat=True)
        .first()
    )
    n = int(last[1:]) + 1 if last else 1
    while True:
        code = f"{PERSON_CODE_PREFIX}{n:0{PERSON_CODE_DIGITS}d}"
        if not competition.participants.filter(code=code).exists():
            return code
        n += 1


@transaction.atomic
def participant_add(
    *,
    actor: Any,
    competition: Competition,
    organization: Organization | None = None,
    user: Any = None,
    code: str = "",
    name: str = "",
    bracket: Bracket | None = None,
) -> Participant:
    program = competition.program
    _require_officer(actor=actor, program=program)
    if bracket is not None and bracket.competition_id != competition.pk:
        raise InvalidInput.for_field("bracket", _("分组不属于该竞赛。"))
    if competition.participant_kind == Competition.ParticipantKind.UNIT:
        if organization is None or user is not None:
            raise InvalidInput.for_field("organization", _("单位竞赛的参赛者须为组织。"))
        if not _in_subtree(organization.path, program.organization.path):
            raise OutsideProgram(
                _("“%(o)s”不在“%(p)s”的范围内。")
                % {"o": organization.name, "p": program.organization.name},
                detail={"organization": organization.pk},
            )
        home = organization
        code = code or organization.credit_code
        name = name or organization.name
    else:
        if user is None or organization is not None:
            raise InvalidInput.for_field("user", _("个人竞赛的参赛者须为会员。"))
        org = _current_org(user)
        if org is None or not _in_subtree(org.path, program.organization.path):
            raise OutsideProgram(
                _("“%(u)s”不是“%(p)s”范围内的会员。")
                % {"u": user.real_name, "p": program.organization.name},
                detail={"user": user.pk},
            )
        home = org
        code = code.strip()
        if code and not re.fullmatch(PERSON_CODE_REGEX, code):
            raise InvalidInput.for_field(
                "code", _("个人参赛者的编码由系统生成（如 P00001），请留空。")
            )
        name = name or user.real_name
    if competition.participants.filter(code=code).exists():
        raise InvalidInput.for_field("code", _("参赛编码“%(c)s”已被使用。") % {"c": code})
    if (
        organization is not None
        and competition.participants.filter(organization=organization).exists()
    ):
        raise Conflict(_("该单位已经参赛。"))
    if user is not None and competition.participants.filter(user=user).exists():
        raise Conflict(_("该会员已经参赛。"))
    if user is not None and not code:
        code = _next_person_code(competition)
    return Participant.objects.create(
        competition=competition,
        bracket=bracket,
        code=code,
        name=name,
        organization=organization,
        user=user,
        home=home,
    )


def _dec(raw: Any, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise InvalidInput.for_field(field, _("请填写数字。")) from None


@transaction.atomic
def indicator_create(
    *,
    actor: Any,
    competition: Competition,
    code: str,
    name: str,
    rule: str,
    unit: str = "",
    direction: str = Indicator.Direction.HIGHER,
    source: str = Indicator.Source.REPORTED,
    formula: str = "",
    count_source: str = "",
    count_param: str = "",
    required: bool = True,
    weight: Decimal | int | str = 0,
    target: Decimal | int | str | None = None,
    full_marks: Decimal | int | str = 100,
    cap: Decimal | int | str | None = None,
    floor: Decimal | int | str = 0,
    rank_first: Decimal | int | str | None = None,
    rank_step: Decimal | int | str | None = None,
    bands: list[Any] | None = None,
    per_unit: Decimal | int | str | None = None,
    veto_threshold: Decimal | int | str | None = None,
    position: int | None = None,
) -> Indicator:
    """Add an indicator; its own settings are checked here, the competition as a whole (weights
    adding up, formulas without cycles) by ``competition_check`` and again at compute."""
    _require_officer(actor=actor, program=competition.program)
    ind = Indicator(
        competition=competition,
        code=code.strip(),
        name=name.strip(),
        rule=rule,
        unit=unit.strip(),
        direction=direction,
        source=source,
        formula=formula.strip(),
        count_source=count_source,
        count_param=count_param,
        required=required,
        weight=_dec(weight, "weight") or Decimal(0),
        target=_dec(target, "target"),
        full_marks=_dec(full_marks, "full_marks") or Decimal(0),
        cap=_dec(cap, "cap"),
        floor=_dec(floor, "floor") or Decimal(0),
        rank_first=_dec(rank_first, "rank_first"),
        rank_step=_dec(rank_step, "rank_step"),
        bands=[[str(Decimal(str(t))), str(Decimal(str(p)))] for t, p in (bands or [])],
        per_unit=_dec(per_unit, "per_unit"),
        veto_threshold=_dec(veto_threshold, "veto_threshold"),
        position=position if position is not None else _next_position(competition.indicators),
    )
    from .scoring import count_sources, indicator_problems

    problems = indicator_problems(ind, count_sources=count_sources())
    bounded = ("weight", "target", "full_marks", "cap", "floor", "rank_first", "rank_step")
    try:
        values_check(
            Indicator,
            position=position,
            per_unit=ind.per_unit,
            veto_threshold=ind.veto_threshold,
            **{name: getattr(ind, name) for name in bounded},
        )
    except InvalidInput as exc:
        for name, messages in exc.detail["fields"].items():
            problems.setdefault(name, []).extend(messages)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,39}", ind.code):
        problems.setdefault("code", []).append(_("代码须以字母开头，只含字母、数字和下划线。"))
    if competition.indicators.filter(code=ind.code).exists():
        problems.setdefault("code", []).append(_("已有相同代码的指标。"))
    if competition.indicators.filter(name=ind.name).exists():
        problems.setdefault("name", []).append(_("已有同名的指标。"))
    if problems:
        first = next(iter(problems.values()))[0]
        raise RuleInvalid(first, detail={"fields": problems})
    ind.save()
    return ind


def competition_check(*, competition: Competition) -> None:
    """The competition as a whole: weights add up to the program's total, formulas refer to
    existing indicators without cycles, every rule is complete."""
    from .scoring import rules_load

    rules_load(competition=competition)


# --- periods -----------------------------------------------------------------------------------

# The quarter's numeral in the period label: 一 in Chinese, 1 in English.
_QUARTER_CN = {
    1: pgettext_lazy("quarter", "一"),
    2: pgettext_lazy("quarter", "二"),
    3: pgettext_lazy("quarter", "三"),
    4: pgettext_lazy("quarter", "四"),
}


def period_bounds(kind: str, key: str) -> tuple[dt.date, dt.date, str]:
    """Dates and label of a period key for a period kind; InvalidInput when it does not fit."""
    key = key.strip().upper()
    try:
        if kind == Competition.PeriodKind.QUARTER:
            m = re.fullmatch(r"(\d{4})-Q([1-4])", key)
            if m:
                y, q = int(m[1]), int(m[2])
                start = dt.date(y, 3 * q - 2, 1)
                end_month = 3 * q
                end = dt.date(y, end_month, calendar.monthrange(y, end_month)[1])
                label = _("%(y)d年第%(q)s季度") % {"y": y, "q": str(_QUARTER_CN[q])}
                return start, end, label
        elif kind == Competition.PeriodKind.MONTH:
            m = re.fullmatch(r"(\d{4})-(\d{2})", key)
            if m:
                y, mo = int(m[1]), int(m[2])
                start = dt.date(y, mo, 1)
                end = dt.date(y, mo, calendar.monthrange(y, mo)[1])
                return start, end, _("%(y)d年%(m)d月") % {"y": y, "m": mo}
        elif kind == Competition.PeriodKind.YEAR:
            m = re.fullmatch(r"(\d{4})", key)
            if m:
                y = int(m[1])
                return dt.date(y, 1, 1), dt.date(y, 12, 31), _("%(y)d年度") % {"y": y}
    except ValueError:
        pass
    examples = {"quarter": "2024-Q2", "month": "2024-06", "year": "2024"}
    raise InvalidInput.for_field(
        "key",
        _("期间“%(k)s”格式不对，应如 %(e)s。") % {"k": key, "e": examples.get(kind, "")},
    )


@transaction.atomic
def period_create(
    *,
    actor: Any,
    competition: Competition,
    key: str,
    label: str = "",
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Period:
    _require_officer(actor=actor, program=competition.program)
    start, end, default_label = period_bounds(competition.period_kind, key)
    key = key.strip().upper()
    if competition.periods.filter(key=key).exists():
        raise InvalidInput.for_field("key", _("该期间已存在。"))
    return Period.objects.create(
        competition=competition,
        key=key,
        label=label or default_label,
        starts_on=starts_on or start,
        ends_on=ends_on or end,
    )


@transaction.atomic
def period_set_state(*, actor: Any, period: Period, state: str) -> Period:
    _require_officer(actor=actor, program=period.competition.program)
    if state not in Period.State.values:
        raise InvalidInput.for_field("state", _("状态无效。"))
    if period.state == Period.State.LOCKED and state != Period.State.LOCKED:
        raise Conflict(_("已锁定的考核期不能重新打开；请用更正。"))
    old = period.state
    period.state = state
    period.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        action="competition_period.state",
        target=period,
        data={"from": old, "to": state},
    )
    return period


# --- reports -----------------------------------------------------------------------------------

# Below the column's 10**14 so that the value in millionths, as the engine reads it, fits a
# 64-bit integer.
_MAX_VALUE = Decimal(10) ** 12
_QUANT = Decimal(1).scaleb(-VALUE_PLACES)


def value_parse(raw: Any, *, indicator: Indicator) -> Decimal:
    """A reported value as a Decimal, or ValueInvalid naming the indicator and the reason."""
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueInvalid(
            _("指标“%(i)s”的数值不能为空。") % {"i": indicator.name},
            detail={"indicator": indicator.code},
        )
    if isinstance(raw, Decimal | int | float):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "").replace("，", "")
    else:
        text = "x"
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueInvalid(
            _("指标“%(i)s”的数值“%(v)s”不是数字。") % {"i": indicator.name, "v": raw},
            detail={"indicator": indicator.code, "value": str(raw)},
        )
    if abs(value) >= _MAX_VALUE:
        raise ValueInvalid(
            _("指标“%(i)s”的数值太大。") % {"i": indicator.name},
            detail={"indicator": indicator.code, "value": str(raw)},
        )
    return value.quantize(_QUANT)


def _check_unit(indicator: Indicator, unit: str | None) -> None:
    if unit is None:
        return
    if unit.strip() != indicator.unit:
        raise UnitMismatch(
            _("指标“%(i)s”的计量单位是“%(u)s”，填报的是“%(g)s”。")
            % {"i": indicator.name, "u": indicator.unit or "-", "g": unit.strip() or "-"},
            detail={"indicator": indicator.code, "unit": unit, "expected": indicator.unit},
        )


def _require_open(period: Period) -> None:
    if period.state != Period.State.OPEN:
        raise PeriodNotOpen(
            _("考核期“%(p)s”%(s)s，不能再填报。")
            % {"p": period.label, "s": period.get_state_display()},
            detail={"period": period.key, "state": period.state},
        )


def _reported_indicators(competition: Competition) -> dict[str, Indicator]:
    return {
        i.code: i
        for i in competition.indicators.filter(source=Indicator.Source.REPORTED).order_by(
            "position", "id"
        )
    }


def _write_values(
    report: Report,
    reported: dict[str, Indicator],
    values: Mapping[str, Any],
    units: Mapping[str, str] | None,
    notes: Mapping[str, str] | None,
) -> None:
    by_name = {i.name: i for i in reported.values()}
    parsed: dict[int, tuple[Decimal, str]] = {}
    for key, raw in values.items():
        ind = reported.get(key) or by_name.get(key)
        if ind is None:
            raise ValueInvalid(
                _("“%(k)s”不是本竞赛需要填报的指标。") % {"k": key}, detail={"indicator": key}
            )
        _check_unit(ind, (units or {}).get(key))
        parsed[ind.pk] = (value_parse(raw, indicator=ind), ((notes or {}).get(key) or "")[:200])
    existing = {v.indicator_id: v for v in report.values.all()}
    for ind_id, (value, note) in parsed.items():
        row = existing.get(ind_id)
        if row is None:
            ReportValue.objects.create(report=report, indicator_id=ind_id, value=value, note=note)
        elif row.value != value or row.note != note:
            row.value, row.note = value, note
            row.save(update_fields=["value", "note"])


@transaction.atomic
def report_save(
    *,
    actor: Any,
    participant: Participant,
    period: Period,
    values: Mapping[str, Any],
    units: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
    self_score: Decimal | int | str | None = None,
) -> Report:
    """Create or update the participant's draft (or returned) report for an open period."""
    if period.competition_id != participant.competition_id:
        raise InvalidInput.for_field("period", _("考核期不属于该竞赛。"))
    if not user_can_report(user=actor, participant=participant):
        raise NotReporter(detail={"participant": participant.code})
    period = Period.objects.select_for_update().get(pk=period.pk)
    _require_open(period)
    report = (
        Report.objects.select_for_update()
        .filter(participant=participant, period=period, is_current=True)
        .first()
    )
    if report is None:
        report = Report.objects.create(
            participant=participant,
            period=period,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    elif report.state not in (Report.State.DRAFT, Report.State.RETURNED):
        raise ReportStateInvalid(
            _("该填报%(s)s，不能再修改。") % {"s": report.get_state_display()},
            detail={"state": report.state},
        )
    _write_values(report, _reported_indicators(participant.competition), values, units, notes)
    if self_score is not None:
        if not participant.competition.self_score_enabled:
            raise InvalidInput.for_field("self_score", _("该竞赛未开启自评分。"))
        report.self_score = _dec(self_score, "self_score")
        values_check(Report, self_score=report.self_score)
        report.save(update_fields=["self_score", "updated_at"])
    return report


def _missing(report: Report) -> list[str]:
    have = set(report.values.values_list("indicator__code", flat=True))
    return [
        i.name
        for i in _reported_indicators(report.participant.competition).values()
        if i.required and i.code not in have
    ]


@transaction.atomic
def report_submit(*, actor: Any, report: Report) -> Report:
    report = (
        Report.objects.select_for_update()
        .select_related("participant__competition__program", "period")
        .get(pk=report.pk)
    )
    if not user_can_report(user=actor, participant=report.participant):
        raise NotReporter(detail={"participant": report.participant.code})
    _require_open(report.period)
    if report.state not in (Report.State.DRAFT, Report.State.RETURNED):
        raise ReportStateInvalid(detail={"state": report.state})
    missing = _missing(report)
    if missing:
        raise RequiredMissing(
            _("缺少必填指标：%(m)s。") % {"m": "、".join(missing)},
            detail={"missing": [{"participant": report.participant.code, "indicators": missing}]},
        )
    report.state = Report.State.SUBMITTED
    report.submitted_by = actor
    report.submitted_at = clock.now()
    report.return_reason = ""
    report.save()
    return report


def _require_assessor(actor: Any, report: Report) -> None:
    program = report.participant.competition.program
    if not user_is_assessor(user=actor, program=program):
        raise NotAssessor(detail={"program": program.pk})
    if assessor_own_unit(user=actor, participant=report.participant):
        raise OwnUnitAssessment(
            _("“%(p)s”属于您所在的单位，不能由您审核。") % {"p": report.participant.name},
            detail={"participant": report.participant.code},
        )


def _locked_report(report: Report) -> Report:
    return (
        Report.objects.select_for_update()
        .select_related(
            "participant__competition__program__organization", "participant__home", "period"
        )
        .get(pk=report.pk)
    )


@transaction.atomic
def report_verify(*, actor: Any, report: Report) -> Report:
    report = _locked_report(report)
    _require_assessor(actor, report)
    if report.state != Report.State.SUBMITTED:
        raise ReportStateInvalid(detail={"state": report.state})
    report.state = Report.State.VERIFIED
    report.verified_by = actor
    report.verified_at = clock.now()
    report.save()
    audit_record(actor=actor, action="competition_report.verify", target=report)
    return report


@transaction.atomic
def report_return(*, actor: Any, report: Report, reason: str) -> Report:
    report = _locked_report(report)
    _require_assessor(actor, report)
    if not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写退回理由。"))
    if report.state not in (Report.State.SUBMITTED, Report.State.VERIFIED):
        raise ReportStateInvalid(detail={"state": report.state})
    report.state = Report.State.RETURNED
    report.return_reason = reason.strip()
    report.verified_by = None
    report.verified_at = None
    report.save()
    audit_record(
        actor=actor, action="competition_report.return", target=report, data={"reason": reason}
    )
    return report


@transaction.atomic
def report_lock(*, actor: Any, report: Report) -> Report:
    report = _locked_report(report)
    _require_officer(actor=actor, program=report.participant.competition.program)
    if report.state != Report.State.VERIFIED:
        raise ReportStateInvalid(detail={"state": report.state})
    report.state = Report.State.LOCKED
    report.locked_at = clock.now()
    report.save()
    return report


@transaction.atomic
def report_correct(
    *,
    actor: Any,
    report: Report,
    values: Mapping[str, Any],
    reason: str,
    units: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> Report:
    """A correction after lock: a new current version carrying the old values with the
    corrected ones, and who, when and why; the old version stays as it was."""
    report = _locked_report(report)
    program = report.participant.competition.program
    if not user_is_program_officer(user=actor, program=program):
        _require_assessor(actor, report)
    if not report.is_current or report.state != Report.State.LOCKED:
        raise ReportStateInvalid(
            _("只有已锁定的当前版本可以更正。"), detail={"state": report.state}
        )
    if not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写更正理由。"))
    now = clock.now()
    Report.objects.filter(pk=report.pk).update(is_current=False)
    new = Report.objects.create(
        participant=report.participant,
        period=report.period,
        version=report.version + 1,
        supersedes=report,
        state=Report.State.LOCKED,
        self_score=report.self_score,
        created_by=report.created_by,
        submitted_by=report.submitted_by,
        submitted_at=report.submitted_at,
        verified_by=report.verified_by,
        verified_at=report.verified_at,
        locked_at=now,
        corrected_by=actor,
        corrected_at=now,
        correction_reason=reason.strip(),
    )
    ReportValue.objects.bulk_create(
        ReportValue(report=new, indicator_id=v.indicator_id, value=v.value, note=v.note)
        for v in report.values.all()
    )
    _write_values(new, _reported_indicators(report.participant.competition), values, units, notes)
    audit_record(
        actor=actor,
        action="competition_report.correct",
        target=new,
        data={
            "previous": report.pk,
            "reason": reason.strip(),
            "values": {k: str(v) for k, v in values.items()},
        },
    )
    return new


@transaction.atomic
def evidence_attach(
    *, actor: Any, report: Report, file: File[Any] | IO[bytes], name: str = ""
) -> Evidence:
    report = _locked_report(report)
    if not user_can_report(user=actor, participant=report.participant):
        raise NotReporter(detail={"participant": report.participant.code})
    if report.state not in (Report.State.DRAFT, Report.State.RETURNED):
        raise ReportStateInvalid(detail={"state": report.state})
    django_file = file if isinstance(file, File) else File(file)
    filename = name or (getattr(django_file, "name", "") or "evidence").rsplit("/", 1)[-1]
    ev = Evidence(report=report, name=filename[:200], uploaded_by=actor)
    ev.file.save(filename, django_file, save=False)
    ev.save()
    return ev


@dataclass
class ImportResult:
    reports: list[Report]
    values: int


def reports_import(
    *,
    actor: Any,
    competition: Competition,
    file: IO[bytes],
    submit: bool = False,
    progress: ImportProgress | None = None,
) -> ImportResult:
    from .importing import reports_import as run

    result: ImportResult = run(
        actor=actor, competition=competition, file=file, submit=submit, progress=progress
    )
    return result


def reports_import_start(
    *, actor: Any, competition: Competition, file: UploadedFile[Any], submit: bool = False
) -> ImportJob:
    """Import a large file of reports in the background (``reports_import`` run by a task);
    the job reports its progress, then the same result or the same errors. Each row's right
    is checked as the file is read, as in the request."""
    from .tasks import REPORTS_IMPORT_TASK

    job = import_job_create(
        kind=ImportJob.Kind.REPORTS,
        organization=competition.program.organization,
        actor=actor,
        file=file,
        params={"competition": competition.pk, "submit": submit},
    )
    enqueue(REPORTS_IMPORT_TASK, job_id=job.pk)
    return job


def import_template(*, competition: Competition, period: Period | None = None) -> bytes:
    from .importing import import_template as build

    return build(competition=competition, period=period)


# --- scoring -----------------------------------------------------------------------------------


@transaction.atomic
def period_compute(*, actor: Any, period: Period) -> Snapshot:
    from .scoring import compute_and_store

    _require_officer(actor=actor, program=period.competition.program)
    return compute_and_store(period=period, actor=actor)


@transaction.atomic
def program_period_compute(
    *, actor: Any, program: Program, key: str, workers: int | None = None
) -> list[Snapshot]:
    """Compute the period ``key`` (e.g. 2024-Q2) of every competition of the program, each as
    ``period_compute`` does, the competitions scored in parallel processes (``workers``,
    default as many as the cores left idle by the load average, else none): their snapshots
    in competition order, the same whatever the number of workers. Competitions without
    that period are left out."""
    from .scoring import compute_and_store_many

    _require_officer(actor=actor, program=program)
    periods = list(
        Period.objects.select_for_update(of=("self",))
        .filter(competition__program=program, key=key)
        .select_related("competition__program")
        .order_by("competition__category__position", "competition__position", "competition_id")
    )
    return compute_and_store_many(periods=periods, actor=actor, workers=workers)


@transaction.atomic
def snapshot_publish(*, actor: Any, snapshot: Snapshot) -> Snapshot:
    from .scoring import outcomes_build

    snapshot = (
        Snapshot.objects.select_for_update()
        .select_related("period__competition__program__organization")
        .get(pk=snapshot.pk)
    )
    period = snapshot.period
    _require_officer(actor=actor, program=period.competition.program)
    if snapshot.published_at is not None:
        return snapshot
    if period.snapshots.filter(published_at__isnull=False).exists():
        raise SnapshotPublished(detail={"period": period.key})
    latest = period.snapshots.order_by("-number").first()
    if latest is not None and latest.pk != snapshot.pk:
        raise Conflict(_("只能发布最新一次计算的结果。"))
    now = clock.now()
    snapshot.published_at = now
    snapshot.published_by = actor
    snapshot.save(update_fields=["published_at", "published_by"])
    Report.objects.filter(period=period, is_current=True, state=Report.State.VERIFIED).update(
        state=Report.State.LOCKED, locked_at=now, updated_at=now
    )
    if period.state != Period.State.LOCKED:
        period.state = Period.State.LOCKED
        period.save(update_fields=["state", "updated_at"])
    outcomes_build(snapshot=snapshot)
    audit_record(
        actor=actor,
        action="competition_snapshot.publish",
        target=snapshot,
        data={"hash": snapshot.content_hash},
    )
    return snapshot


# --- outcomes ----------------------------------------------------------------------------------


@transaction.atomic
def help_assign(
    *,
    actor: Any,
    assignment: HelpAssignment,
    helper_organization: Organization | None = None,
    helper_user: Any = None,
    action_plan: str = "",
) -> HelpAssignment:
    program = assignment.snapshot.period.competition.program
    _require_officer(actor=actor, program=program)
    if helper_organization is not None and not _in_subtree(
        helper_organization.path, program.organization.path
    ):
        raise OutsideProgram(detail={"organization": helper_organization.pk})
    assignment.helper_organization = helper_organization
    assignment.helper_user = helper_user
    assignment.action_plan = action_plan.strip()
    assignment.save()
    return assignment


@transaction.atomic
def help_note_add(*, actor: Any, assignment: HelpAssignment, text: str) -> HelpNote:
    program = assignment.snapshot.period.competition.program
    is_helper = assignment.helper_user_id is not None and assignment.helper_user_id == getattr(
        actor, "pk", None
    )
    if not is_helper:
        _require_officer(actor=actor, program=program)
    if not text.strip():
        raise InvalidInput.for_field("text", _("请填写跟踪记录。"))
    return HelpNote.objects.create(assignment=assignment, author=actor, text=text.strip())


@transaction.atomic
def title_nominate(
    *, actor: Any, snapshot: Snapshot, participant: Participant, name: str = "", citation: str = ""
) -> Title:
    snapshot = Snapshot.objects.select_related("period__competition__program__organization").get(
        pk=snapshot.pk
    )
    period = snapshot.period
    competition = period.competition
    _require_officer(actor=actor, program=competition.program)
    if snapshot.published_at is None:
        raise Conflict(_("排名发布后才能提名称号。"))
    if competition.participant_kind != Competition.ParticipantKind.INDIVIDUAL:
        raise InvalidInput.for_field("participant", _("称号授予个人，该竞赛的参赛者是单位。"))
    row = snapshot.rows.filter(participant=participant).first()
    if row is None:
        raise InvalidInput.for_field("participant", _("该参赛者不在本期排名中。"))
    if row.vetoed:
        raise InvalidInput.for_field("participant", _("该参赛者本期被一票否决，不能提名。"))
    title_name = name.strip() or competition.title_name
    if not title_name:
        raise InvalidInput.for_field("name", _("请填写称号名称。"))
    full = title_name if title_name.startswith(period.label) else f"{period.label} {title_name}"
    if snapshot.titles.filter(participant=participant, name=full).exists():
        raise Conflict(_("已经提名过该称号。"))
    return Title.objects.create(
        snapshot=snapshot,
        participant=participant,
        name=full,
        rank=row.rank,
        citation=citation.strip(),
        nominated_by=actor,
    )


def _decide(actor: Any, title: Title, state: str) -> Title:
    title = (
        Title.objects.select_for_update(of=("self",))
        .select_related("snapshot__period__competition__program__organization", "participant__user")
        .get(pk=title.pk)
    )
    _require_officer(actor=actor, program=title.snapshot.period.competition.program)
    if title.state != Title.State.NOMINATED:
        raise Conflict(detail={"state": title.state})
    title.state = state
    title.decided_by = actor
    title.decided_at = clock.now()
    title.save()
    audit_record(actor=actor, action=f"competition_title.{state}", target=title)
    return title


@transaction.atomic
def title_approve(*, actor: Any, title: Title) -> Title:
    return _decide(actor, title, Title.State.APPROVED)


@transaction.atomic
def title_reject(*, actor: Any, title: Title) -> Title:
    return _decide(actor, title, Title.State.REJECTED)


@transaction.atomic
def title_publish(*, actor: Any, title: Title) -> Title:
    """Publish an approved title and issue its certificate (idempotent on the title)."""
    from saidao.certificates.services import certificate_issue

    title = (
        Title.objects.select_for_update(of=("self",))
        .select_related("snapshot__period__competition__program__organization", "participant__user")
        .get(pk=title.pk)
    )
    competition = title.snapshot.period.competition
    _require_officer(actor=actor, program=competition.program)
    if title.state == Title.State.PUBLISHED:
        return title
    if title.state != Title.State.APPROVED:
        raise Conflict(_("称号须经批准后才能公布。"), detail={"state": title.state})
    row = title.snapshot.rows.get(participant=title.participant)
    cert = certificate_issue(
        holder=title.participant.user,
        holder_name=title.participant.name,
        kind="title",
        title=title.name,
        event_name=f"{competition.program.name} · {competition.name}",
        issuer=competition.program.organization,
        issued_on=clock.today(),
        details=[(_("名次"), str(row.rank)), (_("总分"), f"{row.total.normalize():f}")],
        source=f"competition-title:{title.pk}",
    )
    title.state = Title.State.PUBLISHED
    title.published_at = clock.now()
    title.certificate_code = cert.code
    title.save()
    audit_record(actor=actor, action="competition_title.publish", target=title)
    return title
