"""The accounts REST API: auth, me, join, members, one-time codes, rosters, isolation."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from saidao.accounts.models import (
    AccountNotice,
    LoginThrottle,
    Membership,
    MembershipInvitation,
    OneTimeCode,
    PrivacyConsent,
    User,
)
from saidao.accounts.roster import roster_parse
from saidao.accounts.tests.factories import (
    PASSWORD,
    MembershipFactory,
    UserFactory,
    api_token,
    bearer,
    roster_xlsx,
)
from saidao.conftest import Tree
from saidao.orgs.models import Role
from saidao.orgs.tests.factories import InviteCodeFactory

JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEW_PASSWORD = "Xin-Mima-2026"
REFUSED = "手机号或密码不正确。如果工会为您导入了名册，请先激活账号。"


def _post(client: Client, url: str, data: dict[str, Any], token: str | None = None) -> Any:
    headers = bearer(token) if token else {}
    return client.post(url, data, content_type=JSON, headers=headers)


def _signup_body(**overrides: str) -> dict[str, str]:
    body = {
        "phone": "13912340101",
        "password": NEW_PASSWORD,
        "real_name": "李四",
        "employer": "定西某快递公司",
        "position": "快递员",
        "province": "620000",
        "city": "621100",
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
    body.update(overrides)
    return body


def _assert_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert body["message"]
    assert isinstance(body, dict)
    return body


# --- sign-up ------------------------------------------------------------------------------


def test_signup_returns_a_token_and_records_consent(client: Client, regions: None) -> None:
    """POST /auth/signup creates the worker, records the consent and returns a working token."""
    resp = _post(client, "/api/v1/auth/signup", _signup_body(phone="+86 139-1234-0101"))
    assert resp.status_code == 201, resp.content
    token = resp.json()["token"]
    assert resp.json()["expires_in_days"] == settings.SAIDAO_API_TOKEN_DAYS
    user = User.objects.get(phone="13912340101")
    consent = PrivacyConsent.objects.get(user=user)
    assert consent.version == settings.SAIDAO_PRIVACY_NOTICE_VERSION
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.json()["phone"] == "13912340101"
    assert me.json()["city"] == "621100"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "请输入 11 位中国大陆手机号，例如 13812345678。"),
        ({"password": "12345678"}, "password", "密码只包含数字。"),
        ({"password": "Ab-1"}, "password", "密码太短，至少需要 8 个字符。"),
        ({"consent_version": ""}, "consent", "请阅读并同意隐私政策后继续。"),
        ({"city": "370500"}, "city", "所选城市不属于甘肃省，请重新选择。"),
        ({"real_name": " "}, "real_name", "请填写真实姓名。"),
    ],
)
def test_signup_errors_name_the_field_and_save_nothing(
    client: Client, regions: None, overrides: dict[str, str], field: str, message: str
) -> None:
    """Each invalid input is a 400 with its message on its field; no user, no consent saved."""
    resp = _post(client, "/api/v1/auth/signup", _signup_body(**overrides))
    body = _assert_error(resp, 400, "invalid")
    assert message in body["detail"]["fields"][field]
    assert User.objects.count() == 0
    assert PrivacyConsent.objects.count() == 0


def test_signup_duplicate_phone_saves_nothing(client: Client, regions: None) -> None:
    """A registered number gets a 400 on the phone field; nothing else is written."""
    UserFactory.create(phone="13912340101")
    resp = _post(client, "/api/v1/auth/signup", _signup_body())
    body = _assert_error(resp, 400, "invalid")
    assert body["detail"]["fields"]["phone"] == [
        "该手机号已注册，请直接登录；忘记密码可通过短信找回。"
    ]
    assert User.objects.count() == 1
    assert PrivacyConsent.objects.count() == 0


def test_signup_with_missing_fields_is_422(client: Client, regions: None) -> None:
    """A body missing required keys is refused by the schema with the same error shape."""
    resp = _post(client, "/api/v1/auth/signup", {"phone": "13912340101"})
    body = _assert_error(resp, 422, "invalid")
    assert body["detail"]["errors"]
    assert User.objects.count() == 0


# --- log-in -------------------------------------------------------------------------------


def test_login_token_works_as_bearer_on_me(client: Client, tree: Tree) -> None:
    """POST /auth/login returns a token that authenticates GET /me."""
    member = tree.anding_member.user
    resp = _post(client, "/api/v1/auth/login", {"phone": member.phone, "password": PASSWORD})
    assert resp.status_code == 200
    token = resp.json()["token"]
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == member.pk
    assert body["phone"] == member.phone
    assert body["membership"]["organization_id"] == tree.courier.pk
    assert body["membership"]["organization_name"] == "安定区快递行业工会联合会"
    assert body["officer_of"] == []


def test_me_lists_the_organizations_an_officer_runs(client: Client, tree: Tree) -> None:
    """An officer's /me names the roots of the subtrees they administer."""
    token = api_token(client, tree.city_officer)
    assert client.get("/api/v1/me", headers=bearer(token)).json()["officer_of"] == [tree.dingxi.pk]


