from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer

from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, organization_get_for_officer
from saidao.regions.models import Region
from saidao.regions.selectors import region_get

from . import selectors, services
from .models import Membership, User

router = Router(tags=["accounts"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


class LoginIn(Schema):
    phone: str
    password: str


class TokenOut(Schema):
    token: str
    expires_in_days: int


class SignupIn(Schema):
    phone: str
    password: str
    real_name: str
    employer: str = ""
    position: str = ""
    province: str
    city: str
    consent_version: str


class ActivateIn(Schema):
    phone: str
    code: str
    password: str
    consent_version: str


class ResetIn(Schema):
    phone: str
    code: str
    password: str


class ProfileIn(Schema):
    real_name: str
    employer: str = ""
    position: str = ""
    province: str
    city: str


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
    code: str


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
    created: int
    added: int
    unchanged: int
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


@router.post("/auth/login", response=TokenOut, auth=None)
def auth_login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    """Exchange a phone number and password for a bearer token."""
    user = services.auth_login(phone=payload.phone, password=payload.password)
    return TokenOut(
        token=services.api_token_issue(user=user),
        expires_in_days=settings.SAIDAO_API_TOKEN_DAYS,
    )


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
        ip_address=_ip(request),
    )
    token = services.api_token_issue(user=user)
    return Status(201, TokenOut(token=token, expires_in_days=settings.SAIDAO_API_TOKEN_DAYS))


@router.post("/auth/activate", response=TokenOut, auth=None)
def auth_activate(request: HttpRequest, payload: ActivateIn) -> TokenOut:
    user = services.account_activate(
        phone=payload.phone,
        code=payload.code,
        password=payload.password,
        consent_version=payload.consent_version,
        ip_address=_ip(request),
    )
    token = services.api_token_issue(user=user)
    return TokenOut(token=token, expires_in_days=settings.SAIDAO_API_TOKEN_DAYS)


@router.post("/auth/reset-password", response={204: None}, auth=None)
def auth_reset_password(request: HttpRequest, payload: ResetIn) -> Status[None]:
    services.password_reset(phone=payload.phone, code=payload.code, password=payload.password)
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
@paginate(LimitOffsetPagination)
def members_list(request: HttpRequest, org_id: int, q: str = "") -> Any:
    """Current members of the organization's subtree; only within the caller's own subtree."""
    org = organization_get_for_officer(user=request.user, pk=org_id)
    # A queryset, not a list: the paginator counts and fetches only the requested page.
    return selectors.members_for_officer(officer=request.user, organization=org, query=q)


@router.get("/members/{user_id}", response=MemberOut)
def members_detail(request: HttpRequest, user_id: int) -> MemberOut:
    return _member_out(selectors.member_get_for_officer(officer=request.user, user_id=user_id))


@router.post("/members/{user_id}/one-time-code", response={201: CodeOut})
def members_one_time_code(request: HttpRequest, user_id: int) -> Status[CodeOut]:
    """Issue an activation (not yet activated) or password-reset code to a member."""
    assert isinstance(request.user, User)
    m = selectors.member_get_for_officer(officer=request.user, user_id=user_id)
    code = services.password_reset_code_issue(officer=request.user, member=m.user)
    purpose = "activation" if not m.user.is_activated else "password_reset"
    return Status(201, CodeOut(code=code, purpose=purpose))


@router.post("/orgs/{org_id}/roster", response={201: RosterImportOut})
def roster_import(
    request: HttpRequest,
    org_id: int,
    file: File[UploadedFile],
) -> Status[RosterImportOut]:
    """Import an .xlsx roster (姓名, 手机号, 工作单位, 岗位): all rows or none."""
    assert isinstance(request.user, User)
    org = organization_get_for_officer(user=request.user, pk=org_id)
    result = services.roster_import(officer=request.user, organization=org, file=file)
    out = RosterImportOut(
        created=len(result.created),
        added=len(result.added),
        unchanged=result.unchanged,
        activation_codes=[
            {"phone": u.phone, "real_name": u.real_name, "code": c} for u, c in result.created
        ],
    )
    return Status(201, out)


@router.get("/orgs/{org_id}/roster.xlsx")
def roster_export(request: HttpRequest, org_id: int) -> HttpResponse:
    org = organization_get_for_officer(user=request.user, pk=org_id)
    body = selectors.roster_export(officer=request.user, organization=org)
    resp = HttpResponse(body, content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="roster-{org.pk}.xlsx"'
    return resp
