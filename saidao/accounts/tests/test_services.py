"""Writes for workers: sign-up, log-in and lock-out, joining, one-time codes, rosters, erasure."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from saidao.accounts import services
from saidao.accounts.errors import (
    AccountLocked,
    AlreadyMember,
    CodeInvalid,
    CodeNotAllowed,
    InvalidCredentials,
    RosterInvalid,
)
from saidao.accounts.models import (
    AccountNotice,
    ApiToken,
    LoginThrottle,
    Membership,
    MembershipInvitation,
    OneTimeCode,
    PrivacyConsent,
    User,
    UserSession,
)
from saidao.accounts.tests.factories import (
    PASSWORD,
    MembershipFactory,
    UserFactory,
    roster_xlsx,
)
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.models import AuditEntry
from saidao.orgs.errors import InviteCodeExpired, InviteCodeInvalid, InviteCodeRevoked
from saidao.orgs.models import InviteCode, Organization, Role
from saidao.orgs.tests.factories import InviteCodeFactory, make_org
from saidao.regions.models import Region

NEW_PASSWORD = "Xin-Mima-2026"
IP = "10.0.0.9"
REFUSED = "手机号或密码不正确。如果工会为您导入了名册，请先激活账号。"


class Clock:
    """Moves ``saidao.core.clock.now`` for the services."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = dt.timedelta()
        monkeypatch.setattr("saidao.core.clock.now", lambda: timezone.now() + self.offset)

    def advance(self, **kwargs: float) -> None:
        self.offset += dt.timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def _counts() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        PrivacyConsent.objects.count(),
        Membership.objects.count(),
        OneTimeCode.objects.count(),
    )


def _signup(**overrides: Any) -> User:
    data: dict[str, Any] = {
        "phone": "13912340001",
        "password": NEW_PASSWORD,
        "real_name": "李四",
        "employer": "定西某快递公司",
        "position": "快递员",
        "province": Region.objects.get(code="620000"),
        "city": Region.objects.get(code="621100"),
        "consent_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
        "ip_address": "10.0.0.8",
    }
    data.update(overrides)
    return services.user_signup(**data)


def _field_errors(info: pytest.ExceptionInfo[InvalidInput]) -> dict[str, list[str]]:
    fields = info.value.detail["fields"]
    assert isinstance(fields, dict)
    return fields


# --- sign-up ------------------------------------------------------------------------------


def test_signup_creates_an_activated_worker_with_consent(regions: None) -> None:
    """Sign-up stores the normalized number, logs the current privacy version and IP."""
    user = _signup(phone="+86 139-1234-0001", real_name="  李四 ")
    user.refresh_from_db()
    assert user.phone == "13912340001"
    assert user.real_name == "李四"
    assert user.province_id == "620000"
    assert user.city_id == "621100"
    assert user.is_activated
    assert user.check_password(NEW_PASSWORD)
    consent = PrivacyConsent.objects.get(user=user)
    assert consent.version == settings.SAIDAO_PRIVACY_NOTICE_VERSION
    assert consent.ip_address == "10.0.0.8"


def test_signup_invalid_phone_saves_nothing(regions: None) -> None:
    """A landline is refused on the phone field, and no user or consent is written."""
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        _signup(phone="0932-8212345")
    assert _field_errors(info) == {"phone": ["请输入 11 位中国大陆手机号，例如 13812345678。"]}
    assert _counts() == before


def test_signup_duplicate_phone_saves_nothing(regions: None) -> None:
    """A number already registered (however it is typed) is refused on the phone field."""
    UserFactory.create(phone="13912340001")
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        _signup(phone="+86 139 1234 0001")
    assert _field_errors(info)["phone"] == ["该手机号已注册，请直接登录；忘记密码可通过短信找回。"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("12345678", "密码只包含数字。"),
        ("password", "这个密码太常见了。"),
        ("Ab3-x", "密码太短，至少需要 8 个字符。"),
    ],
)
def test_signup_weak_password_saves_nothing(regions: None, password: str, expected: str) -> None:
    """Numeric, common or short passwords are refused on the password field, in Chinese."""
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        _signup(password=password)
    errors = _field_errors(info)
    assert list(errors) == ["password"]
    assert expected in errors["password"]
    assert all("password" not in m.lower() for m in errors["password"])  # no English left
    assert _counts() == before


@pytest.mark.parametrize("version", ["", "2020-01"])
def test_signup_without_current_consent_saves_nothing(regions: None, version: str) -> None:
    """No consent, or consent to an outdated notice, is refused on the consent field."""
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        _signup(consent_version=version)
    assert _field_errors(info) == {"consent": ["请阅读并同意隐私政策后继续。"]}
    assert _counts() == before


