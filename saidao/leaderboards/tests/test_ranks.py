"""The rank index (in memory, and Redis against a real redis-server) against a plain recount."""

from __future__ import annotations

import random
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import F

from saidao.bench.leaderboard import EventMaker, build_tree, make_campaign, make_workers
from saidao.core.tests.services import redis_server
from saidao.leaderboards import selectors
from saidao.leaderboards.aggregator import aggregate_once
from saidao.leaderboards.models import TALLY_KINDS, MemberSnapshot, OrgTally, ParticipationEvent
from saidao.leaderboards.ranks import (
    BYS,
    MemoryRankIndex,
    RankIndex,
    RedisRankIndex,
    Scope,
    from_us,
)
from saidao.leaderboards.tests.recount import expected_ranking, record_entries
from saidao.orgs.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["memory", "redis"])
def index(request: pytest.FixtureRequest, regions: None) -> Iterator[RankIndex]:
    if request.param == "memory":
        yield MemoryRankIndex()
        return
    with redis_server() as url:
        yield RedisRankIndex(url)


def _scopes() -> list[tuple[Scope, dict[str, Any]]]:
    """Every level and every parent's children, with the recount's arguments for the same."""
    out: list[tuple[Scope, dict[str, Any]]] = []
    for level in Organization.objects.values_list("level", flat=True).distinct():
        out.append((Scope.level(level), {"level": level}))
    for parent in Organization.objects.filter(children__isnull=False).distinct():
        out.append((Scope.children(parent.pk), {"parent_id": parent.pk, "any_parent": False}))
    return out


def _assert_agrees(index: RankIndex, campaign: Any) -> int:
    """top, rank and around of every ranking equal a plain recount from the tallies; returns
    rows seen."""
    seen = 0
    for scope, where in _scopes():
        for kind in TALLY_KINDS:
            for by in BYS:
                expected = expected_ranking(campaign, by=by, kind=kind, **where)
                want = [(r.rank, r.organization_id, r.participants) for r in expected]
                got = index.top(campaign.pk, kind, scope, by, limit=len(expected) + 5)
                assert [(r.rank, r.organization_id, r.participants) for r in got] == want
                assert [from_us(r.reached_us) for r in got] == [r.reached_at for r in expected]
                assert index.size(campaign.pk, kind, scope, by) == len(expected)
                for i, row in enumerate(expected):
                    assert index.rank(campaign.pk, kind, scope, row.organization_id, by) == (
                        row.rank,
                        len(expected),
                    )
                    window = index.around(campaign.pk, kind, scope, row.organization_id, by, 2)
                    assert [(r.rank, r.organization_id) for r in window] == [
                        (r.rank, r.organization_id) for r in expected[max(0, i - 2) : i + 3]
                    ]
                seen += len(expected)
    return seen


def _world(seed: int, orgs: int = 40, workers: int = 120) -> tuple[Any, EventMaker]:
    tree = build_tree(orgs, depth=4, seed=seed)
    campaign = make_campaign(tree.by_depth[0][0])
    rng = random.Random(seed)
    MemberSnapshot.objects.bulk_create(
        MemberSnapshot(
            campaign=campaign, organization_id=o, own=0, subtree=rng.randrange(0, 40), taken_at=t
        )
        for o in tree.ids
        for t in [campaign.created_at]
    )
    # few workers per organization, so equal counts (ties) are common
    return campaign, EventMaker(campaign.pk, make_workers(workers), tree.ids[1:], seed=seed)