def test_me_without_a_token_is_401(client: Client, db: None) -> None:
    """Without credentials, or with a bad token, /me is 401 in the error shape."""
    _assert_error(client.get("/api/v1/me"), 401, "not_authenticated")
    _assert_error(client.get("/api/v1/me", headers=bearer("nope")), 401, "not_authenticated")


def test_session_log_in_also_works_for_get(client: Client, tree: Tree) -> None:
    """A browser session authenticates the API's reads too."""
    client.force_login(tree.anding_member.user)
    assert client.get("/api/v1/me").json()["id"] == tree.anding_member.user_id


def test_login_wrong_password_is_401(client: Client, tree: Tree) -> None:
    """A wrong password gives 401 with code, message and detail."""
    member = tree.anding_member.user
    resp = _post(client, "/api/v1/auth/login", {"phone": member.phone, "password": "wrong-pw-1"})
    body = _assert_error(resp, 401, "invalid_credentials")
    assert body["message"] == REFUSED
    assert body["detail"] == {}


def test_login_delays_an_address_after_repeated_failures(
    client: Client, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After MAX failures from one address the number is 429 account_locked there, even with
    the right password, with retry_after, until and a Retry-After header, until the delay
    has passed."""
    member = tree.anding_member.user
    wrong = {"phone": member.phone, "password": "wrong-pw-1"}
    right = {"phone": member.phone, "password": PASSWORD}
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES):
        _assert_error(_post(client, "/api/v1/auth/login", wrong), 401, "invalid_credentials")
    resp = _post(client, "/api/v1/auth/login", right)
    body = _assert_error(resp, 429, "account_locked")
    assert body["message"].startswith("尝试次数过多")
    retry_after = body["detail"]["retry_after"]
    assert 0 < retry_after <= 60 * settings.SAIDAO_LOGIN_LOCK_MINUTES
    assert resp["Retry-After"] == str(retry_after)
    until = dt.datetime.fromisoformat(body["detail"]["until"])
    assert until == LoginThrottle.objects.get(key=f"n:{member.phone}@127.0.0.1").blocked_until

    later = until + dt.timedelta(seconds=1)
    monkeypatch.setattr("saidao.core.clock.now", lambda: later)
    resp = _post(client, "/api/v1/auth/login", right)
    assert resp.status_code == 200
    assert resp.json()["token"]


def test_delay_ends_when_blocked_until_is_past(client: Client, tree: Tree) -> None:
    """Editing blocked_until into the past lets the number in again."""
    member = tree.anding_member.user
    LoginThrottle.objects.create(
        key=f"n:{member.phone}", blocked_until=timezone.now() + dt.timedelta(minutes=5)
    )
    right = {"phone": member.phone, "password": PASSWORD}
    _assert_error(_post(client, "/api/v1/auth/login", right), 429, "account_locked")
    LoginThrottle.objects.filter(key=f"n:{member.phone}").update(
        blocked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _post(client, "/api/v1/auth/login", right).status_code == 200


def test_imported_account_not_yet_activated_is_refused_like_a_wrong_password(
    client: Client, tree: Tree
) -> None:
    """An imported account gets the same 401 invalid_credentials as a wrong password (no
    token, and nothing tells that the number was imported); the message hints at activation."""
    token = api_token(client, tree.city_officer)
    f = roster_xlsx([["王五", "13912340103", "", ""]])
    client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    resp = _post(client, "/api/v1/auth/login", {"phone": "13912340103", "password": "x-1234567"})
    body = _assert_error(resp, 401, "invalid_credentials")
    assert body["message"] == REFUSED
    assert "激活" in body["message"]


# --- profile and deletion -----------------------------------------------------------------


def test_put_me_updates_the_profile(client: Client, tree: Tree) -> None:
    """PUT /me changes name, employer and region; a mismatched city is a 400 on city."""
    token = api_token(client, tree.anding_member.user)
    body = {"real_name": "新名字", "employer": "新单位", "province": "620000", "city": "370500"}
    err = client.put("/api/v1/me", body, content_type=JSON, headers=bearer(token))
    assert _assert_error(err, 400, "invalid")["detail"]["fields"]["city"]
    body["city"] = "621100"
    resp = client.put("/api/v1/me", body, content_type=JSON, headers=bearer(token))
    assert resp.status_code == 200
    assert resp.json()["real_name"] == "新名字"


def test_delete_me_erases_the_account(client: Client, tree: Tree) -> None:
    """DELETE /me anonymizes the caller, ends the membership (kept), removes roles,
    revokes the token, and the number can no longer log in."""
    member = tree.anding_member.user
    Role.objects.create(organization=tree.courier, user=member, kind=Role.Kind.OFFICER)
    token = api_token(client, member)
    resp = client.delete("/api/v1/me", headers=bearer(token))
    assert resp.status_code == 204
    member.refresh_from_db()
    assert member.phone == f"deleted-{member.pk}"
    assert member.real_name == "已注销用户"
    assert member.employer == ""
    assert Membership.objects.get(pk=tree.anding_member.pk).left_at is not None
    assert not Role.objects.filter(user=member).exists()
    _assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "not_authenticated")
    login = {"phone": tree.anding_member.user.phone, "password": PASSWORD}
    _assert_error(_post(client, "/api/v1/auth/login", login), 401, "invalid_credentials")


def test_me_memberships_lists_history(client: Client, tree: Tree) -> None:
    """GET /me/memberships lists the current and ended memberships, newest first."""
    InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI2")
    token = api_token(client, tree.anding_member.user)
    _post(client, "/api/v1/join", {"code": "TONGWEI2"}, token)
    rows = client.get("/api/v1/me/memberships", headers=bearer(token)).json()
    assert [(r["organization_id"], r["left_at"] is None) for r in rows] == [
        (tree.tongwei.pk, True),
        (tree.courier.pk, False),
    ]


# --- join ---------------------------------------------------------------------------------


def test_join_creates_the_membership(client: Client, tree: Tree) -> None:
    """POST /join with a valid code returns 201 and the new current membership."""
    worker = UserFactory.create()
    InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI1")
    token = api_token(client, worker)
    resp = _post(client, "/api/v1/join", {"code": "tongwei1"}, token)
    assert resp.status_code == 201, resp.content
    assert resp.json()["organization_id"] == tree.tongwei.pk
    assert resp.json()["left_at"] is None
    assert Membership.objects.get(user=worker, left_at__isnull=True).organization == tree.tongwei


def test_join_twice_is_409_and_changes_nothing(client: Client, tree: Tree) -> None:
    """Joining one's own organization again is 409 already_member; the membership stays."""
    InviteCodeFactory.create(organization=tree.courier, code="COURIER2")
    token = api_token(client, tree.anding_member.user)
    body = _assert_error(
        _post(client, "/api/v1/join", {"code": "COURIER2"}, token), 409, "already_member"
    )
    assert body["message"] == "您已经是该组织的会员了。"
    assert list(Membership.objects.filter(user=tree.anding_member.user)) == [tree.anding_member]


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"expires_at": timezone.now() - dt.timedelta(hours=1)},
            "invite_code_expired",
            "邀请码已过期，请向工会索取新的邀请码。",
        ),
        (
            {"revoked_at": timezone.now()},
            "invite_code_revoked",
            "邀请码已作废，请向工会索取新的邀请码。",
        ),
    ],
)
def test_join_with_a_dead_code_is_400(
    client: Client, tree: Tree, kwargs: dict[str, Any], code: str, message: str
) -> None:
    """Expired and revoked codes are refused with their own clear message."""
    worker = UserFactory.create()
    InviteCodeFactory.create(organization=tree.tongwei, code="DEADCODE", **kwargs)
    token = api_token(client, worker)
    body = _assert_error(_post(client, "/api/v1/join", {"code": "DEADCODE"}, token), 400, code)
    assert body["message"] == message
    assert not Membership.objects.filter(user=worker).exists()


