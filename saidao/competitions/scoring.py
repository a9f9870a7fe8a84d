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
same hash in any process; the rules hash likewise covers every scoring setting. Each stored
row keeps the participant's code it was hashed with, so ``snapshot_verify`` makes both hashes
again from what is stored, even after a participant has been given another code.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from saidao.core import clock
from saidao.core.errors import SaidaoError

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
BATCH = 5000
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


# --- the engine (pure Python over integers) ---------------------------------------------------
# Values are held as integers of millionths (6 places) and points as ten-thousandths (4
# places): exact, fast, and the same digits in every process.

M6 = 1_000_000
M4 = 10_000
ATT, BANDS, BONUS, PENALTY, VETO, NONE, RANK = range(7)
_KIND: dict[str, int] = {
    Indicator.Rule.ATTAINMENT: ATT,
    Indicator.Rule.BANDS: BANDS,
    Indicator.Rule.BONUS: BONUS,
    Indicator.Rule.PENALTY: PENALTY,
    Indicator.Rule.VETO: VETO,
    Indicator.Rule.NONE: NONE,
    Indicator.Rule.RANK: RANK,
}


def _rhu(n: int, d: int) -> int:
    """n ÷ d (d > 0) rounded half away from zero, as Decimal's ROUND_HALF_UP."""
    if n >= 0:
        return (2 * n + d) // (2 * d)
    return -((-2 * n + d) // (2 * d))


def _scaled(d: Decimal, places: int) -> int:
    return int(d.scaleb(places).quantize(ONE, ROUND_HALF_UP))


def to_micro(x: Any) -> int:
    """A value (int, or float as SQLite returns NUMERIC, Decimal, numeric str) in millionths."""
    if type(x) is int:
        return x * M6
    if type(x) is float:
        return round(x * M6)  # a 6-place value times 10**6 is within 1e-6 of an integer
    return _scaled(x if isinstance(x, Decimal) else Decimal(str(x)), 6)


def _fmt(n: int, places: int) -> str:
    q, r = divmod(-n if n < 0 else n, 10**places)
    return f"{'-' if n < 0 else ''}{q}.{r:0{places}d}"


def _dec(n: int, places: int) -> Decimal:
    return Decimal(_fmt(n, places))  # scaleb would give 0E-4 for zero


@dataclass
class Entrant:
    id: int
    code: str
    bracket: int | None  # bracket id
    bracket_order: tuple[int, int]  # (position, id) for listing brackets
    self_score: Decimal | None = None


@dataclass(eq=False, slots=True)
class RowResult:
    """One participant's result; numbers as integers (``v6`` millionths, the rest 4 places)
    in the order of the rules' indicators, with Decimal views by indicator code."""

    entrant: Entrant
    codes: tuple[str, ...]
    v6: list[int | None]
    p4: Sequence[int]
    c4: Sequence[int]
    bonus4: int = 0
    penalty4: int = 0
    vetoes: int = 0
    total4: int = 0
    rank: int = 0
    position: int = 0
    values_json: str = "{}"
    total_s: str = ""  # the totals as written in the hash and stored
    bonus_s: str = ""
    penalty_s: str = ""

    @property
    def values(self) -> dict[str, Decimal | None]:
        return {
            c: None if v is None else _dec(v, 6) for c, v in zip(self.codes, self.v6, strict=True)
        }

    @property
    def points(self) -> dict[str, Decimal]:
        return {c: _dec(p, 4) for c, p in zip(self.codes, self.p4, strict=True)}

    @property
    def contributions(self) -> dict[str, Decimal]:
        return {c: _dec(p, 4) for c, p in zip(self.codes, self.c4, strict=True)}

    @property
    def total(self) -> Decimal:
        return _dec(self.total4, 4)

    @property
    def bonus(self) -> Decimal:
        return _dec(self.bonus4, 4)

    @property
    def penalty(self) -> Decimal:
        return _dec(self.penalty4, 4)

    def details(self, rules: Rules | None = None) -> dict[str, list[str | None]]:
        """``{code: [value, points, contribution]}`` as stored in the snapshot row."""
        out: dict[str, list[str | None]] = json.loads(self.values_json)
        return out


@dataclass
class EngineResult:
    rules: Rules
    rows: list[RowResult]
    content_hash: str
    missing: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Compiled:
    kind: int
    i: int
    w4: int
    fm4: int
    t6: int
    cap4: int | None
    floor4: int
    higher: bool
    bands: tuple[tuple[int, int], ...]
    per4: int
    thr6: int
    first4: int
    step4: int


def _compile(rules: Rules) -> list[_Compiled]:
    out = []
    for i, c in enumerate(rules.indicators):
        out.append(
            _Compiled(
                kind=_KIND[c.rule],
                i=i,
                w4=_scaled(c.weight, 4),
                fm4=_scaled(c.full_marks, 4),
                t6=_scaled(c.target if c.target is not None else ONE, 6),
                cap4=None if c.cap is None else _scaled(c.cap, 4),
                floor4=_scaled(c.floor, 4),
                higher=c.higher,
                bands=tuple((_scaled(t, 6), _scaled(p, 4)) for t, p in c.bands),
                per4=_scaled(c.per_unit or ZERO, 4),
                thr6=_scaled(c.veto_threshold if c.veto_threshold is not None else ONE, 6),
                first4=_scaled(c.rank_first if c.rank_first is not None else c.full_marks, 4),
                step4=_scaled(c.rank_step or ZERO, 4),
            )
        )
    return out


def _as_list(got: Any, rules: Rules, index: dict[str, int]) -> list[int | None]:
    """Values given by code (Decimal/str/int) as the engine's list of millionths."""
    if isinstance(got, list):
        return list(got)
    vals: list[int | None] = [None] * len(rules.indicators)
    for code, v in got.items():
        i = index.get(code)
        if i is not None and v is not None:
            vals[i] = to_micro(v)
    return vals


def _score(k: _Compiled, v: int) -> tuple[int, int]:
    """Points and contribution (4 places) of value ``v`` (millionths) under a rule that does
    not depend on the other participants."""
    kind = k.kind
    if kind == ATT:
        if k.higher:
            n = v * k.fm4  # half up inline for the usual non-negative value: (2n + d) // 2d
            p = (2 * n + k.t6) // (2 * k.t6) if n >= 0 else _rhu(n, k.t6)
        elif v <= 0:
            p = k.cap4 if k.cap4 is not None else k.fm4
        else:
            p = (2 * k.t6 * k.fm4 + v) // (2 * v)
        if k.cap4 is not None and p > k.cap4:
            p = k.cap4
        if p < k.floor4:
            p = k.floor4
        n = p * k.w4
        return p, (2 * n + k.fm4) // (2 * k.fm4) if n >= 0 else _rhu(n, k.fm4)
    if kind == BANDS:
        p = k.floor4
        for threshold, pts in k.bands:  # best first
            if (v >= threshold) if k.higher else (v <= threshold):
                p = pts
                break
        return p, _rhu(p * k.w4, k.fm4)
    if kind in (BONUS, PENALTY):
        p = max(0, _rhu(v * k.per4, M6))
        if k.cap4 is not None and p > k.cap4:
            p = k.cap4
        return p, p if kind == BONUS else -p
    return 0, 0  # veto, none


class _Text(dict[int | None, str]):
    """The JSON text of numbers held as integers of ``places`` places (``"1.2300"``, or
    ``null`` for None), each made once: the fragments repeat the same numbers."""

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places, self.scale, self.pattern = places, 10**places, f'"%d.%0{places}d"'

    def __missing__(self, n: int | None) -> str:
        if n is None:
            text = "null"
        elif n >= 0:
            text = self.pattern % divmod(n, self.scale)
        else:
            text = f'"{_fmt(n, self.places)}"'
        self[n] = text
        return text


def _score_many(k: _Compiled, vs: list[int]) -> list[tuple[int, int]]:
    """``_score`` of each value; attainment over positive values (the usual case) as list
    comprehensions of the same integer arithmetic, without a call per value."""
    if k.kind != ATT or k.floor4 < 0 or (vs and min(vs) <= 0):
        return [_score(k, v) for v in vs]
    fm, t = k.fm4, k.t6
    if k.higher:  # value ÷ target × full marks, half up
        ps = [(2 * v * fm + t) // (2 * t) for v in vs]
    else:  # target ÷ value × full marks, half up
        num = 2 * t * fm
        ps = [(num + v) // (2 * v) for v in vs]
    cap, floor, w = k.cap4, k.floor4, k.w4
    if cap is not None:
        ps = [cap if p > cap else p for p in ps]
    ps = [floor if p < floor else p for p in ps]
    return [(p, (2 * p * w + fm) // (2 * fm)) for p in ps]  # points × weight ÷ full, half up


def compute(
    *,
    rules: Rules,
    entrants: list[Entrant],
    values: Mapping[int, Any],
    period_key: str,
) -> EngineResult:
    """Score, rank and hash. ``values`` maps entrant id → the values of its reported and
    counted indicators: a list of millionths in the rules' order (as ``period_inputs`` reads
    them) or a mapping code → number. Formulas are evaluated here. Raises RequiredMissing
    (listing every participant and indicator) and DivisionByZero (naming the participant).

    """
    inds = rules.indicators
    n = len(inds)
    codes = tuple(c.code for c in inds)
    index = {c: i for i, c in enumerate(codes)}
    compiled = _compile(rules)
    # JSON fragments go in the order of the sorted codes (canonical JSON sorts keys)
    slot = {i: s for s, i in enumerate(sorted(range(n), key=lambda i: codes[i]))}
    keys = [json.dumps(c) for c in codes]
    required = [
        (i, c.name)
        for i, c in enumerate(inds)
        if c.required and c.source == Indicator.Source.REPORTED
    ]
    formulas = [(index[code], rules.by_code()[code]) for code in rules.formula_order]
    rows: list[RowResult] = []
    missing: list[dict[str, Any]] = []
    for e in entrants:
        vals = _as_list(values.get(e.id, {}), rules, index)
        if None in vals:  # only then look for what is lacking
            lacking = [name for i, name in required if vals[i] is None]
            if lacking:
                missing.append({"participant": e.code, "indicators": lacking})
                continue
        if formulas:
            named = {codes[i]: _dec(v, 6) for i, v in enumerate(vals) if v is not None}
            for i, f in formulas:
                try:
                    got = f.formula.evaluate(named)  # type: ignore[union-attr]
                except DivisionByZero as exc:
                    raise DivisionByZero(
                        _("参赛者 %(p)s 的指标“%(i)s”计算时除数为零（公式 %(f)s）。")
                        % {"p": e.code, "i": f.name, "f": f.formula.source},  # type: ignore[union-attr]
                        detail={"participant": e.code, "indicator": f.code, **exc.detail},
                    ) from None
                if got is None:
                    vals[i] = None
                    named.pop(f.code, None)
                else:
                    vals[i] = _scaled(got, 6)
                    named[f.code] = _dec(vals[i], 6)  # type: ignore[arg-type]
        rows.append(RowResult(e, codes, vals, (), ()))
    if missing:
        names = "；".join(
            f"{m['participant']}（{'、'.join(m['indicators'])}）" for m in missing[:10]
        )
        raise RequiredMissing(
            _("%(n)d 个参赛者缺少已审核的必填指标：%(l)s") % {"n": len(missing), "l": names},
            detail={"missing": missing},
        )
    # Column by column: a rule that does not depend on the other participants gives the same
    # points for the same value, so each distinct value of an indicator is scored (and its
    # JSON fragment made) once, and the columns are filled by list comprehensions.
    count = len(rows)
    table = [r.v6 for r in rows]
    points: list[list[int]] = [[0] * count for _i in range(n)]
    contribs: list[list[int]] = [[0] * count for _i in range(n)]
    frags: list[list[str]] = [[""] * count for _i in range(n)]  # by slot: sorted codes
    bonus, penalty, vetoes = [0] * count, [0] * count, [0] * count
    v6t, p4t = _Text(6), _Text(4)  # "code":[value,points,contribution] pieces, made once
    for k in compiled:
        if k.kind == RANK:
            continue
        i, s, key_json = k.i, slot[k.i], keys[k.i]
        col = [vs[i] for vs in table]
        distinct = [v for v in set(col) if v is not None]
        memo: dict[int | None, tuple[int, int, str]] = {
            None: (0, 0, f"{key_json}:[null,{p4t[0]},{p4t[0]}]")
        }
        for x, (p, c) in zip(distinct, _score_many(k, distinct), strict=True):
            if p >= 0 and c >= 0 and x >= 0:  # the usual case in one format, no lookups
                frag = '%s:["%d.%06d","%d.%04d","%d.%04d"]' % (  # noqa: UP031 - fastest here
                    key_json,
                    x // M6,
                    x % M6,
                    p // M4,
                    p % M4,
                    c // M4,
                    c % M4,
                )
            else:
                frag = f"{key_json}:[{v6t[x]},{p4t[p]},{p4t[c]}]"
            memo[x] = (p, c, frag)
        got = [memo[v] for v in col]
        points[i] = [t[0] for t in got]
        contribs[i] = [t[1] for t in got]
        frags[s] = [t[2] for t in got]
        if k.kind == BONUS:
            bonus = [a + b for a, b in zip(bonus, points[i], strict=True)]
        elif k.kind == PENALTY:
            penalty = [a + b for a, b in zip(penalty, points[i], strict=True)]
        elif k.kind == VETO:
            vetoes = [a + (v is not None and v >= k.thr6) for a, v in zip(vetoes, col, strict=True)]
    groups: dict[int | None, list[int]] = defaultdict(list)
    for j, row in enumerate(rows):
        groups[row.entrant.bracket].append(j)
    for k in compiled:
        if k.kind != RANK:
            continue
        i, s, key_json = k.i, slot[k.i], keys[k.i]
        col = [vs[i] for vs in table]
        pcol = points[i]
        for members in groups.values():
            present = [j for j in members if col[j] is not None]
            present.sort(key=col.__getitem__, reverse=k.higher)  # type: ignore[arg-type]
            place, previous = 0, None
            for pos, j in enumerate(present, start=1):
                v = col[j]
                if v != previous:
                    place, previous = pos, v
                p = k.first4 - k.step4 * (place - 1)
                pcol[j] = p if p > k.floor4 else k.floor4
        cmemo = {p: _rhu(p * k.w4, k.fm4) for p in set(pcol)}
        ccol = contribs[i] = [cmemo[p] for p in pcol]
        frags[s] = [
            f"{key_json}:[{v6t[v]},{p4t[p]},{p4t[c]}]"
            for v, p, c in zip(col, pcol, ccol, strict=True)
        ]
    totals = [sum(t) for t in zip(*contribs, strict=True)]
    for row, p4, c4, fr, b, pe, ve, total in zip(
        rows,
        zip(*points, strict=True),
        zip(*contribs, strict=True),
        zip(*frags, strict=True),
        bonus,
        penalty,
        vetoes,
        totals,
        strict=True,
    ):
        row.p4, row.c4 = p4, c4
        row.values_json = "{" + ",".join(fr) + "}"
        row.bonus4, row.penalty4, row.vetoes = b, pe, ve
        row.total4 = 0 if ve else total
    heavy = index[rules.heaviest] if rules.heaviest else None
    ordered: list[RowResult] = []
    for bracket in sorted(
        groups, key=lambda b: (b is None, rows[groups[b][0]].entrant.bracket_order)
    ):
        # (vetoes, −total, −contribution on the heaviest indicator, code) for each row
        keyed = sorted(
            (
                r.vetoes,
                -r.total4,
                -(r.c4[heavy] if heavy is not None and not r.vetoes else 0),
                r.entrant.code,
                j,
            )
            for j in groups[bracket]
            for r in (rows[j],)
        )
        prev_key: tuple[int, int, int] | None = None
        rank = 0
        for pos, (ve, nt, nh, _code, j) in enumerate(keyed, start=1):
            if (ve, nt, nh) != prev_key:
                rank, prev_key = pos, (ve, nt, nh)
            rows[j].rank = rank
            ordered.append(rows[j])
    return EngineResult(
        rules=rules, rows=ordered, content_hash=_content_hash(rules, ordered, period_key)
    )


def _content_hash(rules: Rules, rows: list[RowResult], period_key: str) -> str:
    """SHA-256 over canonical JSON lines (sorted keys, no spaces, decimals as strings): a
    header with the period, the rules' hash and the indicator codes, then one line per row:
    ``{"bonus","bracket","code","penalty","rank","self_score","total","values","vetoes"}``
    with ``values`` = ``{code: [value, points, contribution]}`` (each row's
    ``values_json``, made by ``compute``). Sets each row's position and total strings."""
    codes = [c.code for c in rules.indicators]
    h = hashlib.sha256(
        canonical_json({"codes": codes, "period": period_key, "rules": rules.hash}).encode()
    )
    lines = []
    for pos, r in enumerate(rows, start=1):
        r.position = pos
        r.total_s = _fmt(r.total4, 4)
        r.bonus_s = _fmt(r.bonus4, 4) if r.bonus4 else "0.0000"
        r.penalty_s = _fmt(r.penalty4, 4) if r.penalty4 else "0.0000"
        self_score = r.entrant.self_score
        bracket = r.entrant.bracket
        code = r.entrant.code
        code_json = (
            f'"{code}"'
            if code.isalnum() and code.isascii()
            else json.dumps(code, ensure_ascii=False)
        )
        lines.append(
            f'{{"bonus":"{r.bonus_s}","bracket":{"null" if bracket is None else bracket},'
            f'"code":{code_json},'
            f'"penalty":"{r.penalty_s}","rank":{r.rank},'
            f'"self_score":{"null" if self_score is None else json.dumps(str(self_score))},'
            f'"total":"{r.total_s}","values":{r.values_json},"vetoes":{r.vetoes}}}'
        )
    h.update(("\n" + "\n".join(lines)).encode() if lines else b"")
    return h.hexdigest()


def _q4(d: Decimal) -> str:
    return format(Decimal(d).quantize(Q4, ROUND_HALF_UP), "f")


def snapshot_rehash(*, snapshot: Snapshot) -> str:
    """The content hash made again from what the snapshot stores (its rules, its period's key
    and its rows, each with the code it was computed with), as ``_content_hash`` made it; the
    vetoes each row counted come back from its values and the stored rules."""
    indicators = snapshot.rules.get("indicators", [])
    vetoes = [
        (i["code"], Decimal(i.get("veto_threshold") or ONE).quantize(Q6, ROUND_HALF_UP))
        for i in indicators
        if i["rule"] == Indicator.Rule.VETO
    ]
    header = {
        "codes": [i["code"] for i in indicators],
        "period": snapshot.period.key,
        "rules": snapshot.rules_hash,
    }
    h = hashlib.sha256(canonical_json(header).encode())
    lines = []
    for row in snapshot.rows.order_by("position"):
        values = row.values
        reached = 0
        for code, threshold in vetoes:
            value = (values.get(code) or [None])[0]
            reached += value is not None and Decimal(value) >= threshold
        line = {
            "bonus": _q4(row.bonus),
            "bracket": row.bracket_id,
            "code": row.code,
            "penalty": _q4(row.penalty),
            "rank": row.rank,
            "self_score": None if row.self_score is None else _q4(row.self_score),
            "total": _q4(row.total),
            "values": values,
            "vetoes": reached,
        }
        lines.append(canonical_json(line))
    h.update(("\n" + "\n".join(lines)).encode() if lines else b"")
    return h.hexdigest()


def snapshot_verify(*, snapshot: Snapshot) -> bool:
    """Whether the snapshot is as it was computed: its stored rules give its rules hash, and
    its rows give its content hash."""
    if sha256(canonical_json(snapshot.rules)) != snapshot.rules_hash:
        return False
    return snapshot_rehash(snapshot=snapshot) == snapshot.content_hash


# --- reading a period and storing the snapshot ------------------------------------------------

SCORED_STATES = (Report.State.VERIFIED, Report.State.LOCKED)


def _report_arrays(period: Period) -> list[tuple[int, Any, Any]]:
    """(participant id, [indicator id...], [value in millionths...]) per scored report of the
    period, aggregated by the database: the value is rounded half away from zero to 6 places
    and cast to an integer there, as ``Cast(Round(value × 10⁶), BigIntegerField())`` does."""
    q = connection.ops.quote_name
    rv, rp = q(ReportValue._meta.db_table), q(Report._meta.db_table)
    micro = f"CAST(ROUND(v.{q('value')} * {M6}) AS BIGINT)"
    if connection.vendor == "postgresql":
        ids, vals = "json_agg(v.indicator_id ORDER BY v.id)", f"json_agg({micro} ORDER BY v.id)"
    else:  # SQLite: both arrays follow the same scan of the group's rows
        ids, vals = "json_group_array(v.indicator_id)", f"json_group_array({micro})"
    sql = (
        f"SELECT r.participant_id, {ids}, {vals} FROM {rv} v "  # noqa: S608 - our own tables
        f"JOIN {rp} r ON r.id = v.report_id "
        "WHERE r.period_id = %s AND r.is_current = %s AND r.state IN (%s, %s) GROUP BY r.id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [period.pk, True, *SCORED_STATES])
        return list(cur.fetchall())


def period_inputs(
    *, period: Period, rules: Rules
) -> tuple[list[Entrant], dict[int, list[int | None]]]:
    """The active participants and all their scored values as lists of millionths in the
    rules' order. The values are one query: the values_list's own SQL run on the cursor, so
    its tuples skip the ORM's per-value Decimal conversion."""
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
    n = len(rules.indicators)
    index = {c.id: i for i, c in enumerate(rules.indicators)}
    in_order = [c.id for c in rules.indicators]
    values: dict[int, list[int | None]] = {}
    # One row per report: its indicator ids and its values in millionths as two JSON arrays
    # aggregated by the database (the same order in both), so a report costs one json.loads
    # per array instead of a Python step per value; a report whose values came in the rules'
    # order (the usual case) is taken as it is.
    for pid, ids, vals in _report_arrays(period):
        if type(ids) is str:  # SQLite gives the JSON text, psycopg the parsed list
            ids, vals = json.loads(ids), json.loads(vals)
        if ids == in_order and pid not in values:
            values[pid] = vals
            continue
        row = values.get(pid)
        if row is None:
            row = values[pid] = [None] * n
        for iid, v in zip(ids, vals, strict=True):
            i = index.get(iid)
            if i is not None:
                row[i] = v
    counted = [(i, c) for i, c in enumerate(rules.indicators) if c.source == Indicator.Source.COUNT]
    if counted:
        items = [
            CountInput(p.pk, p.home.path, p.user_id)
            for p in Participant.objects.filter(
                competition_id=period.competition_id, active=True
            ).select_related("home")
        ]
        for i, c in counted:
            fn = _COUNT_SOURCES[c.count_source][1]
            for pid, v in fn(items, c.count_param, period).items():
                row = values.get(pid)
                if row is None:
                    row = values[pid] = [None] * n
                row[i] = to_micro(v)
    return entrants, values


@dataclass(frozen=True)
class Scored:
    """What storing a computed period needs, small enough to come back from a worker
    process: the content hash and the snapshot rows' columns after ``snapshot_id``."""

    content_hash: str
    rows: list[tuple[Any, ...]]


def scored(result: EngineResult) -> Scored:
    return Scored(
        result.content_hash,
        [
            (
                r.entrant.id,
                r.entrant.code,
                r.entrant.bracket,
                r.position,
                r.rank,
                r.total_s,
                r.bonus_s,
                r.penalty_s,
                bool(r.vetoes),
                None if r.entrant.self_score is None else str(r.entrant.self_score),
                r.values_json,
            )
            for r in result.rows
        ],
    )


def _snapshot_insert(*, period: Period, rules: Rules, got: Scored, actor: Any) -> Snapshot:
    number = (
        period.snapshots.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    snap = Snapshot.objects.create(
        period=period,
        number=number,
        rules_hash=rules.hash,
        content_hash=got.content_hash,
        rules=rules.canonical,
        computed_by=actor if getattr(actor, "pk", None) else None,
        computed_at=clock.now(),
        row_count=len(got.rows),
    )
    table = connection.ops.quote_name(SnapshotRow._meta.db_table)
    json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    # The snapshot id is written into the statement, so the rows go as they came.
    sql = (
        f"INSERT INTO {table} (snapshot_id, participant_id, code, bracket_id, position, rank, "  # noqa: S608 - our own table
        f"total, bonus, penalty, vetoed, self_score, {connection.ops.quote_name('values')}) "
        f"VALUES ({int(snap.pk)}, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, {json_param})"
    )
    with connection.cursor() as cur:
        for i in range(0, len(got.rows), BATCH):
            cur.executemany(sql, got.rows[i : i + BATCH])
    return snap


def store_snapshot(*, period: Period, result: EngineResult, actor: Any) -> Snapshot:
    """Insert the snapshot, then its rows in batches with executemany: the rows' JSON is the
    text already made for the hash, so nothing is serialized twice (the caller holds the
    transaction)."""
    return _snapshot_insert(period=period, rules=result.rules, got=scored(result), actor=actor)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cycle collector off while a period is read and scored: the engine allocates
    millions of small acyclic objects (freed by reference counting), and the collections
    they trigger, each walking every tracked object, cost about a sixth of the time; in a
    forked scoring process it would also copy the parent's pages it walks."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute_period(*, period: Period) -> EngineResult:
    rules = rules_load(competition=period.competition)
    entrants, values = period_inputs(period=period, rules=rules)
    return compute(rules=rules, entrants=entrants, values=values, period_key=period.key)


def _store_unless_same(*, period: Period, rules: Rules, got: Scored, actor: Any) -> Snapshot:
    latest = period.snapshots.order_by("-number").first()
    if latest is not None and latest.content_hash == got.content_hash:
        return latest
    return _snapshot_insert(period=period, rules=rules, got=got, actor=actor)


@transaction.atomic
def compute_and_store(*, period: Period, actor: Any) -> Snapshot:
    """Compute the period; the latest snapshot when nothing changed, else a new one."""
    period = (
        Period.objects.select_for_update().select_related("competition__program").get(pk=period.pk)
    )
    with gc_paused():
        rules = rules_load(competition=period.competition)
        entrants, values = period_inputs(period=period, rules=rules)
        result = compute(rules=rules, entrants=entrants, values=values, period_key=period.key)
        return _store_unless_same(period=period, rules=rules, got=scored(result), actor=actor)


def _score_job(
    rules: Rules, entrants: list[Entrant], values: dict[int, Any], period_key: str
) -> tuple[bool, Any]:
    """(True, Scored), or (False, (error class, message, detail)): a domain error's detail
    would not survive pickling as an exception."""
    try:
        result = compute(rules=rules, entrants=entrants, values=values, period_key=period_key)
    except SaidaoError as exc:
        return False, (type(exc), str(exc.message), exc.detail)
    return True, scored(result)


def _score_worker(jobs: list[tuple[Rules, list[Entrant], dict[int, Any], str]], out: Any) -> None:
    """In a forked process: score the jobs (inherited, not pickled) and hand each result, in
    order, as a private temporary file whose name goes on the pipe: a result is megabytes of
    row text, and through the pipe's small buffer every few kilobytes would wait for the
    parent to be scheduled. It never touches the database."""
    gc.disable()  # see gc_paused; the process ends when done
    try:
        for job in jobs:
            got = _score_job(*job)
            fd, path = tempfile.mkstemp(prefix="saidao-scored-", suffix=".pickle")
            with os.fdopen(fd, "wb") as f:
                pickle.dump(got, f, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                out.send(path)
            except OSError:  # the parent stopped listening
                os.unlink(path)
                raise
    except Exception:  # any failure: the parent raises it
        import traceback

        with contextlib.suppress(OSError):
            out.send((False, (RuntimeError, traceback.format_exc(), {})))
    finally:
        out.close()


def _receive(pipe: Any) -> tuple[bool, Any]:
    got = pipe.recv()
    if not isinstance(got, str):
        return cast(tuple[bool, Any], got)
    try:
        with open(got, "rb") as f:
            return cast(tuple[bool, Any], pickle.load(f))  # noqa: S301 - our own worker's file
    finally:
        os.unlink(got)


def default_workers(periods: int) -> int:
    """Scoring processes for ``periods`` periods: the cores not already busy (by the load
    average), at most 4, else 1 (everything in this process). Handing a period to a process
    and its result back costs about a fifth more CPU in all, which pays only on idle cores:
    on 2 cores already loaded ~4, one process was faster (docs/benchmarks.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(int(cores - busy + 0.5), 4, periods))


@dataclass
class Timings:
    """Seconds spent by the calling process: reading, waiting for scores, storing."""

    read: float = 0.0
    score: float = 0.0
    store: float = 0.0


def compute_and_store_many(
    *,
    periods: Sequence[Period],
    actor: Any,
    workers: int | None = None,
    timings: Timings | None = None,
) -> list[Snapshot]:
    """Compute several periods (of different competitions) and store their snapshots in the
    order given; like ``compute_and_store`` each, the latest snapshot when nothing changed.

    This process reads every period's inputs (its one connection, in the caller's
    transaction and locks), then forks ``workers`` processes that only score (the engine is
    pure: no database, no threads here to compete for the GIL), period i going to worker
    i mod n; it stores each result as it comes, in the given order, while the workers go
    on. The snapshots and hashes are the same with any number of workers. With one worker
    or one period everything runs in this process."""
    with gc_paused():
        return _compute_and_store_many(periods, actor, workers, timings)


def _compute_and_store_many(
    periods: Sequence[Period], actor: Any, workers: int | None, timings: Timings | None
) -> list[Snapshot]:
    t = timings if timings is not None else Timings()
    n = workers if workers is not None else default_workers(len(periods))
    n = min(n, len(periods))
    jobs: list[tuple[Rules, list[Entrant], dict[int, Any], str]] = []
    all_rules: list[Rules] = []
    t0 = time.perf_counter()
    for period in periods:
        rules = rules_load(competition=period.competition)
        entrants, values = period_inputs(period=period, rules=rules)
        jobs.append((rules, entrants, values, period.key))
        all_rules.append(rules)
    t.read += time.perf_counter() - t0
    if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        results: Any = (_score_job(*job) for job in jobs)
        pipes: list[Any] = []
        procs: list[Any] = []
    else:
        ctx = multiprocessing.get_context("fork")
        pipes, procs = [], []
        for w in range(n):
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_score_worker, args=(jobs[w::n], send), daemon=True)
            proc.start()
            send.close()  # the child's end; EOF here if the child dies
            pipes.append(receive)
            procs.append(proc)
        results = (_receive(pipes[i % n]) for i in range(len(jobs)))
    snapshots: list[Snapshot] = []
    try:
        for period, rules in zip(periods, all_rules, strict=True):
            t0 = time.perf_counter()
            try:
                ok, got = next(results)
            except EOFError:
                raise RuntimeError("a scoring process ended without its result") from None
            t1 = time.perf_counter()
            t.score += t1 - t0
            if not ok:
                cls, message, detail = got
                raise cls(message, detail=detail)
            snapshots.append(_store_unless_same(period=period, rules=rules, got=got, actor=actor))
            t.store += time.perf_counter() - t1
    finally:
        for pipe in pipes:  # after an error: let the workers finish, remove what they left
            with contextlib.suppress(EOFError, OSError):
                while True:
                    left = pipe.recv()
                    if isinstance(left, str):
                        os.unlink(left)
            pipe.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return snapshots


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
