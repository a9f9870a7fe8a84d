"""The rank index every leaderboard read is answered from: top N, the rank of one organization,
a window around it, and the zones (provinces, city zones) by participants.

A ranking is one (campaign, kind, scope, by): the organizations of a level (``Scope.level``)
or the children of one organization (``Scope.children``), ordered by participants (``count``)
or by rate (``rate``, only organizations with at least ``SAIDAO_RATE_MIN_MEMBERS`` members
frozen). The order is value descending, then the time the count was reached (earlier first),
then organization id; ranks are competition ranks (1, 2, 2, 4). A zone ranking is a campaign's
province zones, or its city zones (a municipality is its own city zone, a special
administrative region none), by participants, most first, then time reached, then code.

Two implementations of ``RankIndex``, picked by ``settings.REDIS_URL`` (``rank_index()``):

- ``MemoryRankIndex`` (embedded): a ``SortedList`` per ranking keyed by
  ``(-value, reached_at_us, org_id)``; a campaign is loaded from the tallies on its first read
  in the process, then kept current by the flush listener from each batch's deltas.
- ``RedisRankIndex`` (scaled): a sorted set per ranking whose score is the value and whose member
  encodes the tie-breakers so that ``ZREVRANGE``/``ZREVRANK`` give the order, and ``ZCOUNT`` of
  strictly greater scores the competition rank. A read of a campaign Redis does not hold (a
  fresh or flushed Redis) rebuilds it from the database.

Both apply a flush's subtree and zone deltas. The time a count was reached is the flush's ``at``
(the ``reached_at`` the batch wrote), so the order and the times shown agree with the tallies.

Writes outside the aggregator (an officer's member refresh, ``reconcile --repair``,
``rebuild-ranks``) call ``ranks_invalidate`` in their transaction: it bumps a ``RankEpoch`` and,
after the commit, rebuilds this process's index. Every read first compares the campaign's epoch
(one indexed query) and the campaign row it loaded (its ``created_at``) with what the index
holds, and reloads when they differ, so another process's writes, or a database restored or
rolled back under a test, are never answered from stale ranks.
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from sortedcontainers import SortedList  # type: ignore[import-untyped]

from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.orgs.models import Organization
from saidao.regions.models import Region

from .aggregator import WATERMARK, Flush
from .models import MemberSnapshot, OrgTally, RankEpoch, Watermark, ZoneTally
from .runner import flush_listener

By = Literal["count", "rate"]
BYS: tuple[By, ...] = ("count", "rate")
Zone = Literal["province", "city"]
ZONES: tuple[Zone, ...] = ("province", "city")
EPOCH_ALL = "all"
Epoch = tuple[int, int]  # (every campaign's, this campaign's)

_EPOCH_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)


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
    reached_us: int = 0  # when the count was reached, microseconds since the epoch (UTC)
    members: int = 0  # the frozen member count the rate is computed with


@dataclass(frozen=True)
class ZoneRanked:
    region_id: str
    participants: int
    reached_us: int


def _scopes(level: str, parent_id: int | None) -> tuple[Scope, Scope]:
    return Scope.level(level), Scope.children(parent_id)


def us(at: dt.datetime) -> int:
    """Microseconds since 1970 (UTC), exactly (a float timestamp can be off by one)."""
    return (at - _EPOCH_START) // _ONE_US


def from_us(value: int) -> dt.datetime:
    return _EPOCH_START + dt.timedelta(microseconds=value)


def _flush_time_us(flush: Flush) -> int:
    at = getattr(flush, "at", None)
    return us(at if at is not None else clock.now())


def campaign_stamp(campaign: Campaign) -> int:
    """What tells one campaign row from another that reuses its id (a restored database)."""
    return us(campaign.created_at)


def _epoch_keys(campaign_id: int) -> tuple[str, str]:
    return EPOCH_ALL, f"c:{campaign_id}"


def read_epoch(campaign_id: int) -> Epoch:
    """The campaign's epoch as the database has it (one query, on every read: plain SQL, as the
    ORM would take several times the index's own time)."""
    every, mine = _epoch_keys(campaign_id)
    table = RankEpoch._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, n FROM {table} WHERE key IN (%s, %s)", [every, mine])  # noqa: S608 - our table
        got = dict(cursor.fetchall())
    return got.get(every, 0), got.get(mine, 0)


