"""Rankings recounted plainly from the tables (no index), for tests to compare against."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from saidao.accounts.tests.factories import MembershipFactory
from saidao.leaderboards.models import MemberSnapshot, OrgTally, ParticipationEvent, ZoneTally
from saidao.leaderboards.services import participation_record
from saidao.orgs.models import Organization
from saidao.regions.models import Region


@dataclass(frozen=True)
class Expected:
    rank: int
    organization_id: int
    participants: int
    members: int
    reached_at: dt.datetime


def expected_ranking(
    campaign: Any,
    *,
    by: str = "count",
    kind: str = "all",
    level: str | None = None,
    parent_id: int | None = None,
    any_parent: bool = True,
) -> list[Expected]:
    """A ranking as its definition says: the tallies of the scope, by participants or by rate
    (members at least ``SAIDAO_RATE_MIN_MEMBERS``), value descending then time reached then id,
    competition ranks."""
    orgs = {o.pk: o for o in Organization.objects.all()}
    members = dict(
        MemberSnapshot.objects.filter(campaign=campaign).values_list("organization_id", "subtree")
    )
    floor = settings.SAIDAO_RATE_MIN_MEMBERS
    rows = []
    for t in OrgTally.objects.filter(campaign=campaign, kind=kind):
        org = orgs[t.organization_id]
        if level is not None and org.level != level:
            continue
        if not any_parent and org.parent_id != parent_id:
            continue
        m = members.get(org.pk, 0)
        if by == "rate":
            if m < max(1, floor):
                continue
            value = t.subtree / m
        else:
            value = float(t.subtree)
        rows.append((value, t.reached_at, org.pk, t.subtree, m))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    out = []
    for i, (value, at, pk, n, m) in enumerate(rows):
        rank = 1 + sum(1 for r in rows[:i] if r[0] > value)
        out.append(Expected(rank, pk, n, m, at))
    return out


def expected_zones(campaign: Any, *, kind: str = "all", zone: str = "province") -> list[Any]:
    """(code, participants) of a campaign's province or city zones, most first."""
    regions = {r.code: r for r in Region.objects.all()}
    rows = []
    for t in ZoneTally.objects.filter(campaign=campaign, kind=kind, n__gt=0):
        r = regions[t.region_id]
        if zone == "province":
            ok = r.level == "province"
        else:
            ok = r.kind != "sar" and not (
                r.level == "province" and r.kind in ("province", "autonomous_region")
            )
        if ok:
            rows.append((t.n, t.reached_at, t.region_id))
    rows.sort(key=lambda x: (-x[0], x[1], x[2]))
    return [(code, n) for n, _at, code in rows]


def record_entries(campaign: Any, organization_id: int, workers: Iterator[int], n: int) -> None:
    """``n`` entry events in one organization, one new worker each (taken from ``workers``)."""
    ParticipationEvent.objects.bulk_create(
        ParticipationEvent(
            campaign=campaign,
            worker_id=next(workers),
            organization_id=organization_id,
            kind="entry",
            key=f"t{organization_id}:{i}",
        )
        for i in range(n)
    )


def member_takes_part(campaign: Any, organization: Any, key: str, *, city: str = "621100") -> None:
    """A new member of ``organization`` takes part (an entry), counted in ``city``'s zone."""
    membership = MembershipFactory.create(organization=organization)
    participation_record(
        campaign=campaign,
        worker=membership.user,
        kind="entry",
        key=key,
        organization=organization,
        zone_city=Region.objects.get(code=city),
    )
