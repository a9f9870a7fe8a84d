from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from saidao.accounts.models import User
from saidao.campaigns.models import Theme
from saidao.campaigns.selectors import campaign_get_published
from saidao.core.api_types import TEXT_MAX, Id, paged
from saidao.core.errors import InvalidInput, NotFound
from saidao.regions.models import Region
from saidao.uploads.models import Upload

from . import selectors, services
from .models import Entry, Report

router = Router(tags=["entries"])


class EntryIn(Schema):
    upload_id: uuid.UUID
    real_name: str = Field("", max_length=50)
    mobile: str = Field("", max_length=20)
    employer: str = Field("", max_length=100)
    position: str = Field("", max_length=50)
    province: str = Field("", max_length=6)
    city: str = Field("", max_length=6)
    theme_id: Id | None = None
    title: str = Field("", max_length=60)
    description: str = Field("", max_length=TEXT_MAX)
    consent_publish: bool


class EntryOut(Schema):
    id: int
    campaign: str
    status: str
    title: str
    zone_province: str
    zone_city: str
    organization_id: int
    theme_id: int | None
    duration_s: float | None
    invalid_code: str
    invalid_message: str
    rejection_reason: str
    poster_url: str | None
    created_at: dt.datetime

    @staticmethod
    def resolve_campaign(obj: Entry) -> str:
        return obj.campaign.slug

    @staticmethod
    def resolve_zone_province(obj: Entry) -> str:
        return obj.zone_province_id

    @staticmethod
    def resolve_zone_city(obj: Entry) -> str:
        return obj.zone_city_id

    @staticmethod
    def resolve_poster_url(obj: Entry) -> str | None:
        return obj.poster.url if obj.poster else None


class PublicEntryOut(Schema):
    id: int
    title: str
    description: str
    author: str
    employer: str
    zone_province_name: str
    zone_city_name: str
    organization_name: str
    theme: str | None
    likes: int
    video_url: str
    poster_url: str | None

    @staticmethod
    def resolve_author(obj: Entry) -> str:
        return obj.real_name

    @staticmethod
    def resolve_zone_province_name(obj: Entry) -> str:
        return obj.zone_province.name

    @staticmethod
    def resolve_zone_city_name(obj: Entry) -> str:
        return obj.zone_city.name

    @staticmethod
    def resolve_organization_name(obj: Entry) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_theme(obj: Entry) -> str | None:
        return obj.theme.title if obj.theme else None

    @staticmethod
    def resolve_likes(obj: Entry) -> int:
        return obj.likes_count

    @staticmethod
    def resolve_video_url(obj: Entry) -> str:
        return obj.video.url if obj.video else ""

    @staticmethod
    def resolve_poster_url(obj: Entry) -> str | None:
        return obj.poster.url if obj.poster else None


class EntryReportOut(Schema):
    """A report as a reviewer sees it: the reporter's phone is masked."""

    id: int
    reporter_name: str
    reporter_phone: str
    counted: bool
    reason: str
    reason_label: str
    note: str
    created_at: dt.datetime
    resolved_at: dt.datetime | None

    @staticmethod
    def resolve_reporter_name(obj: Report) -> str:
        return obj.reporter.real_name

    @staticmethod
    def resolve_reporter_phone(obj: Report) -> str:
        return obj.reporter_phone_masked

    @staticmethod
    def resolve_reason_label(obj: Report) -> str:
        return str(obj.get_reason_display())


class ReviewEntryOut(EntryOut):
    """An entry in review with its reports; ``reports_count`` counts the open ones that count
    toward hiding."""

    hidden: bool
    reports_count: int
    reports: list[EntryReportOut]

    @staticmethod
    def resolve_reports(obj: Entry) -> list[Report]:
        return list(obj.reports.all())


class EntryReportIn(Schema):
    reason: str = Field(..., max_length=20)
    note: str = Field("", max_length=200)


class ReviewIn(Schema):
    entry_ids: list[Id]
    approve: bool
    reason: str = Field("", max_length=200)


class LikeOut(Schema):
    added: bool
    likes: int


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _region(code: str) -> Region | None:
    return Region.objects.filter(code=code).first() if code else None


