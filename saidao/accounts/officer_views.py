"""The officer's pages: dashboard, one organization with its members, rosters and codes.

They live in accounts because they show members (accounts) beside the tree (orgs).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core.errors import NotFound, OutsideScope, SaidaoError
from saidao.core.forms import form_add_error
from saidao.core.imports import import_goes_background
from saidao.orgs import selectors as org_selectors
from saidao.orgs.forms import InviteForm, RejectForm
from saidao.orgs.models import Organization

from . import selectors, services
from .forms import RosterForm
from .models import User
from .roster import roster_template as roster_template_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scoped(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn "outside your subtree" into 404 (NotFound) or 403 (OutsideScope), not a 500."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as e:
            raise Http404(str(e.message)) from None
        except OutsideScope as e:
            raise PermissionDenied(str(e.message)) from None

    return wrapper


def _officer(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    if not org_selectors.user_is_officer(user=request.user):
        raise NotFound()
    return request.user


def _xlsx(body: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """My organizations, the applications waiting for me, and shortcuts into each subtree."""
    try:
        officer = _officer(request)
    except NotFound:
        messages.error(request, _("您还不是任何工会组织的干部。"))
        return redirect("accounts:me")
    roots = list(
        Organization.objects.filter(path__in=org_selectors.officer_paths(user=officer))
        .select_related("region")
        .order_by("path")
    )
    for org in roots:
        org.member_total = selectors.member_count_subtree(organization=org)  # type: ignore[attr-defined]
    pending = list(org_selectors.applications_pending_for_officer(user=officer)[:50])
    return render(
        request,
        "accounts/officer/dashboard.html",
        {"roots": roots, "pending": pending, "reject_form": RejectForm()},
    )


@login_required
@_scoped
def organization(request: HttpRequest, org_id: int) -> HttpResponse:
    """One organization in my subtree: children with member counts, members, invite codes."""
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    paths = org_selectors.officer_paths(user=officer)
    ancestors = [
        a
        for a in org_selectors.organization_ancestors(organization=org)
        if org_selectors.path_in_scope(path=a.path, paths=paths)
    ]
    children = list(org_selectors.organization_children(organization=org))
    counts = selectors.member_counts_by_child(organization=org)
    for child in children:
        child.member_total = counts.get(child.path, 0)  # type: ignore[attr-defined]
    q = request.GET.get("q", "").strip()
    members = Paginator(
        selectors.members_for_officer(officer=officer, organization=org, query=q), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/officer/organization.html",
        {
            "org": org,
            "ancestors": ancestors,
            "children": children,
            "members": members,
            "q": q,
            "invites": list(org_selectors.invite_codes_for_organization(organization=org)[:20]),
            "invite_form": InviteForm(),
            "roster_form": RosterForm(),
        },
    )


@login_required
@_scoped
def roster_import(request: HttpRequest, org_id: int) -> HttpResponse:
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    form = RosterForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if import_goes_background(upload):
                job = services.roster_import_start(officer=officer, organization=org, file=upload)
                return redirect(reverse("core:import_job", args=[job.pk]))
            result = services.roster_import(officer=officer, organization=org, file=upload)
        except SaidaoError as e:
            form_add_error(form, e)
    return render(
        request, "accounts/officer/roster.html", {"org": org, "form": form, "result": result}
    )


@login_required
@_scoped
def roster_export(request: HttpRequest, org_id: int) -> HttpResponse:
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    return _xlsx(
        selectors.roster_export(officer=officer, organization=org), f"roster-{org.pk}.xlsx"
    )


@login_required
def roster_template(request: HttpRequest) -> HttpResponse:
    return _xlsx(roster_template_bytes(), "roster-template.xlsx")


@login_required
@require_POST
@_scoped
def member_code(request: HttpRequest, user_id: int) -> HttpResponse:
    """Issue an activation or password-reset code and show it once to the officer."""
    officer = _officer(request)
    member = selectors.account_get_for_code(officer=officer, user_id=user_id)
    membership = selectors.membership_current(user=member)
    org_id = membership.organization_id if membership else member.created_by_organization_id
    back = (
        reverse("officer:organization", args=[org_id]) if org_id else reverse("officer:dashboard")
    )
    try:
        code = services.password_reset_code_issue(officer=officer, member=member)
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect(back)
    kind = _("激活码") if not member.is_activated else _("重置码")
    messages.success(
        request,
        _("%(name)s 的%(kind)s：%(code)s（仅显示这一次，请当面或电话告知本人；本人也会收到提醒）")
        % {"name": member.real_name, "kind": kind, "code": code},
    )
    return redirect(back)
