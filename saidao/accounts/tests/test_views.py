"""The worker's pages: sign-up, log-in, join, activation, reset, profile and erasure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from saidao.accounts import services
from saidao.accounts.models import LoginThrottle, Membership, PrivacyConsent, User
from saidao.accounts.tests.factories import PASSWORD, UserFactory, roster_xlsx
from saidao.conftest import Tree
from saidao.orgs.tests.factories import InviteCodeFactory

NEW_PASSWORD = "Xin-Mima-2026"
REFUSED = "手机号或密码不正确。如果工会为您导入了名册，请先激活账号。"


def _signup_form(**overrides: str) -> dict[str, str]:
    data = {
        "phone": "13912340201",
        "password": NEW_PASSWORD,
        "real_name": "李四",
        "employer": "定西某快递公司",
        "position": "快递员",
        "province": "620000",
        "city": "621100",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _errors(resp: Any) -> dict[str, list[str]]:
    assert resp.status_code == 200
    errors = resp.context["form"].errors
    return {k: list(v) for k, v in errors.items()}


def _logged_in_as(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


# --- sign-up ------------------------------------------------------------------------------


def test_signup_page_renders_the_form(client: Client, regions: None) -> None:
    """The page offers every field, provinces included, and links the privacy notice."""
    resp = client.get("/accounts/signup/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for name in ("phone", "password", "real_name", "province", "city", "consent"):
        assert f'name="{name}"' in html
    assert "甘肃省" in html
    assert "/privacy/" in html


def test_signup_page_creates_the_account_and_logs_in(client: Client, regions: None) -> None:
    """A good form creates the worker with consent, logs them in and goes to their page."""
    resp = client.post("/accounts/signup/", _signup_form(phone="139 1234 0201"))
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/me/"
    user = User.objects.get(phone="13912340201")
    assert _logged_in_as(client) == user.pk
    consent = PrivacyConsent.objects.get(user=user)
    assert consent.version == settings.SAIDAO_PRIVACY_NOTICE_VERSION
    assert consent.ip_address == "127.0.0.1"


def test_signup_page_follows_a_safe_next_only(client: Client, regions: None) -> None:
    """?next= on this site is followed; another host is ignored."""
    resp = client.post("/accounts/signup/", {**_signup_form(), "next": "https://evil.example/x"})
    assert resp["Location"] == "/accounts/me/"
    client.logout()
    resp = client.post(
        "/accounts/signup/", {**_signup_form(phone="13912340202"), "next": "/accounts/join/"}
    )
    assert resp["Location"] == "/accounts/join/"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "0932-8212345"}, "phone", "请输入 11 位中国大陆手机号，例如 13812345678。"),
        ({"password": "12345678"}, "password", "密码只包含数字。"),
        ({"password": "Ab-1"}, "password", "密码太短，至少需要 8 个字符。"),
        ({"consent": ""}, "consent", "请阅读并同意隐私政策后继续。"),
        ({"city": "370500"}, "city", "所选城市不属于甘肃省，请重新选择。"),
    ],
)
def test_signup_page_shows_each_error_on_its_field(
    client: Client, regions: None, overrides: dict[str, str], field: str, message: str
) -> None:
    """Invalid input re-renders the form with the message under the right field; no user."""
    resp = client.post("/accounts/signup/", _signup_form(**overrides))
    errors = _errors(resp)
    assert message in errors[field]
    assert message in resp.content.decode()
    assert User.objects.count() == 0
    assert PrivacyConsent.objects.count() == 0
    assert _logged_in_as(client) is None


def test_signup_page_duplicate_phone(client: Client, regions: None) -> None:
    """A registered number is refused on the phone field and nothing is added."""
    UserFactory.create(phone="13912340201")
    resp = client.post("/accounts/signup/", _signup_form())
    assert _errors(resp)["phone"] == ["该手机号已注册，请直接登录；忘记密码可通过短信找回。"]
    assert User.objects.count() == 1
    assert PrivacyConsent.objects.count() == 0


# --- log-in -------------------------------------------------------------------------------


def test_login_page_logs_in(client: Client, tree: Tree) -> None:
    """The right number and password log in and go to the worker's page (or ?next)."""
    member = tree.anding_member.user
    resp = client.post(
        "/accounts/login/",
        {"phone": member.phone, "password": PASSWORD, "next": "/accounts/join/"},
    )
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/join/"
    assert _logged_in_as(client) == member.pk


def test_login_page_wrong_password(client: Client, tree: Tree) -> None:
    """A wrong password shows the same message as the API, on top of the form."""
    member = tree.anding_member.user
    resp = client.post("/accounts/login/", {"phone": member.phone, "password": "wrong-pw-1"})
    assert _errors(resp) == {"__all__": [REFUSED]}
    assert REFUSED in resp.content.decode()
    assert _logged_in_as(client) is None


