"""The scoring engine: rules → per-participant points → ranks → an immutable snapshot.

Rules of arithmetic (stated so results can be checked by hand):

* Values are Decimals with 6 places; points and contributions are quantized to 4 places,
  half up, per indicator; the total is the exact sum of the quantized contributions.
* Weighted rules give ``points`` on a scale of ``full_marks``; the contribution is
  ``points × weight ÷ full_marks``. The weights of a competition add up to the program's
  total weight.

  - attainment: ``value ÷ target`` (``target ÷ value`` when lower is better; a target left
    empty means 1, i.e. the value already is a ratio such as actual ÷ design) × full marks,
    then at most ``cap`` and at least ``floor``. Lower is better with a value of 0 scores the
    cap (or full marks).
  - rank: within the bracket, by the value: first gets ``rank_first`` (default full marks),
    each place below ``rank_step`` less, never below ``floor``; ties share the place.
  - bands: ``[[threshold, points], ...]``: the points of the best threshold reached (value ≥
    threshold when higher is better, ≤ when lower), else ``floor``.
* Bonus items add ``value × per_unit`` (at most ``cap``), penalty items subtract it.
* A veto item disqualifies when its value reaches ``veto_threshold`` (default 1): the total
  becomes 0 and the participant ranks after everyone not vetoed.
* A missing optional value scores 0 points.
* Ranking, per bracket, is competition ranking (1, 2, 2, 4) by: fewer vetoes, higher total,
  then the higher contribution on the heaviest indicator (largest weight, then first in
  order); participants equal on all three share the place and are listed by code.

The snapshot's content hash is SHA-256 over canonical JSON (sorted keys, no spaces, decimals
as strings) of the rules hash and every row, so the same reports and rules always give the
same hash in any process; the rules hash likewise covers every scoring setting.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from saidao.core import clock

from . import formula as formula_mod
from .errors import DivisionByZero, FormulaInvalid, RequiredMissing, RuleInvalid, WeightsInvalid
from .models import (
    Award,
    Bracket,
    Competition,
    HelpAssignment,
    Indicator,
    Participant,
    Period,
    Report,
    ReportValue,
    Snapshot,
    SnapshotRow,
)

Q4 = Decimal("0.0001")
Q6 = Decimal("0.000001")
ZERO = Decimal(0)
ONE = Decimal(1)
BATCH = 2000
WEIGHTED = (Indicator.Rule.ATTAINMENT, Indicator.Rule.RANK, Indicator.Rule.BANDS)

# --- count sources: values from the platform's own data ---------------------------------------


@dataclass(frozen=True)
class CountInput:
    participant_id: int
    home_path: str
    user_id: int | None


CountFn = Callable[[list[CountInput], str, Period], dict[int, Decimal]]


def _count_members(items: list[CountInput], param: str, period: Period) -> dict[int, Decimal]:
    """Current members of the participant's unit and the units below it (1 for a person)."""
    from saidao.accounts.models import Membership
    from saidao.orgs.selectors import subtree_q

    out: dict[int, Decimal] = {}
    for it in items:
        if it.user_id is not None:
            out[it.participant_id] = ONE
            continue
        n = Membership.objects.filter(
            subtree_q(it.home_path, field="organization__path"), left_at__isnull=True
        ).count()
        out[it.participant_id] = Decimal(n)
    return out


def _count_campaign(items: list[CountInput], param: str, period: Period) -> dict[int, Decimal]:
    """Distinct members of the unit (or the person) who took part in the campaign whose slug
    is ``param`` during the period."""
    from saidao.leaderboards.models import ParticipationEvent
    from saidao.orgs.selectors import subtree_q

    base = ParticipationEvent.objects.filter(
        campaign__slug=param,
        voids__isnull=True,
        created_at__date__gte=period.starts_on,
        created_at__date__lte=period.ends_on,
    ).exclude(voided_by__isnull=False)
    out: dict[int, Decimal] = {}
    for it in items:
        if it.user_id is not None:
            qs = base.filter(worker_id=it.user_id)
        else:
            qs = base.filter(subtree_q(it.home_path, field="organization__path"))
        out[it.participant_id] = Decimal(qs.aggregate(n=Count("worker", distinct=True))["n"])
    return out