def _bump(key: str) -> None:
    if RankEpoch.objects.filter(key=key).update(n=F("n") + 1):
        return
    try:
        with transaction.atomic():
            RankEpoch.objects.create(key=key, n=1)
    except IntegrityError:  # created concurrently
        RankEpoch.objects.filter(key=key).update(n=F("n") + 1)


def ranks_invalidate(*, campaign_id: int | None = None, rebuild_here: bool = True) -> None:
    """Tallies or member counts of a campaign (or of every campaign) were written outside the
    aggregator: every process's index reloads it on its next read, and (``rebuild_here``)
    this process's is rebuilt as soon as the transaction commits. Call inside the writing
    transaction."""
    _bump(EPOCH_ALL if campaign_id is None else _epoch_keys(campaign_id)[1])
    if not rebuild_here:
        return

    def rebuild() -> None:
        index = _index
        if index is None and settings.REDIS_URL:
            index = rank_index()
        if index is not None:
            index.rebuild(campaign_id)

    transaction.on_commit(rebuild)


class RankIndex(ABC):
    """Ranks answered without scanning the tallies."""

    @abstractmethod
    def ensure(
        self, campaign_id: int, *, stamp: int | None = None, epoch: Epoch | None = None
    ) -> None:
        """Reload the campaign if the index does not hold it, or holds another campaign row
        (``stamp``) or an older state (``epoch``, as ``read_epoch`` gives it)."""

    @abstractmethod
    def page(
        self, campaign_id: int, kind: str, scope: Scope, by: By, start: int, limit: int
    ) -> list[Ranked]:
        """``limit`` rows of a ranking from position ``start`` (0-based), with their ranks."""

    @abstractmethod
    def size(self, campaign_id: int, kind: str, scope: Scope, by: By = "count") -> int: ...

    def top(
        self, campaign_id: int, kind: str, scope: Scope, by: By = "count", limit: int = 50
    ) -> list[Ranked]:
        return self.page(campaign_id, kind, scope, by, 0, limit)

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
    def zones(self, campaign_id: int, kind: str, zone: Zone) -> list[ZoneRanked]:
        """Every zone of the kind with participants, most first."""

    @abstractmethod
    def apply(self, flush: Flush) -> None:
        """Add a batch's deltas (called by the flush listener after its commit)."""

    @abstractmethod
    def rebuild(self, campaign_id: int | None = None) -> None:
        """Reload one campaign's rankings (or every campaign's) from the tallies."""


class _Orgs:
    """Each organization's (level, parent id), read once per organization and kept (a rebuild
    reads its campaign's afresh: an organization may have moved)."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[str, int | None]] = {}

    def get(self, ids: Iterable[int], *, fresh: bool = False) -> dict[int, tuple[str, int | None]]:
        wanted = set(ids)
        missing = list(wanted if fresh else wanted - self._known.keys())
        for i in range(0, len(missing), 5000):
            for pk, level, parent in Organization.objects.filter(
                pk__in=missing[i : i + 5000]
            ).values_list("pk", "level", "parent_id"):
                self._known[pk] = (level, parent)
        return {pk: self._known[pk] for pk in wanted if pk in self._known}


_NOT_CITY_ZONES = (Region.Kind.PROVINCE.value, Region.Kind.AUTONOMOUS_REGION.value)


def _zone_lists(level: str, kind: str) -> tuple[Zone, ...]:
    """The zone rankings a region belongs to: a province-level region is a province zone; a
    municipality is also its own city zone; a special administrative region is no city zone."""
    out: list[Zone] = []
    if level == Region.Level.PROVINCE:
        out.append("province")
    if not (level == Region.Level.PROVINCE and kind in _NOT_CITY_ZONES) and (
        kind != Region.Kind.SAR
    ):
        out.append("city")
    return tuple(out)


class _Regions:
    """Each region's zone rankings (regions never change their level or kind)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Zone, ...]] = {}

    def get(self, codes: Iterable[str]) -> dict[str, tuple[Zone, ...]]:
        wanted = set(codes)
        missing = list(wanted - self._known.keys())
        for i in range(0, len(missing), 5000):
            for code, level, kind in Region.objects.filter(
                code__in=missing[i : i + 5000]
            ).values_list("code", "level", "kind"):
                self._known[code] = _zone_lists(level, kind)
        return {c: self._known[c] for c in wanted if c in self._known}


