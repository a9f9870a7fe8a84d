"""The one aggregator: participation events -> distinct participants -> tallies.

Each ``aggregate_once`` reads a batch of events past the watermark, decides which workers are
counted for the first time (per campaign and kind, and for "all"), folds those into deltas per
(campaign, organization, kind) and per (campaign, zone, kind), adds each organization's delta to
the organization and every ancestor with ``INSERT ... ON CONFLICT DO UPDATE SET n = n +
excluded.n``, and moves the watermark, all in one transaction: every event is counted exactly
once, across crashes too. Never one write per ancestor per event: a batch touches each affected
row once, and each table is written by one set-based statement (its rows passed as one JSON
array: ``json_each`` on SQLite, ``json_array_elements`` on PostgreSQL).

Who is new is learnt from the insert itself: the batch's first event per (campaign, worker,
kind) is inserted as a participant with ``ON CONFLICT DO NOTHING ... RETURNING``, and only the
rows it returns are counted. A worker with a voiding event in the batch is folded the long way
(their participants read first), since a void needs what was counted before.

Ids from a sequence may commit out of order on PostgreSQL; an id skipped by a batch is kept in
``Watermark.gaps`` and looked for again until ``GAP_TIMEOUT_S`` (a writer that rolled back).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q

from saidao.core import clock
from saidao.orgs.models import PATH_STEP, Organization

from .models import ALL, OrgTally, Participant, ParticipationEvent, Watermark, ZoneTally

WATERMARK = "participation"
BATCH = 1000  # a batch when keeping up: small, so that counts show soon
MAX_BATCH = 10_000  # when behind, batches double up to this: the upper levels' rows, written
# by every batch, are then written less often per event
GAP_TIMEOUT_S = 60.0
MAX_GAPS = 10_000
FRESH_LOOKBACK = 100
SQLITE_CACHE_KIB = 65_536  # the aggregator's page cache: the tallies' and participants' indexes
SQLITE_MMAP_BYTES = 1 << 30


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
    path: str | None = None  # the organization's path, read with the event by the aggregator


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


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _in(column: str, values: Sequence[Any], sql_type: str = "bigint") -> tuple[str, list[Any]]:
    """``column`` among ``values``, however many, as SQL and its one parameter: a JSON array
    (encoding a long list as one JSON text is much cheaper than as a database array)."""
    param = [_rows_param(values)]
    if connection.vendor == "postgresql":
        return (
            f"{column} = ANY(ARRAY(SELECT json_array_elements_text(%s::json))::{sql_type}[])",
            param,
        )
    return f"{column} IN (SELECT value FROM json_each(%s))", param


class Lineage:
    """Each organization path's chain of ids (its own and its ancestors'), cached for an
    aggregator's lifetime.

    A path, once given, always names the same organization: a new or moved organization takes
    its segment from its parent's ``child_seq``, which only grows, so paths are never reused and
    a path's chain never changes. The organization's own path is read afresh with each event,
    so a moved organization's new ancestors are found. The cache is bounded (emptied when full).
    """

    MAX_PATHS = 500_000

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._chains: dict[str, list[int]] = {}

    def chains(self, paths: Iterable[str]) -> dict[str, list[int]]:
        known = self._chains
        wanted = set(paths)
        new = [p for p in wanted if p not in known]
        if new:
            if len(known) + len(new) > self.MAX_PATHS:
                known.clear()
                self._ids.clear()
                new = list(wanted)
            self._resolve({p[:i] for p in new for i in range(PATH_STEP, len(p) + 1, PATH_STEP)})
            ids = self._ids
            for p in new:
                prefixes = (p[:i] for i in range(PATH_STEP, len(p) + 1, PATH_STEP))
                known[p] = [ids[q] for q in prefixes if q in ids]
        return {p: known[p] for p in wanted}

    def _resolve(self, prefixes: set[str]) -> None:
        missing = [p for p in prefixes if p not in self._ids]
        table = Organization._meta.db_table
        with connection.cursor() as cursor:
            for chunk in _chunks(missing, 2000):
                where, params = _in("path", chunk, "text")
                cursor.execute(f"SELECT path, id FROM {table} WHERE {where}", params)
                self._ids.update(cursor.fetchall())


def _paths(org_ids: Iterable[int]) -> dict[int, str]:
    table = Organization._meta.db_table
    out: dict[int, str] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(set(org_ids)), 2000):
            where, params = _in("id", chunk)
            cursor.execute(f"SELECT id, path FROM {table} WHERE {where}", params)
            out.update(cursor.fetchall())
    return out


def _rows_param(rows: Sequence[Any]) -> str:
    """Rows as one JSON array: SQLite's ``json_each`` turns it back into rows in one statement."""
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


