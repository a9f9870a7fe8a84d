from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from saidao.core.api_types import TEXT_MAX, Id, paged
from saidao.core.errors import NotFound
from saidao.core.links import absolute_url
from saidao.regions.selectors import region_get

from . import selectors, services
from .models import InviteCode, Organization, Role

router = Router(tags=["organizations"])


class OrganizationOut(Schema):
    id: int
    name: str
    level: str
    kind: str
    parent_id: int | None
    region_code: str
    region_name: str
    status: str
    rejection_reason: str
    depth: int
    credit_code: str
    contact_name: str
    contact_phone: str

    @staticmethod
    def resolve_region_code(obj: Organization) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Organization) -> str:
        return obj.region.name


class OrganizationPublicOut(Schema):
    id: int
    name: str
    level: str
    kind: str
    region_name: str

    @staticmethod
    def resolve_region_name(obj: Organization) -> str:
        return obj.region.name


class ApplyIn(Schema):
    parent_id: Id
    name: str = Field(..., max_length=100)
    level: str = Field(..., max_length=16)
    kind: str = Field(..., max_length=16)
    region_code: str = Field(..., max_length=6)
    credit_code: str = Field(..., max_length=18)
    contact_name: str = Field(..., max_length=50)
    contact_phone: str = Field(..., max_length=20)


class RejectIn(Schema):
    reason: str = Field(..., max_length=TEXT_MAX)


class MoveIn(Schema):
    parent_id: Id


class InviteCodeIn(Schema):
    expires_at: dt.datetime | None = None


class InviteCodeOut(Schema):
    code: str
    organization_id: int
    organization_name: str
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    uses: int
    join_url: str

    @staticmethod
    def resolve_organization_name(obj: InviteCode) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_join_url(obj: InviteCode, context: dict[str, Any]) -> str:
        request: HttpRequest = context["request"]
        return absolute_url(request, reverse("accounts:join") + f"?code={obj.code}")


class OrgRoleIn(Schema):
    user_id: Id
    kind: str = Field(..., max_length=16)


class OrgRoleOut(Schema):
    id: int
    organization_id: int
    user_id: int
    kind: str
    accepted: bool = Field(
        description="False while the appointee has not accepted: the role grants nothing yet."
    )

    @staticmethod
    def resolve_accepted(obj: Role) -> bool:
        return obj.accepted_at is not None


class RoleInvitationOut(Schema):
    id: int
    organization_id: int
    organization_name: str
    kind: str
    kind_label: str
    invited_at: dt.datetime

    @staticmethod
    def resolve_organization_name(obj: Role) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_kind_label(obj: Role) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_invited_at(obj: Role) -> dt.datetime:
        return obj.created_at


def _officer_org(request: HttpRequest, org_id: Id) -> Organization:
    return selectors.organization_get_for_officer(user=request.user, pk=org_id)


@router.get("/orgs/directory", response=list[OrganizationPublicOut], auth=None)
@paged
def orgs_directory(request: HttpRequest, parent: Id | None = None, level: str | None = None) -> Any:
    """Approved organizations' public names, for choosing a parent or checking an invite."""
    qs = selectors.organizations_approved(level=level)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    return qs


@router.get("/orgs", response=list[OrganizationOut])
@paged
def orgs_mine(request: HttpRequest) -> Any:
    """Every organization in the caller's part of the tree (empty for a worker)."""
    return selectors.organizations_for_officer(user=request.user).order_by("path")


@router.get("/orgs/applications", response=list[OrganizationOut])
def orgs_my_applications(request: HttpRequest) -> Any:
    """The caller's own applications, with the decision and any reason for rejection."""
    return list(selectors.applications_of_user(user=request.user).select_related("region"))


@router.get("/orgs/pending", response=list[OrganizationOut])
def orgs_pending(request: HttpRequest) -> Any:
    """Applications the calling officer may approve or reject."""
    return list(selectors.applications_pending_for_officer(user=request.user))


