"""The selectors answer from the rank index (in memory, and Redis against a real redis-server):
they agree with a plain recount from the tables for random trees and events, rank ties 1, 2, 2,
4 in the order the counts were reached, rank zones, follow member refreshes and repairs, and a
top-50 read costs a fixed number of queries however big the campaign."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from saidao.accounts.tests.factories import MembershipFactory
from saidao.bench.leaderboard import build_tree, make_campaign, make_workers
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests import factories as campaign_factories
from saidao.conftest import Tree
from saidao.core.tests.services import redis_server
from saidao.leaderboards import selectors
from saidao.leaderboards.models import (
    TALLY_KINDS,
    MemberSnapshot,
    OrgTally,
    ParticipationEvent,
)
from saidao.leaderboards.ranks import MemoryRankIndex, RedisRankIndex, rank_index, reset_rank_index
from saidao.leaderboards.reconcile import reconcile
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.services import member_snapshot_take
from saidao.leaderboards.tests.recount import (
    expected_ranking,
    expected_zones,
    member_takes_part,
    record_entries,
)
from saidao.orgs.models import Organization

pytestmark = pytest.mark.django_db

# (province zone, city zone) pairs: a municipality (its own city zone), a special administrative
# region (no city zone), prefecture cities, a county-level city under its province, none.
ZONE_PAIRS: list[tuple[str | None, str | None]] = [
    ("110000", "110000"),
    ("810000", None),
    ("620000", "621100"),
    ("620000", "620100"),
    ("370000", "370500"),
    ("420000", "429004"),
    (None, None),
]


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, regions: None, settings: Any) -> Iterator[str]:
    """The process's index in memory, or in a throwaway Redis (scaled mode)."""
    if request.param == "memory":
        settings.REDIS_URL = ""
        reset_rank_index()
        yield "memory"
        return
    with redis_server() as url:
        settings.REDIS_URL = url
        reset_rank_index()
        yield "redis"
        reset_rank_index()


def _events(campaign: Campaign, orgs: list[int], workers: list[int], picks: list[Any]) -> None:
    rows = []
    for n, (w, o, z, quiz) in enumerate(picks):
        province, city = ZONE_PAIRS[z % len(ZONE_PAIRS)]
        rows.append(
            ParticipationEvent(
                campaign=campaign,
                worker_id=workers[w % len(workers)],
                organization_id=orgs[o % len(orgs)],
                zone_province_id=province,
                zone_city_id=city,
                kind="quiz" if quiz else "entry",
                key=f"h{campaign.pk}:{random.random()}:{n}",
            )
        )
    ParticipationEvent.objects.bulk_create(rows)


def _assert_selectors_agree(campaign: Campaign) -> None:
    """Every selector against the recount: each level, each parent's children, every
    organization at once; each kind; by count and by rate; ranks, windows, worst-first
    children, zones; and the times reached shown in the order's order."""
    orgs = list(Organization.objects.all())
    parents = [o for o in orgs if any(c.parent_id == o.pk for c in orgs)]
    for kind in TALLY_KINDS:
        for by in ("count", "rate"):
            scopes: list[tuple[dict[str, Any], dict[str, Any]]] = [({}, {})]
            scopes += [({"level": lv}, {"level": lv}) for lv in {o.level for o in orgs}]
            scopes += [({"parent": p}, {"parent_id": p.pk, "any_parent": False}) for p in parents]
            for mine, theirs in scopes:
                want = expected_ranking(campaign, by=by, kind=kind, **theirs)
                got = selectors.ranking(campaign=campaign, by=by, kind=kind, **mine)
                assert [
                    (r.rank, r.organization_id, r.participants, r.members, r.reached_at)
                    for r in got
                ] == [
                    (e.rank, e.organization_id, e.participants, e.members, e.reached_at)
                    for e in want
                ]
                top = selectors.top(campaign=campaign, by=by, kind=kind, limit=3, **mine)
                assert top == got[:3]
            for parent in parents:
                children = selectors.children_by_rate(campaign=campaign, parent=parent, kind=kind)
                want = expected_ranking(
                    campaign, by="rate", kind=kind, parent_id=parent.pk, any_parent=False
                )
                assert [(r.rank, r.organization_id) for r in children] == [
                    (e.rank, e.organization_id) for e in reversed(want)
                ]
        for org in orgs:
            level = expected_ranking(campaign, kind=kind, level=org.level)
            at = next((i for i, e in enumerate(level) if e.organization_id == org.pk), None)
            got_rank = selectors.rank_of(campaign=campaign, organization=org, kind=kind)
            assert got_rank == (None if at is None else (level[at].rank, len(level)))
            siblings = expected_ranking(
                campaign, kind=kind, parent_id=org.parent_id, any_parent=False
            )
            own = next((e for e in siblings if e.organization_id == org.pk), None)
            assert selectors.rank_of(
                campaign=campaign, organization=org, kind=kind, among="siblings"
            ) == (None if own is None else (own.rank, len(siblings)))
            window = selectors.window(campaign=campaign, organization=org, kind=kind, size=2)
            want_window = [] if at is None else level[max(0, at - 2) : at + 3]
            assert [(r.rank, r.organization_id) for r in window] == [
                (e.rank, e.organization_id) for e in want_window
            ]
        provinces = selectors.participants_by_province(campaign=campaign, kind=kind)
        assert [(r["region_id"], r["n"]) for r in provinces] == expected_zones(
            campaign, kind=kind, zone="province"
        )
        cities = selectors.participants_by_city(campaign=campaign, kind=kind)
        assert [(r["region_id"], r["n"]) for r in cities] == expected_zones(
            campaign, kind=kind, zone="city"
        )


