"""``saidao bench leaderboard``: the participation aggregator beside the naive path.

The synthetic data (``build_tree``, ``make_workers``, ``make_campaign``, ``make_events``) is
also what the crash test and the rank tests use.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from saidao.accounts.models import User
from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.leaderboards.models import ParticipationEvent
from saidao.leaderboards.services import member_snapshot_take
from saidao.orgs.models import PATH_ALPHABET, PATH_STEP, Organization
from saidao.orgs.validators import credit_code_check_char

from .site import HOST, BenchError, Log, child_env, free_port, run_json_child

LEVELS = [level.value for level in Organization.Level]  # national ... grassroots: depth 0..5
REGION_CITY = "621100"  # 定西市
REGION_PROVINCE = "620000"  # 甘肃省


@dataclass(frozen=True)
class SyntheticTree:
    """Organization ids by depth, root first; ``parent`` maps each id to its parent's."""

    by_depth: list[list[int]]
    parent: dict[int, int | None]

    @property
    def ids(self) -> list[int]:
        return [pk for level in self.by_depth for pk in level]

    @property
    def leaves(self) -> list[int]:
        return self.by_depth[-1]


def _segment(n: int) -> str:
    digits = []
    for _i in range(PATH_STEP):
        n, r = divmod(n, len(PATH_ALPHABET))
        digits.append(PATH_ALPHABET[r])
    return "".join(reversed(digits))


def _fanout(orgs: int, depth: int) -> float:
    """The branching factor f with 1 + f + ... + f**(depth-1) closest to ``orgs``."""
    lo, hi = 1.0, float(orgs)
    for _i in range(100):
        mid = (lo + hi) / 2
        if sum(mid**d for d in range(depth)) < orgs:
            lo = mid
        else:
            hi = mid
    return hi


def build_tree(orgs: int, *, depth: int = 6, seed: int = 1) -> SyntheticTree:
    """``orgs`` approved organizations in ``depth`` levels, bulk-inserted with real paths.

    Each level is about ``fanout`` times the one above; parents get their children at random,
    so sibling groups differ in size. Every organization is in 定西市 (zones are not ranked here).
    """
    if orgs < depth:
        raise ValueError(f"need at least {depth} organizations for depth {depth}")
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    depth = min(depth, len(LEVELS))
    f = _fanout(orgs, depth)
    sizes = [max(1, round(f**d)) for d in range(depth)]
    sizes[0] = 1
    sizes[-1] = max(1, orgs - sum(sizes[:-1]))
    from saidao.regions.models import Region

    region = Region.objects.get(code=REGION_CITY)
    by_depth: list[list[int]] = []
    parent: dict[int, int | None] = {}
    paths: dict[int, str] = {}
    seq = 0
    for d, size in enumerate(sizes):
        parents = by_depth[-1] if by_depth else []
        rows: list[Organization] = []
        children: dict[int, int] = {}
        for i in range(size):
            up = None if not parents else (parents[i] if i < len(parents) else rng.choice(parents))
            n = children.get(up or 0, 0)
            children[up or 0] = n + 1
            path = (paths[up] if up else "") + _segment(n)
            seq += 1
            body = "81" + REGION_CITY + f"{seq:09d}"
            rows.append(
                Organization(
                    name=f"合成工会{seq}",
                    level=LEVELS[d],
                    kind=Organization.Kind.FEDERATION,
                    parent_id=up,
                    path=path,
                    depth=d,
                    child_seq=0,
                    region=region,
                    credit_code=body + credit_code_check_char(body),
                    contact_name="联系人",
                    contact_phone="0932-1234567",
                    status=Organization.Status.APPROVED,
                )
            )
        created = Organization.objects.bulk_create(rows, batch_size=2000)
        ids = []
        for org in created:
            assert org.pk is not None
            ids.append(org.pk)
            parent[org.pk] = org.parent_id
            paths[org.pk] = org.path
        by_depth.append(ids)
        counts = {up: n for up, n in children.items() if up}
        if counts:
            Organization.objects.bulk_update(
                [Organization(pk=up, child_seq=n) for up, n in counts.items()],
                ["child_seq"],
                batch_size=2000,
            )
    return SyntheticTree(by_depth=by_depth, parent=parent)


def make_workers(n: int, *, offset: int = 0) -> list[int]:
    """``n`` activated workers with distinct mobile numbers; returns their ids."""
    rows = [
        User(phone=f"139{offset + i:08d}", real_name=f"职工{offset + i}", password="!")  # noqa: S106 - unusable
        for i in range(n)
    ]
    created = User.objects.bulk_create(rows, batch_size=2000)
    return [u.pk for u in created]