_COUNT_SOURCES: dict[str, tuple[str, CountFn]] = {
    "members": ("会员人数", _count_members),
    "campaign_participants": ("参与活动人数（参数：活动标识）", _count_campaign),
}


def count_sources() -> dict[str, str]:
    """The registry of count sources: key → description."""
    return {k: v[0] for k, v in _COUNT_SOURCES.items()}


# --- rules -------------------------------------------------------------------------------------


def _s(d: Decimal | None) -> str | None:
    return None if d is None else format(d.normalize(), "f")


def indicator_problems(ind: Indicator, *, count_sources: Mapping[str, str]) -> dict[str, list[str]]:
    """An indicator's own settings, checked without the rest of its competition."""
    p: dict[str, list[str]] = defaultdict(list)
    if ind.rule not in Indicator.Rule.values:
        p["rule"].append(_("计分规则无效。"))
    if ind.direction not in Indicator.Direction.values:
        p["direction"].append(_("方向无效。"))
    if ind.source not in Indicator.Source.values:
        p["source"].append(_("数据来源无效。"))
    if ind.source == Indicator.Source.FORMULA:
        try:
            formula_mod.parse(ind.formula)
        except FormulaInvalid as exc:
            p["formula"].append(str(exc.message))
    if ind.source == Indicator.Source.COUNT and ind.count_source not in count_sources:
        p["count_source"].append(_("统计口径无效，可选：%(s)s。") % {"s": "、".join(count_sources)})
    weighted = ind.rule in WEIGHTED
    if weighted and ind.weight <= 0:
        p["weight"].append(_("计分指标的权重须大于零。"))
    if not weighted and ind.weight != 0:
        p["weight"].append(_("加分、扣分、否决和不计分指标不占权重，权重须为 0。"))
    if ind.full_marks is None or ind.full_marks <= 0:
        p["full_marks"].append(_("满分须大于零。"))
    if ind.cap is not None and ind.cap < ind.floor:
        p["cap"].append(_("封顶分不能低于保底分。"))
    if ind.rule == Indicator.Rule.ATTAINMENT and ind.target is not None and ind.target <= 0:
        p["target"].append(_("目标值须大于零。"))
    if ind.rule == Indicator.Rule.RANK and (ind.rank_step is None or ind.rank_step < 0):
        p["rank_step"].append(_("名次计分须填写每名次递减的分值。"))
    if ind.rule == Indicator.Rule.BANDS and not ind.bands:
        p["bands"].append(_("分档计分须至少设置一档。"))
    if ind.rule in (Indicator.Rule.BONUS, Indicator.Rule.PENALTY) and not ind.per_unit:
        p["per_unit"].append(_("加分、扣分项须填写每单位分值。"))
    return dict(p)


@dataclass
class IndicatorRule:
    id: int
    code: str
    name: str
    unit: str
    position: int
    direction: str
    source: str
    rule: str
    required: bool
    weight: Decimal
    full_marks: Decimal
    target: Decimal | None
    cap: Decimal | None
    floor: Decimal
    rank_first: Decimal | None
    rank_step: Decimal | None
    bands: list[tuple[Decimal, Decimal]]
    per_unit: Decimal | None
    veto_threshold: Decimal | None
    formula: formula_mod.Formula | None
    count_source: str
    count_param: str

    @property
    def higher(self) -> bool:
        return self.direction == Indicator.Direction.HIGHER

    def canonical(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "unit": self.unit,
            "position": self.position,
            "direction": self.direction,
            "source": self.source,
            "rule": self.rule,
            "required": self.required,
            "weight": _s(self.weight),
            "full_marks": _s(self.full_marks),
            "target": _s(self.target),
            "cap": _s(self.cap),
            "floor": _s(self.floor),
            "rank_first": _s(self.rank_first),
            "rank_step": _s(self.rank_step),
            "bands": [[_s(t), _s(p)] for t, p in self.bands],
            "per_unit": _s(self.per_unit),
            "veto_threshold": _s(self.veto_threshold),
            "formula": self.formula.source if self.formula else "",
            "count_source": self.count_source,
            "count_param": self.count_param,
        }


