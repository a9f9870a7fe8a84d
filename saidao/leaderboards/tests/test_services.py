from __future__ import annotations

from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.leaderboards.aggregator import aggregate_all
from saidao.leaderboards.models import ParticipationEvent
from saidao.leaderboards.selectors import participants_by_city, participants_count
from saidao.leaderboards.services import participation_record
from saidao.regions.models import Region


def test_participation_record_is_idempotent_on_its_key(tree: Tree) -> None:
    """Recording the same entry twice appends one event and returns it both times."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    worker = tree.anding_member.user
    dingxi = Region.objects.get(code="621100")
    first = participation_record(
        campaign=c,
        worker=worker,
        kind="entry",
        key="entry:1",
        organization=tree.courier,
        zone_city=dingxi,
    )
    again = participation_record(
        campaign=c,
        worker=worker,
        kind="entry",
        key="entry:1",
        organization=tree.courier,
        zone_city=dingxi,
    )
    assert first.pk == again.pk
    assert ParticipationEvent.objects.count() == 1
    assert first.zone_province_id == "620000"


def test_participants_are_distinct_workers(tree: Tree) -> None:
    """Two entries by one worker and one by another make two participants, per city too."""
    c = make_campaign(actor=tree.national_officer, organizer=tree.national)
    dingxi = Region.objects.get(code="621100")
    dongying = Region.objects.get(code="370500")
    a, b = tree.anding_member.user, tree.dongying_member.user
    rows = [
        ("e1", a, tree.courier, dingxi),
        ("e2", a, tree.courier, dingxi),
        ("e3", b, tree.dongying, dongying),
    ]
    for key, worker, org, city in rows:
        participation_record(
            campaign=c, worker=worker, kind="entry", key=key, organization=org, zone_city=city
        )
    aggregate_all()
    assert participants_count(campaign=c) == 2
    assert participants_count(campaign=c, kind="quiz") == 0
    assert {r["region__name"]: r["n"] for r in participants_by_city(campaign=c)} == {
        "定西市": 1,
        "东营市": 1,
    }
