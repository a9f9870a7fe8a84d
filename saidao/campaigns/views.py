from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core.errors import NotFound, SaidaoError

from . import selectors, services
from .errors import CampaignNotPublished
from .models import Campaign, Phase


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign page: phase timeline, themes, rules, and what is open now."""
    try:
        campaign = selectors.campaign_get_published(slug=slug)
    except CampaignNotPublished:
        raise Http404 from None
    switches = selectors.campaign_switches(campaign=campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "timeline": selectors.campaign_timeline(campaign=campaign, at=switches.at),
            "switches": switches,
        },
    )


def _officer_campaign(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign_get_for_officer(user=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
def officer_list(request: HttpRequest) -> HttpResponse:
    """Campaigns organized in my subtrees, with their phase now and links to manage them."""
    campaigns = list(selectors.campaigns_for_officer(user=request.user).order_by("-created_at"))
    rows = [(c, selectors.campaign_status_label(campaign=c)) for c in campaigns]
    return render(request, "campaigns/officer_list.html", {"rows": rows})


@login_required
def officer_campaign(request: HttpRequest, pk: int) -> HttpResponse:
    """An officer's view of a campaign in their subtree: its phases and their overrides."""
    campaign = _officer_campaign(request, pk)
    return render(
        request,
        "campaigns/officer.html",
        {
            "campaign": campaign,
            "timeline": selectors.campaign_timeline(campaign=campaign),
            "overrides": Phase.Override.choices,
        },
    )


@login_required
@require_POST
def phase_override_view(request: HttpRequest, pk: int) -> HttpResponse:
    phase = Phase.objects.filter(pk=pk).first()
    if phase is None:
        raise Http404
    campaign = _officer_campaign(request, phase.campaign_id)
    try:
        services.phase_override(
            actor=request.user,
            phase=phase,
            override=request.POST.get("override", ""),
            reason=request.POST.get("reason", ""),
        )
    except SaidaoError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("已调整“%(phase)s”。") % {"phase": phase.title})
    return redirect("campaigns:officer", pk=campaign.pk)