@dataclass
class Rules:
    competition_id: int
    total_weight: Decimal
    indicators: list[IndicatorRule]
    formula_order: list[str]
    heaviest: str | None
    canonical: dict[str, Any]
    hash: str

    def by_code(self) -> dict[str, IndicatorRule]:
        return {i.code: i for i in self.indicators}


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rules_build(
    *, competition_id: int, total_weight: Decimal, indicators: Iterable[Indicator]
) -> Rules:
    """Check and compile the rules of a competition; the errors name what is wrong."""
    inds = sorted(indicators, key=lambda i: (i.position, i.pk or 0))
    sources = count_sources()
    problems = {i.code: indicator_problems(i, count_sources=sources) for i in inds}
    problems = {k: v for k, v in problems.items() if v}
    if problems:
        code, fields = next(iter(problems.items()))
        first = next(iter(fields.values()))[0]
        raise RuleInvalid(
            _("指标 %(c)s：%(m)s") % {"c": code, "m": first}, detail={"indicators": problems}
        )
    compiled: list[IndicatorRule] = []
    formulas: dict[str, formula_mod.Formula] = {}
    for i in inds:
        f = formula_mod.parse(i.formula) if i.source == Indicator.Source.FORMULA else None
        if f is not None:
            formulas[i.code] = f
        bands = sorted(
            ((Decimal(str(t)), Decimal(str(p))) for t, p in (i.bands or [])),
            key=lambda b: b[0],
            reverse=i.direction == Indicator.Direction.HIGHER,
        )
        compiled.append(
            IndicatorRule(
                id=i.pk or 0,
                code=i.code,
                name=i.name,
                unit=i.unit,
                position=i.position,
                direction=i.direction,
                source=i.source,
                rule=i.rule,
                required=i.required,
                weight=Decimal(i.weight),
                full_marks=Decimal(i.full_marks),
                target=None if i.target is None else Decimal(i.target),
                cap=None if i.cap is None else Decimal(i.cap),
                floor=Decimal(i.floor),
                rank_first=None if i.rank_first is None else Decimal(i.rank_first),
                rank_step=None if i.rank_step is None else Decimal(i.rank_step),
                bands=bands,
                per_unit=None if i.per_unit is None else Decimal(i.per_unit),
                veto_threshold=None if i.veto_threshold is None else Decimal(i.veto_threshold),
                formula=f,
                count_source=i.count_source,
                count_param=i.count_param,
            )
        )
    order = formula_mod.evaluation_order(formulas, {c.code for c in compiled} - set(formulas))
    weighted = [c for c in compiled if c.rule in WEIGHTED]
    total = sum((c.weight for c in weighted), ZERO)
    if total != total_weight:
        raise WeightsInvalid(
            _("各计分指标的权重之和为 %(s)s，应等于总权重 %(t)s。")
            % {"s": _s(total), "t": _s(total_weight)},
            detail={
                "sum": _s(total),
                "total_weight": _s(total_weight),
                "weights": {c.code: _s(c.weight) for c in weighted},
            },
        )
    heaviest = None
    if weighted:
        heaviest = min(weighted, key=lambda c: (-c.weight, c.position, c.code)).code
    canonical = {
        "total_weight": _s(total_weight),
        "indicators": [c.canonical() for c in compiled],
        "tie_break": ["vetoes", "total", f"contribution:{heaviest}"],
    }
    return Rules(
        competition_id=competition_id,
        total_weight=total_weight,
        indicators=compiled,
        formula_order=order,
        heaviest=heaviest,
        canonical=canonical,
        hash=sha256(canonical_json(canonical)),
    )


def rules_load(*, competition: Competition) -> Rules:
    return rules_build(
        competition_id=competition.pk,
        total_weight=Decimal(competition.program.total_weight),
        indicators=list(competition.indicators.all()),
    )


# --- the engine (pure Python over dicts) ------------------------------------------------------


@dataclass
class Entrant:
    id: int
    code: str
    bracket: int | None  # bracket id
    bracket_order: tuple[int, int]  # (position, id) for listing brackets
    self_score: Decimal | None = None


