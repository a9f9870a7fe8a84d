"""Reads of entries: the worker's own, the review queue in the reviewer's subtree, the public
gallery, and counts per zone and organization for officers."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from saidao.accounts.selectors import membership_current
from saidao.campaigns.errors import OutsideCampaignScope
from saidao.campaigns.models import Campaign
from saidao.campaigns.selectors import campaign_require_member
from saidao.core.errors import NotFound
from saidao.orgs.models import Organization, Role
from saidao.orgs.selectors import role_paths, scope_q, subtree_q

from .errors import EntryNotPublic
from .models import Entry, Report

REVIEW_KINDS = (Role.Kind.OFFICER, Role.Kind.REVIEWER)
_RELATED = ("campaign__organizer", "worker", "organization", "zone_city", "zone_province", "theme")


def entries_of_worker(*, worker: Any, campaign: Campaign | None = None) -> QuerySet[Entry]:
    qs = Entry.objects.filter(worker=worker).select_related(*_RELATED)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.order_by("-created_at", "-id")


def entry_get_for_worker(*, worker: Any, pk: int) -> Entry:
    entry = entries_of_worker(worker=worker).filter(pk=pk).first()
    if entry is None:
        raise NotFound(detail={"entry": pk})
    return entry


def entries_for_reviewer(
    *, user: Any, campaign: Campaign | None = None, status: str | None = None
) -> QuerySet[Entry]:
    """Entries of organizations in the subtrees where ``user`` is an officer or reviewer.

    Entries hidden by reports come back to the queue with those waiting for review.
    """
    paths = role_paths(user=user, kinds=REVIEW_KINDS)
    qs = Entry.objects.filter(scope_q(paths, field="organization__path")).select_related(*_RELATED)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if status == "queue":
        qs = qs.filter(
            Q(status=Entry.Status.PENDING_REVIEW) | Q(status=Entry.Status.APPROVED, hidden=True)
        )
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


def _with_reports(qs: QuerySet[Entry]) -> QuerySet[Entry]:
    """Each entry's reports, oldest first, with their reporters, for the reviewers."""
    reports = Report.objects.select_related("reporter").order_by("created_at", "id")
    return qs.prefetch_related(Prefetch("reports", queryset=reports))


def review_queue(*, user: Any, campaign: Campaign | None = None) -> QuerySet[Entry]:
    """The reviewer's queue (see ``entries_for_reviewer``) with the reports of each entry."""
    return _with_reports(entries_for_reviewer(user=user, campaign=campaign, status="queue"))


def entry_get_for_reviewer(*, user: Any, pk: int) -> Entry:
    entry = _with_reports(entries_for_reviewer(user=user)).filter(pk=pk).first()
    if entry is None:
        raise NotFound(detail={"entry": pk})
    return entry


def campaign_member(*, user: Any, campaign: Campaign) -> bool:
    """Whether ``user`` may like and report in ``campaign``: a current member of a union in
    its organizer's subtree, the same rule as for submitting an entry."""
    if not getattr(user, "is_authenticated", False):
        return False
    membership = membership_current(user=user)
    try:
        campaign_require_member(
            campaign=campaign, organization=membership.organization if membership else None
        )
    except OutsideCampaignScope:
        return False
    return True


def gallery(
    *,
    campaign: Campaign,
    zone_province: str | None = None,
    zone_city: str | None = None,
    theme: int | None = None,
    organization: int | None = None,
) -> QuerySet[Entry]:
    """Approved, visible entries, newest first, filtered by zone, theme and organization."""
    qs = Entry.objects.filter(campaign=campaign, status=Entry.Status.APPROVED, hidden=False)
    if zone_province:
        qs = qs.filter(zone_province_id=zone_province)
    if zone_city:
        qs = qs.filter(zone_city_id=zone_city)
    if theme:
        qs = qs.filter(theme_id=theme)
    if organization:
        qs = qs.filter(organization_id=organization)
    return qs.select_related(*_RELATED).order_by("-reviewed_at", "-id")


def entry_get_public(*, pk: int) -> Entry:
    entry = (
        Entry.objects.filter(pk=pk, status=Entry.Status.APPROVED, hidden=False)
        .select_related(*_RELATED)
        .first()
    )
    if entry is None:
        raise EntryNotPublic(detail={"entry": pk})
    return entry


def entry_media_visible(*, user: Any, name: str) -> bool:
    """Whether ``user`` may fetch the video or poster stored as ``name``: anyone once an entry
    showing it is public; before that its author and the reviewers of its part of the tree."""
    qs = Entry.objects.filter(Q(video=name) | Q(poster=name))
    if qs.filter(status=Entry.Status.APPROVED, hidden=False).exists():
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if qs.filter(worker=user).exists():
        return True
    paths = role_paths(user=user, kinds=REVIEW_KINDS)
    return qs.filter(scope_q(paths, field="organization__path")).exists()


def entry_counts_by_zone(*, user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """Entries per city zone within the officer's subtrees: received, valid and approved."""
    qs = entries_for_reviewer(user=user, campaign=campaign).order_by()
    rows = (
        qs.values("zone_province__name", "zone_city_id", "zone_city__name")
        .annotate(
            total=Count("id"),
            valid=Count(
                "id",
                filter=Q(
                    status__in=[
                        Entry.Status.PENDING_REVIEW,
                        Entry.Status.APPROVED,
                        Entry.Status.REJECTED,
                    ]
                ),
            ),
            approved=Count("id", filter=Q(status=Entry.Status.APPROVED)),
        )
        .order_by("-total", "zone_city_id")
    )
    return [dict(r) for r in rows]


def entry_counts_by_organization(*, user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    qs = entries_for_reviewer(user=user, campaign=campaign).order_by()
    rows = (
        qs.values("organization_id", "organization__name")
        .annotate(
            total=Count("id"),
            approved=Count("id", filter=Q(status=Entry.Status.APPROVED)),
        )
        .order_by("-total", "organization_id")
    )
    return [dict(r) for r in rows]


def latest_for_screen(campaign: Campaign, root: Organization, limit: int) -> list[dict[str, Any]]:
    """The latest approved entries under ``root`` for the big screen."""
    qs = gallery(campaign=campaign)
    if root.pk != campaign.organizer_id:
        qs = qs.filter(subtree_q(root.path, field="organization__path"))
    return [
        {
            "id": e.pk,
            "title": e.title,
            "city": e.zone_city.name,
            "org": e.organization.name,
            "poster": e.poster.url if e.poster else "",
        }
        for e in qs[:limit]
    ]