@pytest.mark.parametrize("city", ["370500", "621102"])
def test_signup_city_outside_the_province_saves_nothing(regions: None, city: str) -> None:
    """东营 is not in 甘肃, and 安定区 is a county, not a city: both refused on the city field."""
    before = _counts()
    with pytest.raises(InvalidInput) as info:
        _signup(city=Region.objects.get(code=city))
    assert _field_errors(info) == {"city": ["所选城市不属于甘肃省，请重新选择。"]}
    assert _counts() == before


def test_signup_reports_every_field_at_once(regions: None) -> None:
    """All problems come back together, each on its own field."""
    with pytest.raises(InvalidInput) as info:
        _signup(
            phone="123",
            password="123",
            real_name=" ",
            province=None,
            city=None,
            consent_version="",
        )
    assert set(_field_errors(info)) == {
        "phone",
        "password",
        "real_name",
        "province",
        "city",
        "consent",
    }
    assert User.objects.count() == 0


def test_signup_province_must_be_a_province(regions: None) -> None:
    """A city code in the province slot is refused on the province field."""
    with pytest.raises(InvalidInput) as info:
        _signup(province=Region.objects.get(code="621100"))
    assert _field_errors(info)["province"] == ["请选择省级行政区。"]


# --- log-in and lock-out ------------------------------------------------------------------


def test_login_with_phone_and_password(db: None) -> None:
    """The right password logs in, whatever way the number is typed."""
    user = UserFactory.create(phone="13912340002")
    assert services.auth_login(phone="+86 139-1234-0002", password=PASSWORD) == user


def _failures(key: str) -> int:
    return LoginThrottle.objects.get(key=key).failures


def test_login_wrong_password_counts_a_failure_under_every_key(db: None) -> None:
    """A wrong password raises InvalidCredentials (401) and is counted for the number, for
    the number from this address, and for the address."""
    user = UserFactory.create()
    with pytest.raises(InvalidCredentials) as info:
        services.auth_login(phone=user.phone, password="wrong-password", ip_address=IP)
    assert info.value.status == 401
    assert str(info.value.message) == REFUSED
    assert _failures(f"n:{user.phone}") == 1
    assert _failures(f"n:{user.phone}@{IP}") == 1
    assert _failures(f"a:{IP}") == 1


def test_login_unknown_number_gives_the_same_error(db: None) -> None:
    """An unknown number gets the same message as a wrong password and is counted the same
    way: no account oracle."""
    with pytest.raises(InvalidCredentials) as info:
        services.auth_login(phone="13912349999", password=PASSWORD, ip_address=IP)
    assert str(info.value.message) == REFUSED
    assert _failures("n:13912349999") == 1
    assert _failures(f"n:13912349999@{IP}") == 1


def test_failures_from_one_address_delay_it_and_the_delay_ends(db: None, clock: Clock) -> None:
    """After MAX failures from one address even the right password from there waits out a
    delay (429 with retry_after and until); the owner elsewhere is not kept out, and once
    the delay has passed the address logs in again."""
    user = UserFactory.create()
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES):
        with pytest.raises(InvalidCredentials):
            services.auth_login(phone=user.phone, password="wrong-password", ip_address=IP)
    with pytest.raises(AccountLocked) as info:
        services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP)
    assert info.value.status == 429
    assert info.value.code == "account_locked"
    assert str(info.value.message) == "尝试次数过多，请 30 秒后再试。"
    assert info.value.detail["retry_after"] == 30
    assert "until" in info.value.detail

    # From another address the number is not blocked: failing it delays only the guesser.
    assert services.auth_login(phone=user.phone, password=PASSWORD, ip_address="10.0.0.1") == user

    clock.advance(seconds=28)
    with pytest.raises(AccountLocked):
        services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP)

    clock.advance(seconds=3)
    assert services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP) == user
    assert not LoginThrottle.objects.filter(key__startswith=f"n:{user.phone}").exists()
    assert _failures(f"a:{IP}") == settings.SAIDAO_LOGIN_MAX_FAILURES  # the address's count stays


def test_login_delay_follows_the_setting(db: None, settings: Settings) -> None:
    """SAIDAO_LOGIN_MAX_FAILURES decides how many failures from one address start the delay."""
    settings.SAIDAO_LOGIN_MAX_FAILURES = 2
    user = UserFactory.create()
    for _i in range(2):
        with pytest.raises(InvalidCredentials):
            services.auth_login(phone=user.phone, password="wrong-password", ip_address=IP)
    with pytest.raises(AccountLocked):
        services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP)


def test_login_is_let_through_when_blocked_until_has_passed(db: None) -> None:
    """A delay whose time is over no longer blocks the number."""
    user = UserFactory.create()
    LoginThrottle.objects.create(
        key=f"n:{user.phone}@{IP}",
        failures=settings.SAIDAO_LOGIN_MAX_FAILURES,
        blocked_until=timezone.now() - dt.timedelta(seconds=1),
    )
    assert services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP) == user


