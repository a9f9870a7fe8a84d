"""The live leaderboard: after each flush, a campaign's version changes and its listeners hear it.

Publishing. ``runner.flush_listener`` calls ``_on_flush`` after every batch. Embedded, the new
version goes to the in-process ``hub``. Scaled (``REDIS_URL``), it goes to the Redis channel
``saidao:leaderboard:<campaign_id>`` at most twice a second per campaign (a trailing throttle: the
last version of a burst is always sent), and one relay task per web process (redis.asyncio)
forwards the channel into that process's hub.

Listening. A stream subscribes to its campaign in the hub. It never sends one message per
event: after a message it waits ``MIN_INTERVAL_S`` before the next, and whatever versions arrived
meanwhile become one message. Each message carries a compact JSON snapshot computed once per
version and view (campaign, organization) and shared by every listener of that view.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Count

from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.orgs.models import Organization
from saidao.orgs.selectors import subtree_q

from . import selectors
from .aggregator import WATERMARK, Flush
from .models import ALL, OrgTally, Participant, ParticipationEvent, Watermark
from .runner import flush_listener

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "saidao:leaderboard:"
MIN_INTERVAL_S = 0.5  # at most two messages a second per listener
HEARTBEAT_S = 15.0
RETRY_MS = 3000
REFRESH_S = 30.0  # recompute an unchanged view this often (entries approved meanwhile)
MAX_STREAM_S = 3600.0  # then the stream ends and EventSource reconnects (rebalances workers)
TOP_N = 10
LATEST_N = 8
MEMO_SIZE = 256


# --- the in-process broadcaster -------------------------------------------------------------


@dataclass(eq=False)
class Subscription:
    """One listener of one campaign: an asyncio.Event set from any thread on publish."""

    campaign_id: int
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)


class Hub:
    """Per campaign: a sequence number that grows on every publish, the last version (the
    aggregator's watermark) and the listeners. Sync listeners wait on a Condition, async ones
    on their own asyncio.Event, woken with ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq: dict[int, int] = {}
        self._subs: dict[int, set[Subscription]] = {}

    def publish_local(self, campaign_id: int) -> None:
        with self._cond:
            self._seq[campaign_id] = self._seq.get(campaign_id, 0) + 1
            subs = list(self._subs.get(campaign_id, ()))
            self._cond.notify_all()
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                sub.loop.call_soon_threadsafe(sub.event.set)

    def seq(self, campaign_id: int) -> int:
        with self._cond:
            return self._seq.get(campaign_id, 0)

    def subscribe(self, campaign_id: int) -> Subscription:
        sub = Subscription(campaign_id=campaign_id, loop=asyncio.get_running_loop())
        with self._cond:
            self._subs.setdefault(campaign_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._cond:
            subs = self._subs.get(sub.campaign_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.campaign_id]

    def listeners(self, campaign_id: int) -> int:
        with self._cond:
            return len(self._subs.get(campaign_id, ()))

    def wait_sync(self, campaign_id: int, seen: int, timeout: float) -> int:
        """Block until the campaign's sequence passes ``seen`` or ``timeout``; the sequence."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq.get(campaign_id, 0) > seen, timeout=timeout)
            return self._seq.get(campaign_id, 0)


hub = Hub()


# --- publishing ------------------------------------------------------------------------------


class _RedisPublisher:
    """Publish a campaign's version to Redis at most every MIN_INTERVAL_S, keeping the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, float] = {}
        self._pending: dict[int, int] = {}
        self._timers: dict[int, threading.Timer] = {}
        self._client: tuple[str, Any] | None = None

    def _redis(self) -> Any:
        url = settings.REDIS_URL
        if self._client is None or self._client[0] != url:
            import redis

            self._client = (url, redis.Redis.from_url(url))
        return self._client[1]

    def _send(self, campaign_id: int, version: int) -> None:
        try:
            self._redis().publish(f"{CHANNEL_PREFIX}{campaign_id}", json.dumps({"v": version}))
        except Exception:
            log.exception("leaderboard publish to Redis failed")

    def publish(self, campaign_id: int, version: int) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._last.get(campaign_id, 0.0) + MIN_INTERVAL_S - now
            if wait <= 0 and campaign_id not in self._timers:
                self._last[campaign_id] = now
                send = True
            else:
                self._pending[campaign_id] = version
                send = False
                if campaign_id not in self._timers:
                    timer = threading.Timer(max(wait, 0.0), self._trailing, args=(campaign_id,))
                    timer.daemon = True
                    self._timers[campaign_id] = timer
                    timer.start()
        if send:
            self._send(campaign_id, version)

    def _trailing(self, campaign_id: int) -> None:
        with self._lock:
            self._timers.pop(campaign_id, None)
            version = self._pending.pop(campaign_id, None)
            self._last[campaign_id] = time.monotonic()
        if version is not None:
            self._send(campaign_id, version)


_publisher = _RedisPublisher()


def publish(campaign_id: int, version: int) -> None:
    """Tell the campaign's listeners that its counts changed (version: the watermark)."""
    if settings.REDIS_URL:
        _publisher.publish(campaign_id, version)
    else:
        hub.publish_local(campaign_id)


@flush_listener
def _on_flush(flush: Flush) -> None:
    for campaign_id in sorted(flush.campaigns):
        publish(campaign_id, flush.last_id)


# Relay: one redis.asyncio subscription per event loop (a uvicorn worker has one).
_relays: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
_relays_lock = threading.Lock()


async def _relay(url: str) -> None:
    import redis.asyncio as aioredis

    while True:
        client = aioredis.Redis.from_url(url)
        try:
            pubsub = client.pubsub()
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                channel = message["channel"]
                if isinstance(channel, bytes):
                    channel = channel.decode()
                with contextlib.suppress(ValueError):
                    hub.publish_local(int(channel.removeprefix(CHANNEL_PREFIX)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("leaderboard relay from Redis failed; reconnecting")
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()


def ensure_relay() -> None:
    """Start this loop's Redis relay once (scaled mode only)."""
    if not settings.REDIS_URL:
        return
    loop = asyncio.get_running_loop()
    with _relays_lock:
        for old in [lp for lp in _relays if lp.is_closed()]:
            del _relays[old]
        task = _relays.get(loop)
        if task is None or task.done():
            _relays[loop] = loop.create_task(_relay(settings.REDIS_URL))


async def relay_stop() -> None:
    """Stop this loop's relay (tests)."""
    with _relays_lock:
        task = _relays.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- snapshots -------------------------------------------------------------------------------


def _tally(campaign: Campaign, organization: Organization, kind: str) -> int:
    t = OrgTally.objects.filter(campaign=campaign, organization=organization, kind=kind).first()
    return t.subtree if t else 0


def _provinces(campaign: Campaign, root: Organization) -> list[dict[str, Any]]:
    if root.pk == campaign.organizer_id:
        rows = selectors.participants_by_province(campaign=campaign)
    else:
        rows = [
            {
                "region_id": r["zone_province_id"],
                "region__name": r["zone_province__name"],
                "n": r["n"],
            }
            for r in Participant.objects.filter(
                subtree_q(root.path, field="organization__path"),
                campaign=campaign,
                kind=ALL,
                voided=False,
                zone_province__isnull=False,
            )
            .values("zone_province_id", "zone_province__name")
            .annotate(n=Count("id"))
            .order_by("-n", "zone_province_id")
        ]
    return [{"c": r["region_id"], "name": r["region__name"], "n": r["n"]} for r in rows[:40]]


LatestProvider = Callable[[Campaign, Organization, int], list[dict[str, Any]]]
_latest_providers: list[LatestProvider] = []


def latest_provider(provider: LatestProvider) -> LatestProvider:
    """Register what the big screen lists as "latest" (entries registers its approved entries),
    so that leaderboards, above entries, never imports it."""
    if provider not in _latest_providers:
        _latest_providers.append(provider)
    return provider


def _latest(campaign: Campaign, root: Organization) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for provider in _latest_providers:
        out.extend(provider(campaign, root, LATEST_N))
    return out[:LATEST_N]


def _rows(rows: list[selectors.Row]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.organization_id,
            "rank": r.rank,
            "name": r.name,
            "n": r.participants,
            "m": r.members,
            "rate": round(r.rate, 4) if r.rate is not None else None,
        }
        for r in rows
    ]


def snapshot_compute(*, campaign: Campaign, root: Organization) -> dict[str, Any]:
    """The screen's numbers for ``root``'s subtree: totals, top children, provinces, latest."""
    mark = Watermark.objects.filter(name=WATERMARK).first()
    return {
        "v": mark.last_id if mark else 0,
        "at": clock.now().isoformat(timespec="seconds"),
        "org": root.pk,
        "total": _tally(campaign, root, ALL),
        "entries": _tally(campaign, root, ParticipationEvent.Kind.ENTRY.value),
        "quiz": _tally(campaign, root, ParticipationEvent.Kind.QUIZ.value),
        "top_count": _rows(selectors.top(campaign=campaign, by="count", parent=root, limit=TOP_N)),
        "top_rate": _rows(selectors.top(campaign=campaign, by="rate", parent=root, limit=TOP_N)),
        "provinces": _provinces(campaign, root),
        "latest": _latest(campaign, root),
    }


@dataclass
class _Memo:
    seq: int
    at: float
    text: str


_memo: OrderedDict[tuple[int, int], _Memo] = OrderedDict()
_memo_lock = threading.Lock()
_key_locks: dict[tuple[int, int], threading.Lock] = {}


def snapshot_json(*, campaign_id: int, root_id: int, seq: int) -> str:
    """The snapshot as JSON, computed once per (view, published sequence) and shared; an
    unchanged view is recomputed at most every REFRESH_S."""
    key = (campaign_id, root_id)
    with _memo_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _memo_lock:
            memo = _memo.get(key)
        if memo is not None and memo.seq == seq and time.monotonic() - memo.at < REFRESH_S:
            return memo.text
        campaign = Campaign.objects.select_related("organizer").get(pk=campaign_id)
        root = Organization.objects.get(pk=root_id)
        text = json.dumps(
            snapshot_compute(campaign=campaign, root=root),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        with _memo_lock:
            _memo[key] = _Memo(seq=seq, at=time.monotonic(), text=text)
            _memo.move_to_end(key)
            while len(_memo) > MEMO_SIZE:
                old, _ = _memo.popitem(last=False)
                _key_locks.pop(old, None)
        return text


def reset() -> None:
    """Forget every sequence and memoized snapshot (tests, where ids start again at 1)."""
    with _memo_lock:
        _memo.clear()
        _key_locks.clear()
    with hub._cond:
        hub._seq.clear()


def _message(text: str) -> str:
    version = json.loads(text)["v"]
    return f"id: {version}\nevent: snapshot\ndata: {text}\n\n"


def _same(a: str, b: str) -> bool:
    """Equal but for the time of computing."""
    x, y = json.loads(a), json.loads(b)
    x.pop("at", None)
    y.pop("at", None)
    return bool(x == y)


# --- the streams -----------------------------------------------------------------------------


async def stream_async(
    *, campaign_id: int, root_id: int, max_seconds: float = MAX_STREAM_S
) -> AsyncIterator[str]:
    """Server-sent events for one view: the snapshot now, then after each publish (coalesced to
    one message per MIN_INTERVAL_S), a comment every HEARTBEAT_S of silence. Unsubscribes when
    the client goes (Django cancels the iterator) or after ``max_seconds``."""
    loop = asyncio.get_running_loop()
    ensure_relay()
    sub = hub.subscribe(campaign_id)
    compute = sync_to_async(snapshot_json)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        started = loop.time()
        text = await compute(campaign_id=campaign_id, root_id=root_id, seq=hub.seq(campaign_id))
        yield _message(text)
        last_sent = last_check = loop.time()
        while loop.time() - started < max_seconds:
            try:
                await asyncio.wait_for(sub.event.wait(), timeout=HEARTBEAT_S)
            except TimeoutError:
                if loop.time() - last_check >= REFRESH_S * 2:
                    last_check = loop.time()
                    fresh = await compute(
                        campaign_id=campaign_id, root_id=root_id, seq=hub.seq(campaign_id)
                    )
                    if not _same(fresh, text):
                        text = fresh
                        yield _message(text)
                        continue
                yield ": heartbeat\n\n"
                continue
            delay = last_sent + MIN_INTERVAL_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # what arrives meanwhile joins this message
            sub.event.clear()
            text = await compute(campaign_id=campaign_id, root_id=root_id, seq=hub.seq(campaign_id))
            yield _message(text)
            last_sent = last_check = loop.time()
    finally:
        hub.unsubscribe(sub)


def stream_sync(
    *, campaign_id: int, root_id: int, max_seconds: float = MAX_STREAM_S
) -> Iterator[str]:
    """The same stream for a WSGI server (Django's development and test servers), which would
    otherwise buffer an async iterator whole. Embedded publishes only."""
    yield f"retry: {RETRY_MS}\n\n"
    started = time.monotonic()
    seq = hub.seq(campaign_id)
    text = snapshot_json(campaign_id=campaign_id, root_id=root_id, seq=seq)
    yield _message(text)
    last_sent = time.monotonic()
    while time.monotonic() - started < max_seconds:
        now_seq = hub.wait_sync(campaign_id, seq, HEARTBEAT_S)
        if now_seq == seq:
            yield ": heartbeat\n\n"
            continue
        delay = last_sent + MIN_INTERVAL_S - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        seq = hub.seq(campaign_id)
        text = snapshot_json(campaign_id=campaign_id, root_id=root_id, seq=seq)
        yield _message(text)
        last_sent = time.monotonic()
