"""Signed, revocable, read-only links to a big screen, and who may see which screen.

A link carries a random token (256 bits, URL-safe); only its SHA-256 is stored, so the database
never holds a usable link. Revoking stamps ``revoked_at`` and the link answers 404 at once.

Who sees a screen (or its stream): an officer whose scope covers the organization shown (by
default the campaign's organizer, or the officer's own subtree inside it; ``?org=<id>`` picks
another organization of their scope inside the organizer's subtree), or anyone holding a live
link, which shows the link's organization and nothing else. Everything else is 404.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.services import audit_record
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, path_in_scope, scope_q

from .models import ScreenLink


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def screen_link_create(
    *, actor: Any, campaign: Campaign, organization: Organization, label: str = ""
) -> tuple[ScreenLink, str]:
    """A new link for ``organization``'s screen; returns the link and its token (shown once)."""
    if not path_in_scope(path=organization.path, paths=officer_paths(user=actor)):
        raise OutsideScope(detail={"organization": organization.pk})
    if not organization.path.startswith(campaign.organizer.path):
        raise InvalidInput.for_field("organization", _("该组织不在本活动的范围内。"))
    token = secrets.token_urlsafe(32)
    link = ScreenLink.objects.create(
        token_hash=token_hash(token),
        campaign=campaign,
        organization=organization,
        label=label.strip()[:60],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="screen_link.create",
        target=link,
        data={"campaign": campaign.pk, "organization": organization.pk},
    )
    return link, token


def screen_link_revoke(*, actor: Any, link: ScreenLink) -> ScreenLink:
    if not path_in_scope(path=link.organization.path, paths=officer_paths(user=actor)):
        raise NotFound(detail={"link": link.pk})
    if link.revoked_at is None:
        link.revoked_at = clock.now()
        link.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="screen_link.revoke", target=link, data={})
    return link


def screen_links_for_officer(*, user: Any, campaign: Campaign) -> QuerySet[ScreenLink]:
    return (
        ScreenLink.objects.filter(
            scope_q(officer_paths(user=user), field="organization__path"), campaign=campaign
        )
        .select_related("organization", "created_by")
        .order_by("-created_at", "-id")
    )


def screen_link_get_for_officer(*, user: Any, pk: int) -> ScreenLink:
    link = (
        ScreenLink.objects.filter(scope_q(officer_paths(user=user), field="organization__path"))
        .select_related("organization")
        .filter(pk=pk)
        .first()
    )
    if link is None:
        raise NotFound(detail={"link": pk})
    return link


@dataclass(frozen=True)
class ScreenView:
    """What a screen shows: a campaign, seen from one organization's subtree."""

    campaign: Campaign
    root: Organization
    link: ScreenLink | None = None


def officer_default_root(*, user: Any, campaign: Campaign) -> Organization | None:
    """The organizer if the officer covers it, else the officer's highest subtree inside it."""
    paths = officer_paths(user=user)
    if path_in_scope(path=campaign.organizer.path, paths=paths):
        return campaign.organizer
    inside = sorted(
        (p for p in paths if p.startswith(campaign.organizer.path)), key=lambda p: (len(p), p)
    )
    return Organization.objects.filter(path=inside[0]).first() if inside else None


def screen_view_resolve(
    *, user: Any, campaign_id: int, org_id: int | None = None, token: str | None = None
) -> ScreenView:
    """The screen a request may see, or NotFound (never a hint of what exists)."""
    campaign = Campaign.objects.select_related("organizer").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(detail={"campaign": campaign_id})
    if token:
        link = (
            ScreenLink.objects.select_related("organization")
            .filter(token_hash=token_hash(token), campaign=campaign, revoked_at__isnull=True)
            .first()
        )
        if link is None:
            raise NotFound(detail={"campaign": campaign_id})
        return ScreenView(campaign=campaign, root=link.organization, link=link)
    if user is None or not user.is_authenticated:
        raise NotFound(detail={"campaign": campaign_id})
    if org_id is None:
        root = officer_default_root(user=user, campaign=campaign)
    else:
        root = Organization.objects.filter(pk=org_id).first()
    if (
        root is None
        or not path_in_scope(path=root.path, paths=officer_paths(user=user))
        or not root.path.startswith(campaign.organizer.path)
    ):
        raise NotFound(detail={"campaign": campaign_id})
    return ScreenView(campaign=campaign, root=root)