@dataclass
class RowResult:
    entrant: Entrant
    values: dict[str, Decimal | None]
    points: dict[str, Decimal]
    contributions: dict[str, Decimal]
    bonus: Decimal = ZERO
    penalty: Decimal = ZERO
    vetoes: int = 0
    total: Decimal = ZERO
    rank: int = 0
    position: int = 0

    def details(self, rules: Rules) -> dict[str, list[str | None]]:
        return {
            c.code: [
                _s6(self.values.get(c.code)),
                _s4(self.points.get(c.code, ZERO)),
                _s4(self.contributions.get(c.code, ZERO)),
            ]
            for c in rules.indicators
        }


def _s4(d: Decimal) -> str:
    return str(d.quantize(Q4))


def _s6(d: Decimal | None) -> str | None:
    return None if d is None else str(d.quantize(Q6))


@dataclass
class EngineResult:
    rules: Rules
    rows: list[RowResult]
    content_hash: str
    missing: list[dict[str, Any]] = field(default_factory=list)


def _clamp(points: Decimal, r: IndicatorRule) -> Decimal:
    if r.cap is not None and points > r.cap:
        points = r.cap
    if points < r.floor:
        points = r.floor
    return points


def _attainment(v: Decimal, r: IndicatorRule) -> Decimal:
    target = r.target if r.target is not None else ONE
    if r.higher:
        ratio = v / target
    elif v <= 0:
        return r.cap if r.cap is not None else r.full_marks
    else:
        ratio = target / v
    return _clamp(ratio * r.full_marks, r)


def _bands(v: Decimal, r: IndicatorRule) -> Decimal:
    for threshold, pts in r.bands:  # best first
        if (v >= threshold) if r.higher else (v <= threshold):
            return pts
    return r.floor


