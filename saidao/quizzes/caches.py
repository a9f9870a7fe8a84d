"""In-process caches for the contest's hot paths (thousands of workers starting together).

- Question versions: a version row never changes once written (an edit makes a new row), so
  its content is cached by id for as long as the process lives (bounded).
- Question pools: the draw's candidates per bank, category and difficulty with their usage
  counters, re-read from the database at most once a second; draws in between count locally,
  so one process stays exactly least-used-first and several processes stay close to it.
- Draw counts not yet written: a start does not update its 20 questions' counters (20 rows
  every start touched, hot rows on PostgreSQL); the counts gather here and a start a second or
  more after the last write carries them all in one statement (``usage_due``). The embedded
  sweeper writes what is left; a process that stops loses at most its last second of counts,
  which only steer the draw.
- Zones: a region's prefecture-level zone, which never changes.
- Contests: a contest with its campaign, organizer, rules and phases for one second, so the
  quiz phase's switch (and an officer's override) takes effect within a second.
- Papers being answered: what grading an answer needs of an attempt's questions (their option
  orders, points, kinds and answers; the attempt's owner, deadline and grace), which does not
  change during the attempt, kept for a minute so that each save need not read it again.
  Correct answers stay on the server: nothing here is ever sent.

Every entry is a plain value; none holds a connection. ``write_gate`` and ``write_batched``
queue this process's contest writes for SQLite's single writer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, transaction
from django.db.models import Prefetch

from saidao.campaigns.models import Phase
from saidao.regions.models import Region

from .models import Contest, Question, QuestionVersion

POOL_TTL_S = 1.0
USAGE_WRITE_EVERY_S = 1.0
CONTEST_TTL_S = 1.0
MAX_VERSIONS = 20_000
ANSWERING_TTL_S = 60.0  # bounds how long another process's change of the grace goes unseen
MAX_ANSWERING = 20_000

_lock = threading.Lock()


@dataclass(frozen=True)
class VersionContent:
    kind: str
    stem: str
    options: tuple[str, ...]


_versions: OrderedDict[int, VersionContent] = OrderedDict()


def versions(ids: list[int]) -> dict[int, VersionContent]:
    """The content of these versions (one query for the ones not cached yet)."""
    with _lock:
        found = {i: _versions[i] for i in ids if i in _versions}
    missing = [i for i in ids if i not in found]
    if missing:
        rows = QuestionVersion.objects.filter(pk__in=missing).values_list(
            "pk", "kind", "stem", "options"
        )
        fresh = {pk: VersionContent(kind, stem, tuple(options)) for pk, kind, stem, options in rows}
        found.update(fresh)
        with _lock:
            _versions.update(fresh)
            while len(_versions) > MAX_VERSIONS:
                _versions.popitem(last=False)
    return found


@dataclass
class PoolEntry:
    question_id: int
    version_id: int
    kind: str
    used: int


@dataclass
class _Pool:
    read_at: float
    entries: list[PoolEntry]


_pools: dict[tuple[int, str, str], _Pool] = {}


def pool(bank_id: int, category: str, difficulty: str) -> list[PoolEntry]:
    """Candidates for a rule, with usage counts no older than a second (plus local draws).

    The caller draws from the returned entries and reports them with ``pool_used``.
    """
    key = (bank_id, category, difficulty)
    now = time.monotonic()
    with _lock:
        cached = _pools.get(key)
        if cached is not None and now - cached.read_at < POOL_TTL_S:
            return list(cached.entries)
    qs = Question.objects.filter(
        organization_id=bank_id, archived_at__isnull=True, current_version__isnull=False
    )
    if category:
        qs = qs.filter(category=category)
    if difficulty:
        qs = qs.filter(difficulty=difficulty)
    rows = list(qs.values_list("pk", "current_version_id", "kind", "times_used"))
    with _lock:
        entries = [
            PoolEntry(pk, version_id, kind, used + _usage.get(pk, 0))
            for pk, version_id, kind, used in rows
        ]
        _pools[key] = _Pool(now, entries)
    return list(entries)


def pool_used(entries: list[PoolEntry]) -> None:
    """Count a draw locally until the next read from the database."""
    with _lock:
        for e in entries:
            e.used += 1


def pools_clear() -> None:
    with _lock:
        _pools.clear()


_usage: Counter[int] = Counter()  # draws per question not yet in times_used
_usage_written_at = time.monotonic()


def usage_count(question_ids: Iterable[int]) -> None:
    """Count a stored paper's draws until a later write (``usage_due``)."""
    with _lock:
        _usage.update(question_ids)


def usage_due(*, all_now: bool = False) -> dict[int, int]:
    """The counts to write now, taken out of the pending ones: all of them when a second has
    passed since the last write (or ``all_now``), else none. The caller writes them in its
    transaction and gives them back with ``usage_return`` if that fails."""
    global _usage_written_at
    now = time.monotonic()
    with _lock:
        if not _usage or (not all_now and now - _usage_written_at < USAGE_WRITE_EVERY_S):
            return {}
        due = dict(_usage)
        _usage.clear()
        _usage_written_at = now
    return due


def usage_return(counts: dict[int, int]) -> None:
    """Counts whose write failed: pending again."""
    with _lock:
        _usage.update(counts)


_zones: dict[str, str | None] = {}


