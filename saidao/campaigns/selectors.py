"""Reads about campaigns: the phase switches at a moment, scope, listings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saidao.core import clock
from saidao.core.activities import ActivityCard
from saidao.core.errors import NotFound
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, path_in_scope, scope_q

from .errors import CampaignNotPublished, OutsideCampaignScope, PhaseClosed
from .models import Campaign, Phase

Switch = Literal["entries_open", "likes_open", "quiz_open"]
SWITCH_LABELS: dict[str, Any] = {
    "entries_open": gettext_lazy("作品征集"),
    "likes_open": gettext_lazy("点赞"),
    "quiz_open": gettext_lazy("知识竞赛答题"),
}


def phase_is_open(phase: Phase, at: dt.datetime) -> bool:
    if phase.override == Phase.Override.OPEN:
        return True
    if phase.override == Phase.Override.CLOSED:
        return False
    return phase.starts_at <= at < phase.ends_at


@dataclass
class Switches:
    """Which switches are on at ``at``, the phases open then, and when each switch next opens."""

    at: dt.datetime
    entries_open: bool = False
    likes_open: bool = False
    quiz_open: bool = False
    open_phases: list[Phase] = field(default_factory=list)
    next_opening: dict[str, dt.datetime] = field(default_factory=dict)
    last_closing: dict[str, dt.datetime] = field(default_factory=dict)

    def is_on(self, switch: Switch) -> bool:
        return bool(getattr(self, switch))


def campaign_switches(*, campaign: Campaign, at: dt.datetime | None = None) -> Switches:
    """Evaluate the phases (prefetched or fetched once) at ``at`` (now by default)."""
    at = at or clock.now()
    result = Switches(at=at)
    for phase in campaign.phases.all():
        open_now = phase_is_open(phase, at)
        if open_now:
            result.open_phases.append(phase)
        for switch in ("entries_open", "likes_open", "quiz_open"):
            if not getattr(phase, switch):
                continue
            if open_now:
                setattr(result, switch, True)
            elif phase.override != Phase.Override.CLOSED and phase.starts_at > at:
                soonest = result.next_opening.get(switch)
                if soonest is None or phase.starts_at < soonest:
                    result.next_opening[switch] = phase.starts_at
            elif phase.ends_at <= at or phase.override == Phase.Override.CLOSED:
                latest = result.last_closing.get(switch)
                closed_at = min(phase.ends_at, at)
                if latest is None or closed_at > latest:
                    result.last_closing[switch] = closed_at
    return result


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def phase_require(*, campaign: Campaign, switch: Switch, at: dt.datetime | None = None) -> Switches:
    """Raise PhaseClosed unless ``switch`` is on, saying when it opens or that it has closed."""
    switches = campaign_switches(campaign=campaign, at=at)
    if switches.is_on(switch):
        return switches
    what = str(SWITCH_LABELS[switch])
    opens = switches.next_opening.get(switch)
    if opens is not None:
        message = _("%(what)s尚未开始，将于 %(when)s（北京时间）开放。") % {
            "what": what,
            "when": _local(opens),
        }
        detail = {"switch": switch, "opens_at": opens.isoformat()}
    else:
        closed = switches.last_closing.get(switch)
        if closed is not None:
            message = _("%(what)s已于 %(when)s（北京时间）结束。") % {
                "what": what,
                "when": _local(closed),
            }
            detail = {"switch": switch, "closed_at": closed.isoformat()}
        else:
            message = _("本活动没有安排%(what)s环节。") % {"what": what}
            detail = {"switch": switch}
    raise PhaseClosed(message, detail=detail)


def campaigns_published() -> QuerySet[Campaign]:
    """Published campaigns with organizer, phases and themes ready to render."""
    return (
        Campaign.objects.filter(status=Campaign.Status.PUBLISHED)
        .select_related("organizer")
        .prefetch_related(Prefetch("phases", queryset=Phase.objects.order_by("position")), "themes")
        .order_by("-created_at", "-id")
    )


def campaign_get_published(*, slug: str) -> Campaign:
    campaign = campaigns_published().filter(slug=slug).first()
    if campaign is None:
        raise CampaignNotPublished(detail={"campaign": slug})
    return campaign


# The knowledge contest of a campaign lives in an app above this one, which registers how to
# find it at start-up (``campaign_contest_source``), so that campaigns does not import it.
_contest_sources: list[Callable[[Campaign], int | None]] = []


def campaign_contest_source(source: Callable[[Campaign], int | None]) -> None:
    """Register a lookup of a campaign's contest id (None when it has none)."""
    if source not in _contest_sources:
        _contest_sources.append(source)


