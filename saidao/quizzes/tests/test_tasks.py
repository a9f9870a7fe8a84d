from __future__ import annotations

from typing import Any

import pytest

from saidao.conftest import Tree
from saidao.core import tasks
from saidao.leaderboards.models import ParticipationEvent
from saidao.quizzes import selectors, services
from saidao.quizzes.models import Attempt, ContestResult

from .conftest import Clock
from .factories import make_contest, member_of

pytestmark = pytest.mark.django_db


def test_task_is_registered() -> None:
    """The expiry task is in the registry, for both runners."""
    assert "quizzes.attempts_expire" in tasks.REGISTRY


def test_expired_attempts_are_handed_in_with_what_was_saved(
    tree: Tree, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    """After deadline plus grace the task hands the attempt in (timed out, at the deadline,
    graded on the answers saved), records participation, and leaves running ones alone."""
    contest = make_contest(
        actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=60, grace_s=10
    )
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    item = attempt.items.select_related("version").get(position=1)
    services.attempt_answer(
        attempt=attempt,
        worker=worker,
        position=1,
        choice=services.stored_to_displayed(item, item.version.answer),
        seq=1,
    )
    clock.advance(seconds=30)
    running = services.attempt_start(contest=contest, worker=member_of(tree.anding))
    clock.advance(seconds=45)  # the first is past 60 + 10 s, the second at 45 s
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue("quizzes.attempts_expire")
    assert tasks.run_pending() == 1
    attempt.refresh_from_db()
    running.refresh_from_db()
    assert attempt.status == Attempt.Status.TIMED_OUT
    assert attempt.score == 20 and attempt.elapsed_ms == 60_000
    assert attempt.finished_at == attempt.deadline
    assert running.status == Attempt.Status.IN_PROGRESS
    assert ContestResult.objects.get(worker=worker).score == 20
    assert ParticipationEvent.objects.filter(key=f"quiz-attempt:{attempt.pk}").exists()
    assert services.attempts_expire() == 0  # nothing left to do: idempotent


def test_a_timed_out_attempt_is_closed_when_its_worker_comes_back(tree: Tree, clock: Clock) -> None:
    """Without the sweep, coming back after the time ran out closes the old attempt and (a
    try being left) starts a new one."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=60)
    worker = member_of(tree.anding)
    old = services.attempt_start(contest=contest, worker=worker)
    clock.advance(seconds=300)
    assert selectors.attempt_current(contest=contest, worker=worker) is None
    new = services.attempt_start(contest=contest, worker=worker)
    old.refresh_from_db()
    assert new.pk != old.pk and old.status == Attempt.Status.TIMED_OUT
    assert new.try_number == 2