event = st.tuples(
    st.integers(0, 40), st.integers(0, 100), st.integers(0, 20), st.booleans()
)  # worker, organization, zone, quiz?


@hsettings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orgs=st.integers(6, 30),
    depth=st.integers(2, 4),
    seed=st.integers(0, 1000),
    floor=st.integers(1, 8),
    first=st.lists(event, min_size=1, max_size=40),
    second=st.lists(event, max_size=40),
    voids=st.integers(0, 3),
)
def test_selectors_agree_with_a_recount(
    backend: str,
    settings: Any,
    orgs: int,
    depth: int,
    seed: int,
    floor: int,
    first: list[Any],
    second: list[Any],
    voids: int,
) -> None:
    """A random tree, random member counts (some below the rate floor) and random events in two
    flushes (the second, with some voids, applied to the loaded index from its deltas): every
    selector answers what a recount from the tables says."""
    settings.SAIDAO_RATE_MIN_MEMBERS = floor
    with transaction.atomic():
        reset_rank_index()
        tree = build_tree(orgs, depth=depth, seed=seed)
        campaign = make_campaign(tree.by_depth[0][0])
        rng = random.Random(seed)
        MemberSnapshot.objects.bulk_create(
            MemberSnapshot(
                campaign=campaign,
                organization_id=o,
                own=0,
                subtree=rng.randrange(0, 12),
                taken_at=campaign.created_at,
            )
            for o in tree.ids
        )
        workers = make_workers(12)
        _events(campaign, tree.ids, workers, first)
        run_once()
        _assert_selectors_agree(campaign)  # loads the index
        _events(campaign, tree.ids, workers, second)
        done = list(ParticipationEvent.objects.filter(campaign=campaign, voids__isnull=True))
        for e in rng.sample(done, min(voids, len(done))):
            ParticipationEvent.objects.get_or_create(
                key=f"void:{e.pk}",
                defaults={
                    "campaign": campaign,
                    "worker_id": e.worker_id,
                    "organization_id": e.organization_id,
                    "zone_province_id": e.zone_province_id,
                    "zone_city_id": e.zone_city_id,
                    "kind": e.kind,
                    "value": -1,
                    "voids": e,
                },
            )
        run_once()  # the listener applies this flush to the loaded index
        _assert_selectors_agree(campaign)
        transaction.set_rollback(True)
    reset_rank_index()


def test_ties_rank_1_2_2_4_in_the_order_reached(backend: str) -> None:
    """Children with 3, 3, 5 and 1 participants, the first 3 reached in an earlier flush than
    the second: ranks 1, 2, 2, 4; the earlier of the tied pair first, and the times shown in
    that order; both tied organizations rank 2 of 4 among siblings and in their level."""
    tree = build_tree(6, depth=2)
    root, children = tree.by_depth[0][0], tree.by_depth[1]
    campaign = make_campaign(root)
    wanted = dict(zip(children[:4], [3, 3, 5, 1], strict=True))
    workers = iter(make_workers(sum(wanted.values())))
    for org, n in wanted.items():  # one flush each, so each has its own time reached
        record_entries(campaign, org, workers, n)
        run_once()
    root_org = Organization.objects.get(pk=root)
    rows = selectors.top(campaign=campaign, parent=root_org)
    assert [(r.rank, r.organization_id, r.participants) for r in rows] == [
        (1, children[2], 5),
        (2, children[0], 3),
        (2, children[1], 3),
        (4, children[3], 1),
    ]
    assert rows[1].reached_at < rows[2].reached_at
    for tied_org in Organization.objects.filter(pk__in=children[:2]):
        assert selectors.rank_of(campaign=campaign, organization=tied_org, among="siblings") == (
            2,
            4,
        )
        assert selectors.rank_of(campaign=campaign, organization=tied_org) == (2, 4)
    tied = Organization.objects.get(pk=children[1])
    assert [r.rank for r in selectors.window(campaign=campaign, organization=tied, size=1)] == [
        2,
        2,
        4,
    ]


