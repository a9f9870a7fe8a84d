"""Reads of the leaderboards: totals, top N by count or by rate, ranks and windows.

Ranking is competition ranking (1, 2, 2, 4): an organization's rank is one more than the number
of organizations in the same ranking with a strictly better value. Ties are listed by the time
the count was reached (earlier first), then by the organization's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db.models import QuerySet

from saidao.campaigns.models import Campaign
from saidao.orgs.models import Organization

from .models import ALL, MemberSnapshot, OrgTally, ZoneTally

By = Literal["count", "rate"]


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


def participants_by_province(*, campaign: Campaign, kind: str = ALL) -> list[dict[str, Any]]:
    """Participants per provincial zone, most first."""
    rows = (
        ZoneTally.objects.filter(campaign=campaign, kind=kind, region__level="province", n__gt=0)
        .values("region_id", "region__name", "n")
        .order_by("-n", "reached_at", "region_id")
    )
    return [dict(r) for r in rows]


def participants_by_city(*, campaign: Campaign, kind: str = ALL) -> list[dict[str, Any]]:
    """Participants per city zone, most first (a municipality is its own city zone)."""
    rows = (
        ZoneTally.objects.filter(campaign=campaign, kind=kind, n__gt=0)
        .exclude(region__level="province", region__kind__in=["province", "autonomous_region"])
        .exclude(region__kind="sar")
        .values("region_id", "region__name", "n")
        .order_by("-n", "reached_at", "region_id")
    )
    return [dict(r) for r in rows]


def members_of(*, campaign: Campaign) -> dict[int, int]:
    """The frozen member count of each organization's subtree for this campaign."""
    return dict(
        MemberSnapshot.objects.filter(campaign=campaign).values_list("organization_id", "subtree")
    )


def _scope(
    campaign: Campaign, kind: str, *, level: str | None, parent: Organization | None
) -> QuerySet[OrgTally]:
    qs = OrgTally.objects.filter(campaign=campaign, kind=kind)
    if level:
        qs = qs.filter(organization__level=level)
    if parent is not None:
        qs = qs.filter(organization__parent=parent)
    return qs


def _rows(
    tallies: list[OrgTally], members: dict[int, int], value: Callable[[OrgTally], float]
) -> list[Row]:
    out: list[Row] = []
    previous: float | None = None
    rank = 0
    for i, t in enumerate(tallies, start=1):
        v = value(t)
        if v != previous:
            rank, previous = i, v
        m = members.get(t.organization_id, 0)
        out.append(
            Row(
                rank=rank,
                organization_id=t.organization_id,
                name=t.organization.name,
                level=t.organization.level,
                participants=t.subtree,
                members=m,
                rate=(t.subtree / m) if m else None,
                reached_at=t.reached_at,
            )
        )
    return out


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
    """
    qs = _scope(campaign, kind, level=level, parent=parent).select_related("organization")
    members = members_of(campaign=campaign)
    if by == "rate":
        floor = settings.SAIDAO_RATE_MIN_MEMBERS
        tallies = [t for t in qs if members.get(t.organization_id, 0) >= floor]

        def rate(t: OrgTally) -> float:
            return t.subtree / members[t.organization_id]

        tallies.sort(key=lambda t: (-rate(t), t.reached_at, t.organization_id))
        return _rows(tallies, members, rate)
    tallies = list(qs.order_by("-subtree", "reached_at", "organization_id"))
    return _rows(tallies, members, lambda t: float(t.subtree))


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
    if by == "count":
        qs = _scope(campaign, kind, level=level, parent=parent).select_related("organization")
        tallies = list(qs.order_by("-subtree", "reached_at", "organization_id")[:limit])
        return _rows(tallies, members_of(campaign=campaign), lambda t: float(t.subtree))
    return ranking(campaign=campaign, by=by, kind=kind, level=level, parent=parent)[:limit]


def rank_of(
    *,
    campaign: Campaign,
    organization: Organization,
    kind: str = ALL,
    among: Literal["level", "siblings"] = "level",
) -> tuple[int, int] | None:
    """(rank, out of how many) by participants, among the organization's level or siblings."""
    scope = OrgTally.objects.filter(campaign=campaign, kind=kind)
    if among == "siblings":
        scope = scope.filter(organization__parent_id=organization.parent_id)
    else:
        scope = scope.filter(organization__level=organization.level)
    mine = scope.filter(organization=organization).first()
    if mine is None:
        return None
    return scope.filter(subtree__gt=mine.subtree).count() + 1, scope.count()


def window(
    *,
    campaign: Campaign,
    organization: Organization,
    by: By = "count",
    kind: str = ALL,
    size: int = 5,
) -> list[Row]:
    """The rows around an organization in its level's ranking: ``size`` above and below."""
    rows = ranking(campaign=campaign, by=by, kind=kind, level=organization.level)
    at = next((i for i, r in enumerate(rows) if r.organization_id == organization.pk), None)
    if at is None:
        return []
    return rows[max(0, at - size) : at + size + 1]


def children_by_rate(*, campaign: Campaign, parent: Organization, kind: str = ALL) -> list[Row]:
    """The sub-organizations of ``parent`` by rate, worst first: who needs a push."""
    return list(reversed(ranking(campaign=campaign, by="rate", kind=kind, parent=parent)))