def test_join_another_org_moves_the_membership(client: Client, tree: Tree) -> None:
    """A code of another organization moves the member; the old row is kept and ended."""
    InviteCodeFactory.create(organization=tree.dongying, code="DONGYING2")
    token = api_token(client, tree.anding_member.user)
    resp = _post(client, "/api/v1/join", {"code": "DONGYING2"}, token)
    assert resp.status_code == 201
    rows = Membership.objects.filter(user=tree.anding_member.user)
    assert rows.count() == 2
    assert rows.filter(left_at__isnull=True).get().organization == tree.dongying
    assert rows.get(pk=tree.anding_member.pk).left_at is not None


def test_join_needs_log_in(client: Client, tree: Tree) -> None:
    """Anonymous callers cannot join."""
    InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI3")
    _assert_error(_post(client, "/api/v1/join", {"code": "TONGWEI3"}), 401, "not_authenticated")


# --- members ------------------------------------------------------------------------------


def test_members_list_of_the_subtree_with_full_phones(client: Client, tree: Tree) -> None:
    """定西's officer lists 定西's current members with full numbers and their organization."""
    tongwei = MembershipFactory.create(organization=tree.tongwei)
    token = api_token(client, tree.city_officer)
    resp = client.get(f"/api/v1/orgs/{tree.dingxi.pk}/members", headers=bearer(token))
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 2
    rows = {r["user_id"]: r for r in body["items"]}
    assert set(rows) == {tree.anding_member.user_id, tongwei.user_id}
    row = rows[tree.anding_member.user_id]
    assert row == {
        "user_id": tree.anding_member.user_id,
        "real_name": tree.anding_member.user.real_name,
        "phone": tree.anding_member.user.phone,
        "employer": "定西市某快递公司",
        "position": "快递员",
        "organization_id": tree.courier.pk,
        "organization_name": "安定区快递行业工会联合会",
        "joined_at": row["joined_at"],
        "activated": True,
    }


