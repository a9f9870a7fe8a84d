"""In-process caches for the contest's hot paths (thousands of workers starting together).

- Question versions: a version row never changes once written (an edit makes a new row), so
  its content is cached by id for as long as the process lives (bounded).
- Question pools: the draw's candidates per bank, category and difficulty with their usage
  counters, re-read from the database at most once a second; draws in between count locally,
  so one process stays exactly least-used-first and several processes stay close to it.
- Zones: a region's prefecture-level zone, which never changes.
- Contests: a contest with its campaign, organizer, rules and phases for one second, so the
  quiz phase's switch (and an officer's override) takes effect within a second.

Every entry is a plain value. ``keep_sqlite_open`` is the one thing here that holds a
connection (see its docstring).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Prefetch
from django.utils import translation

from saidao.campaigns.models import Phase
from saidao.regions.models import Region

from .models import Contest, Question, QuestionVersion

POOL_TTL_S = 1.0
CONTEST_TTL_S = 1.0
MAX_VERSIONS = 20_000

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
    entries = [
        PoolEntry(pk, version_id, kind, used)
        for pk, version_id, kind, used in qs.values_list(
            "pk", "current_version_id", "kind", "times_used"
        )
    ]
    with _lock:
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
    """A contest of a published campaign with what starting an attempt reads, for a second."""
    now = time.monotonic()
    with _lock:
        hit = _contests.get(pk)
    if hit is not None and now - hit[0] < CONTEST_TTL_S:
        return hit[1]
    from saidao.campaigns.models import Campaign

    found = (
        Contest.objects.select_related("campaign", "campaign__organizer")
        .prefetch_related("rules", Prefetch("campaign__phases", queryset=Phase.objects.all()))
        .filter(pk=pk, campaign__status=Campaign.Status.PUBLISHED)
        .first()
    )
    if found is not None:
        with _lock:
            _contests[pk] = (now, found)
    return found


def clear() -> None:
    """Forget everything (tests, and after an officer's change in this process)."""
    with _lock:
        _versions.clear()
        _pools.clear()
        _contests.clear()
        _zones.clear()


_keeper: sqlite3.Connection | None = None


def keep_sqlite_open() -> None:
    """Embedded mode: hold one idle connection to the SQLite file for the process's life.

    With ``CONN_MAX_AGE=0`` each request opens and closes its own connection, and SQLite makes
    the last connection to close checkpoint the write-ahead log and sync the disk (~20 ms on
    this machine, more than the rest of an answer save). An idle connection that never closes
    means no request is ever the last one; the log is still checkpointed as it grows, by the
    commits themselves. Not under the tests' manual task runner, whose databases come and go.
    """
    global _keeper
    if _keeper is not None or settings.SAIDAO_TASK_RUNNER == "manual":
        return
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        return
    with _lock:
        if _keeper is None:
            _keeper = sqlite3.connect(name, check_same_thread=False)


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


_db_executor: ThreadPoolExecutor | None = None
T = TypeVar("T")


def on_db_thread(fn: Callable[[], T]) -> T:
    """Embedded mode: run ``fn`` on the contest's own database thread and wait for it.

    Under ``CONN_MAX_AGE=0`` a request opens a SQLite connection and closes it at its end;
    opening one costs ~4 ms here (SQLite reads the whole schema), more than an answer save.
    This one thread keeps its connection for the life of the process (request signals close
    connections only in the request's own thread) and is the single writer SQLite wants anyway.
    The request's language goes along, so messages are translated as the caller expects.
    With PostgreSQL, and under the tests' manual task runner, ``fn`` simply runs here.
    """
    global _db_executor
    if connection.vendor != "sqlite" or settings.SAIDAO_TASK_RUNNER == "manual":
        return fn()
    if _db_executor is None:
        with _lock:
            if _db_executor is None:
                _db_executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="saidao-quiz-db"
                )
    language = translation.get_language()

    def run() -> T:
        with translation.override(language):
            try:
                return fn()
            except (InterfaceError, OperationalError):
                connection.close()  # reconnect on the next call
                raise

    return _db_executor.submit(run).result()
