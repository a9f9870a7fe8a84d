"""Rank structures mirrored from the tallies: top N, rank of one organization, a window.

A ranking is one (campaign, kind, scope, by): the organizations of a level (``Scope.level``)
or the children of one organization (``Scope.children``), ordered by participants (``count``)
or by rate (``rate``, only organizations with at least ``SAIDAO_RATE_MIN_MEMBERS`` members
frozen). The order is the selectors' order: value descending, then the time the count was
reached (earlier first), then organization id; ranks are competition ranks (1, 2, 2, 4).

Two implementations of ``RankIndex``, picked by ``settings.REDIS_URL`` (``rank_index()``):

- ``MemoryRankIndex`` (embedded): a ``SortedList`` per ranking keyed by
  ``(-value, reached_at_us, org_id)``; a campaign is loaded from ``OrgTally`` on its first read
  in the process, then kept current by the flush listener from each batch's deltas.
- ``RedisRankIndex`` (scaled): a sorted set per ranking whose score is the value and whose member
  encodes the tie-breakers so that ``ZREVRANGE``/``ZREVRANK`` give the order, and ``ZCOUNT`` of
  strictly greater scores the competition rank. A read of a campaign Redis does not hold (a
  fresh or flushed Redis) rebuilds it from the database.

Both apply a flush's subtree deltas. The time a count was reached is the flush's ``at`` when it
carries one, else the time the listener runs (right after the batch's commit, so the order of
batches is kept). Member snapshots refreshed by an officer change rates: call ``rebuild``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from sortedcontainers import SortedList  # type: ignore[import-untyped]

from saidao.core import clock
from saidao.orgs.models import Organization

from .aggregator import WATERMARK, Flush
from .models import MemberSnapshot, OrgTally, Watermark
from .runner import flush_listener

By = Literal["count", "rate"]
BYS: tuple[By, ...] = ("count", "rate")


@dataclass(frozen=True)
class Scope:
    """Which organizations a ranking holds: a level's, or one organization's children."""

    kind: Literal["level", "children"]
    value: str

    @classmethod
    def level(cls, level: str) -> Scope:
        return cls("level", level)

    @classmethod
    def children(cls, parent_id: int | None) -> Scope:
        return cls("children", str(parent_id or 0))

    @property
    def key(self) -> str:
        return f"{self.kind[0]}:{self.value}"


@dataclass(frozen=True)
class Ranked:
    rank: int
    organization_id: int
    participants: int
    value: float  # participants, or participants / members


def _scopes(level: str, parent_id: int | None) -> tuple[Scope, Scope]:
    return Scope.level(level), Scope.children(parent_id)


def _us(at: Any) -> int:
    return int(at.timestamp() * 1_000_000)


def _flush_time_us(flush: Flush) -> int:
    at = getattr(flush, "at", None)
    return _us(at if at is not None else clock.now())


class RankIndex(ABC):
    """Ranks answered without scanning the tallies."""

    @abstractmethod
    def top(
        self, campaign_id: int, kind: str, scope: Scope, by: By = "count", limit: int = 50
    ) -> list[Ranked]: ...

    @abstractmethod
    def rank(
        self, campaign_id: int, kind: str, scope: Scope, org_id: int, by: By = "count"
    ) -> tuple[int, int] | None:
        """(competition rank, organizations ranked), or None when the organization is not in it."""

    @abstractmethod
    def around(
        self,
        campaign_id: int,
        kind: str,
        scope: Scope,
        org_id: int,
        by: By = "count",
        size: int = 5,
    ) -> list[Ranked]:
        """The organization with ``size`` rows above and below it."""

    @abstractmethod
    def apply(self, flush: Flush) -> None:
        """Add a batch's subtree deltas (called by the flush listener after its commit)."""

    @abstractmethod
    def rebuild(self, campaign_id: int | None = None) -> None:
        """Reload one campaign's rankings (or every campaign's) from ``OrgTally``."""