@router.post("/campaigns/{slug}/entries", response={201: EntryOut})
def entries_submit(request: HttpRequest, slug: str, payload: EntryIn) -> Status[Entry]:
    """Submit an entry with an upload (finished, or still in progress: it is processed when
    the upload completes)."""
    campaign = campaign_get_published(slug=slug)
    worker = _user(request)
    upload = Upload.objects.filter(pk=payload.upload_id, owner=worker).first()
    if upload is None:
        raise InvalidInput.for_field("upload_id", _("请先上传作品视频。"))
    theme = (
        Theme.objects.filter(pk=payload.theme_id, campaign=campaign).first()
        if payload.theme_id
        else None
    )
    entry = services.entry_submit(
        campaign=campaign,
        worker=worker,
        real_name=payload.real_name,
        mobile=payload.mobile,
        employer=payload.employer,
        position=payload.position,
        province=_region(payload.province),
        city=_region(payload.city),
        theme=theme,
        title=payload.title,
        description=payload.description,
        consent_publish=payload.consent_publish,
        upload=upload,
    )
    return Status(201, entry)


@router.get("/entries/mine", response=list[EntryOut])
def entries_mine(request: HttpRequest) -> Any:
    return list(selectors.entries_of_worker(worker=_user(request)))


@router.get("/entries/{entry_id}", response=EntryOut)
def entries_detail(request: HttpRequest, entry_id: Id) -> Entry:
    """The caller's own entry and its processing state."""
    return selectors.entry_get_for_worker(worker=_user(request), pk=entry_id)


@router.get("/campaigns/{slug}/gallery", response=list[PublicEntryOut], auth=None)
@paged
def entries_gallery(
    request: HttpRequest,
    slug: str,
    province: str | None = None,
    city: str | None = None,
    theme: Id | None = None,
    org: Id | None = None,
) -> Any:
    """Approved entries on show, filtered by zone, theme and organization."""
    return selectors.gallery(
        campaign=campaign_get_published(slug=slug),
        zone_province=province,
        zone_city=city,
        theme=theme,
        organization=org,
    )


@router.get("/gallery/{entry_id}", response=PublicEntryOut, auth=None)
def entries_public(request: HttpRequest, entry_id: Id) -> Entry:
    return selectors.entry_get_public(pk=entry_id)


@router.post("/gallery/{entry_id}/like", response=LikeOut)
def entries_like(request: HttpRequest, entry_id: Id) -> LikeOut:
    entry = selectors.entry_get_public(pk=entry_id)
    added = services.entry_like(worker=_user(request), entry=entry)
    entry.refresh_from_db(fields=["likes_count"])
    return LikeOut(added=added, likes=entry.likes_count)


@router.post("/gallery/{entry_id}/report", response={201: None})
def entries_report(request: HttpRequest, entry_id: Id, payload: EntryReportIn) -> Status[None]:
    entry = selectors.entry_get_public(pk=entry_id)
    services.entry_report(
        reporter=_user(request), entry=entry, reason=payload.reason, note=payload.note
    )
    return Status(201, None)


@router.get("/review", response=list[ReviewEntryOut])
@paged
def review_queue(request: HttpRequest, campaign: str | None = None) -> Any:
    """Entries waiting for review (or hidden by reports) in the caller's subtree, each with
    its reports: who reported (phone masked), whether the report counted toward hiding, the
    reason, the note and the time."""
    c = campaign_get_published(slug=campaign) if campaign else None
    return selectors.review_queue(user=request.user, campaign=c)


@router.get("/review/{entry_id}", response=ReviewEntryOut)
def review_entry(request: HttpRequest, entry_id: Id) -> Entry:
    """One entry of the caller's subtree with its reports, as in the queue."""
    return selectors.entry_get_for_reviewer(user=request.user, pk=entry_id)


@router.post("/review", response=list[EntryOut])
def review_decide(request: HttpRequest, payload: ReviewIn) -> Any:
    """Approve or reject entries in bulk; each must lie in the caller's subtree."""
    entries = list(
        selectors.entries_for_reviewer(user=request.user).filter(pk__in=payload.entry_ids)
    )
    missing = set(payload.entry_ids) - {e.pk for e in entries}
    if missing:
        raise NotFound(detail={"entries": sorted(missing)})
    return services.entries_review(
        actor=request.user, entries=entries, approve=payload.approve, reason=payload.reason
    )


@router.get("/campaigns/{slug}/entry-stats")
def entries_stats(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Entries per zone and per organization within the caller's subtree."""
    campaign = campaign_get_published(slug=slug)
    return {
        "zones": selectors.entry_counts_by_zone(user=request.user, campaign=campaign),
        "organizations": selectors.entry_counts_by_organization(
            user=request.user, campaign=campaign
        ),
    }
