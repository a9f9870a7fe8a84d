from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth import logout, update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from saidao.core.api import ImportJobOut, import_job_out
from saidao.core.api_types import Id, paged
from saidao.core.imports import import_goes_background
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, organization_get_for_officer
from saidao.regions.models import Region
from saidao.regions.selectors import region_get

from . import selectors, services
from .models import AccountNotice, Membership, MembershipInvitation, User
from .services._common import sha256
from .services.codes import PHONE_CODE_TTL

router = Router(tags=["accounts"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser's session cookie. Its CSRF check guards a session that names a user; with
    none there is nothing to forge, and the caller is told to sign in (401), not refused a
    token it could not have (403)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


session_auth = SessionAuth()


def anyone(request: HttpRequest) -> bool:
    """Lets a request without credentials through to endpoints that decide for themselves."""
    return True


def optional_auth() -> dict[str, Any]:
    """Route options for an endpoint anyone may call: a bearer token or a session still tells
    who is calling, and the OpenAPI document lists no credentials (``{}``) among the
    alternatives (ninja documents only the schemes it knows)."""
    return {"auth": [BearerAuth(), session_auth, anyone], "openapi_extra": {"security": [{}]}}


# A password is hashed, not stored: bounded for the hashing's sake, not by a column.
PASSWORD_MAX = 1024


class LoginIn(Schema):
    # Signing in answers every refusal alike (401), an overlong phone included: a loose bound.
    phone: str = Field(..., max_length=1000)
    password: str = Field(..., max_length=PASSWORD_MAX)


class NoticeOut(Schema):
    id: int
    kind: str
    message: str
    data: dict[str, Any]
    created_at: dt.datetime

    @staticmethod
    def resolve_message(obj: AccountNotice) -> str:
        return selectors.account_notice_message(notice=obj)


class TokenOut(Schema):
    token: str
    expires_in_days: int
    notices: list[NoticeOut] = Field(
        default_factory=list,
        description="What was done to the account since the last sign-in (shown once).",
    )


class SignupIn(Schema):
    phone: str = Field(..., max_length=32)
    password: str = Field(..., max_length=PASSWORD_MAX)
    real_name: str = Field(..., max_length=50)
    employer: str = Field("", max_length=100)
    position: str = Field("", max_length=50)
    province: str = Field(..., max_length=6)
    city: str = Field(..., max_length=6)
    consent_version: str = Field(..., max_length=20)
    sms_code: str = Field(
        "",
        max_length=32,
        description="The code sent by `POST /auth/sms-code`; needed where SMS is configured.",
    )


class ActivateIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=32)
    password: str = Field(..., max_length=PASSWORD_MAX)
    consent_version: str = Field(..., max_length=20)


class ResetIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=32)
    password: str = Field(..., max_length=PASSWORD_MAX)


class SmsCodeIn(Schema):
    phone: str = Field(..., max_length=32)
    purpose: Literal["signup", "reset"]


class SmsCodeOut(Schema):
    sent: bool = Field(
        description="Always true: the answer does not tell whether the number has an account."
    )
    expires_in_seconds: int
    resend_after_seconds: int


class RecoverIn(Schema):
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=32, description="The code sent by SMS for `purpose=reset`.")
    password: str = Field(..., max_length=PASSWORD_MAX)
    consent_version: str = Field(..., max_length=20)


class PasswordChangeIn(Schema):
    old_password: str = Field(..., max_length=PASSWORD_MAX)
    new_password: str = Field(..., max_length=PASSWORD_MAX)


class ApiTokenOut(Schema):
    id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str
    ip_address: str | None
    current: bool = Field(description="The token this request was sent with.")


class WebSessionOut(Schema):
    id: int
    created_at: dt.datetime
    user_agent: str
    ip_address: str | None
    current: bool = Field(description="The browser session this request was sent with.")


class InvitationOut(Schema):
    id: int
    organization_id: int
    organization_name: str
    invited_at: dt.datetime

    @staticmethod
    def resolve_organization_name(obj: MembershipInvitation) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_invited_at(obj: MembershipInvitation) -> dt.datetime:
        return obj.created_at


class ProfileIn(Schema):
    real_name: str = Field(..., max_length=50)
    employer: str = Field("", max_length=100)
    position: str = Field("", max_length=50)
    province: str = Field(..., max_length=6)
    city: str = Field(..., max_length=6)