def test_successful_login_clears_earlier_failures(db: None) -> None:
    """Failures below the limit are forgotten after a successful log-in."""
    user = UserFactory.create()
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES - 1):
        with pytest.raises(InvalidCredentials):
            services.auth_login(phone=user.phone, password="wrong-password", ip_address=IP)
    services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP)
    with pytest.raises(InvalidCredentials):
        services.auth_login(phone=user.phone, password="wrong-password", ip_address=IP)
    assert services.auth_login(phone=user.phone, password=PASSWORD, ip_address=IP) == user


def test_imported_account_not_yet_activated_gets_the_same_refusal(tree: Tree) -> None:
    """An account from a roster has no password yet: log-in is refused like a wrong password
    (nothing tells a stranger the number was imported), and the message hints at activation."""
    services.roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["王五", "13912340003", "", ""]]),
    )
    with pytest.raises(InvalidCredentials) as info:
        services.auth_login(phone="13912340003", password="anything-at-all")
    assert info.value.code == "invalid_credentials"
    assert str(info.value.message) == REFUSED
    assert "激活" in str(info.value.message)


def test_api_token_resolves_to_its_user_until_it_expires(db: None, clock: Clock) -> None:
    """Only the token's hash is stored; the token finds its user until it expires."""
    user = UserFactory.create()
    key = services.api_token_issue(user=user)
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert services.api_token_user(key=key) == user
    assert services.api_token_user(key=key + "x") is None
    clock.advance(days=settings.SAIDAO_API_TOKEN_DAYS + 1)
    assert services.api_token_user(key=key) is None


# --- joining ------------------------------------------------------------------------------


def test_join_with_a_valid_code_creates_the_current_membership(tree: Tree) -> None:
    """A worker without a membership joins the code's organization; the code counts a use."""
    worker = UserFactory.create()
    invite = InviteCodeFactory.create(organization=tree.tongwei, code="TONGWEI1")
    m = services.membership_join(user=worker, code=" tongwei1 ")
    assert m.organization == tree.tongwei
    assert m.is_current
    assert m.source == Membership.Source.INVITE
    assert m.invite_code == invite
    invite.refresh_from_db()
    assert invite.uses == 1


def test_join_the_same_organization_twice_changes_nothing(tree: Tree) -> None:
    """A member using their own organization's code gets AlreadyMember, and nothing moves."""
    invite = InviteCodeFactory.create(organization=tree.courier, code="COURIER1")
    user = tree.anding_member.user
    before = list(Membership.objects.filter(user=user).values_list("pk", "left_at"))
    with pytest.raises(AlreadyMember) as info:
        services.membership_join(user=user, code=invite.code)
    assert info.value.status == 409
    assert str(info.value.message) == "您已经是该组织的会员了。"
    assert list(Membership.objects.filter(user=user).values_list("pk", "left_at")) == before
    invite.refresh_from_db()
    assert invite.uses == 0


