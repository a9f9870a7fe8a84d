"""The scoring engine on its own: rules in, points, totals, ranks and hashes out (no database
for most of these: indicators are unsaved model instances)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from saidao.competitions.errors import (
    DivisionByZero,
    FormulaCycle,
    RequiredMissing,
    RuleInvalid,
    WeightsInvalid,
)
from saidao.competitions.models import Indicator
from saidao.competitions.scoring import Entrant, bonus_split, compute, rules_build

D = Decimal


def ind(code: str, rule: str = "none", **kw: Any) -> Indicator:
    kw.setdefault("name", code)
    kw.setdefault("position", 0)
    return Indicator(code=code, rule=rule, **kw)


def capacity_indicators() -> list[Indicator]:
    return [
        ind("wells", unit="口", position=1),
        ind("design", unit="吨/日", position=2),
        ind("actual", unit="吨/日", position=3),
        ind(
            "ratio",
            "attainment",
            source="formula",
            formula="actual / design",
            weight=D(70),
            cap=D(200),
            position=4,
        ),
        ind(
            "capacity",
            "rank",
            source="formula",
            formula="wells * actual",
            weight=D(30),
            rank_first=D(100),
            rank_step=D(10),
            position=5,
        ),
        ind("accident", "veto", required=False, position=6),
    ]


PLANTS = {
    "GD": ("30", "6.2", "6.5"),
    "DX": ("34", "5.6", "8.6"),
    "HK": ("28", "5.0", "7.0"),
    "XH": ("40", "6.0", "9.8"),
    "ZX": ("20", "5.5", "8.8"),
}


def entrants(codes: list[str], bracket: int | None = None) -> list[Entrant]:
    return [Entrant(i, c, bracket, (0, bracket or 0)) for i, c in enumerate(codes, start=1)]


def run(
    indicators: list[Indicator], values: dict[str, dict[str, str]], total: int = 100
) -> dict[str, Any]:
    rules = rules_build(competition_id=1, total_weight=D(total), indicators=indicators)
    es = entrants(sorted(values))
    by_id = {e.id: {k: D(v) for k, v in values[e.code].items()} for e in es}
    result = compute(rules=rules, entrants=es, values=by_id, period_key="2024-Q2")
    return {"result": result, "rows": {r.entrant.code: r for r in result.rows}}


def test_dongxin_comes_second_on_single_well_capacity() -> None:
    """34 wells at 8.6 t/d against a 5.6 t/d design: attainment 153.5714 × 70% = 107.5 plus the
    second-best new capacity (292.4 t/d, 90 × 30% = 27) gives 134.5, second behind 现河."""
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    out = run(capacity_indicators(), values)
    rows = out["rows"]
    dx = rows["DX"]
    assert dx.values["ratio"].quantize(D("0.0001")) == D("1.5357")
    assert dx.points["ratio"] == D("153.5714")
    assert dx.contributions["ratio"] == D("107.5000")
    assert dx.values["capacity"] == D("292.4")
    assert dx.points["capacity"] == D("90.0000")
    assert dx.total == D("134.5000")
    assert dx.rank == 2
    assert [r.entrant.code for r in out["result"].rows] == ["XH", "DX", "ZX", "HK", "GD"]
    assert [r.rank for r in out["result"].rows] == [1, 2, 3, 4, 5]


def test_competition_ranking_shares_places_and_breaks_ties_on_the_heaviest_indicator() -> None:
    """Equal totals share a place (1, 2, 2, 4) unless the heaviest indicator separates them;
    equal on both, they are listed by code."""
    inds = [
        ind("a", "bands", weight=D(60), bands=[[10, 100], [5, 50]], position=1),
        ind("b", "bands", weight=D(40), bands=[[10, 100], [5, 50]], position=2),
    ]
    values = {
        "P1": {"a": "10", "b": "10"},  # 100
        "P3": {"a": "5", "b": "10"},  # 30 + 40 = 70
        "P2": {"a": "5", "b": "10"},  # 70, same as P3
        "P4": {"a": "10", "b": "0"},  # 60 + 0 = 60
        "P5": {"a": "0", "b": "10"},  # 0 + 40 = 40
        "P6": {"a": "10", "b": "5"},  # 60 + 20 = 80
    }
    out = run(inds, values)
    order = [(r.entrant.code, r.rank, str(r.total)) for r in out["result"].rows]
    assert order == [
        ("P1", 1, "100.0000"),
        ("P6", 2, "80.0000"),
        ("P2", 3, "70.0000"),
        ("P3", 3, "70.0000"),
        ("P4", 5, "60.0000"),
        ("P5", 6, "40.0000"),
    ]
    # same total 70 but different points on the heaviest indicator (a): a decides
    values["P3"] = {"a": "10", "b": "2.5"}  # 60 + 10 = 70 with more on "a"
    values["P3"]["b"] = "2.5"
    inds[1].bands = [[10, 100], [5, 50], [2, 25]]
    out = run(inds, values)
    ranks = {r.entrant.code: r.rank for r in out["result"].rows}
    assert out["rows"]["P3"].total == out["rows"]["P2"].total == D("70.0000")
    assert ranks["P3"] == 3 and ranks["P2"] == 4


def test_veto_zeroes_the_total_and_ranks_after_everyone_else() -> None:
    """A serious safety accident disqualifies: total 0, ranked after every participant that
    was not vetoed, whatever its points."""
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    values["XH"]["accident"] = "1"
    out = run(capacity_indicators(), values)
    rows = out["rows"]
    assert rows["XH"].vetoes == 1 and rows["XH"].total == 0
    assert rows["XH"].rank == 5
    assert rows["DX"].rank == 1


def test_attainment_lower_is_better_with_cap_and_floor() -> None:
    """Lower is better: target ÷ actual × full marks, at most the cap and at least the floor;
    a value of 0 scores the cap."""
    inds = [
        ind(
            "cost",
            "attainment",
            direction="lower",
            target=D(80),
            full_marks=D(100),
            cap=D(120),
            floor=D(60),
            weight=D(100),
        )
    ]
    rows = run(
        inds,
        {
            "A": {"cost": "100"},
            "B": {"cost": "40"},
            "C": {"cost": "200"},
            "E": {"cost": "0"},
            "F": {"cost": "80"},
        },
    )["rows"]
    assert rows["A"].points["cost"] == D("80.0000")
    assert rows["B"].points["cost"] == D("120.0000")  # 200 capped
    assert rows["C"].points["cost"] == D("60.0000")  # 40 floored
    assert rows["E"].points["cost"] == D("120.0000")
    assert rows["F"].points["cost"] == D("100.0000")


def test_rank_points_bands_bonus_and_penalty() -> None:
    """Rank points: first 100, 30 less a place, never under the floor 20, ties share; bands by
    the best threshold reached (lower is better counts ≤); bonus and penalty per unit with a cap."""
    inds = [
        ind("out", "rank", weight=D(50), rank_first=D(100), rank_step=D(30), floor=D(20)),
        ind("loss", "bands", direction="lower", weight=D(50), bands=[[1, 100], [3, 70]]),
        ind("patents", "bonus", per_unit=D(2), cap=D(5), required=False),
        ind("fines", "penalty", per_unit=D("1.5"), required=False),
    ]
    rows = run(
        inds,
        {
            "A": {"out": "9", "loss": "0.5", "patents": "4"},
            "B": {"out": "9", "loss": "2", "fines": "2"},
            "C": {"out": "7", "loss": "5"},
            "E": {"out": "1", "loss": "3"},
        },
    )["rows"]
    assert [rows[c].points["out"] for c in "ABCE"] == [D(100), D(100), D(40), D(20)]
    assert [rows[c].points["loss"] for c in "ABCE"] == [D(100), D(70), D(0), D(70)]
    assert rows["A"].bonus == D(5)  # 8 capped at 5
    assert rows["B"].penalty == D(3)
    assert rows["A"].total == D(50) + D(50) + D(5)
    assert rows["B"].total == D(50) + D(35) - D(3)


def test_brackets_rank_separately() -> None:
    """Participants in different brackets are ranked separately, each from 1."""
    inds = [ind("x", "bands", weight=D(100), bands=[[1, 100]])]
    rules = rules_build(competition_id=1, total_weight=D(100), indicators=inds)
    es = [Entrant(1, "A", 10, (1, 10)), Entrant(2, "B", 10, (1, 10)), Entrant(3, "C", 20, (2, 20))]
    vals = {1: {"x": D(1)}, 2: {"x": D(0)}, 3: {"x": D(0)}}
    result = compute(rules=rules, entrants=es, values=vals, period_key="P")
    assert [(r.entrant.code, r.rank) for r in result.rows] == [("A", 1), ("B", 2), ("C", 1)]


def test_same_inputs_same_hash_and_any_change_a_new_one() -> None:
    """The content hash is a function of the rules and the values only: the same inputs in a
    different order hash the same; one changed value or weight hashes differently."""
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    h1 = run(capacity_indicators(), values)["result"].content_hash
    h2 = run(capacity_indicators(), dict(reversed(list(values.items()))))["result"].content_hash
    assert h1 == h2
    values["GD"]["actual"] = "6.6"
    assert run(capacity_indicators(), values)["result"].content_hash != h1
    inds = capacity_indicators()
    inds[3].weight, inds[4].weight = D(60), D(40)
    values["GD"]["actual"] = "6.5"
    other = run(inds, values)["result"]
    assert (
        other.content_hash != h1
        and other.rules.hash != run(capacity_indicators(), values)["result"].rules.hash
    )


def test_weights_must_add_up_to_the_total() -> None:
    """Weights of the scored indicators add up to the program's total, or the rules are refused
    with the sum, the total and each weight."""
    inds = capacity_indicators()
    inds[3].weight = D(60)
    with pytest.raises(WeightsInvalid) as exc:
        rules_build(competition_id=1, total_weight=D(100), indicators=inds)
    assert exc.value.detail["sum"] == "90" and exc.value.detail["total_weight"] == "100"
    assert "90" in str(exc.value.message)


def test_formula_cycle_is_refused_naming_the_loop() -> None:
    """Formulas that depend on each other in a loop are refused, naming the cycle."""
    inds = [
        ind("a", "attainment", source="formula", formula="b + 1", weight=D(100)),
        ind("b", source="formula", formula="c * 2"),
        ind("c", source="formula", formula="a / 3"),
    ]
    with pytest.raises(FormulaCycle) as exc:
        rules_build(competition_id=1, total_weight=D(100), indicators=inds)
    assert exc.value.detail["cycle"] == ["a", "b", "c", "a"]


def test_division_by_zero_names_the_participant_and_indicator() -> None:
    """A zero design output makes actual ÷ design fail for that participant, clearly."""
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    values["HK"]["design"] = "0"
    with pytest.raises(DivisionByZero) as exc:
        run(capacity_indicators(), values)
    assert exc.value.detail["participant"] == "HK"
    assert exc.value.detail["indicator"] == "ratio"


def test_missing_required_values_are_all_listed() -> None:
    """Every participant lacking a required value is listed, with the indicators it lacks."""
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    del values["GD"]["wells"]
    del values["ZX"]["design"]
    del values["ZX"]["actual"]
    with pytest.raises(RequiredMissing) as exc:
        run(capacity_indicators(), values)
    assert exc.value.detail["missing"] == [
        {"participant": "GD", "indicators": ["wells"]},
        {"participant": "ZX", "indicators": ["design", "actual"]},
    ]


def test_incomplete_rules_are_refused() -> None:
    """A weighted rule without weight, a bonus without points per unit or a weight on a veto are
    refused before anything is computed."""
    for bad in (
        ind("a", "attainment", weight=D(0)),
        ind("a", "bonus", weight=D(0)),
        ind("a", "veto", weight=D(5)),
        ind("a", "rank", weight=D(100)),
        ind("a", "attainment", source="formula", formula="__import__('os')", weight=D(100)),
    ):
        with pytest.raises(RuleInvalid):
            rules_build(competition_id=1, total_weight=D(100), indicators=[bad])


def test_bonus_split_by_rank_shares_and_proportionally() -> None:
    """Rank shares: 50/30/20 % of the pool by place, a shared place splits its places' shares;
    proportional: by score, rounded down to the fen."""
    rows = [(1, 1, D(90)), (2, 2, D(80)), (3, 2, D(80))]
    shares = bonus_split(pool=D(1000), rule="rank_shares", rows=rows, shares=[D(50), D(30), D(20)])
    assert shares == {1: D("500.00"), 2: D("250.00"), 3: D("250.00")}
    prop = bonus_split(pool=D(1000), rule="proportional", rows=rows, shares=[])
    assert prop == {1: D("360.00"), 2: D("320.00"), 3: D("320.00")}
    odd = bonus_split(
        pool=D(100), rule="proportional", rows=[(1, 1, D(1))] * 1 + [(2, 2, D(2))], shares=[]
    )
    assert odd == {1: D("33.33"), 2: D("66.66")}


def test_content_hash_is_sha256_of_canonical_json_lines() -> None:
    """The hash is SHA-256 over the header and one canonical JSON line per row (sorted keys,
    no spaces, decimals as strings), exactly as json.dumps would write them: checked with
    negative contributions (penalty), empty optional values, a vetoed row and a Chinese code."""
    import hashlib
    import json

    inds = [*capacity_indicators(), ind("fines", "penalty", per_unit=D("1.5"), required=False)]
    values = {c: {"wells": w, "design": d, "actual": a} for c, (w, d, a) in PLANTS.items()}
    values["HK"]["fines"] = "2"
    values["GD"]["accident"] = "1"
    values["东辛"] = values.pop("DX")
    out = run(inds, values)
    result = out["result"]

    def canon(obj: Any) -> str:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    codes = [i.code for i in result.rules.indicators]  # by position
    lines = [canon({"codes": codes, "period": "2024-Q2", "rules": result.rules.hash})]
    for r in result.rows:
        details = json.loads(r.values_json)
        assert canon(details) == r.values_json
        lines.append(
            canon(
                {
                    "bonus": str(r.bonus),
                    "bracket": r.entrant.bracket,
                    "code": r.entrant.code,
                    "penalty": str(r.penalty),
                    "rank": r.rank,
                    "self_score": None,
                    "total": str(r.total),
                    "values": details,
                    "vetoes": r.vetoes,
                }
            )
        )
    assert result.content_hash == hashlib.sha256("\n".join(lines).encode()).hexdigest()
    hk = out["rows"]["HK"]
    assert json.loads(hk.values_json)["fines"] == ["2.000000", "3.0000", "-3.0000"]
    assert json.loads(hk.values_json)["accident"] == [None, "0.0000", "0.0000"]
    assert out["rows"]["GD"].total == 0 and out["rows"]["东辛"].rank == 2


@pytest.mark.parametrize("higher", [True, False])
@pytest.mark.parametrize(("cap", "floor"), [(None, D(0)), (D(120), D(60)), (D(150), D(0))])
def test_attainment_in_bulk_equals_the_rule_value_by_value(
    higher: bool, cap: Decimal | None, floor: Decimal
) -> None:
    """_score_many (list comprehensions over a column's distinct values) gives exactly the
    points and contribution of _score for every value, including halves to round, the cap,
    the floor, a target other than 1, and a column with a zero or negative value (which
    falls back to _score)."""
    from saidao.competitions.scoring import _compile, _score, _score_many

    rules = rules_build(
        competition_id=1,
        total_weight=D(100),
        indicators=[
            ind(
                "x",
                "attainment",
                weight=D(37),
                full_marks=D(100),
                target=D("3.7"),
                cap=cap,
                floor=floor,
                direction="higher" if higher else "lower",
                position=1,
            ),
            ind("y", "attainment", weight=D(63), full_marks=D(100), position=2),
        ],
    )
    k = _compile(rules)[0]
    values = [1, 7, 185_000, 370_000, 1_850_001, 3_700_000, 3_700_005, 5_550_000, 99_999_999]
    assert _score_many(k, values) == [_score(k, v) for v in values]
    with_zero = [*values, 0, -1_000_000]
    assert _score_many(k, with_zero) == [_score(k, v) for v in with_zero]


def test_number_texts_are_made_once_and_match_the_formatting() -> None:
    """The text cache writes integers of 4 or 6 places as quoted decimals (negative ones too)
    and None as null, the same text as the general formatting."""
    from saidao.competitions.scoring import _fmt, _Text

    t4, t6 = _Text(4), _Text(6)
    assert t4[12345] == '"1.2345"' and t4[0] == '"0.0000"' and t4[-5] == '"-0.0005"'
    assert t6[150_000_000] == '"150.000000"' and t6[None] == "null"
    assert all(t4[n] == f'"{_fmt(n, 4)}"' for n in (-123456, -10000, 1, 99999, 10**12))
    assert len(t4) == 8