@router.post("/orgs/apply", response={201: OrganizationOut})
def orgs_apply(request: HttpRequest, payload: ApplyIn) -> Status[Organization]:
    parent = selectors.organization_get(pk=payload.parent_id)
    org = services.organization_apply(
        applicant=request.user,
        parent=parent,
        name=payload.name,
        level=payload.level,
        kind=payload.kind,
        region=region_get(code=payload.region_code),
        credit_code=payload.credit_code,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    return Status(201, org)


@router.get("/orgs/{org_id}", response=OrganizationOut)
def orgs_detail(request: HttpRequest, org_id: Id) -> Organization:
    return _officer_org(request, org_id)


@router.get("/orgs/{org_id}/children", response=list[OrganizationOut])
def orgs_children(request: HttpRequest, org_id: Id) -> Any:
    return list(selectors.organization_children(organization=_officer_org(request, org_id)))


@router.get("/orgs/{org_id}/subtree", response=list[OrganizationOut])
@paged
def orgs_subtree(request: HttpRequest, org_id: Id) -> Any:
    return selectors.organization_subtree(organization=_officer_org(request, org_id))


@router.post("/orgs/{org_id}/approve", response=OrganizationOut)
def orgs_approve(request: HttpRequest, org_id: Id) -> Organization:
    org = _officer_org(request, org_id)
    return services.organization_approve(officer=request.user, organization=org)


@router.post("/orgs/{org_id}/reject", response=OrganizationOut)
def orgs_reject(request: HttpRequest, org_id: Id, payload: RejectIn) -> Organization:
    org = _officer_org(request, org_id)
    return services.organization_reject(
        officer=request.user, organization=org, reason=payload.reason
    )


@router.post("/orgs/{org_id}/move", response=OrganizationOut)
def orgs_move(request: HttpRequest, org_id: Id, payload: MoveIn) -> Organization:
    org = _officer_org(request, org_id)
    target = _officer_org(request, payload.parent_id)
    return services.organization_move(actor=request.user, organization=org, new_parent=target)


@router.get("/orgs/{org_id}/invite-codes", response=list[InviteCodeOut])
def invite_codes_list(request: HttpRequest, org_id: Id) -> Any:
    org = _officer_org(request, org_id)
    return list(selectors.invite_codes_for_organization(organization=org))


@router.post("/orgs/{org_id}/invite-codes", response={201: InviteCodeOut})
def invite_codes_create(
    request: HttpRequest, org_id: Id, payload: InviteCodeIn
) -> Status[InviteCode]:
    org = _officer_org(request, org_id)
    invite = services.invite_code_create(
        actor=request.user, organization=org, expires_at=payload.expires_at
    )
    return Status(201, invite)


@router.post("/invite-codes/{code}/revoke", response=InviteCodeOut)
def invite_codes_revoke(request: HttpRequest, code: str) -> InviteCode:
    invite = selectors.invite_code_get(code=code)
    if not selectors.organization_in_scope(user=request.user, organization=invite.organization):
        raise NotFound()
    return services.invite_code_revoke(actor=request.user, invite=invite)


@router.get("/orgs/{org_id}/roles", response=list[OrgRoleOut])
def roles_list(request: HttpRequest, org_id: Id) -> Any:
    return list(selectors.roles_for_organization(organization=_officer_org(request, org_id)))


@router.post("/orgs/{org_id}/roles", response={201: OrgRoleOut})
def roles_grant(request: HttpRequest, org_id: Id, payload: OrgRoleIn) -> Status[Role]:
    org = _officer_org(request, org_id)
    user = get_user_model().objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        raise NotFound()
    role = services.role_grant(actor=request.user, organization=org, user=user, kind=payload.kind)
    return Status(201, role)


@router.get("/me/role-invitations", response=list[RoleInvitationOut])
def role_invitations(request: HttpRequest) -> Any:
    """Appointments that wait for the caller to accept or decline them."""
    return list(selectors.role_invitations_pending(user=request.user))


def _own_role(request: HttpRequest, role_id: Id) -> Role:
    role = Role.objects.filter(pk=role_id, user__pk=request.user.pk or 0).first()
    if role is None:
        raise NotFound()
    return role


@router.post("/me/role-invitations/{role_id}/accept", response=OrgRoleOut)
def role_invitation_accept(request: HttpRequest, role_id: Id) -> Role:
    """Accept an appointment made to the caller; only the appointee can."""
    return services.role_accept(user=request.user, role=_own_role(request, role_id))


@router.post("/me/role-invitations/{role_id}/decline", response={204: None})
def role_invitation_decline(request: HttpRequest, role_id: Id) -> Status[None]:
    """Decline an appointment made to the caller (or give up a role the caller holds)."""
    services.role_decline(user=request.user, role=_own_role(request, role_id))
    return Status(204, None)