class MembershipOut(Schema):
    organization_id: int
    organization_name: str
    source: str
    joined_at: dt.datetime
    left_at: dt.datetime | None

    @staticmethod
    def resolve_organization_name(obj: Membership) -> str:
        return obj.organization.name


class MeOut(Schema):
    id: int
    phone: str
    real_name: str
    employer: str
    position: str
    province: str | None
    city: str | None
    membership: MembershipOut | None
    officer_of: list[int]


class JoinIn(Schema):
    code: str = Field(..., max_length=32)


class MemberOut(Schema):
    """A current member, read from a Membership with its user and organization joined.

    Only built from ``members_for_officer``, which yields the caller's subtree: hence the
    full phone number.
    """

    user_id: int
    real_name: str = Field(..., alias="user.real_name")
    phone: str = Field(..., alias="user.phone")
    employer: str = Field(..., alias="user.employer")
    position: str = Field(..., alias="user.position")
    organization_id: int
    organization_name: str = Field(..., alias="organization.name")
    joined_at: dt.datetime
    activated: bool

    @staticmethod
    def resolve_activated(obj: Membership) -> bool:
        return obj.user.is_activated


class CodeOut(Schema):
    code: str
    purpose: str


class RosterImportOut(Schema):
    created: int = Field(description="New accounts, each waiting for its activation code.")
    invited: int = Field(
        description="Numbers that already have an account: each owner is invited and joins "
        "only by accepting."
    )
    unchanged: int = Field(description="Already members of this organization.")
    activation_codes: list[dict[str, str]]


def _region(code: str) -> Region | None:
    return region_get(code=code) if code else None


def _me(user: User) -> MeOut:
    m = selectors.membership_current(user=user)
    officer_of = list(
        Organization.objects.filter(path__in=officer_paths(user=user)).values_list("pk", flat=True)
    )
    # From a dict holding the Membership itself: MembershipOut resolves it (an already built
    # MembershipOut would be re-read through its resolvers and fail).
    return MeOut.model_validate(
        {
            "id": user.pk,
            "phone": user.phone,
            "real_name": user.real_name,
            "employer": user.employer,
            "position": user.position,
            "province": user.province_id,
            "city": user.city_id,
            "membership": m,
            "officer_of": officer_of,
        }
    )


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _token_out(request: HttpRequest, user: User) -> TokenOut:
    key = services.api_token_issue(
        user=user, user_agent=request.headers.get("User-Agent", ""), ip_address=_ip(request)
    )
    return TokenOut.model_validate(
        {
            "token": key,
            "expires_in_days": settings.SAIDAO_API_TOKEN_DAYS,
            "notices": services.account_notices_take(user=user),
        }
    )