def compute(
    *,
    rules: Rules,
    entrants: list[Entrant],
    values: Mapping[int, Mapping[str, Decimal]],
    period_key: str,
) -> EngineResult:
    """Score, rank and hash. ``values`` maps entrant id → {indicator code: value} for the
    reported and counted indicators; formulas are evaluated here. Raises RequiredMissing
    (listing every participant and indicator) and DivisionByZero (naming the participant)."""
    inds = rules.indicators
    by_code = rules.by_code()
    base_codes = [c.code for c in inds if c.source != Indicator.Source.FORMULA]
    required = [c for c in inds if c.required and c.source == Indicator.Source.REPORTED]
    order = [by_code[c] for c in rules.formula_order]
    rank_rules = [c for c in inds if c.rule == Indicator.Rule.RANK]
    simple: list[tuple[IndicatorRule, Decimal]] = [
        (c, c.weight / c.full_marks) for c in inds if c.rule != Indicator.Rule.RANK
    ]
    rows: list[RowResult] = []
    missing: list[dict[str, Any]] = []
    for e in entrants:
        got = values.get(e.id, {})
        vals: dict[str, Decimal | None] = {code: got.get(code) for code in base_codes}
        lacking = [c.name for c in required if vals.get(c.code) is None]
        if lacking:
            missing.append({"participant": e.code, "indicators": lacking})
            continue
        for f in order:
            try:
                vals[f.code] = f.formula.evaluate(vals)  # type: ignore[union-attr]
            except DivisionByZero as exc:
                raise DivisionByZero(
                    _("参赛者 %(p)s 的指标“%(i)s”计算时除数为零（公式 %(f)s）。")
                    % {"p": e.code, "i": f.name, "f": f.formula.source},  # type: ignore[union-attr]
                    detail={"participant": e.code, "indicator": f.code, **exc.detail},
                ) from None
        points: dict[str, Decimal] = {}
        contrib: dict[str, Decimal] = {}
        row = RowResult(e, vals, points, contrib)
        for c, factor in simple:
            v = vals.get(c.code)
            rule = c.rule
            if v is None:
                points[c.code] = ZERO
                contrib[c.code] = ZERO
                continue
            if rule == "attainment":
                p = _attainment(v, c).quantize(Q4, ROUND_HALF_UP)
                points[c.code] = p
                contrib[c.code] = (p * factor).quantize(Q4, ROUND_HALF_UP)
            elif rule == "bands":
                p = _bands(v, c).quantize(Q4, ROUND_HALF_UP)
                points[c.code] = p
                contrib[c.code] = (p * factor).quantize(Q4, ROUND_HALF_UP)
            elif rule == "bonus" or rule == "penalty":
                p = v * c.per_unit  # type: ignore[operator]
                if p < 0:
                    p = ZERO
                if c.cap is not None and p > c.cap:
                    p = c.cap
                p = p.quantize(Q4, ROUND_HALF_UP)
                points[c.code] = p
                if rule == "bonus":
                    contrib[c.code] = p
                    row.bonus += p
                else:
                    contrib[c.code] = -p
                    row.penalty += p
            elif rule == "veto":
                hit = v >= (c.veto_threshold if c.veto_threshold is not None else ONE)
                points[c.code] = ZERO
                contrib[c.code] = ZERO
                if hit:
                    row.vetoes += 1
            else:
                points[c.code] = ZERO
                contrib[c.code] = ZERO
        rows.append(row)
    if missing:
        names = "；".join(
            f"{m['participant']}（{'、'.join(m['indicators'])}）" for m in missing[:10]
        )
        raise RequiredMissing(
            _("%(n)d 个参赛者缺少已审核的必填指标：%(l)s") % {"n": len(missing), "l": names},
            detail={"missing": missing},
        )
    groups: dict[int | None, list[RowResult]] = defaultdict(list)
    for row in rows:
        groups[row.entrant.bracket].append(row)
    for c in rank_rules:
        first = c.rank_first if c.rank_first is not None else c.full_marks
        step = c.rank_step or ZERO
        factor = c.weight / c.full_marks
        for members in groups.values():
            present = [r for r in members if r.values.get(c.code) is not None]
            present.sort(key=lambda r: r.values[c.code], reverse=c.higher)  # type: ignore[arg-type, return-value]
            place, previous = 0, None
            for n, r in enumerate(present, start=1):
                v = r.values[c.code]
                if v != previous:
                    place, previous = n, v
                p = first - step * (place - 1)
                if p < c.floor:
                    p = c.floor
                p = p.quantize(Q4, ROUND_HALF_UP)
                r.points[c.code] = p
                r.contributions[c.code] = (p * factor).quantize(Q4, ROUND_HALF_UP)
            for r in members:
                if r.values.get(c.code) is None:
                    r.points[c.code] = ZERO
                    r.contributions[c.code] = ZERO
    heaviest = rules.heaviest
    ordered: list[RowResult] = []
    for bracket in sorted(groups, key=lambda b: (b is None, groups[b][0].entrant.bracket_order)):
        members = groups[bracket]
        for r in members:
            r.total = ZERO if r.vetoes else sum(r.contributions.values(), ZERO)

        def key(r: RowResult) -> tuple[int, Decimal, Decimal]:
            tb = r.contributions.get(heaviest, ZERO) if heaviest and not r.vetoes else ZERO
            return (r.vetoes, -r.total, -tb)

        members.sort(key=lambda r: (key(r), r.entrant.code))
        prev_key = None
        rank = 0
        for n, r in enumerate(members, start=1):
            k = key(r)
            if k != prev_key:
                rank, prev_key = n, k
            r.rank = rank
        ordered.extend(members)
    for n, r in enumerate(ordered, start=1):
        r.position = n
    content = {
        "rules": rules.hash,
        "period": period_key,
        "rows": [
            [
                r.entrant.code,
                r.entrant.bracket,
                r.rank,
                str(r.total),
                str(r.bonus),
                str(r.penalty),
                r.vetoes,
                None if r.entrant.self_score is None else str(r.entrant.self_score),
                [
                    [
                        c.code,
                        _s6(r.values.get(c.code)),
                        str(r.points.get(c.code, ZERO)),
                        str(r.contributions.get(c.code, ZERO)),
                    ]
                    for c in inds
                ],
            ]
            for r in ordered
        ],
    }
    return EngineResult(rules=rules, rows=ordered, content_hash=sha256(canonical_json(content)))


# --- reading a period and storing the snapshot ------------------------------------------------

SCORED_STATES = (Report.State.VERIFIED, Report.State.LOCKED)


