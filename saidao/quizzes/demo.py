"""The demo's knowledge contest: the national union's question bank (``demo_questions``) and a
contest in the live 云讲述 campaign's quiz phase, open today, with some members' finished
attempts so the leaderboard is not empty.

Everything goes through the services a real officer and real workers use: the bank is added
question by question, the contest is created with its paper rules, and each seeded attempt is
started, answered and handed in, so participation events and certificates are recorded as they
would be. Only the times are then moved back into the last three days (the services stamp
"now"), as the entries' seeding does with its history.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.orgs.models import Organization, Role

from . import services
from .demo_questions import CATEGORIES, QUESTIONS, THEMES
from .importing import KIND_NAMES
from .models import Attempt, Contest, ContestResult, Difficulty, Question

DIFFICULTIES = {"易": Difficulty.EASY, "中": Difficulty.MEDIUM, "难": Difficulty.HARD}
CONTEST_TITLE = "“云讲述”职工知识竞赛（演示）"
CONTEST_DESCRIPTION = (
    "围绕工会法、中国工会章程、职工劳动权益、劳动竞赛与劳模精神、新就业形态劳动者入会、"
    "安全生产和“云讲述”活动主题出题。每次随机 20 道题，每题 5 分，满分 100 分，"
    "60 分及格即可获得电子证书。"
)
QUESTIONS_PER_CATEGORY = {THEMES: 2}  # 3 from each other category: 20 questions, 100 points


def bank_seed(*, actor: Any, organization: Organization) -> list[Question]:
    """The demo questions in ``organization``'s bank."""
    return [
        services.question_create(
            actor=actor,
            organization=organization,
            kind=KIND_NAMES[q.kind],
            stem=q.stem,
            options=list(q.options),
            answer=q.answer,
            category=q.category,
            difficulty=DIFFICULTIES[q.difficulty],
            explanation=q.explanation,
            source=q.source,
        )
        for q in QUESTIONS
    ]


def contest_seed(*, actor: Any, campaign: Campaign) -> Contest:
    """The contest of the campaign's quiz phase, drawing from the organizer's bank."""
    rules = [
        services.RuleSpec(count=QUESTIONS_PER_CATEGORY.get(c, 3), points=5, category=c)
        for c in CATEGORIES
    ]
    return services.contest_create(
        actor=actor,
        campaign=campaign,
        title=CONTEST_TITLE,
        description=CONTEST_DESCRIPTION,
        rules=rules,
        time_limit_s=600,
        grace_s=30,
        tries_per_day=3,
        pass_score=60,
    )


def attempts_seed(
    *, rng: random.Random, contest: Contest, workers: Sequence[Any], days_back: int = 3
) -> list[Attempt]:
    """Each worker takes the contest once: right on most questions (skill varies), handed in
    after one to nine minutes at some moment of the last ``days_back`` days."""
    attempts = []
    now = clock.now()
    for worker in workers:
        attempt = services.attempt_start(contest=contest, worker=worker)
        skill = rng.uniform(0.45, 0.95)
        seq = 0
        for item in attempt.items.select_related("version").order_by("position"):
            if rng.random() < 0.03:
                continue  # left blank
            answer = item.version.answer
            if rng.random() > skill:  # a wrong choice: any other option set
                n = len(item.version.options)
                wrong = [ch for ch in "ABCDEF"[:n] if ch != answer]
                answer = rng.choice(wrong) if wrong else answer
            seq += 1
            services.attempt_answer(
                attempt=attempt,
                worker=worker,
                position=item.position,
                choice=services.stored_to_displayed(item, answer),
                seq=seq,
            )
        attempts.append(services.attempt_submit(attempt=attempt, worker=worker, seq=seq))
    services.question_usage_write()  # this process ends before a later start would carry them
    _backdate(rng=rng, contest=contest, attempts=attempts, now=now, days_back=days_back)
    return attempts


def _backdate(
    *,
    rng: random.Random,
    contest: Contest,
    attempts: list[Attempt],
    now: dt.datetime,
    days_back: int,
) -> None:
    for a in attempts:
        elapsed_s = rng.uniform(60, min(540, contest.time_limit_s - 5))
        started = now - dt.timedelta(seconds=rng.uniform(1800, days_back * 86400 - 600))
        a.started_at = started
        a.deadline = started + dt.timedelta(seconds=contest.time_limit_s)
        a.finished_at = started + dt.timedelta(seconds=elapsed_s)
        a.elapsed_ms = int(elapsed_s * 1000)
        a.day = started.astimezone(clock.SHANGHAI).date()
        a.created_at = a.updated_at = started
    Attempt.objects.bulk_update(
        attempts,
        ["started_at", "deadline", "finished_at", "elapsed_ms", "day", "created_at", "updated_at"],
    )
    by_id = {a.pk: a for a in attempts}
    results = list(ContestResult.objects.filter(contest=contest, attempt_id__in=list(by_id)))
    for r in results:
        a = by_id[r.attempt_id]
        assert a.finished_at is not None and a.elapsed_ms is not None
        r.finished_at, r.elapsed_ms = a.finished_at, a.elapsed_ms
    ContestResult.objects.bulk_update(results, ["finished_at", "elapsed_ms"])


@transaction.atomic
def quiz_demo_seed(
    *,
    campaign_slug: str,
    workers: Sequence[Any],
    attempts: int | None = None,
    seed: int = 20241201,
) -> Contest:
    """The demo bank of the campaign's organizer (added by its officer), the campaign's
    contest, and one finished attempt for each of ``attempts`` workers picked from ``workers``
    (members in the organizer's subtree); by default one in ten, from 8 to 40."""
    campaign = Campaign.objects.select_related("organizer").get(slug=campaign_slug)
    organizer = campaign.organizer
    role = (
        Role.objects.select_related("user")
        .filter(organization=organizer, kind=Role.Kind.OFFICER)
        .order_by("pk")
        .first()
    )
    assert role is not None, "the demo organizer has an officer"
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    bank_seed(actor=role.user, organization=organizer)
    contest = contest_seed(actor=role.user, campaign=campaign)
    if attempts is None:
        attempts = max(8, min(40, len(workers) // 10))
    takers = rng.sample(list(workers), min(attempts, len(workers)))
    attempts_seed(rng=rng, contest=contest, workers=takers)
    return contest