def make_campaign(root_id: int, *, slug: str = "bench-leaderboard") -> Campaign:
    return Campaign.objects.create(
        organizer_id=root_id,
        slug=slug,
        title="排行榜基准",
        status=Campaign.Status.PUBLISHED,
    )


@dataclass
class EventMaker:
    """Unsaved participation events: each worker belongs to one leaf-ish organization and takes
    part again and again (entries and quiz attempts), so most events repeat a counted worker."""

    campaign_id: int
    workers: Sequence[int]
    orgs: Sequence[int]
    seed: int = 2
    quiz_share: float = 0.3
    prefix: str = "ev"

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - synthetic data
        self._home = {w: self._rng.choice(self.orgs) for w in self.workers}
        self._n = 0

    def home(self, worker: int) -> int:
        return self._home[worker]

    def batch(self, n: int) -> list[ParticipationEvent]:
        rng = self._rng
        out = []
        for _i in range(n):
            w = rng.choice(self.workers)
            self._n += 1
            out.append(
                ParticipationEvent(
                    campaign_id=self.campaign_id,
                    worker_id=w,
                    organization_id=self._home[w],
                    zone_province_id=REGION_PROVINCE,
                    zone_city_id=REGION_CITY,
                    kind="quiz" if rng.random() < self.quiz_share else "entry",
                    key=f"{self.prefix}:{self._n}",
                )
            )
        return out

    def voids(self, events: Sequence[ParticipationEvent]) -> list[ParticipationEvent]:
        """Compensating events for ``events`` (saved ones), as an officer's void appends."""
        out = []
        for e in events:
            assert e.pk is not None
            out.append(
                ParticipationEvent(
                    campaign_id=e.campaign_id,
                    worker_id=e.worker_id,
                    organization_id=e.organization_id,
                    zone_province_id=e.zone_province_id,
                    zone_city_id=e.zone_city_id,
                    kind=e.kind,
                    value=-e.value,
                    key=f"void:{e.pk}",
                    voids_id=e.pk,
                )
            )
        return out


# --- the benchmark ---------------------------------------------------------------------------

TARGET_RATIO_MIN = 10.0  # scaled aggregator / naive on PostgreSQL
TARGET_EMBEDDED_EPS_MIN = 20_000.0
TARGET_FRESHNESS_P99_S_MAX = 1.0
TARGET_TOP50_P95_MS_MAX = 2.0
TARGET_RANK_P95_MS_MAX = 1.0
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


