"""The one aggregator: participation events -> distinct participants -> tallies.

Each ``aggregate_once`` reads a batch of events past the watermark, decides which workers are
counted for the first time (per campaign and kind, and for "all"), folds those into deltas per
(campaign, organization, kind) and per (campaign, zone, kind), adds each organization's delta to
the organization and every ancestor with ``INSERT ... ON CONFLICT DO UPDATE SET n = n +
excluded.n``, and moves the watermark, all in one transaction: every event is counted exactly
once, across crashes too. Never one write per ancestor per event: a batch of a thousand events
touches each affected row once.

Ids from a sequence may commit out of order on PostgreSQL; an id skipped by a batch is kept in
``Watermark.gaps`` and looked for again until ``GAP_TIMEOUT_S`` (a writer that rolled back).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q

from saidao.core import clock
from saidao.orgs.models import PATH_STEP, Organization

from .models import ALL, OrgTally, Participant, ParticipationEvent, Watermark, ZoneTally

WATERMARK = "participation"
BATCH = 1000
GAP_TIMEOUT_S = 60.0
MAX_GAPS = 10_000
FRESH_LOOKBACK = 100


@dataclass
class Flush:
    """What one batch changed, for the live stream and the rank structures."""

    events: int = 0
    campaigns: set[int] = field(default_factory=set)
    org_deltas: dict[tuple[int, int, str], int] = field(default_factory=dict)
    zone_deltas: dict[tuple[int, str, str], int] = field(default_factory=dict)
    last_id: int = 0
    at: dt.datetime | None = None  # the time written as the tallies' reached_at


class Event(NamedTuple):
    """An event as the aggregator reads it: plain values, not a model instance (speed)."""

    id: int
    campaign_id: int
    worker_id: int
    organization_id: int | None
    zone_province_id: str | None
    zone_city_id: str | None
    kind: str
    voids_id: int | None
    voids_kind: str | None


EVENT_FIELDS = (
    "pk",
    "campaign_id",
    "worker_id",
    "organization_id",
    "zone_province_id",
    "zone_city_id",
    "kind",
    "voids_id",
    "voids__kind",
)


@dataclass
class Counted:
    """A participant: counted once per (campaign, worker, kind) where they first took part."""

    campaign_id: int
    worker_id: int
    kind: str
    organization_id: int | None
    zone_province_id: str | None
    zone_city_id: str | None
    first_event_id: int
    voided: bool = False


Key = tuple[int, int, str]


def _ancestors(org_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each organization with its ancestors (itself included): two indexed queries in all."""
    orgs = dict(Organization.objects.filter(pk__in=set(org_ids)).values_list("pk", "path"))
    prefixes = {p[:i] for p in orgs.values() for i in range(PATH_STEP, len(p) + 1, PATH_STEP)}
    by_path = dict(Organization.objects.filter(path__in=prefixes).values_list("path", "pk"))
    return {
        pk: [by_path[path[:i]] for i in range(PATH_STEP, len(path) + 1, PATH_STEP)]
        for pk, path in orgs.items()
    }


def _upsert_orgs(rows: dict[tuple[int, int, str], tuple[int, int]], at: dt.datetime) -> None:
    table = OrgTally._meta.db_table
    # The table name is ours and every value a parameter (S608 is ignored for this file).
    sql = (
        f"INSERT INTO {table} (campaign_id, organization_id, kind, own, subtree, reached_at) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (campaign_id, organization_id, kind) DO UPDATE SET "
        f"own = {table}.own + excluded.own, subtree = {table}.subtree + excluded.subtree, "
        "reached_at = excluded.reached_at"
    )
    params = [(c, o, k, own, sub, at) for (c, o, k), (own, sub) in rows.items() if own or sub]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _upsert_zones(rows: dict[tuple[int, str, str], int], at: dt.datetime) -> None:
    table = ZoneTally._meta.db_table
    sql = (
        f"INSERT INTO {table} (campaign_id, region_id, kind, n, reached_at) "
        "VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (campaign_id, region_id, kind) DO UPDATE SET "
        f"n = {table}.n + excluded.n, reached_at = excluded.reached_at"
    )
    params = [(c, r, k, n, at) for (c, r, k), n in rows.items() if n]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _insert_participants(new: list[Counted], at: dt.datetime) -> None:
    table = Participant._meta.db_table
    sql = (
        f"INSERT INTO {table} (campaign_id, worker_id, kind, organization_id, zone_province_id, "
        "zone_city_id, first_event_id, voided, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    params = [
        (
            p.campaign_id,
            p.worker_id,
            p.kind,
            p.organization_id,
            p.zone_province_id,
            p.zone_city_id,
            p.first_event_id,
            p.voided,
            at,
        )
        for p in new
    ]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _mark_voided(voided: list[Counted]) -> None:
    table = Participant._meta.db_table
    sql = f"UPDATE {table} SET voided = %s WHERE campaign_id = %s AND worker_id = %s AND kind = %s"
    params = [(True, p.campaign_id, p.worker_id, p.kind) for p in voided]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def read_events(query: Q, *, limit: int | None = None) -> list[Event]:
    qs = ParticipationEvent.objects.filter(query).order_by("pk").values_list(*EVENT_FIELDS)
    rows = qs[:limit] if limit is not None else qs
    return [Event(*row) for row in rows]


def _fetch(wm: Watermark, batch: int) -> list[Event]:
    gap_ids = [int(i) for i in wm.gaps]
    query = Q(pk__gt=wm.last_id)
    if gap_ids:
        query |= Q(pk__in=gap_ids)
    return read_events(query, limit=batch)


