from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.accounts.models import User
from saidao.accounts.selectors import membership_current
from saidao.campaigns import selectors as campaign_selectors
from saidao.campaigns.errors import CampaignNotPublished
from saidao.campaigns.models import Campaign, Theme
from saidao.core.errors import InvalidInput, SaidaoError
from saidao.core.forms import form_add_error
from saidao.core.links import absolute_url
from saidao.regions.models import Region
from saidao.uploads.models import Upload

from . import selectors, services
from .errors import EntryNotPublic
from .forms import EntryForm, ReportForm, ReviewForm
from .models import Entry


def _campaign(slug: str) -> Campaign:
    try:
        return campaign_selectors.campaign_get_published(slug=slug)
    except CampaignNotPublished:
        raise Http404 from None


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _region(code: str | None) -> Region | None:
    return Region.objects.filter(code=code).first() if code else None


@login_required
def new(request: HttpRequest, slug: str) -> HttpResponse:
    """我要参加: the registration form with the resumable video upload."""
    campaign = _campaign(slug)
    worker = _user(request)
    switches = campaign_selectors.campaign_switches(campaign=campaign)
    membership = membership_current(user=worker)
    initial = {
        "real_name": worker.real_name,
        "mobile": worker.phone,
        "employer": worker.employer,
        "position": worker.position,
        "province": worker.province_id or "",
        "city": worker.city_id or "",
    }
    form = EntryForm(request.POST or None, campaign=campaign, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        upload_id, theme_id = d.get("upload_id"), d.get("theme")
        upload = Upload.objects.filter(pk=upload_id, owner=worker).first() if upload_id else None
        theme = Theme.objects.filter(pk=theme_id, campaign=campaign).first() if theme_id else None
        try:
            if upload is None:
                raise InvalidInput.for_field("upload_id", _("请先上传作品视频。"))
            entry = services.entry_submit(
                campaign=campaign,
                worker=worker,
                real_name=d.get("real_name") or "",
                mobile=d.get("mobile") or "",
                employer=d.get("employer") or "",
                position=d.get("position") or "",
                province=_region(d.get("province")),
                city=_region(d.get("city")),
                theme=theme,
                title=d.get("title") or "",
                description=d.get("description") or "",
                consent_publish=bool(d.get("consent_publish")),
                upload=upload,
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("作品已提交，正在检查视频。"))
            return redirect("entries:status", pk=entry.pk)
    return render(
        request,
        "entries/new.html",
        {
            "campaign": campaign,
            "form": form,
            "switches": switches,
            "membership": membership,
            "upload_value": form.data.get("upload_id", "") if form.is_bound else "",
            "upload_metadata": json.dumps({"campaign": campaign.slug}),
        },
    )


@login_required
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    entries = selectors.entries_of_worker(worker=_user(request), campaign=campaign)
    return render(request, "entries/mine.html", {"campaign": campaign, "entries": entries})


@login_required
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The worker's own entry: its state, refreshed by htmx while the video is processed."""
    try:
        entry = selectors.entry_get_for_worker(worker=_user(request), pk=pk)
    except SaidaoError:
        raise Http404 from None
    template = (
        "entries/_status.html" if request.headers.get("HX-Request") else "entries/status.html"
    )
    return render(request, template, {"entry": entry, "waiting": _waiting(entry)})


def _waiting(entry: Entry) -> bool:
    return entry.status in (
        Entry.Status.UPLOADING,
        Entry.Status.RECEIVED,
        Entry.Status.PROCESSING,
        Entry.Status.FAILED,
    )


def gallery_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The public showcase of approved entries, filtered by zone, theme and organization."""
    campaign = _campaign(slug)
    filters: dict[str, Any] = {
        "zone_province": request.GET.get("province") or None,
        "zone_city": request.GET.get("city") or None,
        "theme": int(request.GET["theme"]) if request.GET.get("theme", "").isdigit() else None,
        "organization": int(request.GET["org"]) if request.GET.get("org", "").isdigit() else None,
    }
    page = Paginator(selectors.gallery(campaign=campaign, **filters), 24).get_page(
        request.GET.get("page")
    )
    provinces = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    return render(
        request,
        "entries/gallery.html",
        {
            "campaign": campaign,
            "page": page,
            "filters": filters,
            "provinces": provinces,
            "themes": list(campaign.themes.all()),
        },
    )


def watch(request: HttpRequest, pk: int) -> HttpResponse:
    """One public entry: plays inline on phones, with like, report and a share link."""
    try:
        entry = selectors.entry_get_public(pk=pk)
    except SaidaoError:
        raise Http404 from None
    switches = campaign_selectors.campaign_switches(campaign=entry.campaign)
    liked = request.user.is_authenticated and entry.likes.filter(worker_id=request.user.pk).exists()
    return render(
        request,
        "entries/watch.html",
        {
            "entry": entry,
            "switches": switches,
            "liked": liked,
            "member": selectors.campaign_member(user=request.user, campaign=entry.campaign),
            "report_form": ReportForm(),
            "share_url": absolute_url(request, reverse("entries:watch", args=[entry.pk])),
        },
    )


@login_required
@require_POST
def like(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        entry = selectors.entry_get_public(pk=pk)
        services.entry_like(worker=_user(request), entry=entry)
    except SaidaoError as e:
        if not request.headers.get("HX-Request"):
            messages.error(request, str(e.message))
            return redirect("entries:watch", pk=pk)
        response = HttpResponse(str(e.message), status=e.status)
        if not isinstance(e, EntryNotPublic):
            # htmx swaps no error response: send the browser to the page, which says why.
            messages.error(request, str(e.message))
            response["HX-Redirect"] = reverse("entries:watch", args=[pk])
        return response
    entry.refresh_from_db(fields=["likes_count"])
    if request.headers.get("HX-Request"):
        return render(request, "entries/_like.html", {"entry": entry, "liked": True})
    return redirect("entries:watch", pk=pk)


@login_required
@require_POST
def report(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReportForm(request.POST)
    try:
        entry = selectors.entry_get_public(pk=pk)
        if not form.is_valid():
            raise SaidaoError(_("请选择举报理由。"))
        services.entry_report(
            reporter=_user(request),
            entry=entry,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except SaidaoError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("已收到您的举报，我们会尽快复核。"))
    return redirect("entries:watch", pk=pk)


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """The review queue of my subtree: play, approve or reject, one by one or in bulk."""
    user = _user(request)
    queue = selectors.review_queue(user=user)
    page = Paginator(queue, 20).get_page(request.GET.get("page"))
    ids = [e.pk for e in page]
    form = ReviewForm(request.POST or None, ids=ids)
    if request.method == "POST":
        form = ReviewForm(
            request.POST,
            ids=list(
                selectors.entries_for_reviewer(user=user, status="queue").values_list(
                    "pk", flat=True
                )
            ),
        )
        if form.is_valid():
            chosen = list(Entry.objects.filter(pk__in=form.cleaned_data["entries"]))
            try:
                done = services.entries_review(
                    actor=user,
                    entries=chosen,
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except SaidaoError as e:
                messages.error(request, str(e.message))
            else:
                messages.success(request, _("已审核 %(n)d 件作品。") % {"n": len(done)})
            return redirect("entries:review")
        messages.error(request, _("请至少选择一件作品。"))
    return render(request, "entries/review.html", {"page": page, "form": form})


@login_required
def stats(request: HttpRequest, slug: str) -> HttpResponse:
    """Entries per zone and per organization within my subtree."""
    campaign = _campaign(slug)
    user = _user(request)
    return render(
        request,
        "entries/stats.html",
        {
            "campaign": campaign,
            "zones": selectors.entry_counts_by_zone(user=user, campaign=campaign),
            "orgs": selectors.entry_counts_by_organization(user=user, campaign=campaign),
        },
    )
