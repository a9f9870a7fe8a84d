"""Recount every tally from the event log and compare it with what the aggregator wrote."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from saidao.core import clock
from saidao.orgs.models import Organization

from .aggregator import (
    WATERMARK,
    _insert_participants,
    _upsert_orgs,
    _upsert_zones,
    fold,
    read_events,
    roll_up,
)
from .models import OrgTally, Participant, Watermark, ZoneTally
from .ranks import ranks_invalidate


@dataclass
class Difference:
    what: str  # "org", "zone" or "tree"
    key: tuple[object, ...]
    stored: tuple[int, ...]
    expected: tuple[int, ...]


@dataclass
class Report:
    events: int = 0
    differences: list[Difference] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return not self.differences


def _expected(
    up_to: int,
) -> tuple[dict[tuple[int, int, str], tuple[int, int]], dict[tuple[int, str, str], int], int]:
    events = read_events(Q(pk__lte=up_to))
    folded = fold(events, {})
    orgs = {k: v for k, v in roll_up(folded.org_delta).items() if v != (0, 0)}
    zones = {k: n for k, n in folded.zone_delta.items() if n}
    return orgs, zones, len(events)


def reconcile(*, repair: bool = False) -> Report:
    """Every counter that differs from a recount of the events the aggregator has read, and
    every organization whose subtree count is not its own plus its children's. With ``repair``
    the tallies and participants are rebuilt from the recount, in one transaction."""
    report = Report()
    with transaction.atomic():
        wm = Watermark.objects.select_for_update().filter(name=WATERMARK).first()
        up_to = wm.last_id if wm else 0
        orgs, zones, report.events = _expected(up_to)
        stored_orgs = {
            (t.campaign_id, t.organization_id, t.kind): (t.own, t.subtree)
            for t in OrgTally.objects.all()
            if (t.own, t.subtree) != (0, 0)
        }
        stored_zones = {
            (t.campaign_id, t.region_id, t.kind): t.n for t in ZoneTally.objects.all() if t.n
        }
        for key in sorted(set(orgs) | set(stored_orgs)):
            if orgs.get(key, (0, 0)) != stored_orgs.get(key, (0, 0)):
                report.differences.append(
                    Difference("org", key, stored_orgs.get(key, (0, 0)), orgs.get(key, (0, 0)))
                )
        for zkey in sorted(set(zones) | set(stored_zones)):
            if zones.get(zkey, 0) != stored_zones.get(zkey, 0):
                report.differences.append(
                    Difference("zone", zkey, (stored_zones.get(zkey, 0),), (zones.get(zkey, 0),))
                )
        report.differences.extend(_tree_check())
        if repair and report.differences:
            _rebuild(up_to)
            report.repaired = True
    return report


def _tree_check() -> list[Difference]:
    """Each stored subtree count equals its own count plus its children's subtree counts."""
    parents = dict(Organization.objects.values_list("pk", "parent_id"))
    rows = {(t.campaign_id, t.organization_id, t.kind): t for t in OrgTally.objects.all()}
    children_sum: dict[tuple[int, int, str], int] = {}
    for (c, org, kind), t in rows.items():
        parent = parents.get(org)
        if parent is not None:
            children_sum[(c, parent, kind)] = children_sum.get((c, parent, kind), 0) + t.subtree
    out = []
    for key, t in rows.items():
        expected = t.own + children_sum.get(key, 0)
        if t.subtree != expected:
            out.append(Difference("tree", key, (t.subtree,), (expected,)))
    return out


def _rebuild(up_to: int) -> None:
    now = clock.now()
    OrgTally.objects.all().delete()
    ZoneTally.objects.all().delete()
    Participant.objects.all().delete()
    folded = fold(read_events(Q(pk__lte=up_to)), {})
    _insert_participants(folded.new, now)
    _upsert_orgs(roll_up(folded.org_delta), now)
    _upsert_zones(folded.zone_delta, now)
    ranks_invalidate()  # every campaign's tallies were rewritten: every index reloads
