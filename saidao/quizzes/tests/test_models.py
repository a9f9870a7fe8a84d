from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from saidao.conftest import Tree
from saidao.quizzes.models import Attempt, Question, QuestionVersion
from saidao.quizzes.tests.factories import make_bank, make_contest, member_of

pytestmark = pytest.mark.django_db


def _attempt(contest: object, worker: object, org: object, **kw: object) -> Attempt:
    now = timezone.now()
    fields: dict[str, object] = {
        "contest": contest,
        "worker": worker,
        "organization": org,
        "day": now.date(),
        "try_number": 1,
        "started_at": now,
        "deadline": now + dt.timedelta(minutes=10),
    }
    return Attempt.objects.create(**(fields | kw))


def test_one_attempt_in_progress_and_one_row_per_try(tree: Tree) -> None:
    """The database refuses a second attempt in progress and a repeated try number."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    _attempt(contest, worker, tree.anding)
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(contest, worker, tree.anding, try_number=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(
            contest,
            worker,
            tree.anding,
            status=Attempt.Status.SUBMITTED,
            finished_at=timezone.now(),
        )


def test_a_finished_attempt_has_a_finish_time(tree: Tree) -> None:
    """Submitted without finished_at is refused by a check constraint."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    with pytest.raises(IntegrityError), transaction.atomic():
        _attempt(contest, member_of(tree.anding), tree.anding, status=Attempt.Status.SUBMITTED)


def test_bank_refuses_duplicate_fingerprints_but_not_archived_ones(tree: Tree) -> None:
    """Two live questions with one fingerprint in a bank are refused; an archived one is not."""
    (q,) = make_bank(
        actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(
            organization=tree.dingxi,
            kind="single",
            stem=q.stem,
            answer="A",
            fingerprint=q.fingerprint,
        )
    Question.objects.filter(pk=q.pk).update(archived_at=timezone.now())
    Question.objects.create(
        organization=tree.dingxi, kind="single", stem=q.stem, answer="A", fingerprint=q.fingerprint
    )


def test_version_numbers_are_unique_per_question(tree: Tree) -> None:
    """A question cannot have two versions with the same number."""
    (q,) = make_bank(
        actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionVersion.objects.create(question=q, number=1, kind="single", stem="x", answer="A")


def test_contest_max_score_sums_its_rules(tree: Tree) -> None:
    """max_score is count × points over the rules; str() is the title."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    assert contest.max_score == 100 and str(contest) == "工会知识竞赛"


def test_admin_lists_only_the_officers_subtree(client: object, tree: Tree) -> None:
    """定西's officer sees 定西's questions in the admin; 东营's officer sees none."""
    from django.test import Client

    assert isinstance(client, Client)
    make_bank(actor=tree.city_officer, organization=tree.dingxi, singles=2, multiples=0, judges=0)
    client.force_login(tree.city_officer)
    resp = client.get("/admin/quizzes/question/")
    assert resp.status_code == 200 and len(resp.context["cl"].result_list) == 2
    q = Question.objects.first()
    assert q is not None
    assert client.get(f"/admin/quizzes/question/{q.pk}/change/").status_code == 200
    client.force_login(tree.other_officer)
    resp = client.get("/admin/quizzes/question/")
    assert resp.status_code == 200 and len(resp.context["cl"].result_list) == 0
    assert client.get(f"/admin/quizzes/question/{q.pk}/change/").status_code in (302, 403, 404)
    assert client.get("/admin/quizzes/contest/").status_code == 200