def _select_rows(
    columns: Sequence[str], types: Sequence[str], rows: list[tuple[Any, ...]]
) -> tuple[str, list[Any]]:
    """``SELECT`` of the rows' columns from one JSON parameter, an array of rows."""
    if connection.vendor == "postgresql":
        picks = ", ".join(
            f"(v->>{i})::{t} AS {c}" for i, (c, t) in enumerate(zip(columns, types, strict=True))
        )
        return f"SELECT {picks} FROM json_array_elements(%s::json) AS v", [_rows_param(rows)]
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    return f"SELECT {picks} FROM json_each(%s) WHERE true", [_rows_param(rows)]


def _upsert_orgs(rows: dict[tuple[int, int, str], tuple[int, int]], at: dt.datetime) -> None:
    table = OrgTally._meta.db_table
    # in key order: neighbouring rows of the unique index are written together
    values = [(c, o, k, own, sub) for (c, o, k), (own, sub) in sorted(rows.items()) if own or sub]
    if not values:
        return
    select, params = _select_rows(
        ("c", "o", "k", "own", "sub"), ("bigint", "bigint", "text", "int", "int"), values
    )
    # The table name is ours and every value a parameter (S608 is ignored for this file).
    sql = (
        f"INSERT INTO {table} (campaign_id, organization_id, kind, own, subtree, reached_at) "
        f"SELECT *, %s FROM ({select}) AS d WHERE true "  # WHERE: SQLite's upsert grammar
        "ON CONFLICT (campaign_id, organization_id, kind) DO UPDATE SET "
        f"own = {table}.own + excluded.own, subtree = {table}.subtree + excluded.subtree, "
        # the time the ranked count (subtree) was reached: a row whose own count moved while
        # its subtree count did not (a void and a new participant below it) keeps its time,
        # as the rank index (which hears only subtree deltas) does
        f"reached_at = CASE WHEN excluded.subtree <> 0 THEN excluded.reached_at "
        f"ELSE {table}.reached_at END"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, *params])


