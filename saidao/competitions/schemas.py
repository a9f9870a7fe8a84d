"""API schemas of labor competitions (decimals travel as strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

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
    organization_id: int
    name: str
    year: int | None = None
    total_weight: Decimal = Decimal(100)
    description: str = ""


class ProgramOut(Schema):
    id: int
    name: str
    year: int | None
    organization_id: int
    organization_name: str
    total_weight: str
    status: str
    description: str


class RoleIn(Schema):
    user_id: int
    kind: str
    organization_id: int


class RoleOut(Schema):
    id: int
    user_id: int
    kind: str
    organization_id: int


class CategoryIn(Schema):
    name: str
    position: int | None = None
    description: str = ""


class CategoryOut(Schema):
    id: int
    name: str
    position: int
    description: str


class CompetitionIn(Schema):
    name: str
    participant_kind: str
    period_kind: str
    description: str = ""
    self_score_enabled: bool = False
    award_top_n: int | None = None
    award_top_percent: int | None = None
    bonus_pool: Decimal | None = None
    bonus_rule: str = "none"
    bonus_shares: list[Decimal] | None = None
    help_bottom_n: int = 0
    title_name: str = ""


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
    name: str
    position: int | None = None


class BracketOut(Schema):
    id: int
    name: str
    position: int


class IndicatorIn(Schema):
    code: str
    name: str
    rule: str
    unit: str = ""
    direction: str = "higher"
    source: str = "reported"
    formula: str = ""
    count_source: str = ""
    count_param: str = ""
    required: bool = True
    weight: Decimal = Decimal(0)
    target: Decimal | None = None
    full_marks: Decimal = Decimal(100)
    cap: Decimal | None = None
    floor: Decimal = Decimal(0)
    rank_first: Decimal | None = None
    rank_step: Decimal | None = None
    bands: list[list[Decimal]] | None = None
    per_unit: Decimal | None = None
    veto_threshold: Decimal | None = None


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
    organization_id: int | None = None
    user_id: int | None = None
    code: str = ""
    name: str = ""
    bracket_id: int | None = None


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
    key: str
    label: str = ""
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
    state: str


class ReportIn(Schema):
    participant_id: int
    period_id: int
    values: dict[str, Any]
    units: dict[str, str] | None = None
    notes: dict[str, str] | None = None
    self_score: Decimal | None = None


class ReasonIn(Schema):
    reason: str


class CorrectionIn(Schema):
    values: dict[str, Any]
    reason: str
    units: dict[str, str] | None = None
    notes: dict[str, str] | None = None


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


class ReportOut(Schema):
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


class ImportOut(Schema):
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
    helper_organization_id: int | None = None
    helper_user_id: int | None = None
    action_plan: str = ""


class NoteIn(Schema):
    text: str


class TitleIn(Schema):
    participant_id: int
    name: str = ""
    citation: str = ""


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


class VerifyOut(Schema):
    snapshot_id: int
    content_hash: str
    verified: bool = Field(
        description="Whether the stored rules and rows give the snapshot's hashes again."
    )
