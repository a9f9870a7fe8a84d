from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from saidao.accounts.models import User
from saidao.conftest import Tree
from saidao.orgs.models import Organization
from saidao.quizzes import selectors
from saidao.quizzes.models import Attempt, Contest, ContestResult
from saidao.quizzes.tests.factories import make_contest, member_of

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0)


def _result(
    contest: Contest, org: Organization, score: int, elapsed_s: int, finished_min: int, **kw: Any
) -> User:
    """A counted result placed directly (the ranking reads only results)."""
    worker = member_of(org)
    finished = T0 + dt.timedelta(minutes=finished_min)
    attempt = Attempt.objects.create(
        contest=contest,
        worker=worker,
        organization=org,
        day=finished.date(),
        try_number=1,
        status=Attempt.Status.SUBMITTED,
        started_at=finished - dt.timedelta(seconds=elapsed_s),
        deadline=finished + dt.timedelta(minutes=10),
        finished_at=finished,
        elapsed_ms=elapsed_s * 1000,
        score=score,
    )
    ContestResult.objects.create(
        contest=contest,
        worker=worker,
        organization=org,
        org_path=org.path,
        attempt=attempt,
        score=score,
        elapsed_ms=elapsed_s * 1000,
        finished_at=finished,
        passed=score >= contest.pass_score,
        **kw,
    )
    return worker


def test_ranking_by_score_then_time_then_finish(tree: Tree) -> None:
    """Higher score first; equal scores by shorter time; equal times by earlier finish;
    only exact ties share a rank (competition ranking)."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    slow = _result(contest, tree.anding, 90, 300, 1)
    fast = _result(contest, tree.anding, 90, 200, 5)
    late = _result(contest, tree.tongwei, 90, 200, 9)
    top = _result(contest, tree.courier, 100, 500, 7)
    twin_a = _result(contest, tree.tongwei, 50, 100, 3)
    twin_b = _result(contest, tree.tongwei, 50, 100, 3)
    last = _result(contest, tree.tongwei, 10, 10, 0)
    rows = selectors.contest_leaderboard(contest=contest)
    assert [(r.worker_id, r.rank) for r in rows] == [
        (top.pk, 1),
        (fast.pk, 2),
        (late.pk, 3),
        (slow.pk, 4),
        (min(twin_a.pk, twin_b.pk), 5),
        (max(twin_a.pk, twin_b.pk), 5),
        (last.pk, 7),
    ]
    page = selectors.contest_leaderboard(contest=contest, limit=2, offset=5)
    assert [(r.worker_id, r.rank) for r in page] == [(max(twin_a.pk, twin_b.pk), 5), (last.pk, 7)]
    me = selectors.worker_rank(contest=contest, worker=twin_b)
    assert me is not None and me.rank == 5
    assert selectors.worker_rank(contest=contest, worker=member_of(tree.anding)) is None
    assert rows[0].name.startswith(top.real_name[0]) and "*" in rows[0].name


def test_leaderboard_queries_are_pinned(tree: Tree, django_assert_num_queries: Any) -> None:
    """A page of the leaderboard is two queries however many rows."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    for i in range(8):
        _result(contest, tree.anding, 10 * i, 100, i)
    with django_assert_num_queries(2):
        selectors.contest_leaderboard(contest=contest)


def test_organizations_by_average_among_children(
    tree: Tree, django_assert_num_queries: Any
) -> None:
    """定西's children by the average counted score of their subtrees (安定 includes its
    courier union), in one grouped query plus the children; the organizer's own members
    count for no child."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    _result(contest, tree.anding, 60, 100, 1)
    _result(contest, tree.courier, 100, 100, 2)
    _result(contest, tree.tongwei, 90, 100, 3)
    _result(contest, tree.dingxi, 0, 100, 4)
    with django_assert_num_queries(2):
        rows = selectors.organizations_by_average(contest=contest, parent=tree.dingxi)
    assert [(r.rank, r.organization.pk, r.participants, r.average_score) for r in rows] == [
        (1, tree.tongwei.pk, 1, 90.0),
        (2, tree.anding.pk, 2, 80.0),
    ]
    deeper = selectors.organizations_by_average(contest=contest, parent=tree.anding)
    assert [(r.organization.pk, r.average_score) for r in deeper] == [(tree.courier.pk, 100.0)]


def test_results_by_organization_for_officers(tree: Tree) -> None:
    """Each organization's own participants, passes, average and best, within the reader's
    subtree; an officer elsewhere gets nothing."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, pass_score=60)
    _result(contest, tree.courier, 100, 100, 1)
    _result(contest, tree.courier, 40, 100, 2)
    _result(contest, tree.tongwei, 70, 100, 3)
    rows = selectors.results_by_organization(user=tree.city_officer, contest=contest)
    assert [
        (r.organization.pk, r.participants, r.passed, r.average_score, r.best_score) for r in rows
    ] == [(tree.courier.pk, 2, 1, 70.0, 100), (tree.tongwei.pk, 1, 1, 70.0, 70)]
    only = selectors.results_by_organization(
        user=tree.city_officer, contest=contest, parent=tree.anding
    )
    assert [r.organization.pk for r in only] == [tree.courier.pk]
    from saidao.core.errors import OutsideScope

    with pytest.raises(OutsideScope):
        selectors.results_by_organization(user=tree.other_officer, contest=contest)


def test_officer_reads_are_scoped(tree: Tree) -> None:
    """Questions and contests of 定西 are invisible to 东营's officer."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    assert selectors.questions_for_officer(user=tree.city_officer).count() == 10
    assert not selectors.questions_for_officer(user=tree.other_officer).exists()
    assert list(selectors.contests_for_officer(user=tree.city_officer)) == [contest]
    assert not selectors.contests_for_officer(user=tree.other_officer).exists()
    assert selectors.question_categories(organization=tree.dingxi) == ["工会法"]
