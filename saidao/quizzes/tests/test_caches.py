from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connection
from django.db.models import F

from saidao.conftest import Tree
from saidao.quizzes import caches, services
from saidao.quizzes.models import Question

from .factories import make_bank, make_contest, member_of

pytestmark = pytest.mark.django_db


def test_an_edit_never_changes_a_cached_version(tree: Tree) -> None:
    """Versions are cached by id; editing a question (drawn or not) gives a new version id, so
    the cache can never serve an old text for the new version."""
    (q,) = make_bank(
        actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0
    )
    assert q.current_version is not None
    old_id = q.current_version.pk
    assert caches.versions([old_id])[old_id].stem == q.stem
    services.question_update(
        actor=tree.city_officer,
        question=q,
        kind=q.kind,
        stem="新的题干",
        options=q.options,
        answer=q.answer,
    )
    q.refresh_from_db()
    assert q.current_version is not None and q.current_version.pk != old_id
    assert caches.versions([q.current_version.pk])[q.current_version.pk].stem == "新的题干"


def test_pool_counts_draws_between_reads(tree: Tree) -> None:
    """Within the pool's second, draws are counted locally: with 10 questions and papers of 5,
    two starts draw 10 different questions."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    drawn: list[int] = []
    for _i in range(2):
        attempt = services.attempt_start(contest=contest, worker=member_of(tree.anding))
        drawn += list(attempt.items.values_list("version__question_id", flat=True))
    assert len(set(drawn)) == 10
    services.question_usage_write()
    assert set(Question.objects.values_list("times_used", flat=True)) == {1}


def test_draw_counts_reach_the_database_with_a_later_start(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start does not write its own draw counts: a start a second or more after the last
    write carries every count gathered since, in its own transaction; the pool adds the
    pending counts to what it reads, so the draw stays least-used-first meanwhile."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    first = services.attempt_start(contest=contest, worker=member_of(tree.anding))
    drawn = set(first.items.values_list("version__question_id", flat=True))
    assert set(Question.objects.values_list("times_used", flat=True)) == {0}
    caches.pools_clear()  # a re-read from the database still sees the pending draws
    entries = caches.pool(contest.bank_id, "", "")
    assert {e.question_id for e in entries if e.used == 1} == drawn
    monkeypatch.setattr(caches, "USAGE_WRITE_EVERY_S", 0.0)
    services.attempt_start(contest=contest, worker=member_of(tree.anding))
    counts = dict(Question.objects.values_list("pk", "times_used"))
    assert {pk for pk, n in counts.items() if n == 1} == drawn  # the first start's, not its own
    assert services.question_usage_write() == 5  # the second start's, written by the sweeper
    assert set(Question.objects.values_list("times_used", flat=True)) == {1}


def test_draw_counts_whose_write_fails_stay_pending(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the statement carrying the counts fails, nothing is lost: they are written later."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    services.attempt_start(contest=contest, worker=member_of(tree.anding))
    write = services._usage_write

    def refused(cursor: object, counts: dict[int, int]) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "_usage_write", refused)
    with pytest.raises(DatabaseError):
        services.question_usage_write()
    monkeypatch.setattr(services, "_usage_write", write)
    assert services.question_usage_write() == 5
    assert sorted(Question.objects.values_list("times_used", flat=True)) == [0] * 5 + [1] * 5


def test_contest_cache_is_dropped_by_a_settings_change(tree: Tree) -> None:
    """contest_update forgets the cached contest at once."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, tries_per_day=3)
    cached = caches.contest(contest.pk)
    assert cached is not None and cached.tries_per_day == 3
    services.contest_update(actor=tree.city_officer, contest=contest, tries_per_day=1)
    again = caches.contest(contest.pk)
    assert again is not None and again.tries_per_day == 1


def test_write_gate_is_reentrant() -> None:
    """A contest write inside another (expiring an old attempt while starting) does not block."""
    with caches.write_gate(), caches.write_gate():
        pass


@pytest.mark.django_db(transaction=True)
def test_writes_queued_together_share_a_transaction_and_fail_alone(tree: Tree) -> None:
    """Embedded (SQLite), writes queued behind the writer's lock run in one transaction on one
    thread, each in its own savepoint: the one that fails is rolled back alone and raises in
    its own thread. On PostgreSQL each runs in its own transaction; the outcome is the same."""
    (q,) = make_bank(
        actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0
    )
    n = 6
    ran_on: list[str] = []
    outcome: dict[int, object] = {}

    def work(slot: int) -> int:
        ran_on.append(threading.current_thread().name)
        Question.objects.filter(pk=q.pk).update(times_used=F("times_used") + 1)
        if slot == 0:
            raise ValueError("refused")
        return slot

    def client(slot: int) -> None:
        try:
            outcome[slot] = caches.write_batched(lambda: work(slot))
        except ValueError as exc:
            outcome[slot] = exc
        finally:
            connection.close()

    sqlite = connection.vendor == "sqlite"
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    with caches.write_gate():  # hold the writer's lock until every write is queued
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while sqlite and len(caches._pending) < n and time.monotonic() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(timeout=10)
    assert isinstance(outcome[0], ValueError)
    assert {outcome[i] for i in range(1, n)} == set(range(1, n))
    q.refresh_from_db()
    assert q.times_used == n - 1
    if sqlite:
        assert len(set(ran_on)) == 1  # one thread ran them all
