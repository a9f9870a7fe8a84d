from __future__ import annotations

import threading
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from saidao.accounts.models import Membership
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.core.errors import OutsideScope
from saidao.leaderboards import runner
from saidao.leaderboards.aggregator import aggregate_all, aggregate_once
from saidao.leaderboards.models import OrgTally, ParticipationEvent, Watermark, ZoneTally
from saidao.leaderboards.reconcile import reconcile
from saidao.leaderboards.runner import run_forever
from saidao.leaderboards.services import participation_record, participation_void
from saidao.regions.models import Region


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(actor=tree.national_officer, organizer=tree.national)


def _record(
    c: Campaign, m: Membership, key: str, kind: str = "entry", city: str = "621100"
) -> ParticipationEvent:
    return participation_record(
        campaign=c,
        worker=m.user,
        kind=kind,
        key=key,
        organization=m.organization,
        zone_city=Region.objects.get(code=city),
    )


def _subtree(c: Campaign, org_id: int, kind: str = "all") -> int:
    t = OrgTally.objects.filter(campaign=c, organization_id=org_id, kind=kind).first()
    return t.subtree if t else 0


def _zone(c: Campaign, region: str, kind: str = "all") -> int:
    t = ZoneTally.objects.filter(campaign=c, region_id=region, kind=kind).first()
    return t.n if t else 0


def test_a_worker_counts_once_rolled_up_the_tree(campaign: Campaign, tree: Tree) -> None:
    """Two entries by one worker count once, in the courier federation and every ancestor,
    and in 定西市 and 甘肃 zones; nothing elsewhere."""
    _record(campaign, tree.anding_member, "e1")
    _record(campaign, tree.anding_member, "e2")
    assert aggregate_all() == 2
    for org in (tree.courier, tree.anding, tree.dingxi, tree.gansu, tree.national):
        assert _subtree(campaign, org.pk) == 1
    assert _subtree(campaign, tree.dongying.pk) == 0
    own = OrgTally.objects.get(campaign=campaign, organization=tree.courier, kind="all")
    assert own.own == 1
    assert OrgTally.objects.get(campaign=campaign, organization=tree.dingxi, kind="all").own == 0
    assert (_zone(campaign, "621100"), _zone(campaign, "620000")) == (1, 1)


def test_kinds_are_counted_separately_and_together(campaign: Campaign, tree: Tree) -> None:
    """An entry and a quiz attempt by one worker: 1 entry participant, 1 quiz, 1 overall."""
    _record(campaign, tree.anding_member, "e1", kind="entry")
    _record(campaign, tree.anding_member, "q1", kind="quiz")
    aggregate_all()
    assert [_subtree(campaign, tree.national.pk, k) for k in ("entry", "quiz", "all")] == [1, 1, 1]


def test_municipality_zone_is_counted_once(campaign: Campaign, tree: Tree) -> None:
    """北京 is both the province and the city zone: one participant, one count."""
    _record(campaign, tree.anding_member, "e1", city="110000")
    aggregate_all()
    assert _zone(campaign, "110000") == 1


def test_moving_worker_stays_counted_where_they_first_took_part(
    campaign: Campaign, tree: Tree
) -> None:
    """The rule: a worker counts where they were when they first participated. After moving
    to 东营 their later entry changes nothing."""
    _record(campaign, tree.anding_member, "e1")
    aggregate_all()
    Membership.objects.filter(pk=tree.anding_member.pk).update(left_at=tree.anding_member.joined_at)
    moved = Membership.objects.create(
        user=tree.anding_member.user, organization=tree.dongying, source="invite"
    )
    _record(campaign, moved, "e2", city="370500")
    aggregate_all()
    assert _subtree(campaign, tree.courier.pk) == 1
    assert _subtree(campaign, tree.dongying.pk) == 0
    assert _zone(campaign, "370500") == 0


def test_void_appends_a_compensating_event(campaign: Campaign, tree: Tree) -> None:
    """Voiding removes the worker from the counts, deletes nothing, and needs the right officer."""
    event = _record(campaign, tree.anding_member, "e1")
    aggregate_all()
    with pytest.raises(OutsideScope):
        participation_void(actor=tree.other_officer, event=event, reason="刷量")
    participation_void(actor=tree.city_officer, event=event, reason="刷量")
    participation_void(actor=tree.city_officer, event=event, reason="再点一次")
    aggregate_all()
    assert ParticipationEvent.objects.count() == 2
    assert _subtree(campaign, tree.national.pk) == 0
    assert _zone(campaign, "621100") == 0
    assert reconcile().ok


def test_same_event_twice_counts_once(campaign: Campaign, tree: Tree) -> None:
    """Recording the same key twice, and aggregating again, leaves one participant."""
    _record(campaign, tree.anding_member, "e1")
    _record(campaign, tree.anding_member, "e1")
    aggregate_all()
    aggregate_all()
    assert _subtree(campaign, tree.national.pk) == 1


def test_an_event_committed_late_is_not_skipped(campaign: Campaign, tree: Tree) -> None:
    """An id below the watermark that appears later (a slower writer) is still counted once."""
    a, b = tree.anding_member, tree.dongying_member
    late = ParticipationEvent(
        campaign=campaign, worker=b.user, organization=b.organization, kind="entry", key="late"
    )
    first = _record(campaign, a, "early")
    ParticipationEvent.objects.filter(pk=first.pk).update(id=first.pk + 1)  # leave a hole
    aggregate_all()
    wm = Watermark.objects.get()
    assert str(first.pk) in wm.gaps
    late.pk = first.pk
    late.save(force_insert=True)
    aggregate_all()
    assert _subtree(campaign, tree.national.pk) == 2
    assert str(first.pk) not in Watermark.objects.get().gaps  # found, no longer missing
    assert reconcile().ok


