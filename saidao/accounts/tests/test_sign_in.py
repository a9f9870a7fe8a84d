"""Account basics: log-out, tokens and sessions with revoke, password change, delays after
failures that a stranger cannot use against an owner, one answer for every refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from saidao.accounts.models import ApiToken, LoginThrottle, UserSession
from saidao.accounts.services import auth_login, roster_import
from saidao.accounts.services.throttle import delay_for
from saidao.accounts.tests.factories import PASSWORD, UserFactory, api_token, bearer, roster_xlsx
from saidao.conftest import Tree
from saidao.core import clock

JSON = "application/json"
NEW_PASSWORD = "Xin-Mima-2026"


def _login(client: Client, phone: str, password: str, ip: str = "127.0.0.1") -> Any:
    return client.post(
        "/api/v1/auth/login",
        {"phone": phone, "password": password},
        content_type=JSON,
        REMOTE_ADDR=ip,
    )


def test_api_logout_revokes_the_token(client: Client, tree: Tree) -> None:
    """POST /auth/logout with a bearer token: that token answers 401 afterwards, others live."""
    member = tree.anding_member.user
    token, other = api_token(client, member), api_token(client, member)
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_tokens_are_listed_and_revoked_by_their_owner_only(client: Client, tree: Tree) -> None:
    """GET /me/tokens lists one's own tokens (the current one marked); DELETE revokes one; a
    token of somebody else is not found."""
    member = tree.anding_member.user
    first = api_token(client, member)
    second = api_token(client, member)
    listed = client.get("/api/v1/me/tokens", headers=bearer(second)).json()
    assert len(listed) == 2
    assert [t["current"] for t in listed].count(True) == 1
    first_id = next(t["id"] for t in listed if not t["current"])
    stranger = api_token(client, tree.dongying_member.user)
    resp = client.delete(f"/api/v1/me/tokens/{first_id}", headers=bearer(stranger))
    assert resp.status_code == 404
    assert client.delete(f"/api/v1/me/tokens/{first_id}", headers=bearer(second)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(first)).status_code == 401


def test_browser_sessions_are_listed_and_signed_out_from_elsewhere(tree: Tree) -> None:
    """Two browsers sign in; one sees both on its security page and signs the other out."""
    member = tree.anding_member.user
    phone_browser, laptop = Client(), Client()
    for c, agent in ((phone_browser, "WeChat"), (laptop, "Firefox")):
        resp = c.post(
            "/accounts/login/",
            {"phone": member.phone, "password": PASSWORD},
            HTTP_USER_AGENT=agent,
        )
        assert resp.status_code == 302
    sessions = UserSession.objects.filter(user=member)
    assert sorted(s.user_agent for s in sessions) == ["Firefox", "WeChat"]
    page = phone_browser.get("/accounts/security/")
    assert "Firefox" in page.content.decode()
    laptop_session = sessions.get(user_agent="Firefox")
    resp = phone_browser.post(f"/accounts/security/sessions/{laptop_session.pk}/revoke/")
    assert resp.status_code == 302
    assert laptop.get("/accounts/me/").status_code == 302  # back to the log-in page
    assert phone_browser.get("/accounts/me/").status_code == 200


def test_password_change_ends_every_other_session_and_token(client: Client, tree: Tree) -> None:
    """POST /me/password with the right old password: other tokens and browsers are signed
    out, the caller's token keeps working, and the new password logs in."""
    member = tree.anding_member.user
    browser = Client()
    browser.post("/accounts/login/", {"phone": member.phone, "password": PASSWORD})
    other = api_token(client, member)
    mine = api_token(client, member)
    resp = client.post(
        "/api/v1/me/password",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type=JSON,
        headers=bearer(mine),
    )
    assert resp.status_code == 204, resp.content
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(mine)).status_code == 200
    assert browser.get("/accounts/me/").status_code == 302
    assert _login(client, member.phone, NEW_PASSWORD).status_code == 200