def period_inputs(
    *, period: Period, rules: Rules
) -> tuple[list[Entrant], dict[int, dict[str, Decimal]]]:
    """The active participants and all their scored values: one query for the values."""
    brackets = {
        b.pk: (b.position, b.pk)
        for b in Bracket.objects.filter(competition_id=period.competition_id)
    }
    self_scores = dict(
        Report.objects.filter(
            period=period, is_current=True, state__in=SCORED_STATES, self_score__isnull=False
        ).values_list("participant_id", "self_score")
    )
    entrants = [
        Entrant(pid, code, bid, brackets.get(bid, (0, 0)) if bid else (0, 0), self_scores.get(pid))
        for pid, code, bid in Participant.objects.filter(
            competition_id=period.competition_id, active=True
        )
        .order_by("code")
        .values_list("id", "code", "bracket_id")
    ]
    codes = {c.id: c.code for c in rules.indicators}
    values: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = ReportValue.objects.filter(
        report__period=period, report__is_current=True, report__state__in=SCORED_STATES
    ).values_list("report__participant_id", "indicator_id", "value")
    for pid, iid, value in rows.iterator(chunk_size=20000):
        code = codes.get(iid)
        if code is not None:
            values[pid][code] = value
    counted = [c for c in rules.indicators if c.source == Indicator.Source.COUNT]
    if counted:
        info = {
            p.pk: CountInput(p.pk, p.home.path, p.user_id)
            for p in Participant.objects.filter(
                competition_id=period.competition_id, active=True
            ).select_related("home")
        }
        items = list(info.values())
        for c in counted:
            fn = _COUNT_SOURCES[c.count_source][1]
            for pid, v in fn(items, c.count_param, period).items():
                values[pid][c.code] = v
    return entrants, values