@dataclass
class _Snapshot:
    """What a rebuild reads: the campaigns' tallies, members, rows, epochs, and the watermark."""

    tallies: list[tuple[int, int, str, int, int]]  # campaign, org, kind, subtree, reached_us
    zones: list[tuple[int, str, str, int, int]]  # campaign, region, kind, n, reached_us
    members: dict[int, dict[int, int]]  # campaign -> org -> members
    stamps: dict[int, int]  # campaign -> campaign_stamp
    epochs: dict[int, Epoch]
    campaigns: set[int]
    last_id: int
    had_gaps: bool


def _read(campaign_id: int | None, then: Callable[[_Snapshot], None] | None = None) -> _Snapshot:
    """Read a snapshot; ``then(snapshot)`` runs before the watermark's lock is released.

    The watermark row lock keeps the aggregator from committing a batch while we read (and
    while ``then`` writes Redis), so the tallies and the watermark agree."""
    with transaction.atomic():
        wm = Watermark.objects.select_for_update().filter(name=WATERMARK).first()
        campaigns = Campaign.objects.all()
        tallies = OrgTally.objects.all()
        zones = ZoneTally.objects.filter(n__gt=0)
        snaps = MemberSnapshot.objects.all()
        if campaign_id is not None:
            campaigns = campaigns.filter(pk=campaign_id)
            tallies = tallies.filter(campaign_id=campaign_id)
            zones = zones.filter(campaign_id=campaign_id)
            snaps = snaps.filter(campaign_id=campaign_id)
        stamps = {pk: us(at) for pk, at in campaigns.values_list("pk", "created_at")}
        rows = [
            (c, o, k, n, us(at))
            for c, o, k, n, at in tallies.values_list(
                "campaign_id", "organization_id", "kind", "subtree", "reached_at"
            ).iterator(chunk_size=10_000)
        ]
        zone_rows = [
            (c, r, k, n, us(at))
            for c, r, k, n, at in zones.values_list(
                "campaign_id", "region_id", "kind", "n", "reached_at"
            )
        ]
        members: dict[int, dict[int, int]] = defaultdict(dict)
        for c, o, m in snaps.values_list("campaign_id", "organization_id", "subtree").iterator(
            chunk_size=10_000
        ):
            members[c][o] = m
        every = RankEpoch.objects.filter(key=EPOCH_ALL).values_list("n", flat=True).first() or 0
        own = {
            int(key[2:]): n
            for key, n in RankEpoch.objects.filter(key__startswith="c:").values_list("key", "n")
        }
        ids = set(stamps) if campaign_id is None else {campaign_id}
        snap = _Snapshot(
            tallies=rows,
            zones=zone_rows,
            members=members,
            stamps=stamps,
            epochs={c: (every, own.get(c, 0)) for c in ids},
            campaigns=ids,
            last_id=wm.last_id if wm else 0,
            had_gaps=bool(wm and wm.gaps),
        )
        if then is not None:
            then(snap)
    return snap


def _floor() -> int:
    return max(1, int(settings.SAIDAO_RATE_MIN_MEMBERS))


Key = tuple[float, int, int]  # (-value, reached_us, org id)
ZoneKey = tuple[int, int, str]  # (-n, reached_us, region)


def rerank(rows: list[Ranked], *, start: int = 0, first_rank: int = 1) -> list[Ranked]:
    """Competition ranks for consecutive rows of one order, the first at position ``start``
    (0-based) with rank ``first_rank``."""
    out: list[Ranked] = []
    rank, previous = first_rank, None
    for i, r in enumerate(rows):
        if previous is not None and r.value != previous:
            rank = start + i + 1
        previous = r.value
        out.append(
            Ranked(rank, r.organization_id, r.participants, r.value, r.reached_us, r.members)
        )
    return out