def test_zones_by_province_and_city(backend: str, tree: Tree) -> None:
    """Province zones rank provinces, municipalities and special administrative regions; city
    zones rank prefecture cities, county-level cities under a province and municipalities (their
    own city zone), never a province or a special administrative region; most first, ties by the
    time reached."""
    campaign = campaign_factories.make_campaign(
        actor=tree.national_officer, organizer=tree.national
    )
    n = 0
    for city, count in [("621100", 3), ("110000", 2), ("810000", 2), ("370500", 1), ("620100", 1)]:
        for _i in range(count):
            n += 1
            member_takes_part(campaign, tree.courier, f"z{n}", city=city)
        run_once()
    provinces = selectors.participants_by_province(campaign=campaign)
    assert [(r["region_id"], r["region__name"], r["n"]) for r in provinces] == [
        ("620000", "甘肃省", 4),
        ("110000", "北京市", 2),
        ("810000", "香港特别行政区", 2),
        ("370000", "山东省", 1),
    ]
    cities = selectors.participants_by_city(campaign=campaign)
    assert [(r["region_id"], r["n"]) for r in cities] == [
        ("621100", 3),
        ("110000", 2),
        ("370500", 1),
        ("620100", 1),
    ]
    assert [(r["region_id"], r["n"]) for r in cities] == expected_zones(campaign, zone="city")


def test_a_member_refresh_changes_the_rates_read(backend: str, tree: Tree, settings: Any) -> None:
    """通渭县 has 2 participants of 2 members (rate 1.0); two more members join and the
    organizer's officer refreshes the snapshot: the next reads rank it at 0.5, below 安定区,
    in top-by-rate, worst-first children and the window, without waiting for a flush."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    campaign = campaign_factories.make_campaign(
        actor=tree.national_officer, organizer=tree.national
    )
    for org, n, extra in [(tree.tongwei, 2, 0), (tree.courier, 3, 1)]:  # +1: anding_member
        for i in range(n):
            member_takes_part(campaign, org, f"{org.pk}:{i}")
        for _i in range(extra):
            MembershipFactory.create(organization=org)
    run_once()
    rows = selectors.top(campaign=campaign, by="rate", level="county")
    assert [(r.name, r.rate) for r in rows] == [("通渭县总工会", 1.0), ("安定区总工会", 0.6)]
    for _i in range(2):
        MembershipFactory.create(organization=tree.tongwei)
    member_snapshot_take(campaign=campaign, actor=tree.national_officer)
    rows = selectors.top(campaign=campaign, by="rate", level="county")
    assert [(r.name, r.members, r.rate) for r in rows] == [
        ("安定区总工会", 5, 0.6),
        ("通渭县总工会", 4, 0.5),
    ]
    worst = selectors.children_by_rate(campaign=campaign, parent=tree.dingxi)
    assert [r.name for r in worst] == ["通渭县总工会", "安定区总工会"]
    window = selectors.window(campaign=campaign, organization=tree.tongwei, by="rate", size=1)
    assert [(r.rank, r.name) for r in window] == [(1, "安定区总工会"), (2, "通渭县总工会")]


def test_a_refresh_rebuilds_this_process_index_on_commit(
    tree: Tree, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """After the refresh commits, the process's in-memory index already holds the new rates:
    the next read does not reload it."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    settings.REDIS_URL = ""
    campaign = campaign_factories.make_campaign(
        actor=tree.national_officer, organizer=tree.national
    )
    member_takes_part(campaign, tree.tongwei, "t")
    run_once()
    assert selectors.top(campaign=campaign, by="rate", level="county")[0].rate == 1.0
    MembershipFactory.create(organization=tree.tongwei)
    index = rank_index()
    assert isinstance(index, MemoryRankIndex)
    with django_capture_on_commit_callbacks(execute=True):
        member_snapshot_take(campaign=campaign, actor=tree.national_officer)
    held = index._campaigns[campaign.pk]
    assert selectors.top(campaign=campaign, by="rate", level="county")[0].rate == 0.5
    assert index._campaigns[campaign.pk] is held  # not reloaded by the read


def test_a_repair_leaves_the_index_right(backend: str, tree: Tree) -> None:
    """A counter broken before the index loaded it is read broken; `reconcile --repair`
    rewrites the tallies and the next read shows the recount."""
    campaign = campaign_factories.make_campaign(
        actor=tree.national_officer, organizer=tree.national
    )
    for i in range(2):
        member_takes_part(campaign, tree.tongwei, f"r{i}")
    run_once()
    OrgTally.objects.filter(campaign=campaign, organization=tree.tongwei, kind="all").update(
        subtree=F("subtree") + 7
    )
    assert selectors.top(campaign=campaign, level="county")[0].participants == 9
    report = reconcile(repair=True)
    assert report.repaired
    assert selectors.top(campaign=campaign, level="county")[0].participants == 2
    assert selectors.rank_of(campaign=campaign, organization=tree.tongwei) == (1, 1)


