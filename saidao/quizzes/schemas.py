"""API shapes. A worker's paper (``PaperOut``) has no field for a correct answer or an
explanation: they can only travel in ``ResultOut`` once the attempt is finished and the
contest reveals them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

from saidao.core.api_types import TEXT_MAX, Count, Id, SmallCount

# A choice is the letters of the options picked (A to F).
Choice = Annotated[str, Field(max_length=6)]


class QuestionIn(Schema):
    organization_id: Id | None = None  # the bank; required to create
    kind: str = Field(..., max_length=16)
    stem: str = Field(..., max_length=TEXT_MAX)
    options: list[Annotated[str, Field(max_length=1000)]] = Field([], max_length=26)
    answer: str = Field(..., max_length=6)
    category: str = Field("", max_length=40)
    difficulty: str = Field("medium", max_length=8)
    explanation: str = Field("", max_length=TEXT_MAX)
    source: str = Field("", max_length=200)


class QuestionOut(Schema):
    """For officers of the bank: the answer is theirs to see."""

    id: int
    organization_id: int
    kind: str
    stem: str
    options: list[str]
    answer: str
    category: str
    difficulty: str
    explanation: str
    source: str
    version: int
    times_used: int
    archived: bool


class QuestionImportOut(Schema):
    imported: int


class RuleIn(Schema):
    count: SmallCount
    points: SmallCount
    category: str = Field("", max_length=40)
    difficulty: str = Field("", max_length=8)


class RuleOut(Schema):
    count: int
    points: int
    category: str
    difficulty: str


class ContestIn(Schema):
    campaign: str = Field(..., max_length=64)  # the campaign's slug
    title: str = Field(..., max_length=120)
    rules: list[RuleIn] = Field(..., max_length=100)
    bank_id: Id | None = None
    description: str = Field("", max_length=TEXT_MAX)
    time_limit_s: Count = 600
    grace_s: Count = 30
    tries_per_day: SmallCount = 3
    counted: str = Field("best", max_length=8)
    pass_score: Count = 60
    partial_credit: str = Field("all_or_nothing", max_length=16)
    reveal: str = Field("after_submit", max_length=16)
    certificate: str = Field("passed", max_length=8)


class ContestPatch(Schema):
    title: str | None = Field(None, max_length=120)
    rules: list[RuleIn] | None = Field(None, max_length=100)
    bank_id: Id | None = None
    description: str | None = Field(None, max_length=TEXT_MAX)
    time_limit_s: Count | None = None
    grace_s: Count | None = None
    tries_per_day: SmallCount | None = None
    counted: str | None = Field(None, max_length=8)
    pass_score: Count | None = None
    partial_credit: str | None = Field(None, max_length=16)
    reveal: str | None = Field(None, max_length=16)
    certificate: str | None = Field(None, max_length=8)


class ContestOut(Schema):
    id: int
    campaign: str
    title: str
    description: str
    organizer: str
    time_limit_s: int
    grace_s: int
    tries_per_day: int
    counted: str
    pass_score: int
    max_score: int
    partial_credit: str
    reveal: str
    certificate: str
    questions: int
    rules: list[RuleOut]
    quiz_open: bool


class ContestMeOut(Schema):
    tries_limit: int
    tries_used: int
    tries_left: int
    current_attempt_id: int | None
    best_score: int | None
    best_elapsed_ms: int | None
    rank: int | None
    certificate_code: str | None


class OptionOut(Schema):
    letter: str
    text: str


class PaperQuestionOut(Schema):
    position: int
    kind: str
    kind_label: str
    stem: str
    points: int
    options: list[OptionOut]
    chosen: str


class PaperOut(Schema):
    attempt_id: int
    contest_id: int
    status: str
    deadline: dt.datetime
    seconds_left: int
    grace_s: int
    seq: int
    questions: list[PaperQuestionOut]


class AnswerIn(Schema):
    choice: Choice | Annotated[list[Choice], Field(max_length=26)]
    seq: Count


class AnswerOut(Schema):
    position: int
    chosen: str
    seq: int


class SubmitIn(Schema):
    seq: Count | None = None


class ReviewQuestionOut(PaperQuestionOut):
    correct: str | None
    explanation: str | None
    awarded: int | None


class ResultOut(Schema):
    attempt_id: int
    contest_id: int
    status: str
    score: int
    max_score: int
    passed: bool
    elapsed_ms: int | None
    finished_at: dt.datetime | None
    revealed: bool
    questions: list[ReviewQuestionOut]
    certificate_code: str | None = None


class RankOut(Schema):
    rank: int
    name: str
    organization: str
    score: int
    elapsed_ms: int
    finished_at: dt.datetime


class LeaderboardOut(Schema):
    rows: list[RankOut]
    me: RankOut | None


class OrgAverageOut(Schema):
    rank: int
    organization_id: int
    organization: str
    participants: int
    passed: int
    average_score: float


class OrgResultOut(Schema):
    organization_id: int
    organization: str
    participants: int
    passed: int
    pass_rate: float
    average_score: float
    best_score: int