@pytest.mark.parametrize("seed", [1, 2])
def test_index_agrees_with_a_recount_after_incremental_applies(
    index: RankIndex, seed: int, settings: Any
) -> None:
    """Random events (repeats, voids) in batches: after each batch is applied to the index from
    its flush alone, every ranking (each level, each parent's children; each kind; by count and
    by rate) lists the same organizations with the same competition ranks and times reached as
    a recount from the tables, and
    rank() and around() agree for every organization."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 10
    campaign, maker = _world(seed)
    rng = random.Random(seed)
    index.rebuild(campaign.pk)  # loaded while empty: everything after comes from flushes
    seen = 0
    for _batch in range(3):
        saved = ParticipationEvent.objects.bulk_create(maker.batch(rng.randrange(20, 80)))
        ParticipationEvent.objects.bulk_create(maker.voids(rng.sample(saved, 3)))
        flush = aggregate_once(batch=1000)
        assert flush.events > 0
        index.apply(flush)
        seen += _assert_agrees(index, campaign)
    assert seen > 0


def test_competition_ranking_with_ties_ordered_by_time_reached(index: RankIndex) -> None:
    """Children of one parent with 3, 3, 5 and 1 participants, the first 3 reached in an earlier
    batch than the second: ranks are 1, 2, 2, 4, the earlier of the tied pair listed first; the
    rank of either tied organization is 2 of 4, and a window shows the same ranks."""
    tree = build_tree(6, depth=2)
    root, children = tree.by_depth[0][0], tree.by_depth[1]
    campaign = make_campaign(root)
    index.rebuild(campaign.pk)
    wanted = dict(zip(children[:4], [3, 3, 5, 1], strict=True))
    workers = iter(make_workers(sum(wanted.values())))
    for org, n in wanted.items():  # one batch each, so each has its own time reached
        record_entries(campaign, org, workers, n)
        index.apply(aggregate_once())
    scope = Scope.children(root)
    order = sorted(wanted, key=lambda o: (-wanted[o], children.index(o)))
    expected_ranks = [1 + sum(1 for v in wanted.values() if v > wanted[o]) for o in order]
    rows = index.top(campaign.pk, "all", scope, "count", limit=10)
    assert [r.organization_id for r in rows] == order
    assert [r.rank for r in rows] == expected_ranks == [1, 2, 2, 4]
    assert [r.participants for r in rows] == [wanted[o] for o in order]
    for org in children[:2]:
        assert index.rank(campaign.pk, "all", scope, org) == (2, 4)
    assert [r.rank for r in index.around(campaign.pk, "all", scope, children[0], size=1)] == [
        1,
        2,
        2,
    ]
    assert index.rank(campaign.pk, "all", scope, children[4]) is None  # no participant yet


def test_redis_flushed_ranks_come_back_from_the_database(regions: None, settings: Any) -> None:
    """After FLUSHALL, the first read of a campaign rebuilds it from the tallies (PostgreSQL or
    SQLite), and so does an explicit rebuild(): the answers equal those before the flush and
    a recount's."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 10
    campaign, maker = _world(7)
    ParticipationEvent.objects.bulk_create(maker.batch(150))
    while aggregate_once().events:
        pass
    with redis_server() as url:
        index = RedisRankIndex(url)
        assert not index.redis.exists(f"lb:{campaign.pk}:ready")
        scope = Scope.level(Organization.Level.PROVINCIAL)
        before = index.top(campaign.pk, "all", scope, "count")  # empty Redis: rebuilt on read
        assert before and index.redis.exists(f"lb:{campaign.pk}:ready")
        index.redis.flushall()
        assert index.redis.dbsize() == 0
        assert index.top(campaign.pk, "all", scope, "count") == before
        assert _assert_agrees(index, campaign) > 0
        index.redis.flushall()
        index.rebuild(None)
        assert index.redis.exists(f"lb:{campaign.pk}:ready")
        assert index.top(campaign.pk, "all", scope, "count") == before
        assert _assert_agrees(index, campaign) > 0


def test_memory_index_loads_lazily_and_ignores_flushes_it_already_read(regions: None) -> None:
    """A flush committed before the index first loaded a campaign is in what it read, so
    applying it again changes nothing; a later flush is applied."""
    campaign, maker = _world(4)
    index = MemoryRankIndex()
    ParticipationEvent.objects.bulk_create(maker.batch(60))
    early = aggregate_once()
    scope = Scope.level(Organization.Level.PROVINCIAL)
    before = index.top(campaign.pk, "all", scope)  # loads the campaign, early batch included
    index.apply(early)
    assert index.top(campaign.pk, "all", scope) == before
    ParticipationEvent.objects.bulk_create(maker.batch(60))
    index.apply(aggregate_once())
    assert _assert_agrees(index, campaign) > 0


def test_rebuild_ranks_command_reloads_a_flushed_redis(regions: None, settings: Any) -> None:
    """`saidao leaderboard rebuild-ranks` reloads every campaign into a flushed Redis (and one
    with --campaign), with the same answers as before; without Redis it bumps the epoch, so an
    in-memory index (the web process's) already loaded answers a tally written behind its back
    on its next read."""
    campaign, maker = _world(8)
    ParticipationEvent.objects.bulk_create(maker.batch(100))
    while aggregate_once().events:
        pass
    settings.REDIS_URL = ""
    level = Organization.Level.PROVINCIAL
    first = selectors.top(campaign=campaign, level=level)[0]  # the process's index, loaded
    OrgTally.objects.filter(
        campaign=campaign, organization_id=first.organization_id, kind="all"
    ).update(subtree=F("subtree") + 1000)
    assert selectors.top(campaign=campaign, level=level)[0].participants == first.participants
    out = StringIO()
    call_command("leaderboard", "rebuild-ranks", stdout=out)
    assert "no REDIS_URL" in out.getvalue()
    assert selectors.top(campaign=campaign, level=level)[0].participants == (
        first.participants + 1000
    )
    with redis_server() as url:
        settings.REDIS_URL = url
        index = RedisRankIndex(url)
        scope = Scope.level(Organization.Level.PROVINCIAL)
        before = index.top(campaign.pk, "all", scope, "count")
        for extra in ([], ["--campaign", str(campaign.pk)]):
            index.redis.flushall()
            out = StringIO()
            call_command("leaderboard", "rebuild-ranks", *extra, stdout=out)
            assert "reloaded into Redis" in out.getvalue()
            assert index.redis.exists(f"lb:{campaign.pk}:ready")
            assert index.top(campaign.pk, "all", scope, "count") == before