def test_members_list_paginates_and_searches(client: Client, tree: Tree) -> None:
    """limit/offset page the list; q filters by name."""
    MembershipFactory.create_batch(4, organization=tree.courier)
    MembershipFactory.create(
        organization=tree.courier, user=UserFactory.create(real_name="张测试明")
    )
    token = api_token(client, tree.city_officer)
    url = f"/api/v1/orgs/{tree.courier.pk}/members"
    page = client.get(url, {"limit": 2, "offset": 2}, headers=bearer(token)).json()
    assert page["count"] == 6
    assert len(page["items"]) == 2
    found = client.get(url, {"q": "测试明"}, headers=bearer(token)).json()
    assert [r["real_name"] for r in found["items"]] == ["张测试明"]


def test_member_detail(client: Client, tree: Tree) -> None:
    """GET /members/<id> returns one member of the caller's subtree."""
    token = api_token(client, tree.city_officer)
    resp = client.get(f"/api/v1/members/{tree.anding_member.user_id}", headers=bearer(token))
    assert resp.status_code == 200
    assert resp.json()["phone"] == tree.anding_member.user.phone


def test_plain_worker_cannot_list_members(client: Client, tree: Tree) -> None:
    """A member without an officer role sees no organization's members (404)."""
    token = api_token(client, tree.anding_member.user)
    resp = client.get(f"/api/v1/orgs/{tree.courier.pk}/members", headers=bearer(token))
    _assert_error(resp, 404, "not_found")
    resp = client.get(f"/api/v1/members/{tree.anding_member.user_id}", headers=bearer(token))
    _assert_error(resp, 404, "not_found")


# --- one-time codes -----------------------------------------------------------------------


def test_one_time_code_resets_the_password_once_and_revokes_tokens(
    client: Client, tree: Tree
) -> None:
    """The officer's code resets the member's password once; the member's tokens die."""
    member = tree.anding_member.user
    member_token = api_token(client, member)
    officer_token = api_token(client, tree.city_officer)
    resp = _post(client, f"/api/v1/members/{member.pk}/one-time-code", {}, officer_token)
    assert resp.status_code == 201, resp.content
    assert resp.json()["purpose"] == "password_reset"
    code = resp.json()["code"]

    reset = {"phone": member.phone, "code": code, "password": NEW_PASSWORD}
    assert _post(client, "/api/v1/auth/reset-password", reset).status_code == 204
    _assert_error(client.get("/api/v1/me", headers=bearer(member_token)), 401, "not_authenticated")
    again = _post(client, "/api/v1/auth/reset-password", {**reset, "password": "Other-2026-x"})
    _assert_error(again, 400, "code_invalid")
    assert api_token(client, member, NEW_PASSWORD)


