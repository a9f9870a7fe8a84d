"""``saidao bench scoring``: scoring one period of a labor competition program (issue 6).

The command calls three functions of this module: ``add_arguments(parser)`` adds its options
(prefixed, so they do not clash with the other benchmarks'), ``run(options, log)`` returns the
report as a dict (the ``--json`` object) and ``format_table(report)`` renders it for a person.

One run, in a temporary directory removed afterwards (its own SQLite database):

1. a child process migrates and seeds one period of 13 competitions × 5,000 participants ×
   20 reported indicators (1.3 million verified values; attainment, rank, bands, bonus,
   penalty and veto rules, two brackets per competition);
2. two more child processes, each on its own copy of the seeded database, compute every
   competition's period end to end the way ``program_period_compute`` does (minus the
   permission check): read each period's values in one query, score the competitions in
   forked processes (as many as idle cores, else in the process itself;
   ``--scoring-workers``), store the snapshot rows in batches, all in one transaction. The
   first one's wall time is ``seconds``; both must give the same ``snapshot_hash`` (the
   SHA-256 of the 13 snapshots' content hashes);
3. a last child measures the naive way, one ORM query per participant per indicator and one
   insert per row, on a sample of one competition's participants, and scales it to all
   participants: ``naive_seconds``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from saidao.bench.site import BenchError, child_env, run_json_child

TARGET_SECONDS = 5.0
PHASES = ("seed", "compute", "naive")
# The rules of the 20 indicators, repeated for other counts: 8 attainment (the last four
# lower is better), 4 rank, 4 bands, 2 bonus, 1 penalty, 1 veto.
PATTERN = (
    ["att"] * 4
    + ["att_low"] * 4
    + ["rank"] * 4
    + ["bands"] * 4
    + ["bonus"] * 2
    + [
        "penalty",
        "veto",
    ]
)
WEIGHTED = ("att", "att_low", "rank", "bands")


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {raw!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scoring-competitions",
        type=_positive_int,
        default=13,
        help="scoring: competitions in the period (default %(default)d)",
    )
    parser.add_argument(
        "--scoring-participants",
        type=_positive_int,
        default=5000,
        help="scoring: participants per competition (default %(default)d)",
    )
    parser.add_argument(
        "--scoring-indicators",
        type=_positive_int,
        default=20,
        help="scoring: reported indicators per competition (default %(default)d)",
    )
    parser.add_argument(
        "--scoring-naive-sample",
        type=_positive_int,
        default=200,
        help="scoring: participants of one competition the naive way reads (default %(default)d)",
    )
    parser.add_argument(
        "--scoring-max-seconds",
        type=float,
        default=1800.0,
        help="scoring: give up after this long (default %(default)g)",
    )
    parser.add_argument(
        "--scoring-workers",
        type=_positive_int,
        help="scoring: scoring processes (default the idle cores by load average, at least 1)",
    )
    parser.add_argument("--scoring-phase", choices=PHASES, help=argparse.SUPPRESS)


# --- inside a child process (Django is set up on the temporary database) -------------------


def _indicator_rows(competition_id: int, n: int) -> list[Any]:
    from saidao.competitions.models import Indicator

    kinds = [PATTERN[i % len(PATTERN)] for i in range(n)]
    if not any(k in WEIGHTED for k in kinds):
        kinds[0] = "att"
    weighted = [i for i, k in enumerate(kinds) if k in WEIGHTED]
    base, extra = divmod(100, len(weighted))
    weights = {i: Decimal(base + (1 if n_ < extra else 0)) for n_, i in enumerate(weighted)}
    rows = []
    for i, kind in enumerate(kinds):
        kw: dict[str, Any] = {
            "competition_id": competition_id,
            "position": i + 1,
            "code": f"i{i + 1:02d}",
            "name": f"指标{i + 1:02d}",
            "unit": "分",
            "weight": weights.get(i, Decimal(0)),
            "required": kind not in ("bonus", "penalty", "veto"),
        }
        if kind in ("att", "att_low"):
            kw |= {
                "rule": Indicator.Rule.ATTAINMENT,
                "target": Decimal(100),
                "cap": Decimal(150),
                "direction": "lower" if kind == "att_low" else "higher",
            }
        elif kind == "rank":
            kw |= {
                "rule": Indicator.Rule.RANK,
                "rank_first": Decimal(100),
                "rank_step": Decimal("0.02"),
            }
        elif kind == "bands":
            kw |= {
                "rule": Indicator.Rule.BANDS,
                "bands": [["120", "100"], ["100", "80"], ["80", "60"]],
            }
        elif kind == "bonus":
            kw |= {"rule": Indicator.Rule.BONUS, "per_unit": Decimal("0.5"), "cap": Decimal(2)}
        elif kind == "penalty":
            kw |= {"rule": Indicator.Rule.PENALTY, "per_unit": Decimal(1)}
        else:
            kw |= {"rule": Indicator.Rule.VETO}
        rows.append(Indicator(**kw))
    return rows


def _value(rng: random.Random, kind: str) -> str:
    if kind in ("bonus",):
        return str(rng.randrange(6))
    if kind == "penalty":
        return str(rng.randrange(4))
    if kind == "veto":
        return "1" if rng.random() < 0.002 else "0"
    return f"{rng.uniform(50, 150):.2f}"


def seed(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """Migrate and seed the period; returns how many values were stored."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from saidao.bench.leaderboard import build_tree
    from saidao.competitions.models import (
        Bracket,
        Category,
        Competition,
        Indicator,
        Participant,
        Period,
        Program,
        Report,
        ReportValue,
    )

    n_comp = options["scoring_competitions"]
    n_part = options["scoring_participants"]
    n_ind = options["scoring_indicators"]
    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"{connection.vendor}: migrated in {time.monotonic() - t0:.1f} s")
    t0 = time.monotonic()
    tree = build_tree(n_part + 1, depth=2)
    root, units = tree.by_depth[0][0], tree.by_depth[1]
    rng = random.Random(6)  # noqa: S311 - synthetic data
    table = ReportValue._meta.db_table
    total = 0
    with transaction.atomic():
        program = Program.objects.create(
            organization_id=root, name="基准竞赛项目", year=2024, status=Program.Status.ACTIVE
        )
        for c in range(n_comp):
            cat = Category.objects.create(program=program, position=c + 1, name=f"大项{c + 1:02d}")
            comp = Competition.objects.create(
                program=program,
                category=cat,
                position=1,
                name=f"单项竞赛{c + 1:02d}",
                participant_kind=Competition.ParticipantKind.UNIT,
                period_kind=Competition.PeriodKind.QUARTER,
            )
            brackets = [
                Bracket.objects.create(competition=comp, position=i + 1, name=f"第{i + 1}组")
                for i in range(2)
            ]
            inds = Indicator.objects.bulk_create(_indicator_rows(comp.pk, n_ind))
            kinds = [PATTERN[i % len(PATTERN)] for i in range(n_ind)]
            period = Period.objects.create(
                competition=comp,
                key="2024-Q2",
                label="2024年第二季度",
                starts_on="2024-04-01",
                ends_on="2024-06-30",
                state=Period.State.CLOSED,
            )
            parts = Participant.objects.bulk_create(
                [
                    Participant(
                        competition=comp,
                        bracket=brackets[i % 2],
                        code=f"U{i + 1:06d}",
                        name=f"参赛单位{i + 1}",
                        organization_id=org,
                        home_id=org,
                    )
                    for i, org in enumerate(units)
                ],
                batch_size=2000,
            )
            reports = Report.objects.bulk_create(
                [Report(participant=p, period=period, state=Report.State.VERIFIED) for p in parts],
                batch_size=2000,
            )
            rows = [
                (r.pk, ind.pk, _value(rng, kind), "")
                for r in reports
                for ind, kind in zip(inds, kinds, strict=True)
            ]
            with connection.cursor() as cur:
                for i in range(0, len(rows), 50_000):
                    cur.executemany(
                        f"INSERT INTO {table} (report_id, indicator_id, value, note) "  # noqa: S608 - our own table name
                        "VALUES (%s, %s, %s, %s)",
                        rows[i : i + 50_000],
                    )
            total += len(rows)
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    log(f"{connection.vendor}: seeded {total:,} values in {time.monotonic() - t0:.1f} s")
    return {"values": total}


