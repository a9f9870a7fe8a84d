from __future__ import annotations

import threading
from typing import Any

import pytest
from django.utils import translation

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
    assert set(Question.objects.values_list("times_used", flat=True)) == {1}


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
def test_db_thread_keeps_the_callers_language(settings: Any, tree: Tree) -> None:
    """Embedded, the work runs on the contest's database thread with the caller's language."""
    settings.SAIDAO_TASK_RUNNER = "thread"
    seen: dict[str, Any] = {}

    def work() -> int:
        seen["thread"] = threading.current_thread().name
        seen["language"] = translation.get_language()
        return Question.objects.count()

    with translation.override("en"):
        assert caches.on_db_thread(work) == 0
    from django.db import connection

    if connection.vendor == "sqlite":
        assert seen["thread"].startswith("saidao-quiz-db")
    else:
        assert seen["thread"] == threading.current_thread().name
    assert seen["language"] == "en"