@dataclass(frozen=True)
class LeaderboardBenchOptions:
    orgs: int = 100_000
    events: int = 200_000
    depth: int = 6
    naive_seconds: float = 5.0
    writers: int = 16
    freshness_seconds: float = 5.0
    freshness_rate: int = 2_000  # events/s inserted while the aggregator runs
    reads: int = 2_000
    max_seconds: float = 1_200.0


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _naive(tree: SyntheticTree, maker: EventMaker, seconds: float, writers: int) -> float:
    """Events/s of the naive path: per event one transaction inserting it and updating every
    ancestor's row (``writers`` threads on PostgreSQL, one on SQLite, the single writer)."""
    import threading
    import time

    from django.db import connection, connections, transaction

    from saidao.leaderboards.models import OrgTally

    table = OrgTally._meta.db_table
    campaign = make_campaign(tree.by_depth[0][0], slug="bench-naive")
    ancestors: dict[int, list[int]] = {}
    for pk in tree.ids:
        up = tree.parent[pk]
        ancestors[pk] = [pk, *(ancestors[up] if up else [])]
    at = clock.now()
    OrgTally.objects.bulk_create(
        [
            OrgTally(campaign=campaign, organization_id=o, kind=k, reached_at=at)
            for o in tree.ids
            for k in ("entry", "quiz")
        ],
        batch_size=5000,
    )
    n_writers = writers if connection.vendor == "postgresql" else 1
    done = [0] * n_writers
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def work(slot: int) -> None:
        try:
            while time.monotonic() < stop:
                with lock:
                    (e,) = maker.batch(1)
                e.campaign_id = campaign.pk
                e.key = f"naive:{e.key}"
                with transaction.atomic():
                    e.save(force_insert=True)
                    with connection.cursor() as cursor:
                        for org in ancestors[e.organization_id or 0]:
                            cursor.execute(
                                f"UPDATE {table} SET subtree = subtree + 1, reached_at = %s "  # noqa: S608
                                "WHERE campaign_id = %s AND organization_id = %s AND kind = %s",
                                [clock.now(), campaign.pk, org, e.kind],
                            )
                done[slot] += 1
        finally:
            connections.close_all()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def run_phase(options: LeaderboardBenchOptions, log: Log) -> dict[str, Any]:
    """One database's figures, measured in this process (its settings name the database)."""
    import resource
    import threading
    import time

    from django.core.management import call_command
    from django.db import connection, connections, transaction

    from saidao.leaderboards import ranks
    from saidao.leaderboards.aggregator import WATERMARK, aggregate_all
    from saidao.leaderboards.models import Watermark
    from saidao.leaderboards.runner import notify_participation, run_forever

    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"{connection.vendor}: migrated in {time.monotonic() - t0:.1f} s")
    tree = build_tree(options.orgs, depth=options.depth)
    workers = make_workers(max(10, options.events // 5))
    campaign = make_campaign(tree.by_depth[0][0])
    maker = EventMaker(campaign.pk, workers, tree.leaves, seed=3)
    log(f"{connection.vendor}: {options.orgs} organizations, {len(workers)} workers")

    naive = _naive(
        tree,
        EventMaker(campaign.pk, workers, tree.leaves, seed=4, prefix="nv"),
        options.naive_seconds,
        options.writers,
    )
    log(f"{connection.vendor}: naive path {naive:,.0f} events/s")

    for _i in range(0, options.events, 10_000):
        ParticipationEvent.objects.bulk_create(
            maker.batch(min(10_000, options.events - _i)), batch_size=2000
        )
    Watermark.objects.update_or_create(
        name=WATERMARK,
        defaults={
            "last_id": ParticipationEvent.objects.filter(key__startswith="naive:")
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0
        },
    )
    # Collection opening freezes the member counts (as a campaign does before counting starts),
    # so the measured phases time the counting, not a one-off snapshot.
    member_snapshot_take(campaign=campaign)
    # the naive events are not the aggregator's to fold: start past them (they precede ours)
    started = time.monotonic()
    folded = aggregate_all()
    eps = folded / (time.monotonic() - started)
    log(f"{connection.vendor}: aggregator {folded:,} events at {eps:,.0f} events/s")

    # The rank index loads the campaign (as the web process does on its first read), and is
    # then kept current by the aggregator's flushes during the freshness phase below.
    from saidao.leaderboards import selectors

    index = ranks.rank_index()
    t0 = time.monotonic()
    index.rebuild(campaign.pk)
    rebuild_s = time.monotonic() - t0
    log(f"{connection.vendor}: {type(index).__name__} loaded in {rebuild_s:.2f} s")

    # freshness: insert at a steady rate while the aggregator runs beside
    stop = threading.Event()
    agg = threading.Thread(target=run_forever, kwargs={"stop": stop}, daemon=True)
    agg.start()
    lags: list[float] = []
    pending: list[tuple[int, float]] = []
    chunk = max(1, options.freshness_rate // 20)
    end = time.monotonic() + options.freshness_seconds
    try:
        while time.monotonic() < end or pending:
            if time.monotonic() < end:
                with transaction.atomic():
                    saved = ParticipationEvent.objects.bulk_create(maker.batch(chunk))
                    notify_participation()  # as a web process's participation does (PostgreSQL)
                pending.append((max(e.pk or 0 for e in saved), time.monotonic()))
            time.sleep(0.05)
            mark = Watermark.objects.get(name=WATERMARK).last_id
            now = time.monotonic()
            lags += [now - at for pk, at in pending if pk <= mark]
            pending = [(pk, at) for pk, at in pending if pk > mark]
            if time.monotonic() > end + 30:
                raise BenchError("the aggregator fell more than 30 s behind")
    finally:
        stop.set()
        agg.join(timeout=30)
    log(f"{connection.vendor}: freshness p99 {_pct(lags, 99):.3f} s")

    # Reads as the pages make them: through the selectors (the index, then the rows' names),
    # each read with its campaign's epoch check. The organizations asked about are read first.
    rng = random.Random(9)  # noqa: S311 - synthetic reads
    picks = [
        (d, rng.choice(tree.by_depth[d]))
        for d in (rng.randrange(1, len(tree.by_depth)) for _i in range(options.reads))
    ]
    orgs = Organization.objects.in_bulk([pk for _d, pk in picks])
    timings: dict[str, list[float]] = {"top50": [], "rank": [], "around": []}
    for d, pk in picks:
        org = orgs[pk]
        s = time.perf_counter()
        selectors.top(campaign=campaign, level=LEVELS[d], limit=50)
        m = time.perf_counter()
        selectors.rank_of(campaign=campaign, organization=org)
        r = time.perf_counter()
        selectors.window(campaign=campaign, organization=org, size=5)
        a = time.perf_counter()
        timings["top50"].append((m - s) * 1000)
        timings["rank"].append((r - m) * 1000)
        timings["around"].append((a - r) * 1000)
    connections.close_all()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, Any] = {
        "database": connection.vendor,
        "index": type(index).__name__,
        "orgs": options.orgs,
        "events": folded,
        "naive_events_per_s": round(naive, 1),
        "naive_writers": options.writers if connection.vendor == "postgresql" else 1,
        "events_per_s": round(eps, 1),
        "ratio": round(eps / naive, 2) if naive else None,
        "freshness_p50_s": round(_pct(lags, 50), 4),
        "freshness_p99_s": round(_pct(lags, 99), 4),
        "rank_rebuild_s": round(rebuild_s, 3),
        "max_rss_mb": round(rss_mb, 1),
    }
    for name, values in timings.items():
        for p in (50, 95, 99):
            out[f"{name}_p{p}_ms"] = round(_pct(values, p), 4)
    return out


# --- the parent: temporary databases and servers, one child process per database --------------


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited early ({proc.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise BenchError(f"{what} did not listen on {HOST}:{port} within 30 s")


def _wait_postgres_ready(pg_bin: Path, port: int, timeout_s: float = 120.0) -> None:
    """The port opens while PostgreSQL still starts up and refuses sessions; on a loaded
    machine that lasts a while. Wait until it accepts them (pg_isready), within a bound."""
    deadline = time.monotonic() + timeout_s
    while True:
        ready = subprocess.run(  # noqa: S603
            [str(pg_bin / "pg_isready"), "-q", "-h", HOST, "-p", str(port)],
            check=False,
            timeout=30,
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"postgres on port {port} not ready after {timeout_s:.0f} s")
        time.sleep(0.2)


def _stop(pid: int, sig: signal.Signals, log: Log, what: str) -> None:
    """Signal a server by its PID and wait until it is gone (SIGKILL after 20 s)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log(f"{what} pid {pid} stopped")
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    log(f"{what} pid {pid} killed")


def scaled_available() -> str | None:
    """Why the scaled run cannot happen, or None when PostgreSQL and Redis can be started."""
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    if not sorted(glob.glob(PG_BIN_GLOB + "/postgres")):
        return "PostgreSQL is not installed"
    if os.geteuid() != 0 or not shutil.which("runuser"):
        return "starting PostgreSQL as the postgres user needs root (runuser)"
    return None


@contextlib.contextmanager
def scaled_servers(root: Path, log: Log, pids: list[int]) -> Iterator[dict[str, str]]:
    """A temporary PostgreSQL and Redis on 127.0.0.1; their URLs; both stopped by PID."""
    pg_bin = Path(sorted(glob.glob(PG_BIN_GLOB))[-1])
    pg_dir = root / "pg"
    pg_dir.mkdir()
    root.chmod(0o711)  # the postgres user must reach its directory inside ours
    shutil.chown(pg_dir, "postgres", "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(  # noqa: S603 - the installed PostgreSQL
        [
            *as_pg,
            str(pg_bin / "initdb"),
            "-D",
            str(pg_dir / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pg_port, redis_port = free_port(), free_port()
    pg_log = (pg_dir / "postgres.log").open("wb")
    pg = subprocess.Popen(  # noqa: S603
        [
            *as_pg,
            str(pg_bin / "postgres"),
            "-D",
            str(pg_dir / "data"),
            "-h",
            HOST,
            "-p",
            str(pg_port),
            "-k",
            str(pg_dir),
            "-c",
            "max_connections=50",
        ],
        stdout=pg_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    redis = subprocess.Popen(  # noqa: S603
        [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            HOST,
            "--port",
            str(redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    pids += [redis.pid]
    pg_pid = 0
    try:
        _wait_port(redis_port, redis, "redis-server")
        _wait_port(pg_port, pg, "postgres")
        pid_file = pg_dir / "data" / "postmaster.pid"
        pg_pid = int(pid_file.read_text().split()[0])
        pids.append(pg_pid)
        log(f"postgres pid {pg_pid} on {HOST}:{pg_port}, redis pid {redis.pid} on {redis_port}")
        _wait_postgres_ready(pg_bin, pg_port)
        subprocess.run(  # noqa: S603
            [
                str(pg_bin / "psql"),
                "-q",
                "-h",
                HOST,
                "-p",
                str(pg_port),
                "-U",
                "postgres",
                "-c",
                "CREATE DATABASE saidao",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield {
            "DATABASE_URL": f"postgres://postgres@{HOST}:{pg_port}/saidao",
            "REDIS_URL": f"redis://{HOST}:{redis_port}/0",
        }
    finally:
        redis.terminate()
        try:
            redis.wait(timeout=20)
        except subprocess.TimeoutExpired:
            redis.kill()
            redis.wait(timeout=20)
        log(f"redis-server pid {redis.pid} stopped")
        if pg_pid:
            _stop(pg_pid, signal.SIGINT, log, "postgres")
        if pg.poll() is None:
            _stop(pg.pid, signal.SIGTERM, log, "runuser")
        pg.wait(timeout=30)
        pg_log.close()


def _child(
    options: LeaderboardBenchOptions, env: dict[str, str], root: Path, deadline: float
) -> dict[str, Any]:
    args = [
        "bench",
        "leaderboard",
        "--phase",
        "--orgs",
        str(options.orgs),
        "--events",
        str(options.events),
        "--naive-seconds",
        str(options.naive_seconds),
        "--reads",
        str(options.reads),
        "--json",
    ]
    return run_json_child(args, env=env, cwd=root, deadline=deadline, what="the measuring process")


def run_leaderboard_bench(options: LeaderboardBenchOptions, log: Log) -> dict[str, Any]:
    """Embedded (SQLite, in-memory ranks) and, when possible, scaled (PostgreSQL, Redis)."""
    deadline = time.monotonic() + options.max_seconds
    root = Path(tempfile.mkdtemp(prefix="saidao-bench-lb-"))
    pids: list[int] = []
    report: dict[str, Any] = {"options": asdict(options), "temp_dir": str(root)}
    try:
        env = child_env(root)
        env["SAIDAO_VAR_DIR"] = str(root / "embedded")
        env["SAIDAO_AGGREGATOR"] = "manual"
        log(f"embedded: SQLite in {root / 'embedded'}")
        report["embedded"] = _child(options, env, root, deadline)
        why = scaled_available()
        if why is None:
            with scaled_servers(root, log, pids) as urls:
                scaled_env = {**env, **urls, "SAIDAO_VAR_DIR": str(root / "scaled")}
                report["scaled"] = _child(options, scaled_env, root, deadline)
        else:
            log(f"scaled: skipped, {why}")
            report["scaled"] = None
            report["scaled_skipped"] = why
    finally:
        shutil.rmtree(root, ignore_errors=True)
        log(f"removed {root}")
    report["server_pids"] = pids
    report["targets_met"] = targets(report)
    return report


def targets(report: dict[str, Any]) -> dict[str, bool | None]:
    e, s = report["embedded"], report.get("scaled")
    met: dict[str, bool | None] = {
        "embedded_events_per_s": e["events_per_s"] >= TARGET_EMBEDDED_EPS_MIN,
        "freshness_p99_s": e["freshness_p99_s"] <= TARGET_FRESHNESS_P99_S_MAX
        and (s is None or s["freshness_p99_s"] <= TARGET_FRESHNESS_P99_S_MAX),
        "top50_p95_ms": e["top50_p95_ms"] <= TARGET_TOP50_P95_MS_MAX,
        "rank_p95_ms": e["rank_p95_ms"] <= TARGET_RANK_P95_MS_MAX,
        "scaled_ratio": None if s is None else s["ratio"] >= TARGET_RATIO_MIN,
    }
    met["all"] = all(v is not False for v in met.values())
    return met


def format_table(report: dict[str, Any]) -> str:
    keys = [
        "database",
        "index",
        "orgs",
        "events",
        "naive_writers",
        "naive_events_per_s",
        "events_per_s",
        "ratio",
        "freshness_p50_s",
        "freshness_p99_s",
        "top50_p50_ms",
        "top50_p95_ms",
        "top50_p99_ms",
        "rank_p50_ms",
        "rank_p95_ms",
        "rank_p99_ms",
        "around_p50_ms",
        "around_p95_ms",
        "around_p99_ms",
        "rank_rebuild_s",
        "max_rss_mb",
    ]
    cols = [("embedded", report["embedded"]), ("scaled", report.get("scaled") or {})]
    lines = [f"{'':22} {'embedded':>16} {'scaled':>16}"]
    for key in keys:
        cells = [str(c.get(key, "-")) for _n, c in cols]
        lines.append(f"{key:22} {cells[0]:>16} {cells[1]:>16}")
    lines.append(f"targets met: {report['targets_met']}")
    return "\n".join(lines)
