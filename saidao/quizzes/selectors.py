"""Reads for knowledge contests. The correct answers leave this module only through
``attempt_review`` (and only once the contest allows it) and the officers' bank reads.

Public selectors (keyword-only; stable, new ones are added, none renamed):

- ``questions_for_officer(*, user, organization=None, category=None, include_archived=False)
  -> QuerySet[Question]``; ``question_get_for_officer(*, user, pk) -> Question``
- ``question_categories(*, organization) -> list[str]``
- ``contests_for_officer(*, user) -> QuerySet[Contest]``;
  ``contest_get_for_officer(*, user, pk) -> Contest``
- ``contest_get_for_results(*, user, pk) -> Contest`` (officers of the organizer or under it)
- ``contests_of_campaign(*, campaign) -> QuerySet[Contest]``
- ``contest_get(*, pk) -> Contest`` (published campaigns only; NotFound otherwise)
- ``contest_get_cached(*, pk) -> Contest`` (the same, cached for a second; for starts)
- ``attempt_get_for_worker(*, worker, pk) -> Attempt``
- ``attempt_current(*, contest, worker) -> Attempt | None`` (in progress, time not run out)
- ``attempt_paper(*, attempt, at=None) -> Paper`` (questions with displayed options, the
  worker's answers in displayed letters, deadline, seconds_left, seq; never the answers)
- ``attempt_review(*, attempt, at=None) -> Review`` (score and, when the contest reveals them,
  each question's correct displayed letters and explanation)
- ``answers_revealed(*, attempt, at=None) -> bool``
- ``tries_today(*, contest, worker, at=None) -> Tries`` (limit, used, left, day)
- ``result_of_worker(*, contest, worker) -> ContestResult | None`` (the counted result)
- ``attempts_of_worker(*, contest, worker) -> QuerySet[Attempt]``
- ``contest_leaderboard(*, contest, limit=50, offset=0) -> list[RankRow]``
- ``worker_rank(*, contest, worker) -> RankRow | None``
- ``organizations_by_average(*, contest, parent) -> list[OrgAverage]`` (children of ``parent``
  by average counted score in their subtrees; one grouped SQL query)
- ``results_by_organization(*, user, contest, parent=None) -> list[OrgResults]`` (officers)
- ``results_xlsx(*, user, contest, parent=None) -> bytes``
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Max, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import translation

from saidao.campaigns.models import Campaign
from saidao.campaigns.selectors import campaign_switches
from saidao.core import clock
from saidao.core.errors import NotFound, OutsideScope
from saidao.core.sheets import Sheet, xlsx_bytes
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, organization_in_scope, scope_q, subtree_q

from . import caches
from .models import (
    LETTERS,
    Attempt,
    AttemptItem,
    Contest,
    ContestResult,
    Question,
    QuestionKind,
)
from .services import (
    option_order,
    order_json,
    stored_to_displayed,
    to_displayed,
    visible_order,
)

# --- bank -----------------------------------------------------------------------------------


def questions_for_officer(
    *,
    user: Any,
    organization: Organization | None = None,
    category: str | None = None,
    include_archived: bool = False,
) -> QuerySet[Question]:
    """Questions of the banks in the officer's subtrees (or of one organization there)."""
    qs = Question.objects.filter(
        scope_q(officer_paths(user=user), field="organization__path")
    ).select_related("organization", "current_version")
    if organization is not None:
        qs = qs.filter(organization=organization)
    if category:
        qs = qs.filter(category=category)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.order_by("organization__path", "category", "id")


def question_get_for_officer(*, user: Any, pk: int) -> Question:
    question = questions_for_officer(user=user, include_archived=True).filter(pk=pk).first()
    if question is None:
        raise NotFound(detail={"question": pk})
    return question