class _Campaign:
    """One campaign's rankings in memory."""

    def __init__(
        self, members: dict[int, int], snap: _Snapshot, stamp: int | None, epoch: Epoch
    ) -> None:
        self.members = members
        self.loaded_through = snap.last_id
        self.had_gaps = snap.had_gaps
        self.stamp = stamp
        self.epoch = epoch
        self.state: dict[tuple[str, int], tuple[int, int]] = {}  # (kind, org) -> (n, reached)
        self.lists: dict[tuple[str, str, By], SortedList] = defaultdict(SortedList)
        self.zone_state: dict[tuple[str, str], tuple[int, int]] = {}  # (kind, region) -> ...
        self.zone_lists: dict[tuple[str, Zone], SortedList] = defaultdict(SortedList)

    def keys(self, n: int, at: int, org: int, members: int) -> dict[By, Key]:
        out: dict[By, Key] = {"count": (float(-n), at, org)}
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

    def put_zone(self, kind: str, region: str, n: int, at: int, zones: tuple[Zone, ...]) -> None:
        old = self.zone_state.get((kind, region))
        if old is not None:
            for zone in zones:
                self.zone_lists[(kind, zone)].discard((-old[0], old[1], region))
        self.zone_state[(kind, region)] = (n, at)
        if n > 0:
            for zone in zones:
                self.zone_lists[(kind, zone)].add((-n, at, region))

    def ranked(self, kind: str, entries: list[Key], start: int, first_rank: int) -> list[Ranked]:
        rows = [
            Ranked(
                0,
                org,
                self.state.get((kind, org), (0, 0))[0],
                -neg,
                at,
                self.members.get(org, 0),
            )
            for neg, at, org in entries
        ]
        return rerank(rows, start=start, first_rank=first_rank)


