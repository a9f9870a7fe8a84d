"""Where the aggregator runs: a thread of the web process when embedded, its own process
(`saidao aggregator`) when scaled, and by hand in tests (``aggregate_all``).

After every batch that changed something, the listeners (the live stream, the rank
structures) are told what changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections

from .aggregator import BATCH, Flush, aggregate_once

log = logging.getLogger(__name__)
IDLE_SLEEP_S = 0.2

Listener = Callable[[Flush], None]
_listeners: list[Listener] = []
_thread: threading.Thread | None = None
_lock = threading.Lock()
_stop = threading.Event()


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


def run_once(*, batch: int = BATCH, snapshots: bool = True) -> Flush:
    """One batch. A campaign's first counts also freeze its member counts; ``run_forever``
    defers that to its idle time, so a big snapshot never holds up the counts."""
    flush = aggregate_once(batch=batch)
    if flush.events:
        _snapshots_due.update(flush.campaigns)
        if snapshots:
            _take_snapshots()
        notify(flush)
    return flush


def run_forever(*, batch: int = BATCH, stop: threading.Event | None = None) -> None:
    """Fold events as they come; sleep briefly when the log is drained."""
    stop = stop or _stop
    snapshotted: set[int] = set()
    while not stop.is_set():
        close_old_connections()
        try:
            flush = run_once(batch=batch, snapshots=False)
            if flush.events < batch and _snapshots_due:
                _take_snapshots(snapshotted)
        except Exception:
            log.exception("aggregator batch failed; retrying")
            time.sleep(1.0)
            continue
        finally:
            close_old_connections()
        if flush.events < batch:
            stop.wait(IDLE_SLEEP_S)


def ensure_embedded_aggregator() -> None:
    """Start the in-process aggregator thread once, in embedded mode."""
    global _thread
    if settings.SAIDAO_AGGREGATOR != "thread":
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=run_forever, name="saidao-aggregator", daemon=True)
            _thread.start()
