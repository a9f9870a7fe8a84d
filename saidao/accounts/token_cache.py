"""Bearer tokens an embedded process has looked up, remembered for a minute.

A contest's worker sends a token with every start, paper and answer save. Looking it up is one
SQLite statement of two steps, and each step hands the interpreter's lock from the request's
thread to the event loop and back: a fifth of an answer save's time in the server. An embedded
process therefore remembers what a token's lookup found, and forgets it:

- at once in this process when any token is deleted (sign-out everywhere, password reset,
  erasure) or a user is saved (deactivation, any profile change but the last login's time);
- within a second in the machine's other processes (a management command, a shell): the same
  signals touch ``<var>/auth-epoch``, whose time every process compares once a second;
- at the token's own expiry, checked on every lookup;
- a minute after the lookup whatever happens, which bounds a change made past the ORM's
  signals (a raw UPDATE).

Scaled processes run on several machines with no shared file, so they do not remember: each
lookup is a query (``SAIDAO_TOKEN_CACHE`` follows the mode).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

TTL_S = 60.0
EPOCH_CHECK_S = 1.0
MAX_ENTRIES = 100_000
# A save of only these fields (a login) changes nothing a token's lookup returns.
_HARMLESS_FIELDS = frozenset({"last_login", "updated_at"})


@dataclass(frozen=True, slots=True)
class _Entry:
    found: tuple[Any, ...]  # what the lookup returned (the caller's own shape)
    expires_at: dt.datetime
    stored_at: float
    generation: int


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
_generation = 0  # moves whenever anything remembered may have changed
_epoch_checked_at = 0.0
_epoch_seen: int | None = None  # the epoch file's time as this process last saw or wrote it


def enabled() -> bool:
    return bool(settings.SAIDAO_TOKEN_CACHE)


def generation() -> int:
    """Read before a lookup's query and given back to ``remember``: a change between the two
    moves it, and the lookup is then not remembered."""
    _check_epoch()
    return _generation


def recall(key_hash: str, *, now: dt.datetime) -> tuple[Any, ...] | None:
    """What the token's lookup found, if it is remembered and still holds."""
    if not enabled():
        return None
    current = generation()
    entry = _entries.get(key_hash)
    if entry is None:
        return None
    if (
        entry.generation != current
        or now >= entry.expires_at
        or time.monotonic() - entry.stored_at > TTL_S
    ):
        with _lock:
            _entries.pop(key_hash, None)
        return None
    return entry.found


def remember(
    key_hash: str, found: tuple[Any, ...], *, expires_at: dt.datetime, generation: int
) -> None:
    if not enabled():
        return
    with _lock:
        if generation != _generation:
            return  # something changed while the lookup ran
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key_hash] = _Entry(found, expires_at, time.monotonic(), generation)


def forget_all(*, others_too: bool = True) -> None:
    """Forget every remembered lookup here and, with ``others_too``, tell the machine's other
    processes (the epoch file)."""
    global _generation, _epoch_seen
    with _lock:
        _generation += 1
        _entries.clear()
    if others_too and enabled():
        path = _epoch_path()
        with contextlib.suppress(OSError):  # a read-only var directory: the minute still holds
            path.touch()
            with _lock:
                _epoch_seen = path.stat().st_mtime_ns


def user_saved(update_fields: Any) -> None:
    """A user was saved (the post_save receiver)."""
    if update_fields is not None and set(update_fields) <= _HARMLESS_FIELDS:
        return
    forget_all()


def _epoch_path() -> Path:
    return Path(settings.VAR_DIR) / "auth-epoch"


def _check_epoch() -> None:
    """At most once a second, see whether another process has touched the epoch file."""
    global _epoch_checked_at, _epoch_seen, _generation
    if not enabled():
        return
    now = time.monotonic()
    if now - _epoch_checked_at < EPOCH_CHECK_S:
        return
    _epoch_checked_at = now
    try:
        mtime = os.stat(_epoch_path()).st_mtime_ns
    except OSError:
        mtime = None
    with _lock:
        if mtime != _epoch_seen:
            if _epoch_seen is not None or mtime is not None:
                _generation += 1
                _entries.clear()
            _epoch_seen = mtime
