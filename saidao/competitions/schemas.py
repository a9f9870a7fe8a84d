"""API schemas of labor competitions (decimals travel as strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from saidao.core.api_types import TEXT_MAX, Id, SmallCount

# The bounds of the columns (max_digits less decimal_places whole digits), so that a number the
# database cannot hold is refused here; extra decimal places are rounded as the column does.
WEIGHT_MAX = Decimal("999999.99")
POINTS_MAX = Decimal("9999999999.9999")
VALUE_MAX = Decimal("999999999999")  # as value_parse allows
MONEY_MAX = Decimal("999999999999.99")
Weight = Annotated[Decimal, Field(ge=0, le=WEIGHT_MAX)]
Points = Annotated[Decimal, Field(ge=-POINTS_MAX, le=POINTS_MAX)]
Value = Annotated[Decimal, Field(ge=-VALUE_MAX, le=VALUE_MAX)]
Money = Annotated[Decimal, Field(ge=0, le=MONEY_MAX)]
Share = Annotated[Decimal, Field(ge=0, le=100)]
Percent = Annotated[int, Field(ge=1, le=100)]
Year = Annotated[int, Field(ge=1900, le=2100)]

CODE_DOC = (
    "The participant's code (参赛编码): a unit's own code (参赛单位编码); for a person an opaque"
    " code given in joining order (P00001, P00002, ...) that says nothing about their phone."
)
PHONE_DOC = (
    "A person's phone number: in full for the program's officers, for officers whose scope"
    " holds the person's unit, and for the person; masked (138****1234) for everyone else."
    " null for a unit."
)


def dec(d: Decimal | None) -> str | None:
    return None if d is None else format(d.normalize(), "f")


class ProgramIn(Schema):
    organization_id: Id
    name: str = Field(..., max_length=100)
    year: Year | None = None
    total_weight: Decimal = Field(Decimal(100), gt=0, le=WEIGHT_MAX)
    description: str = Field("", max_length=TEXT_MAX)


class ProgramOut(Schema):
    id: int
    name: str
    year: int | None
    organization_id: int
    organization_name: str
    total_weight: str
    status: str
    description: str


class ProgramRoleIn(Schema):
    user_id: Id
    kind: str = Field(..., max_length=16)
    organization_id: Id


class ProgramRoleOut(Schema):
    id: int
    user_id: int
    kind: str
    organization_id: int


class CategoryIn(Schema):
    name: str = Field(..., max_length=100)
    position: SmallCount | None = None
    description: str = Field("", max_length=TEXT_MAX)


class CategoryOut(Schema):
    id: int
    name: str
    position: int
    description: str


class CompetitionIn(Schema):
    name: str = Field(..., max_length=100)
    participant_kind: str = Field(..., max_length=16)
    period_kind: str = Field(..., max_length=16)
    description: str = Field("", max_length=TEXT_MAX)
    self_score_enabled: bool = False
    award_top_n: SmallCount | None = None
    award_top_percent: Percent | None = None
    bonus_pool: Money | None = None
    bonus_rule: str = Field("none", max_length=16)
    bonus_shares: list[Share] | None = Field(None, max_length=1000)
    help_bottom_n: SmallCount = 0
    title_name: str = Field("", max_length=50)


class CompetitionOut(Schema):
    id: int
    program_id: int
    category_id: int
    category_name: str
    name: str
    description: str
    participant_kind: str
    period_kind: str
    self_score_enabled: bool
    award_top_n: int | None
    award_top_percent: int | None
    bonus_pool: str | None
    bonus_rule: str
    bonus_shares: list[str]
    help_bottom_n: int
    title_name: str


class BracketIn(Schema):
    name: str = Field(..., max_length=50)
    position: SmallCount | None = None


class BracketOut(Schema):
    id: int
    name: str
    position: int


class IndicatorIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    rule: str = Field(..., max_length=16)
    unit: str = Field("", max_length=20)
    direction: str = Field("higher", max_length=8)
    source: str = Field("reported", max_length=16)
    formula: str = Field("", max_length=500)
    count_source: str = Field("", max_length=40)
    count_param: str = Field("", max_length=100)
    required: bool = True
    weight: Weight = Decimal(0)
    target: Value | None = None
    full_marks: Points = Decimal(100)
    cap: Points | None = None
    floor: Points = Decimal(0)
    rank_first: Points | None = None
    rank_step: Points | None = None
    bands: list[Annotated[list[Value], Field(min_length=2, max_length=2)]] | None = Field(
        None, max_length=100
    )
    per_unit: Points | None = None
    veto_threshold: Value | None = None


class IndicatorOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    direction: str
    source: str
    formula: str
    count_source: str
    count_param: str
    required: bool
    weight: str
    rule: str
    target: str | None
    full_marks: str
    cap: str | None
    floor: str
    rank_first: str | None
    rank_step: str | None
    bands: list[list[str]]
    per_unit: str | None
    veto_threshold: str | None


class ParticipantIn(Schema):
    organization_id: Id | None = None
    user_id: Id | None = None
    code: str = Field("", max_length=40)
    name: str = Field("", max_length=100)
    bracket_id: Id | None = None


class ParticipantOut(Schema):
    id: int
    code: str = Field(description=CODE_DOC)
    name: str
    phone: str | None = Field(description=PHONE_DOC)
    bracket_id: int | None
    organization_id: int | None
    user_id: int | None
    active: bool


class PeriodIn(Schema):
    key: str = Field(..., max_length=16)
    label: str = Field("", max_length=50)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class PeriodOut(Schema):
    id: int
    key: str
    label: str
    starts_on: dt.date
    ends_on: dt.date
    state: str


class StateIn(Schema):
    state: str = Field(..., max_length=16)


class CompetitionReportIn(Schema):
    participant_id: Id
    period_id: Id
    values: dict[str, Any]
    units: dict[str, Annotated[str, Field(max_length=20)]] | None = None
    notes: dict[str, Annotated[str, Field(max_length=200)]] | None = None
    self_score: Points | None = None


class ReasonIn(Schema):
    reason: str = Field(..., max_length=TEXT_MAX)


class CorrectionIn(Schema):
    values: dict[str, Any]
    reason: str = Field(..., max_length=TEXT_MAX)
    units: dict[str, Annotated[str, Field(max_length=20)]] | None = None
    notes: dict[str, Annotated[str, Field(max_length=200)]] | None = None


class ValueOut(Schema):
    indicator: str
    name: str
    unit: str
    value: str
    note: str


class EvidenceOut(Schema):
    id: int
    name: str
    url: str


class CompetitionReportOut(Schema):
    id: int
    participant_id: int
    participant_code: str = Field(description=CODE_DOC)
    period_id: int
    version: int
    is_current: bool
    state: str
    self_score: str | None
    values: list[ValueOut]
    evidence: list[EvidenceOut]
    submitted_at: dt.datetime | None
    verified_at: dt.datetime | None
    verified_by_id: int | None
    return_reason: str
    supersedes_id: int | None
    corrected_by_id: int | None
    corrected_at: dt.datetime | None
    correction_reason: str


class ReportImportOut(Schema):
    reports: int
    values: int


class SnapshotOut(Schema):
    id: int
    period_id: int
    number: int
    rules_hash: str
    content_hash: str
    computed_at: dt.datetime
    published_at: dt.datetime | None
    row_count: int


class RowOut(Schema):
    participant_id: int
    code: str = Field(description=CODE_DOC)
    name: str
    phone: str | None = Field(description=PHONE_DOC)
    bracket_id: int | None
    bracket: str | None
    position: int
    rank: int
    total: str
    bonus: str
    penalty: str
    vetoed: bool
    self_score: str | None
    values: dict[str, list[str | None]]


class ChangeOut(Schema):
    participant_id: int
    code: str = Field(description=CODE_DOC)
    name: str
    old_rank: int | None
    new_rank: int | None
    moved: int | None
    old_total: str | None
    new_total: str | None
    values: dict[str, list[str | None]]


class DiffOut(Schema):
    old_id: int
    new_id: int
    rules_changed: bool
    changes: list[ChangeOut]


class AwardOut(Schema):
    participant_id: int
    code: str = Field(description=CODE_DOC)
    name: str
    bracket_id: int | None
    rank: int
    amount: str | None


class NoteOut(Schema):
    id: int
    author_id: int | None
    text: str
    created_at: dt.datetime


class HelpOut(Schema):
    id: int
    participant_id: int
    code: str = Field(description=CODE_DOC)
    name: str
    rank: int
    helper_organization_id: int | None
    helper_user_id: int | None
    action_plan: str
    notes: list[NoteOut]
    moved_up: bool | None


class HelpIn(Schema):
    helper_organization_id: Id | None = None
    helper_user_id: Id | None = None
    action_plan: str = Field("", max_length=TEXT_MAX)


class NoteIn(Schema):
    text: str = Field(..., max_length=TEXT_MAX)


class TitleIn(Schema):
    participant_id: Id
    name: str = Field("", max_length=100)
    citation: str = Field("", max_length=TEXT_MAX)


class TitleOut(Schema):
    id: int
    participant_id: int
    name: str
    rank: int
    citation: str
    state: str
    certificate_code: str
    certificate_url: str | None


class LineOut(Schema):
    code: str
    name: str
    unit: str
    rule: str
    weight: str
    value: str | None
    points: str
    contribution: str
    bracket_average: str
    versus_average: str
    previous: str | None
    change: str | None


class ScorecardOut(Schema):
    snapshot_id: int
    participant_id: int
    rank: int
    total: str
    vetoed: bool
    lines: list[LineOut]
    strongest: str | None
    weakest: str | None
    ahead_participant_id: int | None
    ahead_rank: int | None
    gap: str | None
    best_lever: str | None
    lever_value_needed: str | None


class TrendOut(Schema):
    period_id: int
    period_key: str
    period_label: str
    snapshot_id: int
    total: str
    rank: int
    of: int
    vetoed: bool


class TableIndicatorOut(Schema):
    code: str
    name: str
    unit: str
    rule: str
    source: str
    direction: str
    weight: str


class TableCompetitionOut(Schema):
    id: int
    name: str
    participant_kind: str
    period_kind: str
    weight_total: str
    weights_ok: bool
    indicators: list[TableIndicatorOut]


class TableCategoryOut(Schema):
    id: int
    name: str
    competitions: list[TableCompetitionOut]


class TableOut(Schema):
    program_id: int
    name: str
    total_weight: str
    categories: list[TableCategoryOut]


class SnapshotVerifyOut(Schema):
    snapshot_id: int
    content_hash: str
    verified: bool = Field(
        description="Whether the stored rules and rows give the snapshot's hashes again."
    )