def test_join_with_an_expired_code_is_refused(tree: Tree) -> None:
    """An expired code says so and asks for a new one."""
    worker = UserFactory.create()
    InviteCodeFactory.create(
        organization=tree.tongwei,
        code="EXPIRED1",
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    with pytest.raises(InviteCodeExpired) as info:
        services.membership_join(user=worker, code="EXPIRED1")
    assert str(info.value.message) == "邀请码已过期，请向工会索取新的邀请码。"
    assert not Membership.objects.filter(user=worker).exists()


def test_join_with_a_revoked_code_is_refused(tree: Tree) -> None:
    """A revoked code says so and asks for a new one."""
    worker = UserFactory.create()
    InviteCodeFactory.create(organization=tree.tongwei, code="REVOKED1", revoked_at=timezone.now())
    with pytest.raises(InviteCodeRevoked) as info:
        services.membership_join(user=worker, code="REVOKED1")
    assert str(info.value.message) == "邀请码已作废，请向工会索取新的邀请码。"
    assert not Membership.objects.filter(user=worker).exists()


def test_join_with_an_unknown_or_empty_code_is_refused(tree: Tree) -> None:
    """A code that does not exist, or none at all, is refused with a message."""
    worker = UserFactory.create()
    with pytest.raises(InviteCodeInvalid):
        services.membership_join(user=worker, code="NOSUCH99")
    with pytest.raises(InvalidInput) as info:
        services.membership_join(user=worker, code="  ")
    assert info.value.detail["fields"] == {"code": ["请输入邀请码。"]}
    assert not Membership.objects.filter(user=worker).exists()


def test_join_a_pending_organization_is_refused(tree: Tree) -> None:
    """A code of an organization not yet approved cannot be used."""
    pending = make_org(tree.anding, "待批工会", status=Organization.Status.PENDING)
    InviteCode.objects.create(organization=pending, code="PENDING1")
    worker = UserFactory.create()
    with pytest.raises(NotFound):
        services.membership_join(user=worker, code="PENDING1")
    assert not Membership.objects.filter(user=worker).exists()


def test_join_another_organization_moves_the_membership(tree: Tree) -> None:
    """A code of another organization ends the old membership (kept) and starts a new one."""
    user = tree.anding_member.user
    InviteCodeFactory.create(organization=tree.dongying, code="DONGYING")
    new = services.membership_join(user=user, code="DONGYING")
    old = Membership.objects.get(pk=tree.anding_member.pk)
    assert old.left_at is not None
    assert old.left_at == new.joined_at
    assert old.organization == tree.courier
    history = list(Membership.objects.filter(user=user).order_by("joined_at", "id"))
    assert [m.organization for m in history] == [tree.courier, tree.dongying]
    current = Membership.objects.filter(user=user, left_at__isnull=True)
    assert list(current) == [new]


def test_db_allows_only_one_current_membership(tree: Tree) -> None:
    """The one_current_membership constraint refuses a second current row written directly."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=tree.anding_member.user,
            organization=tree.tongwei,
            source=Membership.Source.INVITE,
        )
    assert Membership.objects.filter(user=tree.anding_member.user).count() == 1


def test_db_allows_ended_memberships_beside_the_current_one(tree: Tree) -> None:
    """History rows (with left_at) do not count against the one-current rule."""
    user = tree.anding_member.user
    Membership.objects.create(
        user=user,
        organization=tree.tongwei,
        source=Membership.Source.INVITE,
        joined_at=timezone.now() - dt.timedelta(days=30),
        left_at=timezone.now() - dt.timedelta(days=10),
    )
    assert Membership.objects.filter(user=user).count() == 2


# --- one-time codes: password reset -------------------------------------------------------


def test_officer_issues_a_reset_code_for_a_member_of_the_subtree(tree: Tree) -> None:
    """定西's officer issues an 8-digit reset code to a member of 安定区's courier union."""
    member = tree.anding_member.user
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    assert len(code) == 8
    assert code.isdigit()
    otc = OneTimeCode.objects.get(user=member)
    assert otc.purpose == OneTimeCode.Purpose.PASSWORD_RESET
    assert otc.issued_by == tree.city_officer
    assert code not in otc.code_hash
    assert AuditEntry.objects.filter(
        actor=tree.city_officer, action="one_time_code.password_reset", target_id=str(member.pk)
    ).exists()
    notice = AccountNotice.objects.get(user=member)
    assert notice.kind == AccountNotice.Kind.CODE_ISSUED
    assert notice.data == {"purpose": "password_reset", "officer": tree.city_officer.real_name}
    assert notice.seen_at is None


def test_officer_of_another_city_does_not_find_the_member(tree: Tree) -> None:
    """东营's officer cannot issue a code to a member in 定西's subtree, and vice versa: a
    member outside the officer's subtree is not found."""
    with pytest.raises(NotFound):
        services.password_reset_code_issue(
            officer=tree.other_officer, member=tree.anding_member.user
        )
    with pytest.raises(NotFound):
        services.password_reset_code_issue(
            officer=tree.city_officer, member=tree.dongying_member.user
        )
    assert not OneTimeCode.objects.exists()
    assert not AccountNotice.objects.exists()


def test_a_plain_worker_cannot_issue_a_code(tree: Tree) -> None:
    """A member without an officer role has no subtree: a fellow member is not found, and
    nobody issues a code for their own account (they change their password themselves)."""
    fellow = MembershipFactory.create(organization=tree.courier).user
    with pytest.raises(NotFound):
        services.password_reset_code_issue(officer=tree.anding_member.user, member=fellow)
    with pytest.raises(CodeNotAllowed) as info:
        services.password_reset_code_issue(
            officer=tree.anding_member.user, member=tree.anding_member.user
        )
    assert info.value.status == 403
    assert info.value.code == "code_not_allowed"
    assert not OneTimeCode.objects.exists()


def test_an_officer_cannot_issue_a_code_for_themselves(tree: Tree) -> None:
    """An officer who is also a member of their own subtree still gets no code for their own
    account: 403 code_not_allowed."""
    MembershipFactory.create(user=tree.city_officer, organization=tree.courier)
    with pytest.raises(CodeNotAllowed):
        services.password_reset_code_issue(officer=tree.city_officer, member=tree.city_officer)
    assert not OneTimeCode.objects.exists()


def _session_of(user: User) -> str:
    store = SessionStore()
    store.create()
    services.web_session_record(user=user, session_key=store.session_key or "")
    return store.session_key or ""


def test_reset_code_sets_the_password_once_and_ends_every_session_and_token(tree: Tree) -> None:
    """The code sets a new password, works once only, and signs out every API token and
    every browser session of the account."""
    member = tree.anding_member.user
    services.api_token_issue(user=member)
    session_key = _session_of(member)
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    services.password_reset(phone=member.phone, code=code, password=NEW_PASSWORD)
    assert services.auth_login(phone=member.phone, password=NEW_PASSWORD) == member
    with pytest.raises(InvalidCredentials):
        services.auth_login(phone=member.phone, password=PASSWORD)
    assert not ApiToken.objects.filter(user=member).exists()
    assert not UserSession.objects.filter(user=member).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    with pytest.raises(CodeInvalid):
        services.password_reset(phone=member.phone, code=code, password="Another-2026")


def test_a_new_code_replaces_the_earlier_one(tree: Tree) -> None:
    """Only the latest code issued for a member works."""
    member = tree.anding_member.user
    first = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    second = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    if first != second:
        with pytest.raises(CodeInvalid):
            services.password_reset(phone=member.phone, code=first, password=NEW_PASSWORD)
    services.password_reset(phone=member.phone, code=second, password=NEW_PASSWORD)
    assert services.auth_login(phone=member.phone, password=NEW_PASSWORD) == member


def test_reset_code_expires(tree: Tree, clock: Clock) -> None:
    """A code older than SAIDAO_ONE_TIME_CODE_HOURS no longer works."""
    member = tree.anding_member.user
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    clock.advance(hours=settings.SAIDAO_ONE_TIME_CODE_HOURS, seconds=1)
    with pytest.raises(CodeInvalid):
        services.password_reset(phone=member.phone, code=code, password=NEW_PASSWORD)
    assert member.check_password(PASSWORD)


def test_reset_with_a_weak_password_keeps_the_code(tree: Tree) -> None:
    """A weak new password is refused before the code is used, so the code still works."""
    member = tree.anding_member.user
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    with pytest.raises(InvalidInput) as info:
        services.password_reset(phone=member.phone, code=code, password="12345678")
    assert "password" in info.value.detail["fields"]
    services.password_reset(phone=member.phone, code=code, password=NEW_PASSWORD)


def test_wrong_reset_codes_count_toward_the_delay(tree: Tree) -> None:
    """Guessing reset codes from one address delays that address's attempts on the number,
    at resetting and at logging in alike, as guessing passwords does."""
    member = tree.anding_member.user
    code = services.password_reset_code_issue(officer=tree.city_officer, member=member)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES):
        with pytest.raises(CodeInvalid):
            services.password_reset(
                phone=member.phone, code=wrong, password=NEW_PASSWORD, ip_address=IP
            )
    with pytest.raises(AccountLocked):
        services.password_reset(phone=member.phone, code=code, password=NEW_PASSWORD, ip_address=IP)
    with pytest.raises(AccountLocked):
        services.auth_login(phone=member.phone, password=PASSWORD, ip_address=IP)