class _Orgs:
    """Each organization's (level, parent id), read once per organization and kept."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[str, int | None]] = {}

    def get(self, ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
        wanted = set(ids)
        missing = list(wanted - self._known.keys())
        for i in range(0, len(missing), 5000):
            for pk, level, parent in Organization.objects.filter(
                pk__in=missing[i : i + 5000]
            ).values_list("pk", "level", "parent_id"):
                self._known[pk] = (level, parent)
        return {pk: self._known[pk] for pk in wanted if pk in self._known}


@dataclass
class _Snapshot:
    """What a rebuild reads: every tally of the campaigns, the members, and the watermark."""

    tallies: list[tuple[int, int, str, int, int]]  # campaign, org, kind, subtree, reached_us
    members: dict[int, dict[int, int]]  # campaign -> org -> members
    last_id: int
    had_gaps: bool


def _read(campaign_id: int | None) -> _Snapshot:
    # The watermark row lock keeps the aggregator from committing a batch while we read, so the
    # tallies and the watermark agree.
    with transaction.atomic():
        wm = Watermark.objects.select_for_update().filter(name=WATERMARK).first()
        tallies = OrgTally.objects.all()
        snaps = MemberSnapshot.objects.all()
        if campaign_id is not None:
            tallies = tallies.filter(campaign_id=campaign_id)
            snaps = snaps.filter(campaign_id=campaign_id)
        rows = [
            (c, o, k, n, _us(at))
            for c, o, k, n, at in tallies.values_list(
                "campaign_id", "organization_id", "kind", "subtree", "reached_at"
            ).iterator(chunk_size=10_000)
        ]
        members: dict[int, dict[int, int]] = defaultdict(dict)
        for c, o, m in snaps.values_list("campaign_id", "organization_id", "subtree"):
            members[c][o] = m
    return _Snapshot(rows, members, wm.last_id if wm else 0, bool(wm and wm.gaps))


def _floor() -> int:
    return max(1, int(settings.SAIDAO_RATE_MIN_MEMBERS))


def _ranked(
    entries: list[tuple[float, int, int]], start: int, first_rank: int, counts: dict[int, int]
) -> list[Ranked]:
    """Rows from consecutive sorted keys, the first at position ``start`` (0-based) of the whole
    ranking with competition rank ``first_rank``."""
    out: list[Ranked] = []
    rank, previous = first_rank, None
    for i, (neg, _at, org) in enumerate(entries):
        if previous is not None and neg != previous:
            rank = start + i + 1
        previous = neg
        out.append(Ranked(rank, org, counts.get(org, 0), -neg))
    return out


class _Campaign:
    """One campaign's rankings in memory."""

    def __init__(self, members: dict[int, int], loaded_through: int, had_gaps: bool) -> None:
        self.members = members
        self.loaded_through = loaded_through
        self.had_gaps = had_gaps
        self.state: dict[tuple[str, int], tuple[int, int]] = {}  # (kind, org) -> (n, reached)
        self.lists: dict[tuple[str, str, By], SortedList] = defaultdict(SortedList)

    def keys(self, n: int, at: int, org: int, members: int) -> dict[By, tuple[float, int, int]]:
        out: dict[By, tuple[float, int, int]] = {"count": (float(-n), at, org)}
        if members >= _floor():
            out["rate"] = (-(n / members), at, org)
        return out

    def put(self, kind: str, org: int, n: int, at: int, meta: tuple[str, int | None]) -> None:
        members = self.members.get(org, 0)
        scopes = _scopes(*meta)
        old = self.state.get((kind, org))
        if old is not None:
            for by, key in self.keys(old[0], old[1], org, members).items():
                for scope in scopes:
                    self.lists[(kind, scope.key, by)].discard(key)
        self.state[(kind, org)] = (n, at)
        for by, key in self.keys(n, at, org, members).items():
            for scope in scopes:
                self.lists[(kind, scope.key, by)].add(key)