def test_one_time_code_for_another_city_is_404(client: Client, tree: Tree) -> None:
    """东营's member is invisible to 定西's officer: 404, and no code is created."""
    token = api_token(client, tree.city_officer)
    url = f"/api/v1/members/{tree.dongying_member.user_id}/one-time-code"
    _assert_error(_post(client, url, {}, token), 404, "not_found")
    assert not OneTimeCode.objects.exists()


def test_one_time_code_for_a_member_with_a_role_elsewhere_is_403(
    client: Client, tree: Tree
) -> None:
    """A member of 定西's subtree who is an officer in 东营 is not 定西's to open: 403
    code_not_allowed, and no code or notice is created; so is the officer's own account when
    they are a member inside their subtree."""
    member = tree.anding_member.user
    Role.objects.create(organization=tree.dongying, user=member, kind=Role.Kind.OFFICER)
    token = api_token(client, tree.city_officer)
    body = _assert_error(
        _post(client, f"/api/v1/members/{member.pk}/one-time-code", {}, token),
        403,
        "code_not_allowed",
    )
    assert "短信找回" in body["message"]
    MembershipFactory.create(user=tree.city_officer, organization=tree.courier)
    own = f"/api/v1/members/{tree.city_officer.pk}/one-time-code"
    _assert_error(_post(client, own, {}, token), 403, "code_not_allowed")
    assert not OneTimeCode.objects.exists()
    assert not AccountNotice.objects.exists()


# --- rosters ------------------------------------------------------------------------------