def compute(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """Every period end to end, as program_period_compute does; the combined hash and
    timings."""
    from django.db import connection, transaction

    from saidao.competitions.models import Period
    from saidao.competitions.scoring import Timings, compute_and_store_many, default_workers

    t_all = time.perf_counter()
    cpu_all = time.process_time()
    timings = Timings()
    with transaction.atomic():
        periods = list(
            Period.objects.select_for_update(of=("self",))
            .select_related("competition__program")
            .order_by("competition_id")
        )
        workers = options.get("scoring_workers") or default_workers(len(periods))
        snapshots = compute_and_store_many(
            periods=periods, actor=None, workers=workers, timings=timings
        )
    seconds = time.perf_counter() - t_all
    # CPU of this process and of its finished worker processes: the load of others excluded
    cpu = time.process_time() - cpu_all + _children_cpu()
    values = _values_read(periods)
    combined = hashlib.sha256("\n".join(s.content_hash for s in snapshots).encode()).hexdigest()
    log(
        f"{connection.vendor}: computed {len(periods)} periods with {workers} scoring "
        f"process(es) in {seconds:.2f} s (read {timings.read:.2f}, waiting for scores "
        f"{timings.score:.2f}, store {timings.store:.2f}; {cpu:.2f} s of CPU)"
    )
    return {
        "seconds": round(seconds, 3),
        "snapshot_hash": combined,
        "values": values,
        "read_seconds": round(timings.read, 3),
        "score_seconds": round(timings.score, 3),
        "store_seconds": round(timings.store, 3),
        "cpu_seconds": round(cpu, 3),
        "workers": workers,
    }


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(used.ru_utime + used.ru_stime)


def _values_read(periods: list[Any]) -> int:
    """The scored values of the periods (counted after the clock stopped)."""
    from saidao.competitions.models import ReportValue
    from saidao.competitions.scoring import SCORED_STATES

    return ReportValue.objects.filter(
        report__period__in=periods, report__is_current=True, report__state__in=SCORED_STATES
    ).count()


def naive(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """One ORM query per participant per indicator and one insert per row, on a sample of the
    first competition, scaled to every participant of every competition."""
    from django.db import transaction

    from saidao.competitions.models import Participant, Period, ReportValue, Snapshot, SnapshotRow
    from saidao.competitions.scoring import Entrant, rules_load
    from saidao.competitions.scoring import compute as engine
    from saidao.core import clock

    period = (
        Period.objects.select_related("competition__program").order_by("competition_id").first()
    )
    assert period is not None
    all_participants = Participant.objects.filter(
        competition__program=period.competition.program
    ).count()
    sample = list(
        Participant.objects.filter(competition=period.competition).order_by("code")[
            : options["scoring_naive_sample"]
        ]
    )
    t0 = time.perf_counter()
    rules = rules_load(competition=period.competition)
    vals: dict[int, dict[str, Decimal]] = {}
    for p in sample:
        got: dict[str, Decimal] = {}
        for ind in rules.indicators:
            v = (
                ReportValue.objects.filter(
                    report__participant=p,
                    report__period=period,
                    report__is_current=True,
                    report__state__in=("verified", "locked"),
                    indicator_id=ind.id,
                )
                .values_list("value", flat=True)
                .first()
            )
            if v is not None:
                got[ind.code] = v
        vals[p.pk] = got
    entrants = [Entrant(p.pk, p.code, p.bracket_id, (0, p.bracket_id or 0)) for p in sample]
    result = engine(rules=rules, entrants=entrants, values=vals, period_key=period.key)
    with transaction.atomic():
        snap = Snapshot.objects.create(
            period=period,
            number=10_000,
            rules_hash=rules.hash,
            content_hash=result.content_hash,
            computed_at=clock.now(),
        )
        for r in result.rows:
            SnapshotRow.objects.create(
                snapshot=snap,
                participant_id=r.entrant.id,
                bracket_id=r.entrant.bracket,
                position=r.position,
                rank=r.rank,
                total=r.total,
                bonus=r.bonus,
                penalty=r.penalty,
                vetoed=bool(r.vetoes),
                values=r.details(rules),
            )
        transaction.set_rollback(True)
    measured = time.perf_counter() - t0
    scaled = measured * all_participants / max(1, len(sample))
    log(
        f"naive: {len(sample)} participants × {len(rules.indicators)} queries in "
        f"{measured:.2f} s, scaled to {all_participants:,} participants: {scaled:,.0f} s"
    )
    return {
        "naive_seconds": round(scaled, 1),
        "naive_measured_seconds": round(measured, 3),
        "naive_sample": len(sample),
    }


# --- the parent ------------------------------------------------------------------------------


def _child(
    phase: str, options: dict[str, Any], env: dict[str, str], root: Path, deadline: float
) -> dict[str, Any]:
    args = [
        "bench",
        "scoring",
        "--scoring-phase",
        phase,
        "--scoring-competitions",
        str(options["scoring_competitions"]),
        "--scoring-participants",
        str(options["scoring_participants"]),
        "--scoring-indicators",
        str(options["scoring_indicators"]),
        "--scoring-naive-sample",
        str(options["scoring_naive_sample"]),
        "--json",
    ]
    if options.get("scoring_workers"):
        args += ["--scoring-workers", str(options["scoring_workers"])]
    return run_json_child(args, env=env, cwd=root, deadline=deadline, what=f"the {phase} process")


def run(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    phase = options.get("scoring_phase")
    if phase == "seed":
        return seed(options, log)
    if phase == "compute":
        return compute(options, log)
    if phase == "naive":
        return naive(options, log)
    deadline = time.monotonic() + options["scoring_max_seconds"]
    root = Path(tempfile.mkdtemp(prefix="saidao-bench-scoring-"))
    try:
        env = child_env(root)
        env["SAIDAO_TASK_RUNNER"] = "manual"
        env.pop("DATABASE_URL", None)  # always its own SQLite file under root
        log(f"SQLite in {root / 'var'}")
        seeded = _child("seed", options, env, root, deadline)
        # The second process computes on its own copy of the seeded database: on the first
        # one's it would find the same snapshots stored and store nothing.
        again = root / "again"
        again.mkdir()
        shutil.copytree(root / "var", again / "var")
        env_again = child_env(again) | {"SAIDAO_TASK_RUNNER": "manual"}
        env_again.pop("DATABASE_URL", None)
        first = _child("compute", options, env, root, deadline)
        second = _child("compute", options, env_again, again, deadline)
        if first["snapshot_hash"] != second["snapshot_hash"]:
            raise BenchError(
                f"two processes gave different hashes: {first['snapshot_hash']} "
                f"and {second['snapshot_hash']}"
            )
        log(f"same snapshot hash from two processes: {first['snapshot_hash'][:16]}…")
        slow = _child("naive", options, env, root, deadline)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        log(f"removed {root}")
    if first["values"] != seeded["values"]:
        raise BenchError(f"read {first['values']} values of {seeded['values']}")
    report: dict[str, Any] = {
        "seconds": first["seconds"],
        "naive_seconds": slow["naive_seconds"],
        "snapshot_hash": first["snapshot_hash"],
        "values": first["values"],
    }
    if not options.get("json"):
        report |= {
            "second_process_seconds": second["seconds"],
            "read_seconds": first["read_seconds"],
            "score_seconds": first["score_seconds"],
            "store_seconds": first["store_seconds"],
            "cpu_seconds": first["cpu_seconds"],
            "second_process_cpu_seconds": second["cpu_seconds"],
            "naive_measured_seconds": slow["naive_measured_seconds"],
            "naive_sample": slow["naive_sample"],
        }
    return report


def format_table(report: dict[str, Any]) -> str:
    met = report["seconds"] <= TARGET_SECONDS
    lines = [
        f"values scored                {report['values']:>14,}",
        f"end to end (1st process)     {report['seconds']:>12.2f} s   "
        f"target <= {TARGET_SECONDS:g} s ({'met' if met else 'missed'})",
    ]
    if "second_process_seconds" in report:
        lines += [
            f"  read / score / store       {report['read_seconds']:.2f} / "
            f"{report['score_seconds']:.2f} / {report['store_seconds']:.2f} s",
            f"  CPU of the process         {report['cpu_seconds']:>12.2f} s",
            f"end to end (2nd process)     {report['second_process_seconds']:>12.2f} s "
            f"({report['second_process_cpu_seconds']:.2f} s CPU)",
            f"naive, measured              {report['naive_measured_seconds']:>12.2f} s "
            f"on {report['naive_sample']} participants",
        ]
    lines += [
        f"naive, scaled                {report['naive_seconds']:>12,.0f} s",
        f"snapshot hash (both)         {report['snapshot_hash']}",
    ]
    return "\n".join(lines)
