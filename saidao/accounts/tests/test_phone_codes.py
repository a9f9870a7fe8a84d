"""Phone verification by SMS: sign-up, recovering an account, and its owner reclaiming an
account an officer created; codes of 6 digits that live 5 minutes, allow 5 tries, and are
rate-limited per number and per client address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from saidao.accounts.models import AccountNotice, OneTimeCode, User
from saidao.accounts.services import (
    account_activate,
    password_reset_code_issue,
    roster_import,
)
from saidao.accounts.tests.factories import api_token, bearer, roster_xlsx
from saidao.conftest import Tree
from saidao.core import clock, sms

JSON = "application/json"
NEW_PASSWORD = "Xin-Mima-2026"
CONSENT = {"consent_version": "2026-11"}


@pytest.fixture
def console_sms(settings: Any) -> Iterator[list[sms.SmsMessage]]:
    """SMS through the console backend; its outbox is what was sent."""
    settings.SAIDAO_SMS_BACKEND = "console"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def _code_request(client: Client, phone: str, purpose: str, ip: str = "127.0.0.1") -> Any:
    return client.post(
        "/api/v1/auth/sms-code",
        {"phone": phone, "purpose": purpose},
        content_type=JSON,
        REMOTE_ADDR=ip,
    )


def _last_code(outbox: list[sms.SmsMessage], phone: str) -> str:
    sent = [m for m in outbox if m.phone == phone]
    assert sent, "no SMS to that number"
    code = sent[-1].params["code"]
    assert re.fullmatch(r"\d{6}", code)
    return code


def _signup(client: Client, phone: str, code: str = "") -> Any:
    body = {
        "phone": phone,
        "password": NEW_PASSWORD,
        "real_name": "李四",
        "province": "620000",
        "city": "621100",
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
        "sms_code": code,
    }
    return client.post("/api/v1/auth/signup", body, content_type=JSON)


def _recover(client: Client, phone: str, code: str) -> Any:
    body = {
        "phone": phone,
        "code": code,
        "password": NEW_PASSWORD,
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
    return client.post("/api/v1/auth/recover", body, content_type=JSON)


def test_without_sms_sign_up_needs_no_code_and_codes_are_refused(
    client: Client, regions: None
) -> None:
    """Unset (the default, embedded too): asking for a code is 503 sms_not_configured, and
    sign-up works without one."""
    resp = _code_request(client, "13912340301", "signup")
    assert resp.status_code == 503
    assert resp.json()["code"] == "sms_not_configured"
    assert _signup(client, "13912340301").status_code == 201


def test_sign_up_needs_the_code_sent_to_the_number(
    client: Client, regions: None, console_sms: list[sms.SmsMessage]
) -> None:
    """With SMS: no code or a wrong code is refused; the code sent to the number signs up."""
    phone = "13912340302"
    resp = _signup(client, phone)
    assert resp.status_code == 400
    assert "sms_code" in resp.json()["detail"]["fields"]
    assert _code_request(client, phone, "signup").status_code == 202
    code = _last_code(console_sms, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert _signup(client, phone, wrong).json()["code"] == "code_invalid"
    assert _signup(client, phone, code).status_code == 201
    assert User.objects.filter(phone=phone).exists()
    assert _signup(client, phone, code).json()["code"] == "code_invalid"  # used once


def test_a_registered_number_learns_it_only_with_its_code(
    client: Client, tree: Tree, console_sms: list[sms.SmsMessage]
) -> None:
    """Asking for a sign-up code answers alike for any number; only the code's holder is told
    the number is already registered."""
    taken = tree.anding_member.user.phone
    assert _code_request(client, taken, "signup").json() == (
        _code_request(client, "13912340303", "signup").json()
    )
    resp = _signup(client, taken, _last_code(console_sms, taken))
    assert resp.status_code == 400
    assert "phone" in resp.json()["detail"]["fields"]


def test_a_code_lives_five_minutes(
    client: Client,
    regions: None,
    console_sms: list[sms.SmsMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past five minutes the code is refused."""
    phone = "13912340304"
    _code_request(client, phone, "signup")
    code = _last_code(console_sms, phone)
    later = clock.now() + dt.timedelta(minutes=5, seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert _signup(client, phone, code).json()["code"] == "code_invalid"


def test_a_code_allows_five_tries(
    client: Client, regions: None, console_sms: list[sms.SmsMessage]
) -> None:
    """Five wrong tries, and the right code no longer works."""
    phone = "13912340305"
    _code_request(client, phone, "signup")
    code = _last_code(console_sms, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _try in range(5):
        assert _signup(client, phone, wrong).json()["code"] == "code_invalid"
    assert _signup(client, phone, code).json()["code"] == "code_invalid"


def test_codes_are_rate_limited_per_number_and_per_address(
    client: Client,
    db: None,
    console_sms: list[sms.SmsMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second code within the interval is 429 with Retry-After; past the hourly count of an
    address, even new numbers are refused from it."""
    assert _code_request(client, "13912340306", "signup").status_code == 202
    again = _code_request(client, "13912340306", "signup")
    assert again.status_code == 429
    assert 0 < int(again["Retry-After"]) <= settings.SAIDAO_SMS_CODE_INTERVAL_SECONDS
    for n in range(settings.SAIDAO_SMS_CODES_PER_ADDRESS_HOUR):
        assert _code_request(client, f"1381234{n:04d}", "signup", ip="10.2.2.2").status_code == 202
    assert _code_request(client, "13912349999", "signup", ip="10.2.2.2").status_code == 429
    assert _code_request(client, "13912349999", "signup", ip="10.2.2.3").status_code == 202


def test_asking_a_reset_code_tells_nothing_about_the_number(
    client: Client, tree: Tree, console_sms: list[sms.SmsMessage]
) -> None:
    """Known and unknown numbers get the same answer; only the known one is sent a code."""
    known = tree.anding_member.user.phone
    a = _code_request(client, known, "reset")
    b = _code_request(client, "13912340307", "reset")
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert [m.phone for m in console_sms] == [known]


def test_the_owner_reclaims_an_account_an_officer_created_and_used(
    client: Client, tree: Tree, console_sms: list[sms.SmsMessage]
) -> None:
    """An officer imports a number, activates the account with their own code and signs in;
    the number's owner recovers it by SMS: the officer is signed out, their codes are void,
    and the owner is told."""
    phone = "13912340308"
    result = roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["本人", phone, "", ""]]),
    )
    ((created, code),) = result.created
    account_activate(phone=phone, code=code, password="Guan-Yuan-2026", **CONSENT)
    officer_token = api_token(client, created, password="Guan-Yuan-2026")
    password_reset_code_issue(officer=tree.city_officer, member=created)  # one still pending
    assert _code_request(client, phone, "reset").status_code == 202
    resp = _recover(client, phone, _last_code(console_sms, phone))
    assert resp.status_code == 200, resp.content
    assert client.get("/api/v1/me", headers=bearer(officer_token)).status_code == 401
    assert not OneTimeCode.objects.filter(user=created, used_at__isnull=True).exists()
    assert "account_reclaimed" in [n["kind"] for n in resp.json()["notices"]]
    assert client.get("/api/v1/me", headers=bearer(resp.json()["token"])).status_code == 200


def test_reclaiming_activates_an_account_nobody_activated(
    client: Client, tree: Tree, console_sms: list[sms.SmsMessage]
) -> None:
    """An imported account waiting for activation is activated by its owner's SMS code; the
    officer's activation code is void afterwards."""
    phone = "13912340309"
    result = roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["本人", phone, "", ""]]),
    )
    ((created, officer_code),) = result.created
    _code_request(client, phone, "reset")
    assert _recover(client, phone, _last_code(console_sms, phone)).status_code == 200
    created.refresh_from_db()
    assert created.is_activated
    resp = client.post(
        "/api/v1/auth/activate",
        {"phone": phone, "code": officer_code, "password": "Guan-Yuan-2026", **CONSENT},
        content_type=JSON,
    )
    assert resp.json()["code"] == "code_invalid"


def test_an_officer_code_is_told_by_sms_where_configured(
    tree: Tree,
    console_sms: list[sms.SmsMessage],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """With SMS configured, the holder is texted when an officer issues a code for them."""
    member = tree.anding_member.user
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_code_issue(officer=tree.city_officer, member=member)
    assert [m.template for m in console_sms if m.phone == member.phone] == ["code_issued"]
    assert AccountNotice.objects.get(user=member, kind="code_issued").sent_by_sms


def test_the_recover_page_sends_a_code_without_losing_the_form(
    client: Client, tree: Tree, console_sms: list[sms.SmsMessage]
) -> None:
    """The page's "get code" button posts only the number (htmx) and answers a status line."""
    phone = tree.anding_member.user.phone
    page = client.get("/accounts/recover/")
    assert 'data-testid="send-sms-code"' in page.content.decode()
    resp = client.post("/accounts/sms-code/", {"phone": phone, "purpose": "reset"})
    assert resp.status_code == 200
    assert 'data-testid="sms-sent"' in resp.content.decode()
    resp = client.post(
        "/accounts/recover/",
        {
            "phone": phone,
            "code": _last_code(console_sms, phone),
            "password": NEW_PASSWORD,
            "consent": "on",
        },
    )
    assert resp.status_code == 302


def test_a_provider_failure_is_a_plain_502_and_the_code_is_void(
    client: Client, db: None, settings: Any
) -> None:
    """The provider is down: the visitor gets 502 sms_delivery_failed without the provider's
    words, and the code that was never delivered cannot be used."""
    import socket

    from saidao.accounts.models import PhoneCode

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SAIDAO_SMS_BACKEND = "aliyun"
    settings.SAIDAO_SMS_ENDPOINT = f"http://127.0.0.1:{port}/"
    settings.SAIDAO_SMS_ACCESS_KEY_ID = "test-id"
    settings.SAIDAO_SMS_ACCESS_KEY_SECRET = "test-secret"
    settings.SAIDAO_SMS_SIGN_NAME = "赛道"
    settings.SAIDAO_SMS_TEMPLATE_CODE = "SMS_1"
    settings.SAIDAO_SMS_TIMEOUT = 2.0
    resp = _code_request(client, "13912340310", "signup")
    assert resp.status_code == 502
    assert resp.json()["code"] == "sms_delivery_failed"
    assert resp.json()["detail"] == {}
    assert PhoneCode.objects.get(phone="13912340310").used_at is not None