def test_login_page_delays_an_address_after_repeated_failures(client: Client, tree: Tree) -> None:
    """After MAX failures from this browser's address the page says how many seconds to wait,
    even for the right password; when blocked_until has passed, log-in works again."""
    member = tree.anding_member.user
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES):
        client.post("/accounts/login/", {"phone": member.phone, "password": "wrong-pw-1"})
    resp = client.post("/accounts/login/", {"phone": member.phone, "password": PASSWORD})
    [message] = _errors(resp)["__all__"]
    assert message.startswith("尝试次数过多，请 ")
    assert message.endswith(" 秒后再试。")
    assert _logged_in_as(client) is None
    LoginThrottle.objects.filter(key=f"n:{member.phone}@127.0.0.1").update(
        blocked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    resp = client.post("/accounts/login/", {"phone": member.phone, "password": PASSWORD})
    assert resp.status_code == 302
    assert _logged_in_as(client) == member.pk


def test_login_page_imported_account_gets_the_same_refusal_and_a_way_to_activate(
    client: Client, tree: Tree
) -> None:
    """An imported account not yet activated gets the same refusal as a wrong password (it
    hints at activation without telling that the number was imported), and the page links
    to the activation page."""
    services.roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["王五", "13912340203", "", ""]]),
    )
    resp = client.post("/accounts/login/", {"phone": "13912340203", "password": "x-1234567"})
    assert _errors(resp) == {"__all__": [REFUSED]}
    assert "/accounts/activate/" in resp.content.decode()


def test_logout_needs_post(client: Client, tree: Tree) -> None:
    """Log-out is a POST (no log-out by a stray link) and ends the session."""
    client.force_login(tree.anding_member.user)
    assert client.get("/accounts/logout/").status_code == 405
    assert _logged_in_as(client) == tree.anding_member.user_id
    assert client.post("/accounts/logout/").status_code == 302
    assert _logged_in_as(client) is None


# --- me -----------------------------------------------------------------------------------


def test_me_page_needs_log_in(client: Client, db: None) -> None:
    """Anonymous visitors are sent to the log-in page."""
    resp = client.get("/accounts/me/")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/accounts/login/")


def test_me_page_shows_membership_and_history(client: Client, tree: Tree) -> None:
    """The worker sees their union, and their earlier ones once they have moved."""
    user = tree.anding_member.user
    InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI4")
    services.membership_join(user=user, code="TONGWEI4")
    client.force_login(user)
    resp = client.get("/accounts/me/")
    html = resp.content.decode()
    assert resp.context["membership"].organization == tree.tongwei
    assert "通渭县总工会" in html
    assert "安定区快递行业工会联合会" in html  # in the history
    assert user.phone in html  # their own full number


def test_me_page_updates_the_profile(client: Client, tree: Tree) -> None:
    """The profile form saves; a city outside the province is an error on city."""
    user = tree.anding_member.user
    client.force_login(user)
    data = {"real_name": "新名字", "employer": "", "position": "", "province": "620000"}
    resp = client.post("/accounts/me/", {**data, "city": "370500"})
    assert _errors(resp) == {"city": ["所选城市不属于甘肃省，请重新选择。"]}
    resp = client.post("/accounts/me/", {**data, "city": "621100"})
    assert resp.status_code == 302
    user.refresh_from_db()
    assert (user.real_name, user.city_id) == ("新名字", "621100")


# --- join ---------------------------------------------------------------------------------


def test_join_page_needs_log_in(client: Client, tree: Tree) -> None:
    """The QR code's link leads anonymous workers to log in first, keeping the code."""
    resp = client.get("/accounts/join/?code=ABCDEFGH")
    assert resp.status_code == 302
    assert resp["Location"].startswith("/accounts/login/?next=")


def test_join_page_previews_and_joins(client: Client, tree: Tree) -> None:
    """?code= shows which organization it is; posting it joins and goes to the worker page."""
    worker = UserFactory.create()
    InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI5")
    client.force_login(worker)
    resp = client.get("/accounts/join/?code=tongwei5")
    assert resp.context["preview"] == tree.tongwei
    assert "通渭县总工会" in resp.content.decode()
    resp = client.post("/accounts/join/", {"code": "TONGWEI5"})
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/me/"
    assert Membership.objects.get(user=worker, left_at__isnull=True).organization == tree.tongwei


