"""Pages of the live leaderboard: the big screen (数据大屏) and its event stream, the officer's
own standing, and the read-only links to a screen."""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core.errors import NotFound, SaidaoError
from saidao.core.links import absolute_url
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, organizations_for_officer, path_in_scope

from . import live, selectors, services
from .links import (
    ScreenView,
    screen_link_create,
    screen_link_get_for_officer,
    screen_link_revoke,
    screen_links_for_officer,
    screen_view_resolve,
)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404 from None


def _resolve(request: HttpRequest, campaign_id: int) -> ScreenView:
    try:
        return screen_view_resolve(
            user=request.user,
            campaign_id=campaign_id,
            org_id=_int(request.GET.get("org")),
            token=request.GET.get("t") or None,
        )
    except NotFound:
        raise Http404 from None


def screen(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The 1920x1080 big screen; its script follows the event stream and never reloads."""
    view = _resolve(request, campaign_id)
    query: dict[str, str] = {}
    if view.link is not None:
        query["t"] = request.GET["t"]
    elif request.GET.get("org"):
        query["org"] = str(view.root.pk)
    stream_url = reverse("leaderboards:stream", args=[campaign_id])
    if query:
        stream_url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    snapshot = json.loads(
        live.snapshot_json(
            campaign_id=view.campaign.pk, root_id=view.root.pk, seq=live.hub.seq(view.campaign.pk)
        )
    )
    response = render(
        request,
        "leaderboards/screen.html",
        {"view": view, "stream_url": stream_url, "snapshot": snapshot},
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the link's token must not leak onwards
    return response


async def stream(request: HttpRequest, campaign_id: int) -> StreamingHttpResponse:
    """Server-sent events of one screen: a snapshot now and after each flush (at most twice a
    second), a heartbeat comment every 15 s."""

    def resolve() -> ScreenView:
        return _resolve(request, campaign_id)

    view = await sync_to_async(resolve)()
    content: Any
    if isinstance(request, ASGIRequest):
        content = live.stream_async(campaign_id=view.campaign.pk, root_id=view.root.pk)
    else:  # a WSGI server would buffer an async iterator whole
        content = live.stream_sync(campaign_id=view.campaign.pk, root_id=view.root.pk)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def _officer_view(request: HttpRequest, campaign_id: int) -> ScreenView:
    """An officer's view (never a link's) of a campaign, 404 outside their scope."""
    try:
        return screen_view_resolve(
            user=request.user, campaign_id=campaign_id, org_id=_int(request.GET.get("org"))
        )
    except NotFound:
        raise Http404 from None


@login_required
def mine(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """My organization's rank among its siblings, and my sub-organizations by rate, worst first."""
    view = _officer_view(request, campaign_id)
    campaign, org = view.campaign, view.root
    rank = selectors.rank_of(campaign=campaign, organization=org, among="siblings")
    children = selectors.children_by_rate(campaign=campaign, parent=org)
    counted = {r.organization_id for r in children}
    others = [
        c for c in Organization.objects.filter(parent=org).order_by("path") if c.pk not in counted
    ]
    members = selectors.members_of(campaign=campaign, organization_ids=[c.pk for c in others])
    unranked = [(c, members.get(c.pk, 0)) for c in others]
    scope = [
        o
        for o in organizations_for_officer(user=request.user).order_by("path")[:200]
        if o.path.startswith(campaign.organizer.path)
    ]
    can_refresh = path_in_scope(
        path=campaign.organizer.path, paths=officer_paths(user=request.user)
    )
    return render(
        request,
        "leaderboards/mine.html",
        {
            "campaign": campaign,
            "org": org,
            "rank": rank,
            "children": children,
            "unranked": unranked,
            "scope": scope,
            "can_refresh": can_refresh,
            "min_members": settings.SAIDAO_RATE_MIN_MEMBERS,
        },
    )


@login_required
@require_POST
def snapshot_refresh(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Freeze the member counts again (audited); officers of the organizer only."""
    view = _officer_view(request, campaign_id)
    try:
        n = services.member_snapshot_take(campaign=view.campaign, actor=request.user)
    except SaidaoError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("已更新会员数快照：%(n)d 个组织。") % {"n": n})
    return redirect(reverse("leaderboards:mine", args=[campaign_id]))


@login_required
def links(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Read-only links to the big screen: create one for an organization of my scope, revoke."""
    view = _officer_view(request, campaign_id)
    campaign = view.campaign
    if request.method == "POST":
        org = (
            organizations_for_officer(user=request.user)
            .filter(pk=_int(request.POST.get("organization")) or view.root.pk)
            .first()
        )
        if org is None:
            raise Http404
        try:
            _link, token = screen_link_create(
                actor=request.user,
                campaign=campaign,
                organization=org,
                label=request.POST.get("label", ""),
            )
        except SaidaoError as e:
            messages.error(request, str(e.message))
        else:
            url = absolute_url(
                request, reverse("leaderboards:screen", args=[campaign.pk]) + f"?t={token}"
            )
            messages.success(
                request, _("链接已生成，只显示这一次，请复制保存：%(url)s") % {"url": url}
            )
        return redirect(reverse("leaderboards:links", args=[campaign.pk]))
    scope = [
        o
        for o in organizations_for_officer(user=request.user).order_by("path")[:200]
        if o.path.startswith(campaign.organizer.path)
    ]
    return render(
        request,
        "leaderboards/links.html",
        {
            "campaign": campaign,
            "root": view.root,
            "scope": scope,
            "links": screen_links_for_officer(user=request.user, campaign=campaign)[:100],
        },
    )


@login_required
@require_POST
def link_revoke(request: HttpRequest, campaign_id: int, pk: int) -> HttpResponse:
    try:
        link = screen_link_get_for_officer(user=request.user, pk=pk)
        screen_link_revoke(actor=request.user, link=link)
    except NotFound:
        raise Http404 from None
    messages.success(request, _("链接已撤销，立即失效。"))
    return redirect(reverse("leaderboards:links", args=[campaign_id]))
