from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from saidao.core.api_types import TEXT_MAX, Count, Id, Position, SmallCount
from saidao.core.errors import NotFound
from saidao.orgs.selectors import organization_get_for_officer

from . import selectors, services
from .models import Campaign, Phase, Theme

router = Router(tags=["campaigns"])


class PhaseOut(Schema):
    id: int
    position: int
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    entries_open: bool
    likes_open: bool
    quiz_open: bool
    override: str


class SwitchesOut(Schema):
    at: dt.datetime
    entries_open: bool
    likes_open: bool
    quiz_open: bool
    next_opening: dict[str, dt.datetime]


class ThemeOut(Schema):
    """A theme; an entry names it by ``id`` (``theme_id``)."""

    id: int
    position: int
    title: str


class CampaignOut(Schema):
    id: int
    slug: str
    title: str
    description: str
    rules: str
    organizer_id: int
    organizer_name: str
    status: str
    themes: list[ThemeOut]
    entry_form: dict[str, str]
    entries_per_worker: int
    max_video_seconds: int
    max_file_mb: int
    phases: list[PhaseOut]

    @staticmethod
    def resolve_organizer_name(obj: Campaign) -> str:
        return obj.organizer.name

    @staticmethod
    def resolve_themes(obj: Campaign) -> list[Theme]:
        return list(obj.themes.all())

    @staticmethod
    def resolve_phases(obj: Campaign) -> list[Phase]:
        return list(obj.phases.all())


class CampaignDetailOut(CampaignOut):
    switches: SwitchesOut
    contest_id: int | None = Field(
        description="The campaign's knowledge contest (`/quiz/contests/{contest_id}`), if any."
    )

    @staticmethod
    def resolve_contest_id(obj: Campaign) -> int | None:
        return selectors.campaign_contest_id(campaign=obj)

    @staticmethod
    def resolve_switches(obj: Campaign) -> SwitchesOut:
        s = selectors.campaign_switches(campaign=obj)
        return SwitchesOut(
            at=s.at,
            entries_open=s.entries_open,
            likes_open=s.likes_open,
            quiz_open=s.quiz_open,
            next_opening=s.next_opening,
        )


class PhaseIn(Schema):
    kind: str = Field(..., max_length=16)
    title: str = Field(..., max_length=60)
    starts_at: dt.datetime
    ends_at: dt.datetime
    entries_open: bool = False
    likes_open: bool = False
    quiz_open: bool = False


class CampaignIn(Schema):
    organizer_id: Id
    slug: str = Field(..., max_length=64)
    title: str = Field(..., max_length=120)
    description: str = Field("", max_length=TEXT_MAX)
    rules: str = Field("", max_length=TEXT_MAX)
    themes: list[Annotated[str, Field(max_length=200)]] = Field([], max_length=100)
    phases: list[PhaseIn] = Field([], max_length=20)
    entry_form: dict[str, Annotated[str, Field(max_length=200)]] = {}
    entries_per_worker: SmallCount = 1
    max_video_seconds: Count = 120
    max_file_mb: Count = 500
    publish: bool = False


class OverrideIn(Schema):
    override: str = Field(..., max_length=8)
    reason: str = Field("", max_length=200)


@router.get("/campaigns", response=list[CampaignOut], auth=None)
def campaigns_list(request: HttpRequest) -> Any:
    """Published campaigns, newest first."""
    return list(selectors.campaigns_published()[:100])


@router.get("/campaigns/{slug}", response=CampaignDetailOut, auth=None)
def campaigns_detail(request: HttpRequest, slug: str) -> Campaign:
    """A published campaign with its phases and the switches as they are now."""
    return selectors.campaign_get_published(slug=slug)


@router.post("/campaigns", response={201: CampaignOut})
def campaigns_create(request: HttpRequest, payload: CampaignIn) -> Status[Campaign]:
    organizer = organization_get_for_officer(user=request.user, pk=payload.organizer_id)
    campaign = services.campaign_create(
        actor=request.user,
        organizer=organizer,
        slug=payload.slug,
        title=payload.title,
        description=payload.description,
        rules=payload.rules,
        themes=payload.themes,
        phases=[services.PhaseSpec(**p.dict()) for p in payload.phases],
        entry_form=payload.entry_form,
        entries_per_worker=payload.entries_per_worker,
        max_video_seconds=payload.max_video_seconds,
        max_file_mb=payload.max_file_mb,
        publish=payload.publish,
    )
    return Status(201, campaign)


@router.post("/campaigns/{slug}/phases/{position}/override", response=PhaseOut)
def campaigns_phase_override(
    request: HttpRequest, slug: str, position: Position, payload: OverrideIn
) -> Phase:
    """Force a phase open or closed, or back to its dates (audited)."""
    campaign = selectors.campaigns_for_officer(user=request.user).filter(slug=slug).first()
    phase = campaign.phases.filter(position=position).first() if campaign else None
    if phase is None:
        raise NotFound()
    return services.phase_override(
        actor=request.user, phase=phase, override=payload.override, reason=payload.reason
    )