def _bearer_key(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


@router.post("/auth/login", response=TokenOut, auth=None)
def auth_login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    """Exchange a phone number and password for a bearer token.

    Every refusal is the same 401, whether or not the number has an account; repeated
    failures answer 429 with `detail.retry_after` (seconds) and a `Retry-After` header.
    """
    user = services.auth_login(
        phone=payload.phone, password=payload.password, ip_address=_ip(request)
    )
    return _token_out(request, user)


@router.post("/auth/logout", response={204: None})
def auth_logout(request: HttpRequest) -> Status[None]:
    """Revoke the bearer token this request carries (or end the browser session)."""
    key = _bearer_key(request)
    if key is not None:
        services.api_token_revoke_key(key=key)
    else:
        logout(request)
    return Status(204, None)


@router.post("/auth/sms-code", response={202: SmsCodeOut}, auth=None)
def auth_sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[SmsCodeOut]:
    """Send a 6-digit code by SMS for signing up or for recovering an account.

    503 `sms_not_configured` where the deployment has no SMS; 429 when asked too often.
    """
    services.phone_code_request(
        phone=payload.phone, purpose=payload.purpose, ip_address=_ip(request)
    )
    return Status(
        202,
        SmsCodeOut(
            sent=True,
            expires_in_seconds=int(PHONE_CODE_TTL.total_seconds()),
            resend_after_seconds=settings.SAIDAO_SMS_CODE_INTERVAL_SECONDS,
        ),
    )


@router.post("/auth/recover", response=TokenOut, auth=None)
def auth_recover(request: HttpRequest, payload: RecoverIn) -> TokenOut:
    """Set a new password with an SMS code. This is also how the owner of a number reclaims an
    account a union created for it: codes officers issued are revoked and every other session
    and token ends."""
    user = services.account_recover(
        phone=payload.phone,
        code=payload.code,
        password=payload.password,
        consent_version=payload.consent_version,
        ip_address=_ip(request),
    )
    return _token_out(request, user)


@router.post("/auth/signup", response={201: TokenOut}, auth=None)
def auth_signup(request: HttpRequest, payload: SignupIn) -> Status[TokenOut]:
    user = services.user_signup(
        phone=payload.phone,
        password=payload.password,
        real_name=payload.real_name,
        employer=payload.employer,
        position=payload.position,
        province=_region(payload.province),
        city=_region(payload.city),
        consent_version=payload.consent_version,
        sms_code=payload.sms_code,
        ip_address=_ip(request),
    )
    return Status(201, _token_out(request, user))


@router.post("/auth/activate", response=TokenOut, auth=None)
def auth_activate(request: HttpRequest, payload: ActivateIn) -> TokenOut:
    user = services.account_activate(
        phone=payload.phone,
        code=payload.code,
        password=payload.password,
        consent_version=payload.consent_version,
        ip_address=_ip(request),
    )
    return _token_out(request, user)


@router.post("/auth/reset-password", response={204: None}, auth=None)
def auth_reset_password(request: HttpRequest, payload: ResetIn) -> Status[None]:
    services.password_reset(
        phone=payload.phone, code=payload.code, password=payload.password, ip_address=_ip(request)
    )
    return Status(204, None)


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    assert isinstance(request.user, User)
    return _me(request.user)


@router.put("/me", response=MeOut)
def me_update(request: HttpRequest, payload: ProfileIn) -> MeOut:
    assert isinstance(request.user, User)
    user = services.profile_update(
        user=request.user,
        real_name=payload.real_name,
        employer=payload.employer,
        position=payload.position,
        province=_region(payload.province),
        city=_region(payload.city),
    )
    return _me(user)


@router.delete("/me", response={204: None})
def me_delete(request: HttpRequest) -> Status[None]:
    """Erase the caller's personal data; the account can no longer log in."""
    assert isinstance(request.user, User)
    services.user_delete(user=request.user)
    return Status(204, None)


@router.post("/me/password", response={204: None})
def me_password(request: HttpRequest, payload: PasswordChangeIn) -> Status[None]:
    """Change one's password; every other session and token of the account ends."""
    assert isinstance(request.user, User)
    key = _bearer_key(request)
    services.password_change(
        user=request.user,
        old_password=payload.old_password,
        new_password=payload.new_password,
        session=request.session if key is None else None,
        token_key=key,
    )
    if key is None:
        update_session_auth_hash(request, request.user)
    return Status(204, None)


@router.get("/me/tokens", response=list[ApiTokenOut])
def me_tokens(request: HttpRequest) -> list[ApiTokenOut]:
    """The caller's live API tokens (the secret itself is never shown again)."""
    key = _bearer_key(request)
    current = sha256(key) if key is not None else None
    return [
        ApiTokenOut(
            id=t.pk,
            created_at=t.created_at,
            expires_at=t.expires_at,
            user_agent=t.user_agent,
            ip_address=t.ip_address,
            current=t.key_hash == current,
        )
        for t in selectors.api_tokens_of_user(user=request.user)
    ]


@router.delete("/me/tokens/{token_id}", response={204: None})
def me_token_revoke(request: HttpRequest, token_id: Id) -> Status[None]:
    assert isinstance(request.user, User)
    services.api_token_revoke(user=request.user, token_id=token_id)
    return Status(204, None)


@router.get("/me/web-sessions", response=list[WebSessionOut])
def me_web_sessions(request: HttpRequest) -> list[WebSessionOut]:
    """The browsers signed in to the caller's account."""
    current = request.session.session_key if hasattr(request, "session") else None
    return [
        WebSessionOut(
            id=s.pk,
            created_at=s.created_at,
            user_agent=s.user_agent,
            ip_address=s.ip_address,
            current=s.session_key == current,
        )
        for s in selectors.web_sessions_of_user(user=request.user)
    ]


@router.delete("/me/web-sessions/{session_id}", response={204: None})
def me_web_session_revoke(request: HttpRequest, session_id: Id) -> Status[None]:
    assert isinstance(request.user, User)
    services.web_session_revoke(user=request.user, session_id=session_id)
    return Status(204, None)


@router.get("/me/notices", response=list[NoticeOut])
def me_notices(request: HttpRequest) -> Any:
    """What was done to the caller's account (codes issued by officers, password changes,
    invitations), newest first."""
    return list(selectors.account_notices(user=request.user)[:50])


@router.get("/me/invitations", response=list[InvitationOut])
def me_invitations(request: HttpRequest) -> Any:
    """Organizations that imported the caller's number and wait for them to accept."""
    return list(selectors.membership_invitations_pending(user=request.user))


@router.post("/me/invitations/{invitation_id}/accept", response={201: MembershipOut})
def me_invitation_accept(request: HttpRequest, invitation_id: Id) -> Status[Membership]:
    """Accept an invitation: the caller joins (or moves to) that organization."""
    assert isinstance(request.user, User)
    return Status(
        201,
        services.membership_invitation_accept(user=request.user, invitation_id=invitation_id),
    )


@router.post("/me/invitations/{invitation_id}/decline", response={204: None})
def me_invitation_decline(request: HttpRequest, invitation_id: Id) -> Status[None]:
    assert isinstance(request.user, User)
    services.membership_invitation_decline(user=request.user, invitation_id=invitation_id)
    return Status(204, None)


@router.get("/me/memberships", response=list[MembershipOut])
def me_memberships(request: HttpRequest) -> Any:
    return list(selectors.membership_history(user=request.user))


@router.post("/join", response={201: MembershipOut})
def join(request: HttpRequest, payload: JoinIn) -> Status[Membership]:
    """Join (or move to) the organization of an invite code."""
    assert isinstance(request.user, User)
    return Status(201, services.membership_join(user=request.user, code=payload.code))


def _member_out(m: Membership) -> MemberOut:
    return MemberOut.from_orm(m)  # m comes from members_for_officer: the caller's subtree


@router.get("/orgs/{org_id}/members", response=list[MemberOut])
@paged
def members_list(request: HttpRequest, org_id: Id, q: str = "") -> Any:
    """Current members of the organization's subtree; only within the caller's own subtree."""
    org = organization_get_for_officer(user=request.user, pk=org_id)
    # A queryset, not a list: the paginator counts and fetches only the requested page.
    return selectors.members_for_officer(officer=request.user, organization=org, query=q)


@router.get("/members/{user_id}", response=MemberOut)
def members_detail(request: HttpRequest, user_id: Id) -> MemberOut:
    return _member_out(selectors.member_get_for_officer(officer=request.user, user_id=user_id))


@router.post("/members/{user_id}/one-time-code", response={201: CodeOut})
def members_one_time_code(request: HttpRequest, user_id: Id) -> Status[CodeOut]:
    """Issue an activation or password-reset code for an account the caller's subtree answers
    for: one it imported and nobody has activated, or a member who holds no role outside the
    subtree and none as high as the caller's (403 `code_not_allowed` else). The holder is told.
    """
    assert isinstance(request.user, User)
    member = selectors.account_get_for_code(officer=request.user, user_id=user_id)
    code = services.password_reset_code_issue(officer=request.user, member=member)
    purpose = "activation" if not member.is_activated else "password_reset"
    return Status(201, CodeOut(code=code, purpose=purpose))


@router.post("/orgs/{org_id}/roster", response={201: RosterImportOut, 202: ImportJobOut})
def roster_import(
    request: HttpRequest,
    org_id: Id,
    file: File[UploadedFile],
) -> Status[RosterImportOut] | Status[ImportJobOut]:
    """Import an .xlsx roster (姓名, 手机号, 工作单位, 岗位): all rows or none. A large file
    is imported in the background: 202 with the job, to poll at its ``url``."""
    assert isinstance(request.user, User)
    org = organization_get_for_officer(user=request.user, pk=org_id)
    if import_goes_background(file):
        job = services.roster_import_start(officer=request.user, organization=org, file=file)
        return Status(202, import_job_out(job))
    result = services.roster_import(officer=request.user, organization=org, file=file)
    out = RosterImportOut(
        created=len(result.created),
        invited=result.invited,
        unchanged=result.unchanged,
        activation_codes=[
            {"phone": u.phone, "real_name": u.real_name, "code": c} for u, c in result.created
        ],
    )
    return Status(201, out)


@router.get("/orgs/{org_id}/roster.xlsx")
def roster_export(request: HttpRequest, org_id: Id) -> HttpResponse:
    org = organization_get_for_officer(user=request.user, pk=org_id)
    body = selectors.roster_export(officer=request.user, organization=org)
    resp = HttpResponse(body, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="roster-{org.pk}.xlsx"'
    return resp