# --- rosters and activation ---------------------------------------------------------------


def test_roster_import_creates_inactive_accounts_with_codes(tree: Tree) -> None:
    """New numbers become not-yet-activated accounts with memberships and activation codes."""
    f = roster_xlsx(
        [
            ["张三", "13912340011", "顺丰速运安定营业部", "快递员"],
            ["李四", 13912340012, "中通快递", "分拣员"],  # a numeric cell
        ]
    )
    result = services.roster_import(officer=tree.city_officer, organization=tree.courier, file=f)
    assert [(u.phone, u.real_name) for u, _c in result.created] == [
        ("13912340011", "张三"),
        ("13912340012", "李四"),
    ]
    for user, code in result.created:
        user.refresh_from_db()
        assert not user.is_activated
        assert not user.has_usable_password()
        assert len(code) == 8
        m = Membership.objects.get(user=user)
        assert (m.organization, m.source, m.is_current) == (
            tree.courier,
            Membership.Source.ROSTER,
            True,
        )
        otc = OneTimeCode.objects.get(user=user)
        assert otc.purpose == OneTimeCode.Purpose.ACTIVATION
    assert User.objects.get(phone="13912340011").employer == "顺丰速运安定营业部"
    assert all(u.created_by_organization == tree.courier for u, _c in result.created)
    audit = AuditEntry.objects.get(action="roster.import")
    assert audit.data == {"created": 2, "invited": 0, "unchanged": 0}


