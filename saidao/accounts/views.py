from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core.errors import NotFound, SaidaoError
from saidao.core.forms import form_add_error
from saidao.orgs.selectors import applications_of_user, invite_code_get
from saidao.regions.models import Region
from saidao.regions.selectors import region_get

from . import selectors, services
from .forms import ActivateForm, JoinForm, LoginForm, ProfileForm, ResetForm, SignupForm
from .models import User

BACKEND = "saidao.accounts.backends.PhoneBackend"


def _region(code: str) -> Region | None:
    try:
        return region_get(code=code) if code else None
    except NotFound:
        return None


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.user_signup(
                phone=d["phone"],
                password=d["password"],
                real_name=d["real_name"],
                employer=d["employer"],
                position=d["position"],
                province=_region(d["province"]),
                city=_region(d["city"]),
                consent_version=form.consent_version(),
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, _("注册成功，欢迎加入赛道！"))
            return redirect(_next(request, "/accounts/me/"))
    return render(request, "accounts/signup.html", {"form": form, "next": _next(request, "")})


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.auth_login(
                phone=form.cleaned_data["phone"], password=form.cleaned_data["password"]
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            login(request, user, backend=BACKEND)
            return redirect(_next(request, "/accounts/me/"))
    return render(request, "accounts/login.html", {"form": form, "next": _next(request, "")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")


@login_required
def me(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial = {
        "real_name": user.real_name,
        "employer": user.employer,
        "position": user.position,
        "province": user.province_id or "",
        "city": user.city_id or "",
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.profile_update(
                user=user,
                real_name=d["real_name"],
                employer=d["employer"],
                position=d["position"],
                province=_region(d["province"]),
                city=_region(d["city"]),
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("个人信息已保存。"))
            return redirect("accounts:me")
    return render(
        request,
        "accounts/me.html",
        {
            "form": form,
            "membership": selectors.membership_current(user=user),
            "history": selectors.membership_history(user=user)[:20],
            "applications": applications_of_user(user=user)[:20],
        },
    )


@login_required
def join(request: HttpRequest) -> HttpResponse:
    code = (request.POST.get("code") or request.GET.get("code") or "").strip().upper()
    form = JoinForm(request.POST or None, initial={"code": code})
    preview = None
    if code:
        try:
            preview = invite_code_get(code=code).organization
        except SaidaoError:
            preview = None
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_join(
                user=_user(request), code=form.cleaned_data["code"]
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("已加入 %(org)s。") % {"org": membership.organization.name})
            return redirect("accounts:me")
    return render(request, "accounts/join.html", {"form": form, "preview": preview})


def activate(request: HttpRequest) -> HttpResponse:
    form = ActivateForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.account_activate(
                phone=d["phone"],
                code=d["code"],
                password=d["password"],
                consent_version=form.consent_version(),
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, _("账号已激活。"))
            return redirect("accounts:me")
    return render(request, "accounts/activate.html", {"form": form})


def reset_password(request: HttpRequest) -> HttpResponse:
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.password_reset(phone=d["phone"], code=d["code"], password=d["password"])
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/reset.html", {"form": form})


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            messages.error(request, _("请勾选确认后再注销。"))
            return redirect("accounts:delete")
        services.user_delete(user=_user(request))
        logout(request)
        messages.success(request, _("账号已注销，您的个人信息已删除。"))
        return redirect("core:home")
    return render(request, "accounts/delete.html")