def campaign_contest_id(*, campaign: Campaign) -> int | None:
    """The id of the campaign's knowledge contest, from the first registered source that
    knows one; None without a contest (or without an app that holds contests)."""
    for source in _contest_sources:
        found = source(campaign)
        if found is not None:
            return found
    return None


def campaigns_for_officer(*, user: Any) -> QuerySet[Campaign]:
    """Campaigns organized anywhere in the officer's subtrees, drafts included."""
    return (
        Campaign.objects.filter(scope_q(officer_paths(user=user), field="organizer__path"))
        .select_related("organizer")
        .prefetch_related("phases", "themes")
    )


def campaign_get_for_officer(*, user: Any, pk: int) -> Campaign:
    campaign = campaigns_for_officer(user=user).filter(pk=pk).first()
    if campaign is None:
        raise NotFound(detail={"campaign": pk})
    return campaign


def campaign_require_member(*, campaign: Campaign, organization: Organization | None) -> None:
    """Raise unless the worker's organization lies in the organizer's subtree."""
    if organization is None or not path_in_scope(
        path=organization.path, paths=[campaign.organizer.path]
    ):
        raise OutsideCampaignScope(
            _("该活动仅面向%(org)s及其下级工会的会员。请先用邀请码加入相应的工会组织。")
            % {"org": campaign.organizer.name},
            detail={"campaign": campaign.slug},
        )


@dataclass
class TimelineItem:
    phase: Phase
    state: Literal["past", "now", "upcoming"]


def campaign_timeline(*, campaign: Campaign, at: dt.datetime | None = None) -> list[TimelineItem]:
    at = at or clock.now()
    items = []
    for phase in campaign.phases.all():
        if phase_is_open(phase, at):
            state: Literal["past", "now", "upcoming"] = "now"
        elif phase.starts_at > at and phase.override != Phase.Override.CLOSED:
            state = "upcoming"
        else:
            state = "past"
        items.append(TimelineItem(phase, state))
    return items


def campaign_status_label(*, campaign: Campaign, at: dt.datetime | None = None) -> str:
    timeline = campaign_timeline(campaign=campaign, at=at)
    current = [i.phase.title for i in timeline if i.state == "now"]
    if current:
        return " · ".join(current)
    if any(i.state == "upcoming" for i in timeline):
        return _("即将开始")
    return _("已结束")


def campaign_cards(user: Any) -> list[ActivityCard]:
    """Home-page cards: running campaigns first, then upcoming, then finished ones."""
    at = clock.now()
    cards: list[tuple[int, ActivityCard]] = []
    for c in campaigns_published()[:50]:
        timeline = campaign_timeline(campaign=c, at=at)
        rank = (
            0
            if any(i.state == "now" for i in timeline)
            else (1 if any(i.state == "upcoming" for i in timeline) else 2)
        )
        cards.append(
            (
                rank,
                ActivityCard(
                    title=c.title,
                    url=reverse("campaigns:detail", args=[c.slug]),
                    organizer=c.organizer.name,
                    status=campaign_status_label(campaign=c, at=at),
                ),
            )
        )
    return [card for _rank, card in sorted(cards, key=lambda rc: rc[0])]