def test_roster_import_invites_existing_accounts_who_join_only_when_accepting(
    tree: Tree,
) -> None:
    """An existing account is never made a member by an import: a worker without a
    membership, and a member of another organization alike, get a pending invitation (and a
    notice) and join only when they accept; a member of the same organization is unchanged."""
    loner = UserFactory.create()
    elsewhere = tree.dongying_member.user
    f = roster_xlsx(
        [
            [loner.real_name, loner.phone, "", ""],
            [elsewhere.real_name, elsewhere.phone, "", ""],
            [tree.anding_member.user.real_name, tree.anding_member.user.phone, "", ""],
        ]
    )
    result = services.roster_import(officer=tree.city_officer, organization=tree.courier, file=f)
    assert result.created == []
    assert (result.invited, result.unchanged) == (2, 1)
    assert AuditEntry.objects.get(action="roster.import").data == {
        "created": 0,
        "invited": 2,
        "unchanged": 1,
    }
    assert not Membership.objects.filter(user=loner).exists()
    assert Membership.objects.get(user=elsewhere, left_at__isnull=True).organization == (
        tree.dongying
    )
    assert Membership.objects.filter(user=tree.anding_member.user).count() == 1
    invitations = MembershipInvitation.objects.filter(organization=tree.courier)
    assert sorted(i.user_id for i in invitations) == sorted([loner.pk, elsewhere.pk])
    assert all(i.status == MembershipInvitation.Status.PENDING for i in invitations)
    assert all(i.invited_by == tree.city_officer for i in invitations)
    assert AccountNotice.objects.filter(
        user=loner, kind=AccountNotice.Kind.MEMBERSHIP_INVITED
    ).exists()
    loner.refresh_from_db()
    assert loner.check_password(PASSWORD)  # their account is untouched
    assert loner.created_by_organization is None

    joined = services.membership_invitation_accept(
        user=loner, invitation_id=invitations.get(user=loner).pk
    )
    assert (joined.organization, joined.source) == (tree.courier, Membership.Source.ROSTER)
    services.membership_invitation_decline(
        user=elsewhere, invitation_id=invitations.get(user=elsewhere).pk
    )
    assert Membership.objects.get(user=elsewhere, left_at__isnull=True).organization == (
        tree.dongying
    )
    assert MembershipInvitation.objects.get(user=elsewhere).status == (
        MembershipInvitation.Status.DECLINED
    )


def test_importing_the_same_roster_again_invites_once(tree: Tree) -> None:
    """A second import of an invited number keeps the one pending invitation."""
    loner = UserFactory.create()
    for _i in range(2):
        result = services.roster_import(
            officer=tree.city_officer,
            organization=tree.courier,
            file=roster_xlsx([[loner.real_name, loner.phone, "", ""]]),
        )
        assert result.invited == 1
    assert MembershipInvitation.objects.filter(user=loner).count() == 1
    assert AccountNotice.objects.filter(user=loner).count() == 1


def test_roster_import_ignores_blank_rows(tree: Tree) -> None:
    """Blank rows, and rows of only spaces, are skipped; rows are numbered as in Excel."""
    f = roster_xlsx(
        [
            ["张三", "13912340021", "", ""],
            [],
            ["  ", " ", None, None],
            ["李四", "+86 139-1234-0022", "", ""],
        ]
    )
    result = services.roster_import(officer=tree.city_officer, organization=tree.courier, file=f)
    assert sorted(u.phone for u, _c in result.created) == ["13912340021", "13912340022"]


def test_roster_with_bad_rows_imports_nothing_and_lists_every_error(tree: Tree) -> None:
    """Every bad row is reported with its row and column, and not one row is saved."""
    other = tree.dongying_member.user
    f = roster_xlsx(
        [
            ["张三", "13912340031", "", ""],  # 2: fine
            ["李四", "12345", "", ""],  # 3: bad phone
            ["", "13912340033", "", ""],  # 4: empty name
            ["王五", 13912340031, "", ""],  # 5: duplicate of row 2 (numeric cell)
            [],  # 6: blank, ignored
            ["赵六", other.phone, "", ""],  # 7: member of 东营: fine, would be invited
        ]
    )
    before = _counts()
    with pytest.raises(RosterInvalid) as info:
        services.roster_import(officer=tree.city_officer, organization=tree.courier, file=f)
    errors = info.value.detail["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (3, "B（手机号）"),
        (4, "A（姓名）"),
        (5, "B（手机号）"),
    ]
    assert "不是有效的 11 位手机号" in errors[0]["message"]
    assert errors[1]["message"] == "姓名不能为空。"
    assert errors[2]["message"] == "手机号与第 2 行重复。"
    assert str(info.value.message) == "名册有错误，未导入任何数据。请按提示修改后重新上传。"
    assert _counts() == before
    assert not MembershipInvitation.objects.exists()
    assert not AccountNotice.objects.exists()
    assert not AuditEntry.objects.filter(action="roster.import").exists()


def test_roster_import_refuses_a_file_that_is_not_xlsx(tree: Tree) -> None:
    """A CSV (or anything not .xlsx) gets one clear message on the file field."""
    before = _counts()
    with pytest.raises(RosterInvalid) as info:
        services.roster_import(
            officer=tree.city_officer,
            organization=tree.courier,
            file=io.BytesIO("姓名,手机号\n张三,13912340041\n".encode()),
        )
    message = "无法读取文件，请上传 .xlsx 格式的名册（可先下载模板）。"
    assert str(info.value.message) == message
    assert info.value.detail["fields"] == {"file": [message]}
    assert _counts() == before


