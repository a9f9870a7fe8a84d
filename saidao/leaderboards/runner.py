"""Where the aggregator runs: a thread of the web process when embedded, its own process
(`saidao aggregator`) when scaled, and by hand in tests (``aggregate_all``).

After every batch that changed something, the listeners (the live stream, the rank
structures) are told what changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from .aggregator import BATCH, MAX_BATCH, Flush, Lineage, aggregate_once, next_batch

log = logging.getLogger(__name__)
IDLE_SLEEP_S = 0.2  # when drained, look again this often (or sooner when woken)
LISTEN_IDLE_S = 2.0  # the same on PostgreSQL, where commits wake it by NOTIFY: a safety net
MIN_GAP_S = 0.05  # when woken, wait this long first, so that a burst makes one batch
CHANNEL = "saidao_participation"  # NOTIFY'd by each participation's transaction (PostgreSQL)

Listener = Callable[[Flush], None]
_listeners: list[Listener] = []
_thread: threading.Thread | None = None
_lock = threading.Lock()
_stop = threading.Event()
_wake = threading.Event()


def flush_listener(listener: Listener) -> Listener:
    """Call ``listener(flush)`` after every batch that folded events (registered at import)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def notify(flush: Flush) -> None:
    for listener in list(_listeners):
        try:
            listener(flush)
        except Exception:
            log.exception("leaderboard listener %r failed", listener)


_snapshots_due: set[int] = set()


def _take_snapshots(done: set[int] | None = None) -> None:
    """Freeze the member counts of the campaigns due that have none yet. ``done`` (kept by
    ``run_forever``) holds the campaigns already seen to.

    With no member anywhere a snapshot has no rows, so it would be "missing" again on the next
    idle pass: it used to be retaken on every pass, each time rebuilding the campaign's rank
    index (seconds of the watermark's lock on a big tree). It is taken once there are members.
    """
    from saidao.accounts.models import Membership

    from .services import member_snapshots_ensure  # services imports this module

    due = set(_snapshots_due)
    _snapshots_due.difference_update(due)
    if done is not None:
        due -= done
    if not due or not Membership.objects.filter(left_at__isnull=True).exists():
        return
    member_snapshots_ensure(campaign_ids=due)
    if done is not None:
        done |= due


def run_once(
    *, batch: int = BATCH, snapshots: bool = True, lineage: Lineage | None = None
) -> Flush:
    """One batch. A campaign's first counts also freeze its member counts; ``run_forever``
    defers that to its idle time, so a big snapshot never holds up the counts."""
    flush = aggregate_once(batch=batch, lineage=lineage)
    if flush.events:
        _snapshots_due.update(flush.campaigns)
        if snapshots:
            _take_snapshots()
        notify(flush)
    return flush


def wake() -> None:
    """New events are committed: the thread folds them now rather than at its next look."""
    _wake.set()


def notify_participation() -> None:
    """Inside a transaction that appends participation events: on PostgreSQL, a NOTIFY that
    reaches every listening aggregator when (and only if) it commits. Not in embedded mode,
    where the commit wakes the process's own thread (``ensure_embedded_aggregator``)."""
    if connection.vendor == "postgresql" and settings.SAIDAO_AGGREGATOR != "thread":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


def _listen(stop: threading.Event, ready: threading.Event) -> None:
    """Wake the runner on each NOTIFY of ``CHANNEL``: a connection of its own in autocommit,
    reopened after an error (the runner's own look catches what a reconnect misses)."""
    import psycopg

    params = connection.get_connection_params()  # Django's own: OPTIONS (sslmode...) included
    while not stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                ready.set()
                while not stop.is_set():
                    for _n in conn.notifies(timeout=0.5, stop_after=1):
                        wake()
        except Exception:
            log.exception("aggregator LISTEN failed; retrying")
            ready.clear()
            stop.wait(1.0)


listening = threading.Event()  # set while run_forever's LISTEN connection is open (tests)


def run_forever(
    *, batch: int = BATCH, max_batch: int = MAX_BATCH, stop: threading.Event | None = None
) -> None:
    """Fold events as they come: batches of ``batch`` while keeping up, doubling up to
    ``max_batch`` while behind; when drained, wait until woken or ``IDLE_SLEEP_S``.

    On PostgreSQL a thread LISTENs for the NOTIFY each participation's commit sends (from any
    web process) and wakes the loop, which then looks by itself only every ``LISTEN_IDLE_S``.

    The database connection is kept between batches (a new SQLite connection would start with
    a cold page cache every time) and closed after an error or when stopping.
    """
    stop = stop or _stop
    snapshotted: set[int] = set()
    lineage = Lineage()
    size = batch
    listener: threading.Thread | None = None
    stop_listening = threading.Event()
    if connection.vendor == "postgresql":
        listening.clear()
        listener = threading.Thread(
            target=_listen, args=(stop_listening, listening), name="saidao-listen", daemon=True
        )
        listener.start()
    try:
        while not stop.is_set():
            _wake.clear()  # a wake during the batch below makes the next wait short
            try:
                flush = run_once(batch=size, snapshots=False, lineage=lineage)
                if flush.events < size and _snapshots_due:
                    _take_snapshots(snapshotted)
            except Exception:
                log.exception("aggregator batch failed; retrying")
                connection.close()
                stop.wait(1.0)
                continue
            behind = flush.events >= size
            size = next_batch(size, flush.events, batch=batch, max_batch=max_batch)
            if not behind and not stop.wait(MIN_GAP_S):
                idle = LISTEN_IDLE_S if listening.is_set() else IDLE_SLEEP_S
                _wake.wait(idle - MIN_GAP_S)
    finally:
        stop_listening.set()
        if listener is not None:
            listener.join(timeout=5)
        connection.close()


def ensure_embedded_aggregator() -> None:
    """Start the in-process aggregator thread once, in embedded mode, and wake it (called on
    each participation's commit)."""
    global _thread
    if settings.SAIDAO_AGGREGATOR != "thread":
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=run_forever, name="saidao-aggregator", daemon=True)
            _thread.start()
    wake()