class MemoryRankIndex(RankIndex):
    """The embedded index: order-statistic lists in this process, loaded lazily per campaign."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._campaigns: dict[int, _Campaign] = {}
        self._orgs = _Orgs()
        self._regions = _Regions()

    def ensure(
        self, campaign_id: int, *, stamp: int | None = None, epoch: Epoch | None = None
    ) -> None:
        with self._lock:
            camp = self._campaigns.get(campaign_id)
            if (
                camp is None
                or (stamp is not None and camp.stamp != stamp)
                or (epoch is not None and camp.epoch != epoch)
            ):
                self.rebuild(campaign_id)

    def _load(self, campaign_id: int) -> _Campaign:
        with self._lock:
            found = self._campaigns.get(campaign_id)
            if found is None:
                self.rebuild(campaign_id)
                found = self._campaigns[campaign_id]
            return found

    def rebuild(self, campaign_id: int | None = None) -> None:
        """Reload ``campaign_id``, or (None) every campaign this process has loaded; the others
        load on their first read."""
        with self._lock:
            if campaign_id is None:
                for c in list(self._campaigns):
                    self.rebuild(c)
                return
            snap = _read(campaign_id)
            meta = self._orgs.get((o for _c, o, *_r in snap.tallies), fresh=True)
            regions = self._regions.get(r for _c, r, *_x in snap.zones)
            camp = _Campaign(
                snap.members.get(campaign_id, {}),
                snap,
                snap.stamps.get(campaign_id),
                snap.epochs[campaign_id],
            )
            for _c, o, k, n, at in snap.tallies:
                if o in meta:
                    camp.put(k, o, n, at, meta[o])
            for _c, r, k, n, at in snap.zones:
                if r in regions:
                    camp.put_zone(k, r, n, at, regions[r])
            self._campaigns[campaign_id] = camp

    def _fresh(self, camp: _Campaign, c: int, flush: Flush) -> bool:
        """Whether a flush is news to a campaign loaded at ``camp.loaded_through``."""
        if flush.last_id < camp.loaded_through:
            return False  # already in what the rebuild read
        if flush.last_id == camp.loaded_through:
            if camp.had_gaps:  # cannot tell: read it again on the next use
                del self._campaigns[c]
            return False
        return True

    def apply(self, flush: Flush) -> None:
        at = _flush_time_us(flush)
        with self._lock:
            fresh = {
                c
                for c in flush.campaigns | {k[0] for k in flush.org_deltas}
                if c in self._campaigns and self._fresh(self._campaigns[c], c, flush)
            }
            deltas = [(key, d) for key, d in flush.org_deltas.items() if key[0] in fresh]
            meta = self._orgs.get(o for (_c, o, _k), _d in deltas)
            for (c, o, k), d in deltas:
                camp = self._campaigns[c]
                if o in meta:
                    camp.put(k, o, camp.state.get((k, o), (0, 0))[0] + d, at, meta[o])
            zdeltas = [(key, d) for key, d in flush.zone_deltas.items() if key[0] in fresh]
            regions = self._regions.get(r for (_c, r, _k), _d in zdeltas)
            for (c, r, k), d in zdeltas:
                camp = self._campaigns[c]
                if r in regions:
                    n = camp.zone_state.get((k, r), (0, 0))[0] + d
                    camp.put_zone(k, r, n, at, regions[r])

    def _list(
        self, campaign_id: int, kind: str, scope: Scope, by: By
    ) -> tuple[_Campaign, SortedList]:
        camp = self._load(campaign_id)
        return camp, camp.lists.get((kind, scope.key, by), SortedList())

    def page(
        self, campaign_id: int, kind: str, scope: Scope, by: By, start: int, limit: int
    ) -> list[Ranked]:
        with self._lock:
            camp, sl = self._list(campaign_id, kind, scope, by)
            entries = list(sl.islice(start, start + max(0, limit)))
            if not entries:
                return []
            first = int(sl.bisect_left((entries[0][0],))) + 1
            return camp.ranked(kind, entries, start, first)

    def size(self, campaign_id: int, kind: str, scope: Scope, by: By = "count") -> int:
        with self._lock:
            return len(self._list(campaign_id, kind, scope, by)[1])

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
            return self.page(campaign_id, kind, scope, by, start, pos + size + 1 - start)

    def zones(self, campaign_id: int, kind: str, zone: Zone) -> list[ZoneRanked]:
        with self._lock:
            camp = self._load(campaign_id)
            return [
                ZoneRanked(region, -neg, at)
                for neg, at, region in camp.zone_lists.get((kind, zone), ())
            ]


# --- Redis -----------------------------------------------------------------------------------

_TS_MAX = 10**16 - 1
_ID_MAX = 10**12 - 1

# KEYS: none (a campaign's keys share its prefix). ARGV: campaign, floor, the flush's last id,
# how many organization arguments follow, then per organization: kind, org, delta, member,
# level scope, children scope; then per zone: kind, region, delta, member, province (0/1),
# city (0/1). A flush the last rebuild already read is skipped (as the memory index does).
_APPLY = """
local c, floor, last, norgs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local base = 'lb:' .. c
local ready = redis.call('GET', base .. ':ready')
if not ready then
  return 0
end
local through, gaps = string.match(ready, '^(%d+):(%d)')
through = tonumber(through)
if last < through then
  return 0
end
if last == through then
  if gaps == '1' then
    redis.call('DEL', base .. ':ready')
  end
  return 0
end
for i = 5, 4 + norgs, 6 do
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
for i = 5 + norgs, #ARGV, 6 do
  local kind, region, delta, member = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local k = base .. ':' .. kind
  local n = tonumber(redis.call('HGET', k .. ':zn', region) or '0') + delta
  local old = redis.call('HGET', k .. ':zm', region)
  for j, zone in ipairs({'province', 'city'}) do
    if ARGV[i + 3 + j] == '1' then
      local z = k .. ':zone:' .. zone
      if old then
        redis.call('ZREM', z, old)
      end
      if n > 0 then
        redis.call('ZADD', z, n, member)
      end
    end
  end
  redis.call('HSET', k .. ':zn', region, n)
  redis.call('HSET', k .. ':zm', region, member)