def test_roster_import_refuses_a_sheet_without_the_template_header(tree: Tree) -> None:
    """A sheet whose first row lacks the template's columns names the missing ones."""
    f = roster_xlsx([["张三", "13912340051"]], header=("名字", "手机号"))
    with pytest.raises(RosterInvalid) as info:
        services.roster_import(officer=tree.city_officer, organization=tree.courier, file=f)
    [error] = info.value.detail["errors"]
    assert error["row"] == 1
    assert "姓名、工作单位、岗位" in error["message"]


def test_roster_import_refuses_an_empty_roster(tree: Tree) -> None:
    """A roster with only its header has nothing to import, and says so."""
    with pytest.raises(RosterInvalid) as info:
        services.roster_import(
            officer=tree.city_officer, organization=tree.courier, file=roster_xlsx([])
        )
    assert info.value.detail["errors"][0]["message"] == "名册中没有数据行。"


def test_roster_import_outside_the_officers_subtree_is_refused(tree: Tree) -> None:
    """定西's officer cannot import into 东营, nor can a plain member import anywhere."""
    f = roster_xlsx([["张三", "13912340061", "", ""]])
    with pytest.raises(OutsideScope):
        services.roster_import(officer=tree.city_officer, organization=tree.dongying, file=f)
    with pytest.raises(OutsideScope):
        services.roster_import(officer=tree.anding_member.user, organization=tree.courier, file=f)
    assert not User.objects.filter(phone="13912340061").exists()


def test_roster_import_into_a_pending_organization_is_refused(tree: Tree) -> None:
    """Only approved organizations take a roster."""
    pending = make_org(tree.anding, "待批工会", status=Organization.Status.PENDING)
    with pytest.raises(InvalidInput):
        services.roster_import(
            officer=tree.city_officer,
            organization=pending,
            file=roster_xlsx([["张三", "13912340071", "", ""]]),
        )
    assert not User.objects.filter(phone="13912340071").exists()


def _import_one(tree: Tree, phone: str = "13912340081") -> tuple[User, str]:
    result = services.roster_import(
        officer=tree.city_officer,
        organization=tree.courier,
        file=roster_xlsx([["张三", phone, "", ""]]),
    )
    [(user, code)] = result.created
    return user, code


def test_activation_sets_the_password_and_allows_log_in(tree: Tree) -> None:
    """The activation code sets a password, records consent, and the worker can log in."""
    user, code = _import_one(tree)
    services.account_activate(
        phone=user.phone,
        code=code,
        password=NEW_PASSWORD,
        consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    )
    user.refresh_from_db()
    assert user.is_activated
    assert PrivacyConsent.objects.filter(
        user=user, version=settings.SAIDAO_PRIVACY_NOTICE_VERSION
    ).exists()
    assert services.auth_login(phone=user.phone, password=NEW_PASSWORD) == user
    with pytest.raises(CodeInvalid):  # once only
        services.account_activate(
            phone=user.phone,
            code=code,
            password="Another-2026",
            consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
        )


def test_activation_needs_consent_and_keeps_the_code(tree: Tree) -> None:
    """Without consent the activation is refused on the consent field and the code stays."""
    user, code = _import_one(tree)
    with pytest.raises(InvalidInput) as info:
        services.account_activate(
            phone=user.phone, code=code, password=NEW_PASSWORD, consent_version=""
        )
    assert "consent" in info.value.detail["fields"]
    assert OneTimeCode.objects.get(user=user).used_at is None


def test_wrong_activation_code_fails_and_counts_toward_the_delay(tree: Tree) -> None:
    """A wrong code is refused and counted; enough of them from one address delay its
    attempts on the number, even with the right code."""
    user, code = _import_one(tree)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    with pytest.raises(CodeInvalid) as info:
        services.account_activate(
            phone=user.phone,
            code=wrong,
            password=NEW_PASSWORD,
            consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
            ip_address=IP,
        )
    assert str(info.value.message) == "验证码不正确或已过期，请向工会重新索取。"
    assert _failures(f"n:{user.phone}@{IP}") == 1
    for _i in range(settings.SAIDAO_LOGIN_MAX_FAILURES - 1):
        with pytest.raises(CodeInvalid):
            services.account_activate(
                phone=user.phone,
                code=wrong,
                password=NEW_PASSWORD,
                consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
                ip_address=IP,
            )
    with pytest.raises(AccountLocked):
        services.account_activate(
            phone=user.phone,
            code=code,
            password=NEW_PASSWORD,
            consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
            ip_address=IP,
        )
    user.refresh_from_db()
    assert not user.is_activated