def test_batches_fold_many_events_with_one_write_per_row(campaign: Campaign, tree: Tree) -> None:
    """A batch of events touching the same organizations writes each tally row once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        _record(campaign, tree.anding_member, f"e{i}")
    with CaptureQueriesContext(connection) as q:
        flush = aggregate_once(batch=1000)
    assert flush.events == 30
    inserts = [x for x in q.captured_queries if "INSERT INTO" in x["sql"] and "tally" in x["sql"]]
    # executemany of the org rows (one per org) and of the zone rows
    assert len(inserts) <= 2 * 6


def test_reconcile_reports_and_repairs_a_broken_counter(campaign: Campaign, tree: Tree) -> None:
    """A tampered counter is reported with what it should be, and --repair rebuilds it."""
    _record(campaign, tree.anding_member, "e1")
    _record(campaign, tree.dongying_member, "e2", city="370500")
    aggregate_all()
    assert reconcile().ok
    OrgTally.objects.filter(organization=tree.dingxi, kind="all").update(subtree=5)
    report = reconcile()
    assert not report.ok
    assert {d.what for d in report.differences} == {"org", "tree"}
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("leaderboard", "reconcile", stdout=out)
    assert "differs: org" in out.getvalue()
    call_command("leaderboard", "reconcile", "--repair", stdout=StringIO())
    assert reconcile().ok
    assert _subtree(campaign, tree.dingxi.pk) == 1


def test_a_fresh_watermark_does_not_chase_old_ids(campaign: Campaign, tree: Tree) -> None:
    """When the log's ids start high (a restored database), a new watermark does not keep
    thousands of ids below them as gaps; it looks back only a little."""
    event = _record(campaign, tree.anding_member, "e1")
    ParticipationEvent.objects.filter(pk=event.pk).update(id=event.pk + 50_000)
    aggregate_all()
    assert len(Watermark.objects.get().gaps) <= 100
    assert _subtree(campaign, tree.national.pk) == 1


def _run_in_thread(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, kwargs={"stop": stop}, daemon=True)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_woken_aggregator_counts_before_its_next_look(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the idle look at 60 s, an event is still counted within a few seconds (a loaded
    machine's) of the wake its commit sends (participation_record wakes the embedded thread)."""
    monkeypatch.setattr(runner, "IDLE_SLEEP_S", 60.0)
    campaign = make_campaign(actor=tree.national_officer, organizer=tree.national)
    stop = threading.Event()
    thread = _run_in_thread(stop)
    try:
        time.sleep(0.3)  # drained: the thread now waits for a wake
        _record(campaign, tree.anding_member, "woken")
        runner.wake()
        deadline = time.monotonic() + 10.0
        while _subtree(campaign, tree.national.pk) == 0:
            assert time.monotonic() < deadline, "not counted soon after the wake"
            time.sleep(0.02)
    finally:
        stop.set()
        runner.wake()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_idle_passes_do_not_retake_an_empty_member_snapshot(
    regions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no member anywhere a campaign's snapshot has no rows; the idle loop used to retake
    it (and rebuild its ranks) on every pass. It is not taken while there are no members."""
    from saidao.bench.leaderboard import EventMaker, build_tree, make_workers
    from saidao.bench.leaderboard import make_campaign as bench_campaign
    from saidao.leaderboards import services

    taken: list[int] = []
    monkeypatch.setattr(services, "member_snapshot_take", lambda **kw: taken.append(1))
    monkeypatch.setattr(runner, "IDLE_SLEEP_S", 0.06)
    org_tree = build_tree(20, depth=3)
    campaign = bench_campaign(org_tree.by_depth[0][0])
    maker = EventMaker(campaign.pk, make_workers(10), org_tree.leaves)
    ParticipationEvent.objects.bulk_create(maker.batch(30))
    stop = threading.Event()
    thread = _run_in_thread(stop)
    try:
        deadline = time.monotonic() + 30
        while not OrgTally.objects.filter(campaign=campaign).exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.6)  # several idle passes
    finally:
        stop.set()
        thread.join(timeout=10)
    assert taken == []


def test_an_idle_pass_reads_without_taking_the_writers_lock(
    campaign: Campaign, tree: Tree, django_assert_num_queries: Any
) -> None:
    """With nothing past the watermark, a pass is two plain reads and no transaction (on
    SQLite a transaction here takes the one writer's lock, which web requests then wait for);
    an event recorded afterwards is folded by the next pass."""
    _record(campaign, tree.anding_member, "e1")
    assert aggregate_all() == 1
    # Settled: no late-committing ids left to wait for (on PostgreSQL the sequence may have
    # skipped ids, which the watermark keeps as gaps and the full pass looks at again).
    Watermark.objects.update(gaps={})
    with django_assert_num_queries(2) as ctx:
        assert aggregate_once().events == 0
    sql = " ".join(q["sql"].upper() for q in ctx.captured_queries)
    assert "UPDATE" not in sql and "FOR UPDATE" not in sql and "INSERT" not in sql
    _record(campaign, tree.anding_member, "q1", kind="quiz")
    assert aggregate_once().events == 1
    assert _subtree(campaign, tree.national.pk, "quiz") == 1