def zone_of(city_code: str | None) -> str | None:
    """The zone (prefecture-level city) a worker's city counts in."""
    if not city_code:
        return None
    if city_code not in _zones:
        zone = Region.objects.filter(pk=city_code).values_list("zone_city_id", flat=True).first()
        _zones[city_code] = zone or city_code
    return _zones[city_code]


_contests: dict[int, tuple[float, Contest]] = {}


def contest(pk: int) -> Contest | None:
    """A contest of a published campaign with what starting an attempt reads, for a second.

    When the second is over, one thread reads it again while the others go on with the copy
    they have (thousands of starts a second would otherwise all read it at once)."""
    now = time.monotonic()
    with _lock:
        hit = _contests.get(pk)
        if hit is not None and now - hit[0] >= CONTEST_TTL_S and pk not in _refreshing:
            _refreshing.add(pk)  # this thread reads it again; the others keep the last copy
        elif hit is not None:
            return hit[1]
    try:
        return _contest_read(pk, now)
    finally:
        with _lock:
            _refreshing.discard(pk)


_refreshing: set[int] = set()


def _contest_read(pk: int, now: float) -> Contest | None:
    from saidao.campaigns.models import Campaign

    found = (
        Contest.objects.select_related("campaign", "campaign__organizer")
        .prefetch_related("rules", Prefetch("campaign__phases", queryset=Phase.objects.all()))
        .filter(pk=pk, campaign__status=Campaign.Status.PUBLISHED)
        .first()
    )
    with _lock:
        if found is not None:
            _contests[pk] = (now, found)
        else:
            _contests.pop(pk, None)
    return found


@dataclass(frozen=True, slots=True)
class GradedItem:
    """One question of a paper as grading sees it."""

    item_id: int
    shown: tuple[int, ...]  # the version's option indexes under A, B, C…
    points: int
    kind: str
    answer: str


@dataclass(frozen=True, slots=True)
class Answering:
    """An attempt's paper as saving an answer needs it."""

    worker_id: int
    deadline: Any  # aware datetime
    grace_s: int
    partial_credit: str
    items: dict[int, GradedItem]  # by position
    read_at: float


_answering: OrderedDict[int, Answering] = OrderedDict()


def answering(attempt_id: int, worker_id: int) -> Answering | None:
    """The cached paper of this worker's attempt, if read less than a minute ago."""
    with _lock:
        hit = _answering.get(attempt_id)
    if hit is None or hit.worker_id != worker_id:
        return None
    if time.monotonic() - hit.read_at > ANSWERING_TTL_S:
        return None
    return hit


def answering_put(attempt_id: int, paper: Answering) -> None:
    with _lock:
        _answering[attempt_id] = paper
        _answering.move_to_end(attempt_id)
        while len(_answering) > MAX_ANSWERING:
            _answering.popitem(last=False)


def clear() -> None:
    """Forget everything (tests, and after an officer's change in this process)."""
    with _lock:
        _answering.clear()
        _versions.clear()
        _pools.clear()
        _contests.clear()
        _zones.clear()


_write_lock = threading.RLock()


@contextlib.contextmanager
def write_gate() -> Iterator[None]:
    """Embedded mode: one of this process's contest writes at a time.

    SQLite has one writer; when hundreds of request threads start a write transaction at once,
    its busy handler makes them sleep and retry, some past the busy timeout ("database is
    locked"). Queued on a lock here instead, they go through one after another with no sleeps.
    PostgreSQL locks rows and needs no gate.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with _write_lock:
        yield


T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("done", "error", "result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


_pending: list[_Job[object]] = []
_pending_lock = threading.Lock()


def write_batched(work: Callable[[], T]) -> T:
    """Run ``work`` (a contest write) in a transaction, sharing it with the writes queued
    meanwhile by this process's other threads (embedded mode: group commit).

    Each SQLite commit rewrites every page the transaction touched (a start touches about 40:
    the attempt's and items' tables and indexes, the questions' usage counters), so when many
    workers write at once, whoever holds the writer's lock runs everything queued behind it in
    one transaction, each write in its own savepoint: a write that fails is rolled back alone
    and its error raised in its own thread. A write inside a caller's transaction, and every
    write on PostgreSQL (row locks, several processes), runs in the caller's own transaction.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with write_gate(), transaction.atomic():
            return work()
    job: _Job[T] = _Job(work)
    with _pending_lock:
        _pending.append(job)  # type: ignore[arg-type]
    with _write_lock:
        if not job.done:
            with _pending_lock:
                jobs = _pending[:]
                _pending.clear()
            _run_batch(jobs)
    if job.error is not None:
        raise job.error
    return job.result  # type: ignore[return-value]


def _run_batch(jobs: list[_Job[object]]) -> None:
    try:
        with transaction.atomic():
            if len(jobs) == 1:  # alone, its transaction is its savepoint
                jobs[0].result = jobs[0].work()
            else:
                for job in jobs:
                    try:
                        with transaction.atomic():  # a savepoint
                            job.result = job.work()
                    except Exception as exc:  # raised again in the job's own thread
                        job.error = exc
    except Exception as exc:  # the lone write or the commit failed: nothing was written
        for job in jobs:
            if job.error is None:
                job.error = exc
    finally:
        for job in jobs:
            job.done = True
