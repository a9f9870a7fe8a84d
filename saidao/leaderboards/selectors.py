"""Reads of the leaderboards: totals, top N by count or by rate, ranks, windows and zones.

Rankings are answered from the rank index (``ranks.rank_index()``: in memory when embedded,
Redis when scaled), never by scanning the tallies; only the rows returned are completed from the
database (names and levels: one query per ``HYDRATE_CHUNK`` rows). Each read first checks that
the index holds the campaign as the database has it (one query, its ``RankEpoch``; see
``ranks``).

Ranking is competition ranking (1, 2, 2, 4): an organization's rank is one more than the number
of organizations in the same ranking with a strictly better value. Ties are listed by the time
the count was reached (earlier first), then by the organization's id; the ``reached_at`` shown is
the one the order used.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection

from saidao.campaigns.models import Campaign
from saidao.orgs.models import Organization
from saidao.regions.models import Region

from .models import ALL, MemberSnapshot, OrgTally
from .ranks import (
    Ranked,
    RankIndex,
    Scope,
    Zone,
    campaign_stamp,
    from_us,
    rank_index,
    read_epoch,
    rerank,
)

By = Literal["count", "rate"]
PAGE = 5000  # rows read from the index at a time when a whole ranking is wanted
HYDRATE_CHUNK = 900  # organization ids per query (below SQLite's old 999-parameter limit)


@dataclass(frozen=True)
class Row:
    rank: int
    organization_id: int
    name: str
    level: str
    participants: int
    members: int
    rate: float | None
    reached_at: dt.datetime


def participants_count(*, campaign: Campaign, kind: str = ALL) -> int:
    """Distinct participants of the whole campaign, as last aggregated (the root's subtree)."""
    t = OrgTally.objects.filter(
        campaign=campaign, organization__parent__isnull=True, kind=kind
    ).first()
    return t.subtree if t else 0


def _index(campaign: Campaign) -> RankIndex:
    """The index, holding this campaign as the database has it now."""
    index = rank_index()
    index.ensure(campaign.pk, stamp=campaign_stamp(campaign), epoch=read_epoch(campaign.pk))
    return index


def _zones(campaign: Campaign, kind: str, zone: Zone) -> list[dict[str, Any]]:
    rows = _index(campaign).zones(campaign.pk, kind, zone)
    if not rows:
        return []
    names = dict(
        Region.objects.filter(code__in=[r.region_id for r in rows]).values_list("code", "name")
    )
    return [
        {"region_id": r.region_id, "region__name": names.get(r.region_id, ""), "n": r.participants}
        for r in rows
    ]


def participants_by_province(*, campaign: Campaign, kind: str = ALL) -> list[dict[str, Any]]:
    """Participants per provincial zone, most first (then time reached, then code)."""
    return _zones(campaign, kind, "province")


def participants_by_city(*, campaign: Campaign, kind: str = ALL) -> list[dict[str, Any]]:
    """Participants per city zone, most first (a municipality is its own city zone; a special
    administrative region is none)."""
    return _zones(campaign, kind, "city")


def members_of(
    *, campaign: Campaign, organization_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """The frozen member count of each organization's subtree for this campaign: of the
    organizations given (one query), or of every organization (a whole campaign: avoid)."""
    qs = MemberSnapshot.objects.filter(campaign=campaign)
    if organization_ids is not None:
        qs = qs.filter(organization_id__in=list(organization_ids))
    return dict(qs.values_list("organization_id", "subtree"))


def _hydrate(ranked: list[Ranked]) -> list[Row]:
    """Rows for ranked entries: names and levels read for these organizations only."""
    orgs: dict[int, tuple[str, str]] = {}
    ids = [r.organization_id for r in ranked]
    table = Organization._meta.db_table
    # plain SQL: for a top-50 page the ORM's own work was several times the query's
    with connection.cursor() as cursor:
        for i in range(0, len(ids), HYDRATE_CHUNK):
            chunk = ids[i : i + HYDRATE_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT id, name, level FROM {table} WHERE id IN ({marks})", chunk)  # noqa: S608 - our table, values as parameters
            orgs.update((pk, (name, level)) for pk, name, level in cursor.fetchall())
    out = []
    for r in ranked:
        found = orgs.get(r.organization_id)
        if found is None:
            continue  # deleted since (its tallies went with it; the index follows on rebuild)
        out.append(
            Row(
                rank=r.rank,
                organization_id=r.organization_id,
                name=found[0],
                level=found[1],
                participants=r.participants,
                members=r.members,
                rate=(r.participants / r.members) if r.members else None,
                reached_at=from_us(r.reached_us),
            )
        )
    return out


def _pages(index: RankIndex, campaign_id: int, kind: str, scope: Scope, by: By) -> Iterator[Ranked]:
    """A whole ranking, read from the index a page at a time."""
    start = 0
    while True:
        page = index.page(campaign_id, kind, scope, by, start, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        start += PAGE


def _sort_key(r: Ranked) -> tuple[float, int, int]:
    return (-r.value, r.reached_us, r.organization_id)


def _ranked(
    campaign: Campaign,
    by: By,
    kind: str,
    level: str | None,
    parent: Organization | None,
    limit: int | None,
) -> list[Ranked]:
    """The first ``limit`` entries (all when None) of a ranking, with their ranks."""
    index = _index(campaign)
    c = campaign.pk
    if parent is not None and level:
        # a parent's children of one level: the children's ranking, filtered and re-ranked
        wanted = set(
            Organization.objects.filter(parent=parent, level=level).values_list("pk", flat=True)
        )
        rows = [
            r
            for r in _pages(index, c, kind, Scope.children(parent.pk), by)
            if r.organization_id in wanted
        ]
        return rerank(rows[:limit] if limit is not None else rows)
    if parent is not None or level:
        scope = Scope.children(parent.pk) if parent is not None else Scope.level(str(level))
        if limit is not None:
            return index.page(c, kind, scope, by, 0, limit)
        return list(_pages(index, c, kind, scope, by))
    # every organization: the levels' rankings merged (the same order, so merging is exact)
    if limit is not None:
        parts: list[Iterable[Ranked]] = [
            index.page(c, kind, Scope.level(lv), by, 0, limit) for lv in Organization.Level.values
        ]
    else:
        parts = [_pages(index, c, kind, Scope.level(lv), by) for lv in Organization.Level.values]
    merged = list(heapq.merge(*parts, key=_sort_key))
    return rerank(merged[:limit] if limit is not None else merged)


def ranking(
    *,
    campaign: Campaign,
    by: By = "count",
    kind: str = ALL,
    level: str | None = None,
    parent: Organization | None = None,
) -> list[Row]:
    """The whole ranking of a level (or of ``parent``'s children), by participants or by rate.

    Rate ranks only organizations with at least ``SAIDAO_RATE_MIN_MEMBERS`` members frozen.
    Read from the index a page at a time (exports).
    """
    return _hydrate(_ranked(campaign, by, kind, level, parent, None))


def top(
    *,
    campaign: Campaign,
    by: By = "count",
    kind: str = ALL,
    level: str | None = None,
    parent: Organization | None = None,
    limit: int = 50,
) -> list[Row]:
    """The first ``limit`` rows of a ranking."""
    return _hydrate(_ranked(campaign, by, kind, level, parent, max(0, limit)))


def _scope_of(organization: Organization, among: Literal["level", "siblings"]) -> Scope:
    if among == "siblings":
        return Scope.children(organization.parent_id)
    return Scope.level(organization.level)


def rank_of(
    *,
    campaign: Campaign,
    organization: Organization,
    kind: str = ALL,
    among: Literal["level", "siblings"] = "level",
) -> tuple[int, int] | None:
    """(rank, out of how many) by participants, among the organization's level or siblings."""
    return _index(campaign).rank(campaign.pk, kind, _scope_of(organization, among), organization.pk)


def window(
    *,
    campaign: Campaign,
    organization: Organization,
    by: By = "count",
    kind: str = ALL,
    size: int = 5,
) -> list[Row]:
    """The rows around an organization in its level's ranking: ``size`` above and below."""
    index = _index(campaign)
    scope = Scope.level(organization.level)
    return _hydrate(index.around(campaign.pk, kind, scope, organization.pk, by, max(0, size)))


def children_by_rate(*, campaign: Campaign, parent: Organization, kind: str = ALL) -> list[Row]:
    """The sub-organizations of ``parent`` by rate, worst first: who needs a push."""
    return list(reversed(ranking(campaign=campaign, by="rate", kind=kind, parent=parent)))