class MemoryRankIndex(RankIndex):
    """The embedded index: order-statistic lists in this process, loaded lazily per campaign."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._campaigns: dict[int, _Campaign] = {}
        self._orgs = _Orgs()

    def _load(self, campaign_id: int) -> _Campaign:
        with self._lock:
            found = self._campaigns.get(campaign_id)
            if found is None:
                self.rebuild(campaign_id)
                found = self._campaigns[campaign_id]
            return found

    def rebuild(self, campaign_id: int | None = None) -> None:
        with self._lock:
            snap = _read(campaign_id)
            ids = {c for c, *_r in snap.tallies} | set(snap.members)
            if campaign_id is not None:
                ids.add(campaign_id)
            else:
                self._campaigns.clear()
            meta = self._orgs.get(o for _c, o, *_r in snap.tallies)
            for c in ids:
                self._campaigns[c] = _Campaign(snap.members.get(c, {}), snap.last_id, snap.had_gaps)
            for c, o, k, n, at in snap.tallies:
                if o in meta:
                    self._campaigns[c].put(k, o, n, at, meta[o])

    def apply(self, flush: Flush) -> None:
        at = _flush_time_us(flush)
        with self._lock:
            deltas = [(key, d) for key, d in flush.org_deltas.items() if key[0] in self._campaigns]
            meta = self._orgs.get(o for (_c, o, _k), _d in deltas)
            for (c, o, k), d in deltas:
                camp = self._campaigns.get(c)
                if camp is None:
                    continue  # dropped below: the next read loads it
                if flush.last_id < camp.loaded_through:
                    continue  # already in what the rebuild read
                if flush.last_id == camp.loaded_through:
                    if camp.had_gaps:  # cannot tell: read it again on the next use
                        del self._campaigns[c]
                    continue
                n = camp.state.get((k, o), (0, 0))[0] + d
                camp.put(k, o, n, at, meta[o])

    def _list(
        self, campaign_id: int, kind: str, scope: Scope, by: By
    ) -> tuple[_Campaign, SortedList]:
        camp = self._load(campaign_id)
        return camp, camp.lists.get((kind, scope.key, by), SortedList())

    def _counts(self, camp: _Campaign, kind: str, orgs: Iterable[int]) -> dict[int, int]:
        return {o: camp.state.get((kind, o), (0, 0))[0] for o in orgs}

    def top(
        self, campaign_id: int, kind: str, scope: Scope, by: By = "count", limit: int = 50
    ) -> list[Ranked]:
        with self._lock:
            camp, sl = self._list(campaign_id, kind, scope, by)
            entries = list(sl.islice(0, limit))
            return _ranked(entries, 0, 1, self._counts(camp, kind, (e[2] for e in entries)))

    def _position(self, camp: _Campaign, sl: SortedList, kind: str, org: int, by: By) -> int | None:
        state = camp.state.get((kind, org))
        if state is None:
            return None
        key = camp.keys(state[0], state[1], org, camp.members.get(org, 0)).get(by)
        if key is None or key not in sl:
            return None
        pos: int = sl.index(key)
        return pos

    def rank(
        self, campaign_id: int, kind: str, scope: Scope, org_id: int, by: By = "count"
    ) -> tuple[int, int] | None:
        with self._lock:
            camp, sl = self._list(campaign_id, kind, scope, by)
            pos = self._position(camp, sl, kind, org_id, by)
            if pos is None:
                return None
            better: int = sl.bisect_left((sl[pos][0],))
            return better + 1, len(sl)

    def around(
        self,
        campaign_id: int,
        kind: str,
        scope: Scope,
        org_id: int,
        by: By = "count",
        size: int = 5,
    ) -> list[Ranked]:
        with self._lock:
            camp, sl = self._list(campaign_id, kind, scope, by)
            pos = self._position(camp, sl, kind, org_id, by)
            if pos is None:
                return []
            start = max(0, pos - size)
            entries = list(sl.islice(start, pos + size + 1))
            first = int(sl.bisect_left((entries[0][0],))) + 1
            return _ranked(entries, start, first, self._counts(camp, kind, (e[2] for e in entries)))


# --- Redis -----------------------------------------------------------------------------------

_TS_MAX = 10**16 - 1
_ID_MAX = 10**12 - 1

# ARGV: campaign, floor, then per organization: kind, org, delta, member, level scope, children
# scope. Moves the organization's member in each of its rankings to its new count (and rate).
_APPLY = """
local c, floor = ARGV[1], tonumber(ARGV[2])
local base = 'lb:' .. c
for i = 3, #ARGV, 6 do
  local kind, org, delta, member = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local k = base .. ':' .. kind
  local n = tonumber(redis.call('HGET', k .. ':n', org) or '0') + delta
  local old = redis.call('HGET', k .. ':m', org)
  local m = tonumber(redis.call('HGET', base .. ':members', org) or '0')
  for _, scope in ipairs({ARGV[i + 4], ARGV[i + 5]}) do
    local zc, zr = k .. ':count:' .. scope, k .. ':rate:' .. scope
    if old then
      redis.call('ZREM', zc, old)
      redis.call('ZREM', zr, old)
    end
    redis.call('ZADD', zc, n, member)
    if m >= floor then
      redis.call('ZADD', zr, string.format('%.17g', n / m), member)
    end
  end
  redis.call('HSET', k .. ':n', org, n)
  redis.call('HSET', k .. ':m', org, member)
