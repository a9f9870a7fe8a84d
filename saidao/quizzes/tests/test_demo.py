"""The demo's question bank and its contest open today in the live 云讲述 campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from saidao.accounts.models import User
from saidao.campaigns.selectors import campaign_switches
from saidao.demo.seed import DEMO_LOGINS, demo_seed
from saidao.demo.yun import YUN_LIVE_SLUG
from saidao.leaderboards.models import ParticipationEvent
from saidao.quizzes import selectors
from saidao.quizzes.demo_questions import CATEGORIES, QUESTIONS, TF
from saidao.quizzes.importing import KIND_NAMES
from saidao.quizzes.models import Attempt, Contest, ContestResult, Question, QuestionKind

MEMBERS = 120


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded(regions: None) -> Contest:
    demo_seed(members=MEMBERS)
    return Contest.objects.select_related("campaign__organizer").get(campaign__slug=YUN_LIVE_SLUG)


def test_demo_questions_are_well_formed() -> None:
    """At least 60 questions over every category and all three kinds; each answer names
    existing options (one for single choice and true/false, two or more for multiple choice),
    true/false questions offer 正确/错误, stems are unique, and each has an explanation and a
    source."""
    assert len(QUESTIONS) >= 60
    assert {q.category for q in QUESTIONS} == set(CATEGORIES)
    assert {KIND_NAMES[q.kind] for q in QUESTIONS} == set(QuestionKind.values)
    assert len({q.stem for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        letters = "ABCDEF"[: len(q.options)]
        assert q.answer and all(ch in letters for ch in q.answer), q.stem
        assert q.answer == "".join(sorted(set(q.answer))), q.stem
        if q.kind == "多选":
            assert len(q.answer) >= 2, q.stem
        else:
            assert len(q.answer) == 1, q.stem
        if q.kind == "判断":
            assert q.options == TF
        else:
            assert 2 <= len(q.options) <= 6, q.stem
        assert q.explanation and q.source and q.difficulty in {"易", "中", "难"}


@pytest.mark.django_db
def test_demo_bank_belongs_to_the_national_union(seeded: Contest) -> None:
    """Every demo question is in 中华全国总工会's bank with a first version; the contest of the
    live campaign draws from it."""
    national = seeded.campaign.organizer
    assert national.name == "中华全国总工会"
    assert seeded.bank_id == national.pk
    bank = Question.objects.filter(organization=national)
    assert bank.count() == len(QUESTIONS)
    assert not bank.filter(current_version__isnull=True).exists()


@pytest.mark.django_db
def test_demo_contest_is_open_today_and_has_a_leaderboard(seeded: Contest) -> None:
    """The quiz phase is open now; 20 questions of 5 points; finished attempts by demo members
    (none by the demo log-ins) fill the leaderboard, each recorded as a quiz participation."""
    assert campaign_switches(campaign=seeded.campaign).quiz_open
    assert seeded.max_score == 100
    assert sum(r.count for r in seeded.rules.all()) == 20
    finished = Attempt.objects.filter(contest=seeded).exclude(status=Attempt.Status.IN_PROGRESS)
    assert finished.count() >= 8
    assert not Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).exists()
    assert not finished.filter(worker__phone__in=[d.phone for d in DEMO_LOGINS]).exists()
    for a in finished:
        assert a.elapsed_ms is not None and 60_000 <= a.elapsed_ms <= 600_000
        assert a.finished_at is not None and a.started_at < a.finished_at
    rows = selectors.contest_leaderboard(contest=seeded)
    assert len(rows) == ContestResult.objects.filter(contest=seeded).count() >= 8
    assert rows[0].rank == 1
    assert (
        ParticipationEvent.objects.filter(
            campaign=seeded.campaign, kind=ParticipationEvent.Kind.QUIZ
        ).count()
        == finished.count()
    )


@pytest.mark.django_db
def test_demo_worker_can_start_the_contest_from_the_home_page(seeded: Contest) -> None:
    """The home page lists the open contest; the demo worker opens it and starts a paper."""
    client = Client()
    client.force_login(User.objects.get(phone=DEMO_LOGINS[0].phone))
    home = client.get("/")
    url = reverse("quizzes:contest", args=[seeded.pk])
    assert url in home.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "开始答题" in page.content.decode()
    resp = client.post(reverse("quizzes:start", args=[seeded.pk]))
    attempt = Attempt.objects.get(contest=seeded, worker__phone=DEMO_LOGINS[0].phone)
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "quizzes:attempt", args=[attempt.pk]
    )