def test_activation_code_is_not_a_reset_code(tree: Tree) -> None:
    """Codes are bound to their purpose: an activation code cannot reset a password."""
    user, code = _import_one(tree)
    with pytest.raises(CodeInvalid):
        services.password_reset(phone=user.phone, code=code, password=NEW_PASSWORD)


def test_officer_reissues_an_activation_code_for_an_imported_member(tree: Tree) -> None:
    """For a member not yet activated, the officer's code is an activation code that
    replaces the one the roster import gave out."""
    user, first = _import_one(tree)
    code = services.password_reset_code_issue(officer=tree.city_officer, member=user)
    assert OneTimeCode.objects.get(user=user, used_at__isnull=True).purpose == (
        OneTimeCode.Purpose.ACTIVATION
    )
    if first != code:
        with pytest.raises(CodeInvalid):
            services.account_activate(
                phone=user.phone,
                code=first,
                password=NEW_PASSWORD,
                consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
            )
    services.account_activate(
        phone=user.phone,
        code=code,
        password=NEW_PASSWORD,
        consent_version=settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    )
    assert services.auth_login(phone=user.phone, password=NEW_PASSWORD) == user


# --- erasure ------------------------------------------------------------------------------


def test_user_delete_erases_personal_data_and_keeps_history(tree: Tree) -> None:
    """Erasure anonymizes the row, ends the membership (kept), removes roles, tokens,
    browser sessions, codes, invitations, notices and the number's failure counts."""
    member = tree.anding_member.user
    old_phone = member.phone
    Role.objects.create(organization=tree.courier, user=member, kind=Role.Kind.REPORTER)
    services.api_token_issue(user=member)
    session_key = _session_of(member)
    services.password_reset_code_issue(officer=tree.city_officer, member=member)
    services.roster_import(
        officer=tree.city_officer,
        organization=tree.tongwei,
        file=roster_xlsx([[member.real_name, old_phone, "", ""]]),
    )
    assert MembershipInvitation.objects.filter(user=member).exists()
    LoginThrottle.objects.create(key=f"n:{old_phone}", failures=2)
    LoginThrottle.objects.create(key=f"n:{old_phone}@{IP}", failures=2)

    services.user_delete(user=member)

    member.refresh_from_db()
    assert member.phone == f"deleted-{member.pk}"
    assert member.real_name == "已注销用户"
    assert (member.employer, member.position) == ("", "")
    assert (member.province_id, member.city_id) == (None, None)
    assert not member.is_active
    assert member.deleted_at is not None
    assert not member.has_usable_password()
    assert not User.objects.filter(phone=old_phone).exists()
    m = Membership.objects.get(pk=tree.anding_member.pk)
    assert m.left_at is not None
    assert m.organization == tree.courier
    assert not Role.objects.filter(user=member).exists()
    assert not ApiToken.objects.filter(user=member).exists()
    assert not OneTimeCode.objects.filter(user=member).exists()
    assert not UserSession.objects.filter(user=member).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not MembershipInvitation.objects.filter(user=member).exists()
    assert not AccountNotice.objects.filter(user=member).exists()
    assert not LoginThrottle.objects.filter(key__startswith=f"n:{old_phone}").exists()
    with pytest.raises(InvalidCredentials):
        services.auth_login(phone=old_phone, password=PASSWORD)


def test_an_erased_number_can_sign_up_again(tree: Tree) -> None:
    """After erasure the number is free: its owner can register a fresh account."""
    member = tree.anding_member.user
    phone = member.phone
    services.user_delete(user=member)
    fresh = _signup(phone=phone)
    assert fresh.pk != member.pk
    assert not Membership.objects.filter(user=fresh).exists()


def test_erasing_a_member_keeps_the_officers_counts_of_history(tree: Tree) -> None:
    """Other members' rows are untouched by one member's erasure."""
    other = MembershipFactory.create(organization=tree.courier)
    services.user_delete(user=tree.anding_member.user)
    other.refresh_from_db()
    assert other.is_current
    assert Membership.objects.filter(organization=tree.courier).count() == 2


# --- profile ------------------------------------------------------------------------------


def test_profile_update_checks_the_city(tree: Tree) -> None:
    """Changing the profile applies the same region rule as sign-up."""
    user = tree.anding_member.user
    with pytest.raises(InvalidInput) as info:
        services.profile_update(
            user=user,
            real_name="新名字",
            employer="",
            position="",
            province=Region.objects.get(code="370000"),
            city=Region.objects.get(code="621100"),
        )
    assert info.value.detail["fields"] == {"city": ["所选城市不属于山东省，请重新选择。"]}
    services.profile_update(
        user=user,
        real_name="新名字",
        employer="东营某公司",
        position="",
        province=Region.objects.get(code="370000"),
        city=Region.objects.get(code="370500"),
    )
    user.refresh_from_db()
    assert (user.real_name, user.city_id) == ("新名字", "370500")