def _move_watermark(wm: Watermark, events: list[Event], now: dt.datetime) -> None:
    seen = {e.id for e in events}
    gaps = {int(k): v for k, v in wm.gaps.items() if int(k) not in seen}
    new_ids = sorted(i for i in seen if i > wm.last_id)
    if new_ids:
        # A fresh watermark looks a little below the first event it sees (a writer may still
        # commit a lower id), not back to 1; and a hole wider than MAX_GAPS is not writers
        # committing out of order but a restored or reset log.
        low = max(1, new_ids[0] - FRESH_LOOKBACK) if wm.last_id == 0 else wm.last_id + 1
        if new_ids[-1] - low <= MAX_GAPS:
            for missing in range(low, new_ids[-1]):
                if missing not in seen:
                    gaps.setdefault(missing, now.timestamp())
        wm.last_id = new_ids[-1]
    cutoff = now.timestamp() - GAP_TIMEOUT_S
    wm.gaps = {str(k): v for k, v in gaps.items() if v >= cutoff}
    wm.save(update_fields=["last_id", "gaps", "updated_at"])


@dataclass
class Folded:
    new: list[Counted] = field(default_factory=list)
    voided: list[Counted] = field(default_factory=list)
    org_delta: dict[tuple[int, int, str], int] = field(default_factory=lambda: defaultdict(int))
    zone_delta: dict[tuple[int, str, str], int] = field(default_factory=lambda: defaultdict(int))


KINDS = tuple(ParticipationEvent.Kind.values)


def fold(events: Iterable[Event], existing: dict[Key, Counted]) -> Folded:
    """Decide who is counted for the first time (or voided) by these events, in id order.

    ``existing`` holds the participants already counted, keyed by (campaign, worker, kind); it
    is updated. The aggregator and the reconciliation both fold through here.
    """
    out = Folded()
    org_delta, zone_delta = out.org_delta, out.zone_delta

    def count(p: Counted, sign: int) -> None:
        if p.organization_id is not None:
            org_delta[(p.campaign_id, p.organization_id, p.kind)] += sign
        if p.zone_province_id is not None:
            zone_delta[(p.campaign_id, p.zone_province_id, p.kind)] += sign
        if p.zone_city_id is not None and p.zone_city_id != p.zone_province_id:
            zone_delta[(p.campaign_id, p.zone_city_id, p.kind)] += sign

    for e in events:
        if e.voids_id is not None:
            for kind in (e.voids_kind, ALL):
                counted = existing.get((e.campaign_id, e.worker_id, str(kind)))
                if counted is None or counted.voided:
                    continue
                if kind == ALL and any(
                    (q := existing.get((e.campaign_id, e.worker_id, k))) is not None
                    and not q.voided
                    for k in KINDS
                    if k != e.voids_kind
                ):
                    continue  # still counted through another kind
                counted.voided = True
                out.voided.append(counted)
                count(counted, -1)
            continue
        for kind in (e.kind, ALL):
            key = (e.campaign_id, e.worker_id, kind)
            if key in existing:
                continue
            p = Counted(
                e.campaign_id,
                e.worker_id,
                kind,
                e.organization_id,
                e.zone_province_id,
                e.zone_city_id,
                e.id,
            )
            existing[key] = p
            out.new.append(p)
            count(p, +1)
    return out


def roll_up(
    own_delta: dict[tuple[int, int, str], int],
) -> dict[tuple[int, int, str], tuple[int, int]]:
    """Each organization's (own, subtree) delta: its own, and the sum over its subtree."""
    lineage = _ancestors(o for _c, o, _k in own_delta)
    rows: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for (c, org, kind), n in own_delta.items():
        if not n:
            continue
        rows[(c, org, kind)][0] += n
        for ancestor in lineage.get(org, [org]):
            rows[(c, ancestor, kind)][1] += n
    return {k: (v[0], v[1]) for k, v in rows.items()}


def _existing(events: list[Event]) -> dict[Key, Counted]:
    campaigns = {e.campaign_id for e in events}
    workers = {e.worker_id for e in events}
    rows = Participant.objects.filter(campaign_id__in=campaigns, worker_id__in=workers).values_list(
        "campaign_id",
        "worker_id",
        "kind",
        "organization_id",
        "zone_province_id",
        "zone_city_id",
        "first_event_id",
        "voided",
    )
    return {(r[0], r[1], r[2]): Counted(*r) for r in rows}


def aggregate_once(*, batch: int = BATCH) -> Flush:
    """Fold the next batch of events into the tallies; returns what changed."""
    flush = Flush()
    now = clock.now()
    with transaction.atomic():
        wm, _created = Watermark.objects.select_for_update().get_or_create(name=WATERMARK)
        events = _fetch(wm, batch)
        if not events:
            if wm.gaps:
                _move_watermark(wm, events, now)  # let old gaps expire
            return flush
        flush.events = len(events)
        flush.at = now
        flush.campaigns = {e.campaign_id for e in events}
        folded = fold(events, _existing(events))
        _insert_participants(folded.new, now)
        inserted = {id(p) for p in folded.new}  # inserted already with their voided flag
        _mark_voided([p for p in folded.voided if id(p) not in inserted])
        final = roll_up(folded.org_delta)
        _upsert_orgs(final, now)
        _upsert_zones(folded.zone_delta, now)
        _move_watermark(wm, events, now)
        flush.org_deltas = {k: v[1] for k, v in final.items() if v[1]}
        flush.zone_deltas = {k: n for k, n in folded.zone_delta.items() if n}
        flush.last_id = wm.last_id
    return flush


def aggregate_all(*, batch: int = BATCH, max_batches: int = 1_000_000) -> int:
    """Run batches until the log is drained; returns the events folded."""
    total = 0
    for _i in range(max_batches):
        flush = aggregate_once(batch=batch)
        total += flush.events
        if flush.events < batch:
            return total
    return total
