from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core.errors import InvalidInput, NotFound, SaidaoError
from saidao.core.forms import form_add_error
from saidao.core.links import absolute_url

from . import selectors, services
from .forms import InviteForm, RegisterForm, RejectForm, region_or_none
from .models import Organization


def _back(request: HttpRequest, org: Organization) -> HttpResponse:
    return redirect(reverse("officer:organization", args=[org.pk]))


def _parent_choices(q: str) -> list[tuple[int | str, str]]:
    qs = selectors.organizations_approved()
    if q:
        qs = qs.filter(name__contains=q)
    return [("", _("请选择上级工会"))] + [(o.pk, f"{o.name}（{o.region.name}）") for o in qs[:30]]


def parent_options(request: HttpRequest) -> HttpResponse:
    """<option>s of approved organizations matching a search, for the register form."""
    return render(
        request, "orgs/parent_options.html", {"choices": _parent_choices(request.GET.get("q", ""))}
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """An organization applies to join the tree under an approved parent."""
    q = request.GET.get("q", "") or request.POST.get("q", "")
    form = RegisterForm(request.POST or None, parent_choices=_parent_choices(q))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            region = region_or_none(d["region"])
            if region is None:
                raise InvalidInput.for_field(
                    "region",
                    _("行政区划代码“%(code)s”不存在，请使用 6 位国标代码。")
                    % {"code": d["region"]},
                )
            parent = selectors.organization_get(pk=d["parent"])
            org = services.organization_apply(
                applicant=request.user,
                parent=parent,
                name=d["name"],
                level=d["level"],
                kind=d["kind"],
                region=region,
                credit_code=d["credit_code"],
                contact_name=d["contact_name"],
                contact_phone=d["contact_phone"],
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(
                request,
                _("已提交“%(name)s”的登记申请，等待 %(parent)s 审批。")
                % {"name": org.name, "parent": parent.name},
            )
            return redirect("accounts:me")
    return render(request, "orgs/register.html", {"form": form, "q": q})


def _officer_org(request: HttpRequest, org_id: int) -> Organization:
    return selectors.organization_get_for_officer(user=request.user, pk=org_id)


@login_required
@require_POST
def approve(request: HttpRequest, org_id: int) -> HttpResponse:
    try:
        org = _officer_org(request, org_id)
        services.organization_approve(officer=request.user, organization=org)
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect("officer:dashboard")
    messages.success(request, _("已批准“%(name)s”。") % {"name": org.name})
    return redirect("officer:dashboard")


@login_required
@require_POST
def reject(request: HttpRequest, org_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    try:
        org = _officer_org(request, org_id)
        reason = form.data.get("reason", "")
        services.organization_reject(officer=request.user, organization=org, reason=str(reason))
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect("officer:dashboard")
    messages.success(request, _("已驳回“%(name)s”的申请。") % {"name": org.name})
    return redirect("officer:dashboard")


@login_required
@require_POST
def invite_create(request: HttpRequest, org_id: int) -> HttpResponse:
    form = InviteForm(request.POST)
    try:
        org = _officer_org(request, org_id)
        if not form.is_valid():
            raise InvalidInput(_("过期时间格式不正确。"))
        expires: dt.datetime | None = form.cleaned_data["expires_at"]
        invite = services.invite_code_create(
            actor=request.user, organization=org, expires_at=expires
        )
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect("officer:dashboard")
    messages.success(request, _("已生成邀请码 %(code)s。") % {"code": invite.code})
    return _back(request, org)


@login_required
@require_POST
def invite_revoke(request: HttpRequest, code: str) -> HttpResponse:
    try:
        invite = selectors.invite_code_get(code=code)
        if not selectors.organization_in_scope(user=request.user, organization=invite.organization):
            raise NotFound()
        services.invite_code_revoke(actor=request.user, invite=invite)
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect("officer:dashboard")
    messages.success(request, _("邀请码 %(code)s 已作废。") % {"code": invite.code})
    return _back(request, invite.organization)


@login_required
def invite_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The invite's QR code (SVG) pointing at the join page with the code filled in."""
    try:
        invite = selectors.invite_code_get(code=code)
    except SaidaoError:
        return HttpResponse(status=404)
    if not selectors.organization_in_scope(user=request.user, organization=invite.organization):
        return HttpResponse(status=404)
    url = absolute_url(request, reverse("accounts:join") + f"?code={invite.code}")
    svg = segno.make(url, error="m").svg_inline(scale=4, title=invite.code)
    return HttpResponse(svg, content_type="image/svg+xml")