def question_categories(*, organization: Organization) -> list[str]:
    return list(
        Question.objects.filter(organization=organization, archived_at__isnull=True)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


# --- contests -------------------------------------------------------------------------------


def _contests() -> QuerySet[Contest]:
    return Contest.objects.select_related(
        "campaign", "campaign__organizer", "bank"
    ).prefetch_related("rules", "campaign__phases")


def contest_id_of_campaign(campaign: Campaign) -> int | None:
    """The campaign's knowledge contest (the newest if there are several), for the campaign's
    API answer (registered with ``campaign_contest_source``)."""
    pk: int | None = (
        Contest.objects.filter(campaign=campaign)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    return pk


def contests_for_officer(*, user: Any) -> QuerySet[Contest]:
    return _contests().filter(scope_q(officer_paths(user=user), field="campaign__organizer__path"))


def contest_get_for_officer(*, user: Any, pk: int) -> Contest:
    contest = contests_for_officer(user=user).filter(pk=pk).first()
    if contest is None:
        raise NotFound(detail={"contest": pk})
    return contest


def contest_get_for_results(*, user: Any, pk: int) -> Contest:
    """A contest whose results the officer may read: they administer its organizer, or an
    organization under it (and then see their own subtree)."""
    contest = _contests().filter(pk=pk).first()
    if contest is None or not _may_read_results(user, contest):
        raise NotFound(detail={"contest": pk})
    return contest


def _may_read_results(user: Any, contest: Contest) -> bool:
    organizer = contest.campaign.organizer
    return any(
        organizer.path.startswith(p) or p.startswith(organizer.path)
        for p in officer_paths(user=user)
    )


def contests_of_campaign(*, campaign: Campaign) -> QuerySet[Contest]:
    return _contests().filter(campaign=campaign).order_by("id")


def contest_get_cached(*, pk: int) -> Contest:
    """``contest_get`` for the start of an attempt: the same contest object for up to a second
    per process (the quiz phase's switch takes effect within a second)."""
    contest = caches.contest(pk)
    if contest is None:
        raise NotFound(detail={"contest": pk})
    return contest


def contest_get(*, pk: int) -> Contest:
    """A contest of a published campaign."""
    contest = _contests().filter(pk=pk, campaign__status=Campaign.Status.PUBLISHED).first()
    if contest is None:
        raise NotFound(detail={"contest": pk})
    return contest


# --- attempts -------------------------------------------------------------------------------


def attempt_get_for_worker(*, worker: Any, pk: int) -> Attempt:
    attempt = (
        Attempt.objects.select_related(
            "contest", "contest__campaign", "contest__campaign__organizer"
        )
        .filter(pk=pk, worker_id=worker.pk)
        .first()
    )
    if attempt is None:
        raise NotFound(detail={"attempt": pk})
    return attempt


def attempt_current(
    *, contest: Contest, worker: Any, at: dt.datetime | None = None
) -> Attempt | None:
    at = at or clock.now()
    attempt = Attempt.objects.filter(
        contest=contest, worker_id=worker.pk, status=Attempt.Status.IN_PROGRESS
    ).first()
    if attempt is None or at > attempt.deadline + dt.timedelta(seconds=contest.grace_s):
        return None
    return attempt


def attempts_of_worker(*, contest: Contest, worker: Any) -> QuerySet[Attempt]:
    return Attempt.objects.filter(contest=contest, worker_id=worker.pk).order_by("-started_at")


@dataclass
class PaperOption:
    letter: str
    text: str


@dataclass
class PaperQuestion:
    position: int
    kind: str
    kind_label: str
    stem: str
    points: int
    options: list[PaperOption]
    chosen: str  # displayed letters, "" when unanswered


@dataclass
class Paper:
    attempt_id: int
    contest_id: int
    status: str
    deadline: dt.datetime
    seconds_left: int
    grace_s: int
    seq: int
    questions: list[PaperQuestion]

    @property
    def answered(self) -> int:
        return sum(1 for q in self.questions if q.chosen)


def _items(attempt: Attempt) -> list[AttemptItem]:
    return list(
        AttemptItem.objects.filter(attempt=attempt).select_related("version").order_by("position")
    )


_kind_labels: dict[str, dict[str, str]] = {}


def kind_labels() -> dict[str, str]:
    """The question kinds' names in the active language (translated once per language)."""
    language = translation.get_language() or ""
    labels = _kind_labels.get(language)
    if labels is None:
        labels = _kind_labels[language] = {k.value: str(k.label) for k in QuestionKind}
    return labels


def attempt_paper(
    *,
    attempt: Attempt,
    at: dt.datetime | None = None,
    rows: Sequence[tuple[int, int, Any, int, str, int]] | None = None,
) -> Paper:
    """The paper as the worker sees it: displayed options, their answers so far, the time left
    by the server's deadline. No correct answers, no explanations.

    ``rows`` are the paper's rows when the caller has them (a start that has just stored
    them); otherwise they are read."""
    at = at or clock.now()
    if rows is None:
        # One read of the paper's rows; the questions' text comes from the version cache.
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT position, version_id, "order", points, response, seq '  # noqa: S608 - our table name; the value is a parameter
                f"FROM {AttemptItem._meta.db_table} WHERE attempt_id = %s ORDER BY position",
                [attempt.pk],
            )
            rows = cursor.fetchall()
    content = caches.versions([row[1] for row in rows])
    labels = kind_labels()
    questions = []
    for position, version_id, order, points, response, _seq in rows:
        v = content[version_id]
        shown = visible_order(order_json(order), len(v.options))
        questions.append(
            PaperQuestion(
                position=position,
                kind=v.kind,
                kind_label=labels[v.kind],
                stem=v.stem,
                points=points,
                options=[
                    PaperOption(letter=LETTERS[i], text=v.options[idx])
                    for i, idx in enumerate(shown)
                ],
                chosen=to_displayed(shown, response),
            )
        )
    left = max(0, int((attempt.deadline - at).total_seconds()))
    return Paper(
        attempt_id=attempt.pk,
        contest_id=attempt.contest_id,
        status=attempt.status,
        deadline=attempt.deadline,
        seconds_left=left if attempt.status == Attempt.Status.IN_PROGRESS else 0,
        grace_s=attempt.contest.grace_s,
        seq=max((row[5] for row in rows), default=0),  # the last accepted save's
        questions=questions,
    )


def answers_revealed(*, attempt: Attempt, at: dt.datetime | None = None) -> bool:
    if not attempt.is_finished:
        return False
    reveal = attempt.contest.reveal
    if reveal == Contest.Reveal.AFTER_SUBMIT:
        return True
    if reveal == Contest.Reveal.AFTER_CLOSE:
        switches = campaign_switches(campaign=attempt.contest.campaign, at=at)
        return not switches.quiz_open and "quiz_open" not in switches.next_opening
    return False


@dataclass
class ReviewQuestion(PaperQuestion):
    correct: str | None  # displayed letters, None when not revealed
    explanation: str | None
    awarded: int | None


@dataclass
class Review:
    attempt_id: int
    contest_id: int
    status: str
    score: int
    max_score: int
    passed: bool
    elapsed_ms: int | None
    finished_at: dt.datetime | None
    revealed: bool
    questions: list[ReviewQuestion]


def attempt_review(*, attempt: Attempt, at: dt.datetime | None = None) -> Review:
    """A finished attempt's result; correct answers and explanations only when revealed."""
    if not attempt.is_finished:
        raise NotFound(detail={"attempt": attempt.pk})
    revealed = answers_revealed(attempt=attempt, at=at)
    questions = []
    for item in _items(attempt):
        v = item.version
        questions.append(
            ReviewQuestion(
                position=item.position,
                kind=v.kind,
                kind_label=str(v.get_kind_display()),
                stem=v.stem,
                points=item.points,
                options=[
                    PaperOption(letter=LETTERS[i], text=v.options[idx])
                    for i, idx in enumerate(option_order(item))
                ],
                chosen=stored_to_displayed(item, item.response),
                correct=stored_to_displayed(item, v.answer) if revealed else None,
                explanation=v.explanation if revealed else None,
                awarded=item.awarded if revealed else None,
            )
        )
    return Review(
        attempt_id=attempt.pk,
        contest_id=attempt.contest_id,
        status=attempt.status,
        score=attempt.score,
        max_score=attempt.max_score,
        passed=attempt.passed,
        elapsed_ms=attempt.elapsed_ms,
        finished_at=attempt.finished_at,
        revealed=revealed,
        questions=questions,
    )


@dataclass
class Tries:
    limit: int
    used: int
    left: int
    day: dt.date


def tries_today(*, contest: Contest, worker: Any, at: dt.datetime | None = None) -> Tries:
    """Tries used and left today (an Asia/Shanghai day)."""
    day = (at or clock.now()).astimezone(clock.SHANGHAI).date()
    used = Attempt.objects.filter(contest=contest, worker_id=worker.pk, day=day).count()
    return Tries(
        limit=contest.tries_per_day,
        used=used,
        left=max(0, contest.tries_per_day - used),
        day=day,
    )


def result_of_worker(*, contest: Contest, worker: Any) -> ContestResult | None:
    return (
        ContestResult.objects.filter(contest=contest, worker_id=worker.pk)
        .select_related("organization", "attempt")
        .first()
    )


# --- rankings -------------------------------------------------------------------------------


@dataclass
class RankRow:
    rank: int
    worker_id: int
    name: str
    organization: str
    score: int
    elapsed_ms: int
    finished_at: dt.datetime


def _ahead_q(r: ContestResult | Any) -> Q:
    """Results ranked strictly ahead of ``r``: higher score, or as high and faster, or as
    high, as fast and finished earlier."""
    return (
        Q(score__gt=r.score)
        | Q(score=r.score, elapsed_ms__lt=r.elapsed_ms)
        | Q(score=r.score, elapsed_ms=r.elapsed_ms, finished_at__lt=r.finished_at)
    )


def _masked(name: str) -> str:
    """Only the family name on public boards (privacy)."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def contest_leaderboard(*, contest: Contest, limit: int = 50, offset: int = 0) -> list[RankRow]:
    """Individuals by counted score, then shorter time, then earlier finish (competition
    ranking: only results equal on all three share a rank)."""
    rows = list(
        ContestResult.objects.filter(contest=contest)
        .select_related("worker", "organization")
        .order_by("-score", "elapsed_ms", "finished_at", "id")[offset : offset + limit]
    )
    out: list[RankRow] = []
    for i, r in enumerate(rows):
        if out and (r.score, r.elapsed_ms, r.finished_at) == (
            out[-1].score,
            out[-1].elapsed_ms,
            out[-1].finished_at,
        ):
            rank = out[-1].rank
        elif i == 0:
            rank = ContestResult.objects.filter(contest=contest).filter(_ahead_q(r)).count() + 1
        else:
            rank = offset + i + 1
        out.append(
            RankRow(
                rank=rank,
                worker_id=r.worker_id,
                name=_masked(r.worker.real_name),
                organization=r.organization.name,
                score=r.score,
                elapsed_ms=r.elapsed_ms,
                finished_at=r.finished_at,
            )
        )
    return out


def worker_rank(*, contest: Contest, worker: Any) -> RankRow | None:
    r = result_of_worker(contest=contest, worker=worker)
    if r is None:
        return None
    ahead = ContestResult.objects.filter(contest=contest).filter(_ahead_q(r)).count()
    return RankRow(
        rank=ahead + 1,
        worker_id=worker.pk,
        name=worker.real_name,
        organization=r.organization.name,
        score=r.score,
        elapsed_ms=r.elapsed_ms,
        finished_at=r.finished_at,
    )


@dataclass
class OrgAverage:
    rank: int
    organization: Organization
    participants: int
    average_score: float
    passed: int


def organizations_by_average(*, contest: Contest, parent: Organization) -> list[OrgAverage]:
    """``parent``'s children ranked by the average counted score of the workers in their
    subtrees: one grouped query on the results' path prefix (a child's path is its first
    ``len(parent.path) + step`` characters)."""
    children = {c.path: c for c in Organization.objects.filter(parent=parent)}
    if not children:
        return []
    width = len(next(iter(children)))
    grouped = (
        ContestResult.objects.filter(contest=contest)
        .filter(subtree_q(parent.path, field="org_path"))
        .exclude(org_path=parent.path)
        .annotate(child=Substr("org_path", 1, width))
        .values("child")
        .annotate(n=Count("id"), avg=Avg("score"), passed=Count("id", filter=Q(passed=True)))
        .order_by()
    )
    rows = [
        (children[g["child"]], g["n"], float(g["avg"] or 0), g["passed"])
        for g in grouped
        if g["child"] in children
    ]
    rows.sort(key=lambda t: (-t[2], -t[1], t[0].path))
    out: list[OrgAverage] = []
    for i, (org, n, avg, passed) in enumerate(rows):
        rank = out[-1].rank if out and round(out[-1].average_score, 6) == round(avg, 6) else i + 1
        out.append(
            OrgAverage(
                rank=rank, organization=org, participants=n, average_score=avg, passed=passed
            )
        )
    return out


@dataclass
class OrgResults:
    organization: Organization
    participants: int
    passed: int
    average_score: float
    best_score: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.participants if self.participants else 0.0


def results_by_organization(
    *, user: Any, contest: Contest, parent: Organization | None = None
) -> list[OrgResults]:
    """For an officer: each organization of their subtree (or of ``parent``'s) with results,
    its own workers' participants, passes, average and best counted score."""
    if not _may_read_results(user, contest):
        raise OutsideScope(detail={"contest": contest.pk})
    paths = [parent.path] if parent is not None else officer_paths(user=user)
    if parent is not None and not organization_in_scope(user=user, organization=parent):
        raise OutsideScope(detail={"organization": parent.pk})
    grouped = list(
        ContestResult.objects.filter(contest=contest)
        .filter(scope_q(paths, field="org_path"))
        .values("organization_id")
        .annotate(
            n=Count("id"),
            avg=Avg("score"),
            passed=Count("id", filter=Q(passed=True)),
            best=Max("score"),
        )
        .order_by()
    )
    orgs = Organization.objects.in_bulk([g["organization_id"] for g in grouped])
    out = [
        OrgResults(
            organization=orgs[g["organization_id"]],
            participants=g["n"],
            passed=g["passed"],
            average_score=float(g["avg"] or 0),
            best_score=g["best"] or 0,
        )
        for g in grouped
    ]
    out.sort(key=lambda r: r.organization.path)
    return out


def results_xlsx(*, user: Any, contest: Contest, parent: Organization | None = None) -> bytes:
    rows = results_by_organization(user=user, contest=contest, parent=parent)
    header = ["组织", "参赛人数", "及格人数", "及格率", "平均分", "最高分"]
    lines = [
        [
            r.organization.name,
            r.participants,
            r.passed,
            round(r.pass_rate, 4),
            round(r.average_score, 2),
            r.best_score,
        ]
        for r in rows
    ]
    return xlsx_bytes(Sheet("按组织统计", header, lines, widths=(30, *[12] * 5)))