def _big_campaign(orgs: int) -> tuple[Campaign, Organization, str]:
    """A campaign where each organization of a synthetic tree has one participant and 20
    members; its root, and the level of its leaves."""
    tree = build_tree(orgs, depth=4, seed=5)
    campaign = make_campaign(tree.by_depth[0][0])
    MemberSnapshot.objects.bulk_create(
        MemberSnapshot(
            campaign=campaign, organization_id=o, own=0, subtree=20, taken_at=campaign.created_at
        )
        for o in tree.ids
    )
    workers = make_workers(orgs)
    ParticipationEvent.objects.bulk_create(
        ParticipationEvent(
            campaign=campaign,
            worker_id=w,
            organization_id=o,
            kind="entry",
            key=f"b{w}",
        )
        for w, o in zip(workers, tree.ids, strict=True)
    )
    run_once()
    root = Organization.objects.get(pk=tree.by_depth[0][0])
    return campaign, root, Organization.objects.get(pk=tree.leaves[0]).level


@pytest.mark.parametrize("orgs", [100, 400])
def test_top_50_costs_the_same_queries_however_big(
    backend: str, settings: Any, orgs: int, django_assert_num_queries: Any
) -> None:
    """top(50) by count and by rate, a rank, a window, worst-first children and the zones each
    cost one query for the campaign's epoch and at most one for the rows' names, for 100 or
    400 organizations (no whole-campaign load)."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    campaign, root, level = _big_campaign(orgs)
    selectors.top(campaign=campaign, level=level)  # the index loads once
    with django_assert_num_queries(2):
        rows = selectors.top(campaign=campaign, level=level, limit=50)
    assert len(rows) == 50
    with django_assert_num_queries(2):
        assert len(selectors.top(campaign=campaign, by="rate", level=level)) == 50
    with django_assert_num_queries(2):
        assert len(selectors.top(campaign=campaign)) == 50  # every level, merged
    with django_assert_num_queries(2):
        selectors.top(campaign=campaign, parent=root)
    with django_assert_num_queries(1):
        assert selectors.rank_of(campaign=campaign, organization=root) == (1, 1)
    with django_assert_num_queries(2):
        assert selectors.window(campaign=campaign, organization=root)
    with django_assert_num_queries(2):
        selectors.children_by_rate(campaign=campaign, parent=root)
    with django_assert_num_queries(1):
        assert selectors.participants_by_province(campaign=campaign) == []


@pytest.mark.parametrize("orgs", [100, 400])
def test_the_top_50_api_costs_the_same_queries_however_big(
    settings: Any, client: Any, django_assert_num_queries: Any, regions: None, orgs: int
) -> None:
    """GET …/leaderboard/top?limit=50 (public, by count) and the big screen's snapshot cost the
    same number of queries for 100 and for 400 organizations: nothing is read per organization
    of the campaign."""
    from saidao.leaderboards import live

    settings.REDIS_URL = ""
    campaign, root, level = _big_campaign(orgs)
    url = f"/api/v1/campaigns/{campaign.pk}/leaderboard/top?level={level}&limit=50"
    assert client.get(url).status_code == 200  # the index loads once
    with django_assert_num_queries(QUERIES_TOP_API):
        r = client.get(url)
    assert r.status_code == 200 and len(r.json()["rows"]) == 50
    with django_assert_num_queries(QUERIES_SCREEN_SNAPSHOT):
        snap = live.snapshot_compute(campaign=campaign, root=root)
    children = Organization.objects.filter(parent=root).count()
    assert len(snap["top_count"]) == len(snap["top_rate"]) == min(children, live.TOP_N)


QUERIES_TOP_API = 7  # the rank epoch read twice: for the ETag and by the index
QUERIES_SCREEN_SNAPSHOT = 10


def test_redis_index_answers_after_a_flushall(regions: None, settings: Any) -> None:
    """Scaled: after Redis loses everything, the selectors' next read rebuilds the campaign
    from the tallies and answers the same."""
    with redis_server() as url:
        settings.REDIS_URL = url
        reset_rank_index()
        campaign, _root, _level = _big_campaign(30)
        before = selectors.ranking(campaign=campaign, level=Organization.Level.GRASSROOTS)
        index = rank_index()
        assert isinstance(index, RedisRankIndex)
        index.redis.flushall()
        assert selectors.ranking(campaign=campaign, level=Organization.Level.GRASSROOTS) == before
        reset_rank_index()