end
return 1
"""


def _member(at_us: int, org: int) -> str:
    """Sorts descending (as ZREVRANGE reads) by earlier time first, then by smaller id."""
    return f"{_TS_MAX - at_us:016d}{_ID_MAX - org:012d}"


def _org_of(member: str | bytes) -> int:
    text = member.decode() if isinstance(member, bytes) else member
    return _ID_MAX - int(text[16:])


class RedisRankIndex(RankIndex):
    """The scaled index: Redis sorted sets, written by the aggregator process's listener."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis: Any = redis.Redis.from_url(url)
        self._apply = self.redis.register_script(_APPLY)
        self._orgs = _Orgs()

    @staticmethod
    def _key(campaign_id: int, kind: str, scope: Scope, by: By) -> str:
        return f"lb:{campaign_id}:{kind}:{by}:{scope.key}"

    def _ensure(self, campaign_id: int) -> None:
        if not self.redis.exists(f"lb:{campaign_id}:ready"):
            self.rebuild(campaign_id)

    def rebuild(self, campaign_id: int | None = None) -> None:
        snap = _read(campaign_id)
        campaigns = {c for c, *_r in snap.tallies} | set(snap.members)
        if campaign_id is not None:
            campaigns.add(campaign_id)
        meta = self._orgs.get(o for _c, o, *_r in snap.tallies)
        pipe = self.redis.pipeline(transaction=True)
        for c in campaigns:
            for key in self.redis.scan_iter(match=f"lb:{c}:*", count=1000):
                pipe.delete(key)
            members = snap.members.get(c, {})
            if members:
                pipe.hset(f"lb:{c}:members", mapping=members)
        floor = _floor()
        zsets: dict[str, dict[str, float]] = defaultdict(dict)
        counts: dict[str, dict[int, int]] = defaultdict(dict)
        names: dict[str, dict[int, str]] = defaultdict(dict)
        for c, o, k, n, at in snap.tallies:
            if o not in meta:
                continue
            member = _member(at, o)
            m = snap.members.get(c, {}).get(o, 0)
            for scope in _scopes(*meta[o]):
                zsets[self._key(c, k, scope, "count")][member] = n
                if m >= floor:
                    zsets[self._key(c, k, scope, "rate")][member] = n / m
            counts[f"lb:{c}:{k}:n"][o] = n
            names[f"lb:{c}:{k}:m"][o] = member
        for key, mapping in zsets.items():
            pipe.zadd(key, mapping)
        for key, values in counts.items():
            pipe.hset(key, mapping=values)
        for key, strs in names.items():
            pipe.hset(key, mapping=strs)
        for c in campaigns:
            pipe.set(f"lb:{c}:ready", snap.last_id)
        pipe.execute()

    def apply(self, flush: Flush) -> None:
        at = _flush_time_us(flush)
        meta = self._orgs.get(o for (_c, o, _k) in flush.org_deltas)
        by_campaign: dict[int, list[str]] = defaultdict(list)
        for (c, o, k), d in flush.org_deltas.items():
            if o in meta:
                level, children = _scopes(*meta[o])
                by_campaign[c] += [k, str(o), str(d), _member(at, o), level.key, children.key]
        for c, args in by_campaign.items():
            if not self.redis.exists(f"lb:{c}:ready"):
                continue  # the first read rebuilds it from the database, this batch included
            for i in range(0, len(args), 6000):
                self._apply(args=[c, _floor(), *args[i : i + 6000]])

    def _rows(self, key: str, campaign_id: int, kind: str, start: int, stop: int) -> list[Ranked]:
        got = self.redis.zrevrange(key, start, stop, withscores=True)
        if not got:
            return []
        first = int(self.redis.zcount(key, f"({got[0][1]!r}", "+inf")) + 1
        orgs = [_org_of(m) for m, _s in got]
        ns = self.redis.hmget(f"lb:{campaign_id}:{kind}:n", orgs)
        counts = {o: int(n or 0) for o, n in zip(orgs, ns, strict=True)}
        entries = [(-float(s), 0, o) for (_m, s), o in zip(got, orgs, strict=True)]
        return _ranked(entries, start, first, counts)

    def top(
        self, campaign_id: int, kind: str, scope: Scope, by: By = "count", limit: int = 50
    ) -> list[Ranked]:
        self._ensure(campaign_id)
        return self._rows(self._key(campaign_id, kind, scope, by), campaign_id, kind, 0, limit - 1)

    def _position(self, key: str, campaign_id: int, kind: str, org: int) -> tuple[int, str] | None:
        member = self.redis.hget(f"lb:{campaign_id}:{kind}:m", org)
        if member is None:
            return None
        pos = self.redis.zrevrank(key, member)
        return None if pos is None else (int(pos), member)

    def rank(
        self, campaign_id: int, kind: str, scope: Scope, org_id: int, by: By = "count"
    ) -> tuple[int, int] | None:
        self._ensure(campaign_id)
        key = self._key(campaign_id, kind, scope, by)
        found = self._position(key, campaign_id, kind, org_id)
        if found is None:
            return None
        pipe = self.redis.pipeline(transaction=False)
        pipe.zscore(key, found[1])
        pipe.zcard(key)
        score, total = pipe.execute()
        return int(self.redis.zcount(key, f"({score!r}", "+inf")) + 1, int(total)

    def around(
        self,
        campaign_id: int,
        kind: str,
        scope: Scope,
        org_id: int,
        by: By = "count",
        size: int = 5,
    ) -> list[Ranked]:
        self._ensure(campaign_id)
        key = self._key(campaign_id, kind, scope, by)
        found = self._position(key, campaign_id, kind, org_id)
        if found is None:
            return []
        pos = found[0]
        return self._rows(key, campaign_id, kind, max(0, pos - size), pos + size)


_index: RankIndex | None = None
_index_lock = threading.Lock()


def rank_index() -> RankIndex:
    """This process's index: Redis when ``REDIS_URL`` is set, else in memory."""
    global _index
    with _index_lock:
        if _index is None:
            url = settings.REDIS_URL
            _index = RedisRankIndex(url) if url else MemoryRankIndex()
        return _index


def reset_rank_index() -> None:
    """Forget this process's index (tests, or after settings change)."""
    global _index
    with _index_lock:
        _index = None


@flush_listener
def _on_flush(flush: Flush) -> None:
    """Keep the index current. The in-memory one exists only once something has read ranks (it
    then loads from the database); Redis is written by whichever process aggregates."""
    index = _index
    if index is None and settings.REDIS_URL:
        index = rank_index()
    if index is not None:
        index.apply(flush)
