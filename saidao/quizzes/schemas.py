"""API shapes. A worker's paper (``PaperOut``) has no field for a correct answer or an
explanation: they can only travel in ``ResultOut`` once the attempt is finished and the
contest reveals them."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class QuestionIn(Schema):
    organization_id: int | None = None  # the bank; required to create
    kind: str
    stem: str
    options: list[str] = []
    answer: str
    category: str = ""
    difficulty: str = "medium"
    explanation: str = ""
    source: str = ""


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


class ImportOut(Schema):
    imported: int


class RuleIn(Schema):
    count: int
    points: int
    category: str = ""
    difficulty: str = ""


class RuleOut(Schema):
    count: int
    points: int
    category: str
    difficulty: str


class ContestIn(Schema):
    campaign: str  # the campaign's slug
    title: str
    rules: list[RuleIn]
    bank_id: int | None = None
    description: str = ""
    time_limit_s: int = 600
    grace_s: int = 30
    tries_per_day: int = 3
    counted: str = "best"
    pass_score: int = 60
    partial_credit: str = "all_or_nothing"
    reveal: str = "after_submit"
    certificate: str = "passed"


class ContestPatch(Schema):
    title: str | None = None
    rules: list[RuleIn] | None = None
    bank_id: int | None = None
    description: str | None = None
    time_limit_s: int | None = None
    grace_s: int | None = None
    tries_per_day: int | None = None
    counted: str | None = None
    pass_score: int | None = None
    partial_credit: str | None = None
    reveal: str | None = None
    certificate: str | None = None


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


class MeOut(Schema):
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
    choice: str | list[str]
    seq: int


class AnswerOut(Schema):
    position: int
    chosen: str
    seq: int


class SubmitIn(Schema):
    seq: int | None = None


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