end
return 1
"""


def _member(at_us: int, org: int) -> str:
    """Sorts descending (as ZREVRANGE reads) by earlier time first, then by smaller id."""
    return f"{_TS_MAX - at_us:016d}{_ID_MAX - org:012d}"


def _text(member: str | bytes) -> str:
    return member.decode() if isinstance(member, bytes) else member


def _org_of(member: str | bytes) -> int:
    return _ID_MAX - int(_text(member)[16:])


def _at_of(member: str | bytes) -> int:
    return _TS_MAX - int(_text(member)[:16])


def _zone_member(at_us: int, region: str) -> str:
    return f"{_TS_MAX - at_us:016d}{region}"


def _ready(last_id: int, had_gaps: bool, stamp: int | None, epoch: Epoch) -> str:
    return f"{last_id}:{int(had_gaps)}:{stamp or 0}:{epoch[0]}:{epoch[1]}"


class RedisRankIndex(RankIndex):
    """The scaled index: Redis sorted sets, written by the aggregator process's listener."""

    def __init__(self, url: str) -> None:
        import redis

        self.redis: Any = redis.Redis.from_url(url)
        self._apply = self.redis.register_script(_APPLY)
        self._orgs = _Orgs()
        self._regions = _Regions()

    @staticmethod
    def _key(campaign_id: int, kind: str, scope: Scope, by: By) -> str:
        return f"lb:{campaign_id}:{kind}:{by}:{scope.key}"

    def ensure(
        self, campaign_id: int, *, stamp: int | None = None, epoch: Epoch | None = None
    ) -> None:
        ready = self.redis.get(f"lb:{campaign_id}:ready")
        if ready is None:
            self.rebuild(campaign_id)
            return
        parts = _text(ready).split(":")
        held_stamp, held_epoch = int(parts[2]), (int(parts[3]), int(parts[4]))
        if (stamp is not None and held_stamp != stamp) or (
            epoch is not None and held_epoch != epoch
        ):
            self.rebuild(campaign_id)

    def rebuild(self, campaign_id: int | None = None) -> None:
        _read(campaign_id, self._write)

    def _write(self, snap: _Snapshot) -> None:
        """Replace the snapshot's campaigns in Redis (under the watermark's lock)."""
        meta = self._orgs.get((o for _c, o, *_r in snap.tallies), fresh=True)
        regions = self._regions.get(r for _c, r, *_x in snap.zones)
        pipe = self.redis.pipeline(transaction=True)
        for c in snap.campaigns:
            for key in self.redis.scan_iter(match=f"lb:{c}:*", count=1000):
                pipe.delete(key)
            members = snap.members.get(c, {})
            if members:
                pipe.hset(f"lb:{c}:members", mapping=members)
        floor = _floor()
        zsets: dict[str, dict[str, float]] = defaultdict(dict)
        hashes: dict[str, dict[Any, Any]] = defaultdict(dict)
        for c, o, k, n, at in snap.tallies:
            if o not in meta:
                continue
            member = _member(at, o)
            m = snap.members.get(c, {}).get(o, 0)
            for scope in _scopes(*meta[o]):
                zsets[self._key(c, k, scope, "count")][member] = n
                if m >= floor:
                    zsets[self._key(c, k, scope, "rate")][member] = n / m
            hashes[f"lb:{c}:{k}:n"][o] = n
            hashes[f"lb:{c}:{k}:m"][o] = member
        for c, r, k, n, at in snap.zones:
            member = _zone_member(at, r)
            for zone in regions.get(r, ()):
                zsets[f"lb:{c}:{k}:zone:{zone}"][member] = n
            hashes[f"lb:{c}:{k}:zn"][r] = n
            hashes[f"lb:{c}:{k}:zm"][r] = member
        for key, mapping in zsets.items():
            pipe.zadd(key, mapping)
        for key, values in hashes.items():
            pipe.hset(key, mapping=values)
        for c in snap.campaigns:
            pipe.set(
                f"lb:{c}:ready",
                _ready(snap.last_id, snap.had_gaps, snap.stamps.get(c), snap.epochs[c]),
            )
        pipe.execute()

    def apply(self, flush: Flush) -> None:
        at = _flush_time_us(flush)
        meta = self._orgs.get(o for (_c, o, _k) in flush.org_deltas)
        regions = self._regions.get(r for (_c, r, _k) in flush.zone_deltas)
        orgs: dict[int, list[str]] = defaultdict(list)
        zones: dict[int, list[str]] = defaultdict(list)
        for (c, o, k), d in flush.org_deltas.items():
            if o in meta:
                level, children = _scopes(*meta[o])
                orgs[c] += [k, str(o), str(d), _member(at, o), level.key, children.key]
        for (c, r, k), d in flush.zone_deltas.items():
            lists = regions.get(r, ())
            flags = ["1" if z in lists else "0" for z in ZONES]
            zones[c] += [k, r, str(d), _zone_member(at, r), *flags]
        for c in set(orgs) | set(zones):
            args = orgs.get(c, [])
            zargs = zones.get(c, [])
            # in pieces, so that one script never blocks Redis for long; the zones (few) last
            pieces = [args[i : i + 6000] for i in range(0, len(args), 6000)] or [[]]
            for i, piece in enumerate(pieces):
                tail = zargs if i == len(pieces) - 1 else []
                self._apply(args=[c, _floor(), flush.last_id, len(piece), *piece, *tail])

    def _rows(self, key: str, campaign_id: int, kind: str, start: int, stop: int) -> list[Ranked]:
        got = self.redis.zrevrange(key, start, stop, withscores=True)
        if not got:
            return []
        orgs = [_org_of(m) for m, _s in got]
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcount(key, f"({got[0][1]!r}", "+inf")
        pipe.hmget(f"lb:{campaign_id}:{kind}:n", orgs)
        pipe.hmget(f"lb:{campaign_id}:members", orgs)
        better, ns, ms = pipe.execute()
        rows = [
            Ranked(0, o, int(n or 0), float(s), _at_of(m), int(mm or 0))
            for (m, s), o, n, mm in zip(got, orgs, ns, ms, strict=True)
        ]
        return rerank(rows, start=start, first_rank=int(better) + 1)

    def page(
        self, campaign_id: int, kind: str, scope: Scope, by: By, start: int, limit: int
    ) -> list[Ranked]:
        if limit <= 0:
            return []
        self.ensure(campaign_id)
        key = self._key(campaign_id, kind, scope, by)
        return self._rows(key, campaign_id, kind, start, start + limit - 1)

    def size(self, campaign_id: int, kind: str, scope: Scope, by: By = "count") -> int:
        self.ensure(campaign_id)
        return int(self.redis.zcard(self._key(campaign_id, kind, scope, by)))

    def _position(self, key: str, campaign_id: int, kind: str, org: int) -> tuple[int, str] | None:
        member = self.redis.hget(f"lb:{campaign_id}:{kind}:m", org)
        if member is None:
            return None
        pos = self.redis.zrevrank(key, member)
        return None if pos is None else (int(pos), member)

    def rank(
        self, campaign_id: int, kind: str, scope: Scope, org_id: int, by: By = "count"
    ) -> tuple[int, int] | None:
        self.ensure(campaign_id)
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
        self.ensure(campaign_id)
        key = self._key(campaign_id, kind, scope, by)
        found = self._position(key, campaign_id, kind, org_id)
        if found is None:
            return []
        pos = found[0]
        return self._rows(key, campaign_id, kind, max(0, pos - size), pos + size)

    def zones(self, campaign_id: int, kind: str, zone: Zone) -> list[ZoneRanked]:
        self.ensure(campaign_id)
        got = self.redis.zrevrange(f"lb:{campaign_id}:{kind}:zone:{zone}", 0, -1, withscores=True)
        rows = [ZoneRanked(_text(m)[16:], int(s), _at_of(m)) for m, s in got]
        # zones are few: the tie-breakers (time, then code ascending) are sorted here
        return sorted(rows, key=lambda z: (-z.participants, z.reached_us, z.region_id))


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