def _upsert_zones(rows: dict[tuple[int, str, str], int], at: dt.datetime) -> None:
    table = ZoneTally._meta.db_table
    values = [(c, r, k, n) for (c, r, k), n in sorted(rows.items()) if n]
    if not values:
        return
    select, params = _select_rows(("c", "r", "k", "n"), ("bigint", "text", "text", "int"), values)
    sql = (
        f"INSERT INTO {table} (campaign_id, region_id, kind, n, reached_at) "
        f"SELECT *, %s FROM ({select}) AS d WHERE true "
        "ON CONFLICT (campaign_id, region_id, kind) DO UPDATE SET "
        f"n = {table}.n + excluded.n, reached_at = excluded.reached_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, *params])


def _insert_participants(new: list[Counted], at: dt.datetime) -> None:
    """Insert participants known to be new (folded after reading what was counted)."""
    if not new:
        return
    table = Participant._meta.db_table
    select, params = _select_rows(
        ("c", "w", "k", "o", "zp", "zc", "f", "v"),
        ("bigint", "bigint", "text", "bigint", "text", "text", "bigint", "boolean"),
        [
            (
                p.campaign_id,
                p.worker_id,
                p.kind,
                p.organization_id,
                p.zone_province_id,
                p.zone_city_id,
                p.first_event_id,
                p.voided,
            )
            for p in new
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, worker_id, kind, organization_id, "
            "zone_province_id, zone_city_id, first_event_id, voided, created_at) "
            f"SELECT *, %s FROM ({select}) AS d",
            [at, *params],
        )


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


Head = tuple[int, int, int, int | None]  # what is read of every event: id, campaign, worker, voids


def _ids_where(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``column`` among ``ids`` (sorted): a range when they are consecutive (the usual batch;
    every id of the range is then already there, so none can join it), else the list."""
    if ids and ids[-1] - ids[0] + 1 == len(ids):
        return f"{column} BETWEEN %s AND %s", [ids[0], ids[-1]]
    return _in(column, ids)


def _heads(wm: Watermark, batch: int) -> list[Head]:
    """The next events in id order: ids still missing below the watermark (gaps), then new ones."""
    table = ParticipationEvent._meta.db_table
    select = f"SELECT id, campaign_id, worker_id, voids_id FROM {table} "
    out: list[Head] = []
    with connection.cursor() as cursor:
        if wm.gaps:
            where, params = _in("id", sorted(int(i) for i in wm.gaps))
            cursor.execute(select + f"WHERE {where} ORDER BY id LIMIT %s", [*params, batch])
            out += cursor.fetchall()
        if len(out) < batch:
            cursor.execute(
                select + "WHERE id > %s ORDER BY id LIMIT %s", [wm.last_id, batch - len(out)]
            )
            out += cursor.fetchall()
    return out


def _events(ids: Sequence[int]) -> list[Event]:
    """Whole events, with their organization's path, in id order."""
    events = ParticipationEvent._meta.db_table
    orgs = Organization._meta.db_table
    where, params = _ids_where("e.id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.campaign_id, e.worker_id, e.organization_id, e.zone_province_id, "
            f"e.zone_city_id, e.kind, e.voids_id, v.kind, o.path FROM {events} e "
            f"LEFT JOIN {events} v ON v.id = e.voids_id "
            f"LEFT JOIN {orgs} o ON o.id = e.organization_id WHERE {where} ORDER BY e.id",
            params,
        )
        return [Event(*row) for row in cursor.fetchall()]


def _insert_first(ids: Sequence[int], now: dt.datetime, out: Folded) -> dict[int, str]:
    """Insert, for these (non-voiding) events, each worker's first participation per kind and
    overall, skipping those counted before; count what was inserted. In one statement: the
    events are read where they are, in id order so that the first one wins, and ``RETURNING``
    says which rows were new. Returns the new participants' organizations' paths."""
    events = ParticipationEvent._meta.db_table
    table = Participant._meta.db_table
    orgs = Organization._meta.db_table
    where, params = _ids_where("e.id", ids)
    sql = (
        f"INSERT INTO {table} (first_event_id, campaign_id, worker_id, organization_id, "
        "zone_province_id, zone_city_id, kind, voided, created_at) "
        "SELECT e.id, e.campaign_id, e.worker_id, e.organization_id, e.zone_province_id, "
        "e.zone_city_id, CASE WHEN k.n = 0 THEN e.kind ELSE %s END, %s, %s "
        # each event twice, for its kind and for "all"; the events' order needs no sort
        f"FROM {events} e CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1) AS k "
        f"WHERE {where} ORDER BY e.id "  # WHERE: SQLite's grammar for an upsert from a SELECT
        "ON CONFLICT (campaign_id, worker_id, kind) DO NOTHING "
        f"RETURNING campaign_id, worker_id, kind, organization_id, zone_province_id, "
        f"zone_city_id, (SELECT path FROM {orgs} WHERE {orgs}.id = {table}.organization_id)"
    )
    paths: dict[int, str] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ALL, False, now, *params])
        for c, w, kind, org, province, city, path in cursor.fetchall():
            out.count(Counted(c, w, kind, org, province, city, 0), +1)
            if org is not None and path is not None:
                paths[org] = path
    return paths


def _move_watermark(wm: Watermark, ids: Sequence[int], now: dt.datetime) -> None:
    """Move past ``ids`` (sorted); ids skipped below the highest are kept as gaps."""
    last = wm.last_id
    new_ids = [i for i in ids if i > last]
    if new_ids and not wm.gaps and new_ids[0] == last + 1 and new_ids[-1] == last + len(new_ids):
        wm.last_id = new_ids[-1]  # the usual batch: the ids right after the watermark
        wm.save(update_fields=["last_id", "updated_at"])
        return
    seen = set(ids)
    gaps = {int(k): v for k, v in wm.gaps.items() if int(k) not in seen}
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

    def count(self, p: Counted, sign: int) -> None:
        """Add (or take away) a participant at their organization and zones."""
        if p.organization_id is not None:
            self.org_delta[(p.campaign_id, p.organization_id, p.kind)] += sign
        if p.zone_province_id is not None:
            self.zone_delta[(p.campaign_id, p.zone_province_id, p.kind)] += sign
        if p.zone_city_id is not None and p.zone_city_id != p.zone_province_id:
            self.zone_delta[(p.campaign_id, p.zone_city_id, p.kind)] += sign


KINDS = tuple(ParticipationEvent.Kind.values)


def fold(
    events: Iterable[Event], existing: dict[Key, Counted], out: Folded | None = None
) -> Folded:
    """Decide who is counted for the first time (or voided) by these events, in id order.

    ``existing`` holds the participants already counted, keyed by (campaign, worker, kind); it
    is updated. The reconciliation folds through here, and the aggregator for workers with a
    voiding event in the batch.
    """
    out = out if out is not None else Folded()
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
                out.count(counted, -1)
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
            out.count(p, +1)
    return out


def roll_up(
    own_delta: dict[tuple[int, int, str], int],
    *,
    paths: dict[int, str] | None = None,
    lineage: Lineage | None = None,
) -> dict[tuple[int, int, str], tuple[int, int]]:
    """Each organization's (own, subtree) delta: its own, and the sum over its subtree.

    ``paths`` are organizations' paths already known (read with the events); the others are
    read. ``lineage`` caches ancestors' ids across batches.
    """
    lineage = lineage if lineage is not None else Lineage()
    orgs = {o for (_c, o, _k), n in own_delta.items() if n}
    known = {o: paths[o] for o in orgs if paths and o in paths}
    if len(known) < len(orgs):
        known.update(_paths(orgs - known.keys()))
    chains = lineage.chains(known.values())
    own: dict[tuple[int, int, str], int] = {}
    sub: dict[tuple[int, int, str], int] = {}
    for (c, org, kind), n in own_delta.items():
        if not n:
            continue
        own[(c, org, kind)] = own.get((c, org, kind), 0) + n
        path = known.get(org)
        for ancestor in chains[path] if path is not None else (org,):
            key = (c, ancestor, kind)
            sub[key] = sub.get(key, 0) + n
    rows = {k: (own.get(k, 0), n) for k, n in sub.items()}
    rows.update((k, (n, sub.get(k, 0))) for k, n in own.items() if k not in sub)
    return rows


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


def _count(heads: list[Head], now: dt.datetime) -> tuple[Folded, dict[int, str]]:
    """Insert the batch's new participants (and void what it voids); the deltas they make, and
    the paths of the organizations they were counted at."""
    voiders = {(c, w) for _i, c, w, voids in heads if voids is not None}
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        slow, plain = [h[0] for h in heads], []
    elif voiders:
        slow = [i for i, c, w, _v in heads if (c, w) in voiders]
        plain = [i for i, c, w, _v in heads if (c, w) not in voiders]
    else:
        slow, plain = [], [h[0] for h in heads]
    out = Folded()
    paths: dict[int, str] = {}
    if slow:
        # The long way, for workers with a voiding event: read what was counted for them and
        # fold their events in order.
        events = _events(slow)
        fold(events, _existing(events), out)
        _insert_participants(out.new, now)
        inserted = {id(p) for p in out.new}  # inserted already with their voided flag
        _mark_voided([p for p in out.voided if id(p) not in inserted])
        paths.update((e.organization_id, e.path) for e in events if e.organization_id and e.path)
    if plain:
        paths.update(_insert_first(plain, now, out))
    return out, paths


def _tune() -> None:
    """A bigger page cache and memory-mapped reads for the aggregator's SQLite connection: a
    batch touches index pages all over the participants and tallies (2 MiB by default)."""
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        if cursor.fetchone()[0] != -SQLITE_CACHE_KIB:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")


def _nothing_new() -> bool:
    """No event past the watermark and no gap to look at again, read without a transaction.

    The fold's transaction takes the watermark's lock, which on SQLite is the database's one
    writer's lock: taken five times a second while idle, it made web requests' writes meet
    SQLite's busy handler, which sleeps for milliseconds (seen as stalls in the quiz benchmark).
    """
    row = Watermark.objects.filter(name=WATERMARK).values_list("last_id", "gaps").first()
    if row is None or row[1]:
        return False
    return not ParticipationEvent.objects.filter(pk__gt=row[0]).exists()


def aggregate_once(*, batch: int = BATCH, lineage: Lineage | None = None) -> Flush:
    """Fold the next batch of events into the tallies; returns what changed."""
    flush = Flush()
    if _nothing_new():
        return flush
    now = clock.now()
    _tune()
    with transaction.atomic():
        wm, _created = Watermark.objects.select_for_update().get_or_create(name=WATERMARK)
        heads = _heads(wm, batch)
        if not heads:
            if wm.gaps:
                _move_watermark(wm, (), now)  # let old gaps expire
            return flush
        flush.events = len(heads)
        flush.at = now
        flush.campaigns = {h[1] for h in heads}
        folded, paths = _count(heads, now)
        final = roll_up(folded.org_delta, paths=paths, lineage=lineage)
        _upsert_orgs(final, now)
        _upsert_zones(folded.zone_delta, now)
        _move_watermark(wm, [h[0] for h in heads], now)
        flush.org_deltas = {k: v[1] for k, v in final.items() if v[1]}
        flush.zone_deltas = {k: n for k, n in folded.zone_delta.items() if n}
        flush.last_id = wm.last_id
    return flush


def next_batch(size: int, folded: int, *, batch: int = BATCH, max_batch: int = MAX_BATCH) -> int:
    """The size of the next batch: doubled while batches come back full (behind), back to
    ``batch`` once one does not (keeping up)."""
    return min(max_batch, size * 2) if folded >= size else batch


def aggregate_all(
    *, batch: int = BATCH, max_batch: int = MAX_BATCH, max_batches: int = 1_000_000
) -> int:
    """Run batches until the log is drained; returns the events folded."""
    total, size, lineage = 0, batch, Lineage()
    for _i in range(max_batches):
        flush = aggregate_once(batch=size, lineage=lineage)
        total += flush.events
        if flush.events < size:
            return total
        size = next_batch(size, flush.events, batch=batch, max_batch=max_batch)
    return total
