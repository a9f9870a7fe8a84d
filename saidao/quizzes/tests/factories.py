"""Building banks, contests and question files for the contest tests."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from saidao.accounts.models import Membership, User
from saidao.accounts.tests.factories import MembershipFactory
from saidao.campaigns.models import Campaign
from saidao.campaigns.services import PhaseSpec, campaign_create
from saidao.core import clock
from saidao.orgs.models import Organization
from saidao.quizzes import services
from saidao.quizzes.importing import COLUMNS
from saidao.quizzes.models import Contest, Difficulty, Question, QuestionKind
from saidao.quizzes.services import RuleSpec


def make_question(
    *,
    actor: Any,
    organization: Organization,
    n: int,
    kind: str = QuestionKind.SINGLE,
    category: str = "工会法",
    difficulty: str = Difficulty.EASY,
) -> Question:
    if kind == QuestionKind.TRUE_FALSE:
        options: list[str] = []
        answer = "对"
    elif kind == QuestionKind.MULTIPLE:
        options = [f"选项{n}-{i}" for i in range(4)]
        answer = "AC"
    else:
        options = [f"选项{n}-{i}" for i in range(4)]
        answer = "A"
    return services.question_create(
        actor=actor,
        organization=organization,
        kind=kind,
        stem=f"第{n}题：{category}{difficulty}{kind}？",
        options=options,
        answer=answer,
        category=category,
        difficulty=difficulty,
        explanation=f"第{n}题的解析。",
    )


def make_bank(
    *, actor: Any, organization: Organization, singles: int = 6, multiples: int = 2, judges: int = 2
) -> list[Question]:
    out = []
    n = 0
    for kind, count in (
        (QuestionKind.SINGLE, singles),
        (QuestionKind.MULTIPLE, multiples),
        (QuestionKind.TRUE_FALSE, judges),
    ):
        for _i in range(count):
            n += 1
            out.append(make_question(actor=actor, organization=organization, n=n, kind=kind))
    return out


def quiz_campaign(
    *, actor: Any, organizer: Organization, slug: str = "quiz-2024", open_now: bool = True
) -> Campaign:
    now = clock.now()
    day = dt.timedelta(days=1)
    starts = now - day if open_now else now + day
    return campaign_create(
        actor=actor,
        organizer=organizer,
        slug=slug,
        title="知识竞赛活动",
        phases=[PhaseSpec("quiz", "知识竞赛", starts, starts + 30 * day, quiz_open=True)],
        publish=True,
    )


def make_contest(
    *,
    actor: Any,
    organizer: Organization,
    rules: Sequence[RuleSpec] | None = None,
    bank: bool = True,
    campaign: Campaign | None = None,
    **settings: Any,
) -> Contest:
    """A contest open now in its own campaign, drawing 5 questions of 20 points from a fresh
    bank of 10 (6 single, 2 multiple, 2 true/false) unless told otherwise."""
    if bank:
        make_bank(actor=actor, organization=organizer)
    campaign = campaign or quiz_campaign(actor=actor, organizer=organizer)
    return services.contest_create(
        actor=actor,
        campaign=campaign,
        title=settings.pop("title", "工会知识竞赛"),
        rules=rules or [RuleSpec(count=5, points=20)],
        **settings,
    )


def member_of(organization: Organization, **user: Any) -> User:
    membership: Membership = MembershipFactory.create(
        organization=organization, **{f"user__{k}": v for k, v in user.items()}
    )
    return membership.user


def answer_all(attempt: Any, worker: User, *, right: bool = True, start_seq: int = 1) -> int:
    """Answer every question (rightly or wrongly) through the service; returns the last seq."""
    from saidao.quizzes.services import attempt_answer, stored_to_displayed

    seq = start_seq - 1
    for item in attempt.items.select_related("version").order_by("position"):
        correct = stored_to_displayed(item, item.version.answer)
        if right:
            choice = correct
        else:
            wrong = [ch for ch in "ABCDEF"[: len(item.version.options)] if ch not in correct]
            choice = wrong[0]
        seq += 1
        attempt_answer(
            attempt=attempt, worker=worker, position=item.position, choice=choice, seq=seq
        )
    return seq


def questions_file(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = COLUMNS,
    name: str = "questions.xlsx",
) -> io.BytesIO:
    """A real .xlsx question file: the header, then ``rows`` as they are (numbers stay numeric
    cells, ``[]`` is a blank row)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for r in rows:
        ws.append(list(r) if r else [None])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = name
    return buf


def row(
    kind: str = "单选",
    stem: str = "工会的基本职责是什么？",
    options: Sequence[Any] = ("维护职工合法权益", "组织文艺活动", "管理生产", "发放工资"),
    answer: Any = "A",
    category: str = "工会法",
    difficulty: str = "容易",
    explanation: str = "见工会法。",
) -> list[Any]:
    padded = [*options, *[None] * (6 - len(options))]
    return [kind, stem, *padded, answer, category, difficulty, explanation]