def test_password_change_refuses_a_wrong_old_password(client: Client, tree: Tree) -> None:
    """A wrong current password is a field error and nothing changes."""
    member = tree.anding_member.user
    token = api_token(client, member)
    resp = client.post(
        "/api/v1/me/password",
        {"old_password": "wrong-one", "new_password": NEW_PASSWORD},
        content_type=JSON,
        headers=bearer(token),
    )
    assert resp.status_code == 400
    assert "old_password" in resp.json()["detail"]["fields"]
    assert _login(client, member.phone, PASSWORD).status_code == 200


def test_the_security_page_changes_the_password_and_keeps_this_browser(tree: Tree) -> None:
    """The page form changes the password; the browser that did it stays signed in."""
    member = tree.anding_member.user
    browser = Client()
    browser.post("/accounts/login/", {"phone": member.phone, "password": PASSWORD})
    resp = browser.post(
        "/accounts/security/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert resp.status_code == 302
    assert browser.get("/accounts/me/").status_code == 200
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_every_refusal_is_the_same_answer(client: Client, tree: Tree) -> None:
    """Unknown number, wrong password, and an imported account not yet activated: the same
    status, code and message, so trying numbers tells nothing."""
    roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["待激活", "13912345680", "", ""]]),
    )
    answers = [
        _login(client, "13912345689", "whatever-1").json(),
        _login(client, tree.anding_member.user.phone, "whatever-1").json(),
        _login(client, "13912345680", "whatever-1").json(),
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["code"] == "invalid_credentials"


def test_delays_grow_rather_than_lock() -> None:
    """No delay for the free attempts, then a doubling one, never past its cap."""
    assert delay_for(4, free=5, cap_s=900) == 0
    assert delay_for(5, free=5, cap_s=900) == 30
    assert delay_for(6, free=5, cap_s=900) == 60
    assert delay_for(50, free=5, cap_s=900) == 900


def test_a_stranger_cannot_keep_the_owner_out(client: Client, tree: Tree) -> None:
    """A stranger hammering a number from their address is made to wait; the owner on their
    own address logs in at once."""
    member = tree.anding_member.user
    for _attempt in range(settings.SAIDAO_LOGIN_MAX_FAILURES * 3):
        resp = _login(client, member.phone, "wrong-guess", ip="10.9.9.9")
        assert resp.status_code in (401, 429)
    stranger = _login(client, member.phone, PASSWORD, ip="10.9.9.9")
    assert stranger.status_code == 429
    assert int(stranger["Retry-After"]) > 0
    assert stranger.json()["detail"]["retry_after"] == int(stranger["Retry-After"])
    owner = _login(client, member.phone, PASSWORD, ip="10.1.1.1")
    assert owner.status_code == 200, owner.content


def test_guesses_spread_over_addresses_delay_the_number_briefly(db: None) -> None:
    """Failures on one number from many addresses earn a number-wide delay, capped short: the
    owner waits at most that cap, then logs in."""
    from saidao.accounts.errors import AccountLocked
    from saidao.accounts.services.throttle import throttle_fail

    user = UserFactory.create()
    for n in range(settings.SAIDAO_LOGIN_MAX_FAILURES * 8):
        throttle_fail(phone=user.phone, ip_address=f"10.3.{n // 250}.{n % 250}")
    with pytest.raises(AccountLocked) as info:
        auth_login(phone=user.phone, password=PASSWORD, ip_address="10.1.1.1")
    assert info.value.detail["retry_after"] <= settings.SAIDAO_LOGIN_NUMBER_DELAY_MAX_SECONDS + 1
    LoginThrottle.objects.filter(key=f"n:{user.phone}").update(
        blocked_until=clock.now() - dt.timedelta(seconds=1)
    )
    assert auth_login(phone=user.phone, password=PASSWORD, ip_address="10.1.1.1") == user


def test_a_wait_grows_with_each_failure_after_it(client: Client, tree: Tree) -> None:
    """A failure after the first wait has passed earns a longer wait (not a fixed lock)."""
    member = tree.anding_member.user
    waits = []
    for _attempt in range(settings.SAIDAO_LOGIN_MAX_FAILURES + 2):
        LoginThrottle.objects.update(blocked_until=None)  # as if each wait had passed
        _login(client, member.phone, "wrong-guess", ip="10.9.9.9")
        blocked = _login(client, member.phone, "wrong-guess", ip="10.9.9.9")
        if blocked.status_code == 429:
            waits.append(int(blocked["Retry-After"]))
    assert len(waits) >= 2
    assert waits == sorted(waits) and waits[-1] > waits[0]


def test_one_address_guessing_many_numbers_is_slowed(db: None) -> None:
    """Failures on different numbers from one address add up under the address."""
    from saidao.accounts.errors import AccountLocked, InvalidCredentials

    free = settings.SAIDAO_LOGIN_MAX_FAILURES * 4
    for n in range(free):
        with pytest.raises(InvalidCredentials):
            auth_login(phone=f"1391230{n:04d}", password="x-guess-1", ip_address="10.7.7.7")
    with pytest.raises(AccountLocked):
        auth_login(phone="13912309999", password="x-guess-1", ip_address="10.7.7.7")
    user = UserFactory.create()
    assert auth_login(phone=user.phone, password=PASSWORD, ip_address="10.7.7.8") == user


def test_tokens_record_the_device(client: Client, tree: Tree) -> None:
    """A token remembers the client that asked for it, for the owner's list."""
    member = tree.anding_member.user
    client.post(
        "/api/v1/auth/login",
        {"phone": member.phone, "password": PASSWORD},
        content_type=JSON,
        HTTP_USER_AGENT="SaidaoApp/1.0",
    )
    assert ApiToken.objects.get(user=member).user_agent == "SaidaoApp/1.0"


def test_privacy_notice_is_served_with_its_version(client: Client, db: None) -> None:
    """GET /privacy-notice, anonymously: the version sign-up must send, and the text."""
    resp = client.get("/api/v1/privacy-notice")
    assert resp.status_code == 200
    body = resp.json()
    assert body["version"] == settings.SAIDAO_PRIVACY_NOTICE_VERSION
    assert body["sections"] and all(s["heading"] and s["text"] for s in body["sections"])
    english = client.get("/api/v1/privacy-notice", headers={"Cookie": "django_language=en"})
    assert english.json()["title"] != body["title"]


def test_a_phone_of_any_length_is_refused_not_a_server_error(client: Client, db: None) -> None:
    """A long "number" is throttled under a short key: 401, never a database error."""
    resp = _login(client, "1" * 300, "whatever-1")
    assert resp.status_code == 401
    assert all(len(key) <= 120 for key in LoginThrottle.objects.values_list("key", flat=True))


def test_stale_records_are_purged(tree: Tree) -> None:
    """`saidao accounts purge`: passed waits, old SMS codes, ended sessions and expired tokens
    go; a wait still running stays."""
    from django.core.management import call_command

    from saidao.accounts.models import PhoneCode
    from saidao.accounts.services.throttle import throttle_fail

    now = clock.now()
    throttle_fail(phone="13912340401", ip_address="10.4.4.4")
    LoginThrottle.objects.update(updated_at=now - dt.timedelta(hours=2))
    LoginThrottle.objects.create(
        key="n:13912340402",
        failures=30,
        blocked_until=now + dt.timedelta(minutes=1),
        updated_at=now - dt.timedelta(hours=2),
    )
    PhoneCode.objects.create(
        phone="13912340401",
        purpose="signup",
        code_hash="x",
        created_at=now - dt.timedelta(days=2),
        expires_at=now - dt.timedelta(days=2) + dt.timedelta(minutes=5),
    )
    UserSession.objects.create(user=tree.anding_member.user, session_key="gone")
    ApiToken.objects.create(
        user=tree.anding_member.user, key_hash="y", expires_at=now - dt.timedelta(days=1)
    )
    call_command("accounts", "purge")
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["n:13912340402"]
    assert not PhoneCode.objects.exists()
    assert not UserSession.objects.filter(session_key="gone").exists()
    assert not ApiToken.objects.filter(key_hash="y").exists()
