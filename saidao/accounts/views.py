from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saidao.core import sms
from saidao.core.errors import NotFound, SaidaoError
from saidao.core.forms import form_add_error
from saidao.orgs.models import Role
from saidao.orgs.selectors import applications_of_user, invite_code_get, role_invitations_pending
from saidao.orgs.services import role_accept, role_decline
from saidao.regions.models import Region
from saidao.regions.selectors import region_get

from . import selectors, services
from .forms import (
    ActivateForm,
    JoinForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RecoverForm,
    ResetForm,
    SignupForm,
)
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


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _sign_in(request: HttpRequest, user: User) -> None:
    """Log the browser in and show, once, what was done to the account since last time."""
    login(request, user, backend=BACKEND)
    for notice in services.account_notices_take(user=user):
        messages.warning(request, selectors.account_notice_message(notice=notice))


def signup(request: HttpRequest) -> HttpResponse:
    verify = sms.sms_configured()
    form = SignupForm(request.POST or None, sms_code=verify)
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
                sms_code=d.get("sms_code") or "",
                ip_address=_ip(request),
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            _sign_in(request, user)
            messages.success(request, _("注册成功，欢迎加入赛道！"))
            return redirect(_next(request, "/accounts/me/"))
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": _next(request, ""), "sms_purpose": "signup" if verify else ""},
    )


@require_POST
def sms_code(request: HttpRequest) -> HttpResponse:
    """Send an SMS code for the phone typed in a form (htmx): the form itself stays as typed."""
    try:
        services.phone_code_request(
            phone=request.POST.get("phone", ""),
            purpose=request.POST.get("purpose", ""),
            ip_address=_ip(request),
        )
    except SaidaoError as e:
        message, ok = str(e.message), False
    else:
        message, ok = _("验证码已发送，5 分钟内有效。"), True
    return render(request, "accounts/_sms_status.html", {"message": message, "ok": ok})


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.auth_login(
                phone=form.cleaned_data["phone"],
                password=form.cleaned_data["password"],
                ip_address=_ip(request),
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            _sign_in(request, user)
            return redirect(_next(request, "/accounts/me/"))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _next(request, ""), "sms": sms.sms_configured()},
    )


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
            "invitations": selectors.membership_invitations_pending(user=user),
            "role_invitations": role_invitations_pending(user=user),
        },
    )


@login_required
@require_POST
def invitation_decide(request: HttpRequest, invitation_id: int, decision: str) -> HttpResponse:
    """Accept or decline an organization's invitation to join."""
    user = _user(request)
    try:
        if decision == "accept":
            m = services.membership_invitation_accept(user=user, invitation_id=invitation_id)
            messages.success(request, _("已加入 %(org)s。") % {"org": m.organization.name})
        else:
            services.membership_invitation_decline(user=user, invitation_id=invitation_id)
            messages.success(request, _("已拒绝该入会邀请。"))
    except SaidaoError as e:
        messages.error(request, str(e.message))
    return redirect("accounts:me")


@login_required
@require_POST
def role_invitation_decide(request: HttpRequest, role_id: int, decision: str) -> HttpResponse:
    """Accept or decline an appointment made to the signed-in worker."""
    user = _user(request)
    role = Role.objects.filter(pk=role_id, user=user).first()
    if role is None:
        raise NotFound()
    if decision == "accept":
        role_accept(user=user, role=role)
        messages.success(
            request,
            _("您已接受%(org)s的%(kind)s任命。")
            % {"org": role.organization.name, "kind": role.get_kind_display()},
        )
    else:
        role_decline(user=user, role=role)
        messages.success(request, _("已拒绝该任命。"))
    return redirect("accounts:me")


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The account's signed-in browsers and API tokens, with sign-out, and the password form."""
    user = _user(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                session=request.session,
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改，其他设备已退出登录。"))
            return redirect("accounts:security")
    return render(
        request,
        "accounts/security.html",
        {
            "form": form,
            "sessions": selectors.web_sessions_of_user(user=user),
            "tokens": selectors.api_tokens_of_user(user=user),
            "notices": [
                (n, selectors.account_notice_message(notice=n))
                for n in selectors.account_notices(user=user)[:20]
            ],
            "current_session": request.session.session_key,
        },
    )


@login_required
@require_POST
def session_revoke(request: HttpRequest, session_id: int) -> HttpResponse:
    services.web_session_revoke(user=_user(request), session_id=session_id)
    messages.success(request, _("该设备已退出登录。"))
    return redirect("accounts:security")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    services.api_token_revoke(user=_user(request), token_id=token_id)
    messages.success(request, _("该令牌已作废。"))
    return redirect("accounts:security")


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


def _code_sign_in(
    request: HttpRequest,
    form: ActivateForm | RecoverForm,
    service: Callable[..., User],
    done: str,
) -> User | None:
    """Set a password with a code (an officer's activation code, or an SMS code), then sign in.
    The form's errors carry what went wrong; None then."""
    d = form.cleaned_data
    try:
        user = service(
            phone=d["phone"],
            code=d["code"],
            password=d["password"],
            consent_version=form.consent_version(),
            ip_address=_ip(request),
        )
    except SaidaoError as e:
        form_add_error(form, e)
        return None
    _sign_in(request, user)
    messages.success(request, done)
    return user


def activate(request: HttpRequest) -> HttpResponse:
    form = ActivateForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    done = _("账号已激活。")
    posted = request.method == "POST" and form.is_valid()
    if posted and _code_sign_in(request, form, services.account_activate, done):
        return redirect("accounts:me")
    return render(request, "accounts/activate.html", {"form": form})


def reset_password(request: HttpRequest) -> HttpResponse:
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.password_reset(
                phone=d["phone"], code=d["code"], password=d["password"], ip_address=_ip(request)
            )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/reset.html", {"form": form, "sms": sms.sms_configured()})


def recover(request: HttpRequest) -> HttpResponse:
    """Recover (or reclaim) an account with a code sent by SMS to its number."""
    if not sms.sms_configured():
        messages.info(request, _("本站未开通短信服务，请向您所在工会的干部索取重置码。"))
        return redirect("accounts:reset")
    form = RecoverForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    done = _("账号已找回，其他设备已退出登录。")
    posted = request.method == "POST" and form.is_valid()
    if posted and _code_sign_in(request, form, services.account_recover, done):
        return redirect("accounts:me")
    return render(request, "accounts/recover.html", {"form": form, "sms_purpose": "reset"})


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
