"""Reads only the pages need, beside ``selectors``: the home page's contest cards, a worker's
certificate for a contest, and what an officer's contest index lists."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from saidao.campaigns.models import Campaign, Phase
from saidao.campaigns.selectors import campaign_switches
from saidao.certificates.models import Certificate
from saidao.core import clock
from saidao.core.activities import ActivityCard
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, scope_q

from .models import Contest, Question
from .services import certificate_source


def contest_cards(user: Any) -> list[ActivityCard]:
    """Home-page cards for the contests whose quiz phase is open now (two queries)."""
    at = clock.now()
    contests = (
        Contest.objects.filter(
            campaign__status=Campaign.Status.PUBLISHED, campaign__phases__quiz_open=True
        )
        .distinct()
        .select_related("campaign__organizer")
        .prefetch_related(Prefetch("campaign__phases", queryset=Phase.objects.order_by("position")))
        .order_by("-created_at", "-id")[:20]
    )
    cards = []
    for contest in contests:
        if campaign_switches(campaign=contest.campaign, at=at).quiz_open:
            cards.append(
                ActivityCard(
                    title=contest.title,
                    url=reverse("quizzes:contest", args=[contest.pk]),
                    organizer=contest.campaign.organizer.name,
                    status=_("知识竞赛进行中"),
                    summary=contest.campaign.title,
                )
            )
    return cards


def certificate_of(*, contest: Contest, worker: Any) -> Certificate | None:
    """The worker's certificate for this contest, unless revoked."""
    return Certificate.objects.filter(
        source=certificate_source(contest=contest, worker=worker), revoked_at__isnull=True
    ).first()


def bank_roots(*, user: Any) -> list[Organization]:
    """The organizations an officer administers (the tops of their subtrees), each with
    ``question_count`` of its own bank: one query."""
    paths = officer_paths(user=user)
    return list(
        Organization.objects.filter(path__in=paths)
        .annotate(
            question_count=Count("quiz_questions", filter=Q(quiz_questions__archived_at=None))
        )
        .order_by("path")
    )


def campaigns_awaiting_contest(*, user: Any) -> list[Campaign]:
    """Campaigns organized in the officer's subtrees that have a quiz phase but no contest."""
    return list(
        Campaign.objects.filter(scope_q(officer_paths(user=user), field="organizer__path"))
        .filter(phases__quiz_open=True, contests__isnull=True)
        .distinct()
        .select_related("organizer")
        .order_by("-created_at", "-id")
    )


def question_count(*, organization: Organization) -> int:
    return Question.objects.filter(organization=organization, archived_at__isnull=True).count()