def store_snapshot(*, period: Period, result: EngineResult, actor: Any) -> Snapshot:
    """Insert the snapshot and its rows in batches (the caller holds the transaction)."""
    number = (
        period.snapshots.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    snap = Snapshot.objects.create(
        period=period,
        number=number,
        rules_hash=result.rules.hash,
        content_hash=result.content_hash,
        rules=result.rules.canonical,
        computed_by=actor if getattr(actor, "pk", None) else None,
        computed_at=clock.now(),
        row_count=len(result.rows),
    )
    rules = result.rules
    batch: list[SnapshotRow] = []
    for r in result.rows:
        batch.append(
            SnapshotRow(
                snapshot=snap,
                participant_id=r.entrant.id,
                bracket_id=r.entrant.bracket,
                position=r.position,
                rank=r.rank,
                total=r.total,
                bonus=r.bonus,
                penalty=r.penalty,
                vetoed=bool(r.vetoes),
                self_score=r.entrant.self_score,
                values=r.details(rules),
            )
        )
        if len(batch) >= BATCH:
            SnapshotRow.objects.bulk_create(batch)
            batch = []
    if batch:
        SnapshotRow.objects.bulk_create(batch)
    return snap


def compute_period(*, period: Period) -> EngineResult:
    rules = rules_load(competition=period.competition)
    entrants, values = period_inputs(period=period, rules=rules)
    return compute(rules=rules, entrants=entrants, values=values, period_key=period.key)


@transaction.atomic
def compute_and_store(*, period: Period, actor: Any) -> Snapshot:
    """Compute the period; the latest snapshot when nothing changed, else a new one."""
    period = (
        Period.objects.select_for_update().select_related("competition__program").get(pk=period.pk)
    )
    result = compute_period(period=period)
    latest = period.snapshots.order_by("-number").first()
    if latest is not None and latest.content_hash == result.content_hash:
        return latest
    return store_snapshot(period=period, result=result, actor=actor)


# --- outcomes ----------------------------------------------------------------------------------


def _award_rows(rows: list[SnapshotRow], competition: Competition) -> list[SnapshotRow]:
    eligible = [r for r in rows if not r.vetoed]
    if not eligible:
        return []
    limit: int | None = None
    if competition.award_top_n:
        limit = competition.award_top_n
    if competition.award_top_percent:
        by_pct = max(1, math.ceil(len(rows) * competition.award_top_percent / 100))
        limit = by_pct if limit is None else min(limit, by_pct)
    if limit is None:
        return []
    return [r for r in eligible if r.rank <= limit]


def bonus_split(
    *, pool: Decimal, rule: str, rows: list[tuple[int, int, Decimal]], shares: list[Decimal]
) -> dict[int, Decimal]:
    """Split ``pool`` over (key, rank, total) rows; amounts are rounded down to the fen, and
    what rounding leaves stays in the pool.

    proportional: in proportion to total score. rank_shares: place n gets shares[n-1] percent
    of the pool; participants sharing a place split the shares of the places they take."""
    fen = Decimal("0.01")
    out: dict[int, Decimal] = {}
    if not rows:
        return out
    if rule == Competition.BonusRule.PROPORTIONAL:
        total = sum((t for _k, _r, t in rows if t > 0), ZERO)
        for k, _r, t in rows:
            out[k] = (pool * t / total).quantize(fen, ROUND_DOWN) if total > 0 and t > 0 else ZERO
    elif rule == Competition.BonusRule.RANK_SHARES:
        by_rank: dict[int, list[int]] = defaultdict(list)
        for k, rank, _t in rows:
            by_rank[rank].append(k)
        for rank, keys in by_rank.items():
            places = range(rank, rank + len(keys))
            pct = sum((shares[p - 1] for p in places if p - 1 < len(shares)), ZERO)
            each = (pool * pct / 100 / len(keys)).quantize(fen, ROUND_DOWN)
            for k in keys:
                out[k] = each
    return out


def outcomes_build(*, snapshot: Snapshot) -> None:
    """Award list (with bonus) and help list of a snapshot being published, per bracket.

    The bonus pool is divided equally between brackets that have awards, then by the rule.
    """
    competition = snapshot.period.competition
    groups: dict[int | None, list[SnapshotRow]] = defaultdict(list)
    for r in snapshot.rows.order_by("position"):
        groups[r.bracket_id].append(r)
    awards_by_group = {b: _award_rows(rows, competition) for b, rows in groups.items()}
    with_awards = [b for b, a in awards_by_group.items() if a]
    pool = Decimal(competition.bonus_pool or 0)
    shares = [Decimal(str(s)) for s in (competition.bonus_shares or [])]
    awards: list[Award] = []
    for b in with_awards:
        amounts: dict[int, Decimal] = {}
        if pool > 0 and competition.bonus_rule != Competition.BonusRule.NONE:
            amounts = bonus_split(
                pool=(pool / len(with_awards)).quantize(Decimal("0.01"), ROUND_DOWN),
                rule=competition.bonus_rule,
                rows=[(r.participant_id, r.rank, r.total) for r in awards_by_group[b]],
                shares=shares,
            )
        for r in awards_by_group[b]:
            awards.append(
                Award(
                    snapshot=snapshot,
                    participant_id=r.participant_id,
                    bracket_id=b,
                    rank=r.rank,
                    amount=amounts.get(r.participant_id),
                )
            )
    Award.objects.bulk_create(awards, batch_size=BATCH)
    helps: list[HelpAssignment] = []
    n = competition.help_bottom_n
    if n:
        for rows in groups.values():
            if len(rows) <= 1:
                continue
            bottom = sorted(rows, key=lambda r: -r.position)[: min(n, len(rows) - 1)]
            cutoff = min(r.rank for r in bottom)
            for r in rows:
                if r.rank >= cutoff and r.rank > 1:
                    helps.append(
                        HelpAssignment(
                            snapshot=snapshot, participant_id=r.participant_id, rank=r.rank
                        )
                    )
    HelpAssignment.objects.bulk_create(helps, batch_size=BATCH)


# --- the scorecard -----------------------------------------------------------------------------


def _lever(
    rule: dict[str, Any], value: Decimal | None, points: Decimal, gap: Decimal
) -> tuple[Decimal, Decimal] | None:
    """(contribution per unit of value, value change that closes ``gap``) for an indicator,
    or None when more of it cannot close the gap (capped, rank-based, vetoes...)."""

    def d(key: str) -> Decimal | None:
        raw = rule.get(key)
        return None if raw is None else Decimal(raw)

    kind = rule["rule"]
    weight, full = d("weight") or ZERO, d("full_marks") or ONE
    cap = d("cap")
    if value is None:
        return None
    if kind == Indicator.Rule.ATTAINMENT:
        target = d("target") or ONE
        factor = weight / full
        if cap is not None and (cap - points) * factor < gap:
            return None
        if rule["direction"] == Indicator.Direction.HIGHER:
            per_unit = full / target * factor
            return per_unit, (gap / per_unit).quantize(Q6, ROUND_HALF_UP)
        if value <= 0:
            return None
        current = points * factor
        wanted = current + gap
        new_value = target * full * factor / wanted
        change = new_value - value
        per_unit = gap / abs(change) if change else ZERO
        return per_unit, change.quantize(Q6, ROUND_HALF_UP)
    if kind == Indicator.Rule.BONUS:
        per = d("per_unit") or ZERO
        if per <= 0 or (cap is not None and cap - points < gap):
            return None
        return per, (gap / per).quantize(Q6, ROUND_HALF_UP)
    if kind == Indicator.Rule.PENALTY:
        per = d("per_unit") or ZERO
        if per <= 0 or points < gap / per * per:
            return None
        return per, (-(gap / per)).quantize(Q6, ROUND_HALF_UP)
    return None


def scorecard_build(*, snapshot: Snapshot, participant: Participant) -> Any:
    from .selectors import Scorecard, ScoreLine

    rows = list(snapshot.rows.select_related("participant").order_by("position"))
    mine = next((r for r in rows if r.participant_id == participant.pk), None)
    if mine is None:
        from saidao.core.errors import NotFound

        raise NotFound(detail={"participant": participant.pk})
    peers = [r for r in rows if r.bracket_id == mine.bracket_id]
    rules = snapshot.rules.get("indicators", [])
    previous_row: SnapshotRow | None = None
    prev_period = (
        Period.objects.filter(
            competition_id=snapshot.period.competition_id, starts_on__lt=snapshot.period.starts_on
        )
        .order_by("-starts_on")
        .first()
    )
    if prev_period is not None:
        prev = prev_period.snapshots.filter(published_at__isnull=False).first()
        if prev is not None:
            previous_row = prev.rows.filter(participant=participant).first()
    lines: list[Any] = []
    for rule in rules:
        code = rule["code"]
        value, pts, contrib = (mine.values.get(code) or [None, "0", "0"])[:3]
        contribution = Decimal(contrib)
        avg = (
            sum((Decimal((r.values.get(code) or [None, "0", "0"])[2]) for r in peers), ZERO)
            / len(peers)
        ).quantize(Q4, ROUND_HALF_UP)
        prev_c = None
        if previous_row is not None and code in previous_row.values:
            prev_c = Decimal(previous_row.values[code][2])
        lines.append(
            ScoreLine(
                code=code,
                name=rule["name"],
                unit=rule["unit"],
                rule=rule["rule"],
                weight=Decimal(rule["weight"] or 0),
                value=None if value is None else Decimal(value),
                points=Decimal(pts),
                contribution=contribution,
                bracket_average=avg,
                versus_average=contribution - avg,
                previous=prev_c,
                change=None if prev_c is None else contribution - prev_c,
            )
        )
    scored = [ln for ln in lines if ln.rule not in (Indicator.Rule.NONE, Indicator.Rule.VETO)]
    strongest = max(scored, key=lambda ln: (ln.versus_average, ln.code), default=None)
    weakest = min(scored, key=lambda ln: (ln.versus_average, ln.code), default=None)
    better = [r for r in peers if r.rank < mine.rank]
    ahead = better[-1] if better else None
    gap = None if ahead is None else ahead.total - mine.total
    best_lever = None
    lever_value = None
    if gap is not None and not mine.vetoed:
        need = gap if gap > 0 else Q4  # equal totals: a tie-break separates them; any gain
        options = []
        for rule, ln in zip(rules, lines, strict=True):
            got = _lever(rule, ln.value, ln.points, need)
            if got is not None:
                options.append((got[0], rule["code"], got[1]))
        if options:
            best = max(options, key=lambda o: (o[0], o[1]))
            best_lever, lever_value = best[1], best[2]
    return Scorecard(
        snapshot=snapshot,
        row=mine,
        lines=lines,
        strongest=strongest.code if strongest else None,
        weakest=weakest.code if weakest else None,
        ahead=ahead,
        gap=gap,
        best_lever=best_lever,
        lever_value_needed=lever_value,
    )