def test_roster_import_creates_accounts_that_activate(client: Client, tree: Tree) -> None:
    """A good roster returns counts and activation codes; each code activates its account."""
    token = api_token(client, tree.city_officer)
    f = roster_xlsx([["张三", 13912340111, "顺丰", "快递员"], [], ["李四", "13912340112", "", ""]])
    resp = client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) == {"created", "invited", "unchanged", "activation_codes"}
    assert (body["created"], body["invited"], body["unchanged"]) == (2, 0, 0)
    codes = {c["phone"]: c["code"] for c in body["activation_codes"]}
    assert set(codes) == {"13912340111", "13912340112"}
    assert all(not u.is_activated for u in User.objects.filter(phone__in=codes))

    activate = {
        "phone": "13912340111",
        "code": codes["13912340111"],
        "password": NEW_PASSWORD,
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
    resp = _post(client, "/api/v1/auth/activate", activate)
    assert resp.status_code == 200, resp.content
    me = client.get("/api/v1/me", headers=bearer(resp.json()["token"])).json()
    assert me["membership"]["organization_id"] == tree.courier.pk
    login = {"phone": "13912340111", "password": NEW_PASSWORD}
    assert _post(client, "/api/v1/auth/login", login).status_code == 200


def test_activation_with_a_wrong_code_is_refused_and_counted(client: Client, tree: Tree) -> None:
    """A wrong activation code is 400 code_invalid and counts toward the lock-out."""
    token = api_token(client, tree.city_officer)
    f = roster_xlsx([["张三", "13912340121", "", ""]])
    body = client.post(
        f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token)
    ).json()
    code = body["activation_codes"][0]["code"]
    activate = {
        "phone": "13912340121",
        "code": f"{(int(code) + 1) % 10**8:08d}",
        "password": NEW_PASSWORD,
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
    _assert_error(_post(client, "/api/v1/auth/activate", activate), 400, "code_invalid")
    assert LoginThrottle.objects.get(key="n:13912340121@127.0.0.1").failures == 1
    assert LoginThrottle.objects.get(key="n:13912340121").failures == 1


def test_roster_with_bad_rows_is_400_and_imports_nothing(client: Client, tree: Tree) -> None:
    """Every bad row comes back with its row number; nothing is saved."""
    token = api_token(client, tree.city_officer)
    f = roster_xlsx(
        [
            ["张三", "13912340131", "", ""],
            ["李四", "bad", "", ""],
            ["", "13912340133", "", ""],
            ["王五", "13912340131", "", ""],
            ["赵六", tree.dongying_member.user.phone, "", ""],  # fine: would be invited
        ]
    )
    users = User.objects.count()
    resp = client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    body = _assert_error(resp, 400, "roster_invalid")
    assert [e["row"] for e in body["detail"]["errors"]] == [3, 4, 5]
    assert User.objects.count() == users
    assert not MembershipInvitation.objects.exists()


def test_roster_that_is_not_xlsx_is_400_on_the_file(client: Client, tree: Tree) -> None:
    """A CSV upload gets a clear message on the file field."""
    token = api_token(client, tree.city_officer)
    f = io.BytesIO("姓名,手机号\n张三,13912340141\n".encode())
    f.name = "roster.csv"
    resp = client.post(f"/api/v1/orgs/{tree.courier.pk}/roster", {"file": f}, headers=bearer(token))
    body = _assert_error(resp, 400, "roster_invalid")
    assert body["message"] == "无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。"
    assert body["detail"]["fields"]["file"] == [body["message"]]


def test_roster_export_reads_back(client: Client, tree: Tree) -> None:
    """GET /orgs/<id>/roster.xlsx is an .xlsx of the subtree that roster_parse accepts."""
    token = api_token(client, tree.city_officer)
    resp = client.get(f"/api/v1/orgs/{tree.dingxi.pk}/roster.xlsx", headers=bearer(token))
    assert resp.status_code == 200
    assert resp["Content-Type"] == XLSX
    assert f"roster-{tree.dingxi.pk}.xlsx" in resp["Content-Disposition"]
    parsed = roster_parse(io.BytesIO(resp.content))
    assert parsed.errors == []
    assert [r.phone for r in parsed.rows] == [tree.anding_member.user.phone]


# --- isolation ----------------------------------------------------------------------------


def _requests(tree: Tree, org_id: int, user_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", f"/api/v1/orgs/{org_id}/members", {}),
        ("get", f"/api/v1/members/{user_id}", {}),
        ("post", f"/api/v1/members/{user_id}/one-time-code", {"content_type": JSON}),
        (
            "post",
            f"/api/v1/orgs/{org_id}/roster",
            {"data": {"file": roster_xlsx([["新人", "13912340151", "", ""]])}},
        ),
        ("get", f"/api/v1/orgs/{org_id}/roster.xlsx", {}),
    ]


def test_officer_cannot_reach_members_of_another_city(client: Client, tree: Tree) -> None:
    """定西's officer gets 403/404 on every member endpoint for 东营, and nothing changes."""
    token = api_token(client, tree.city_officer)
    before = (User.objects.count(), OneTimeCode.objects.count(), Membership.objects.count())
    for method, url, kwargs in _requests(tree, tree.dongying.pk, tree.dongying_member.user_id):
        resp = getattr(client, method)(url, **kwargs, headers=bearer(token))
        assert resp.status_code in (403, 404), (url, resp.status_code)
        assert tree.dongying_member.user.phone not in resp.content.decode(errors="ignore")
    after = (User.objects.count(), OneTimeCode.objects.count(), Membership.objects.count())
    assert after == before


def test_officer_reaches_members_of_their_own_subtree(client: Client, tree: Tree) -> None:
    """The same endpoints all work for 安定区's courier union, inside 定西's subtree."""
    token = api_token(client, tree.city_officer)
    for method, url, kwargs in _requests(tree, tree.courier.pk, tree.anding_member.user_id):
        resp = getattr(client, method)(url, **kwargs, headers=bearer(token))
        assert resp.status_code in (200, 201), (url, resp.status_code, resp.content)
    assert User.objects.filter(phone="13912340151").exists()


def test_other_city_officer_cannot_reach_dingxi(client: Client, tree: Tree) -> None:
    """Isolation works both ways: 东营's officer cannot reach 安定区's member."""
    token = api_token(client, tree.other_officer)
    for method, url, kwargs in _requests(tree, tree.courier.pk, tree.anding_member.user_id):
        resp = getattr(client, method)(url, **kwargs, headers=bearer(token))
        assert resp.status_code in (403, 404), (url, resp.status_code)


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 30])
def test_members_list_query_count_does_not_grow(
    client: Client, tree: Tree, django_assert_num_queries: DjangoAssertNumQueries, n: int
) -> None:
    """Token, organization, roles, count, page: five queries for 3 or 30 members."""
    MembershipFactory.create_batch(n, organization=tree.courier)
    token = api_token(client, tree.city_officer)
    with django_assert_num_queries(5):
        resp = client.get(f"/api/v1/orgs/{tree.dingxi.pk}/members", headers=bearer(token))
    assert resp.json()["count"] == n + 1