def test_join_page_already_member(client: Client, tree: Tree) -> None:
    """Joining one's own union again shows a message and changes nothing."""
    InviteCodeFactory.create(organization=tree.courier, code="COURIER3")
    client.force_login(tree.anding_member.user)
    resp = client.post("/accounts/join/", {"code": "COURIER3"})
    assert "您已经是该组织的会员了。" in _errors(resp)["__all__"]
    assert Membership.objects.filter(user=tree.anding_member.user).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"expires_at": timezone.now() - dt.timedelta(hours=1)},
            "邀请码已过期，请向工会索取新的邀请码。",
        ),
        ({"revoked_at": timezone.now()}, "邀请码已作废，请向工会索取新的邀请码。"),
        ({}, "邀请码不存在，请核对后重新输入。"),
    ],
)
def test_join_page_dead_codes(
    client: Client, tree: Tree, kwargs: dict[str, Any], message: str
) -> None:
    """Expired, revoked and unknown codes each show their own message; nobody joins."""
    worker = UserFactory.create()
    if kwargs:
        InviteCodeFactory.create(organization=tree.tongwei, code="DEADCODE", **kwargs)
    client.force_login(worker)
    resp = client.post("/accounts/join/", {"code": "DEADCODE"})
    assert message in _errors(resp)["__all__"]
    assert message in resp.content.decode()
    assert not Membership.objects.filter(user=worker).exists()


def test_join_page_moves_the_membership(client: Client, tree: Tree) -> None:
    """A code of another union moves the member and keeps the old row as history."""
    InviteCodeFactory.create(organization=tree.dongying, code="DONGYING3")
    client.force_login(tree.anding_member.user)
    resp = client.post("/accounts/join/", {"code": "DONGYING3"})
    assert resp.status_code == 302
    rows = Membership.objects.filter(user=tree.anding_member.user)
    assert rows.get(left_at__isnull=True).organization == tree.dongying
    assert rows.get(pk=tree.anding_member.pk).left_at is not None


# --- activation and reset -----------------------------------------------------------------


def _imported(tree: Tree, phone: str) -> str:
    result = services.roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["王五", phone, "", ""]]),
    )
    return result.created[0][1]


def test_activate_page_sets_the_password_and_logs_in(client: Client, tree: Tree) -> None:
    """The activation code, a password and consent activate the account and log in."""
    code = _imported(tree, "13912340211")
    resp = client.post(
        "/accounts/activate/",
        {"phone": "13912340211", "code": code, "password": NEW_PASSWORD, "consent": "on"},
    )
    assert resp.status_code == 302
    user = User.objects.get(phone="13912340211")
    assert user.is_activated
    assert _logged_in_as(client) == user.pk
    client.logout()
    resp = client.post("/accounts/login/", {"phone": user.phone, "password": NEW_PASSWORD})
    assert resp.status_code == 302


def test_activate_page_wrong_code(client: Client, tree: Tree) -> None:
    """A wrong code shows the message and is counted toward the delays."""
    code = _imported(tree, "13912340212")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    resp = client.post(
        "/accounts/activate/",
        {"phone": "13912340212", "code": wrong, "password": NEW_PASSWORD, "consent": "on"},
    )
    assert "验证码不正确或已过期，请向工会重新索取。" in _errors(resp)["__all__"]
    assert LoginThrottle.objects.get(key="n:13912340212@127.0.0.1").failures == 1
    assert not User.objects.get(phone="13912340212").is_activated


def test_reset_page_sets_a_new_password(client: Client, tree: Tree) -> None:
    """An officer's reset code sets a new password once; then log-in uses it."""
    member = tree.anding_member.user
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    data = {"phone": member.phone, "code": code, "password": NEW_PASSWORD}
    resp = client.post("/accounts/reset/", data)
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/login/"
    resp = client.post("/accounts/reset/", {**data, "password": "Other-2026-x"})
    assert "验证码不正确或已过期，请向工会重新索取。" in _errors(resp)["__all__"]
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


# --- erasure ------------------------------------------------------------------------------


def test_delete_page_needs_the_confirmation(client: Client, tree: Tree) -> None:
    """Without ticking the box nothing is erased."""
    member = tree.anding_member.user
    client.force_login(member)
    assert client.get("/accounts/me/delete/").status_code == 200
    resp = client.post("/accounts/me/delete/", {})
    assert resp.status_code == 302
    assert resp["Location"] == "/accounts/me/delete/"
    member.refresh_from_db()
    assert member.is_active


def test_delete_page_erases_the_account(client: Client, tree: Tree) -> None:
    """Confirmed erasure anonymizes the worker, logs them out; they cannot log in again."""
    member = tree.anding_member.user
    phone = member.phone
    client.force_login(member)
    resp = client.post("/accounts/me/delete/", {"confirm": "1"})
    assert resp.status_code == 302
    assert _logged_in_as(client) is None
    member.refresh_from_db()
    assert member.phone == f"deleted-{member.pk}"
    assert member.real_name == "已注销用户"
    assert member.employer == ""
    assert Membership.objects.get(pk=tree.anding_member.pk).left_at is not None
    resp = client.post("/accounts/login/", {"phone": phone, "password": PASSWORD})
    assert _errors(resp) == {"__all__": [REFUSED]}
