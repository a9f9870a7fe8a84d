"""Writes to the organization tree: registration, approval, moves, roles and invite codes."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.services import audit_record
from saidao.regions.models import Region

from .errors import (
    AlreadyDecided,
    InviteCodeExpired,
    InviteCodeRevoked,
    ParentNotApproved,
    TreeCycle,
)
from .models import PATH_ALPHABET, PATH_STEP, InviteCode, Organization, Role
from .selectors import officer_paths, organization_in_scope, path_in_scope, subtree_q
from .signals import role_invited
from .validators import normalize_credit_code, validate_credit_code

LEVEL_ORDER = [level for level, _label in Organization.Level.choices]
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on phones


def _segment(n: int) -> str:
    digits = []
    for _i in range(PATH_STEP):
        n, r = divmod(n, len(PATH_ALPHABET))
        digits.append(PATH_ALPHABET[r])
    if n:
        raise InvalidInput(_("该上级组织的下级数量已达上限。"))
    return "".join(reversed(digits))


def _require_officer(*, actor: Any, organization: Organization) -> None:
    if not organization_in_scope(user=actor, organization=organization):
        raise OutsideScope(detail={"organization": organization.pk})


def _validate_fields(
    *,
    name: str,
    level: str,
    kind: str,
    parent: Organization | None,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
    exclude_pk: int | None = None,
) -> str:
    """Check an organization's own fields; returns the normalized credit code."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [str(_("请填写组织名称。"))]
    if level not in Organization.Level.values:
        errors["level"] = [str(_("请选择组织层级。"))]
    elif parent is not None and (
        level == Organization.Level.NATIONAL
        or LEVEL_ORDER.index(level) < LEVEL_ORDER.index(parent.level)
    ):
        errors["level"] = [
            str(
                _("组织层级不能高于上级工会（%(parent)s）。")
                % {"parent": parent.get_level_display()}
            )
        ]
    if kind not in Organization.Kind.values:
        errors["kind"] = [str(_("请选择组织类型。"))]
    code = normalize_credit_code(credit_code)
    try:
        validate_credit_code(code)
    except ValidationError as e:
        errors["credit_code"] = [str(m) for m in e.messages]
    else:
        dup = Organization.objects.filter(credit_code=code)
        if exclude_pk is not None:
            dup = dup.exclude(pk=exclude_pk)
        if dup.exists():
            errors["credit_code"] = [str(_("该统一社会信用代码已登记过组织。"))]
    if not contact_name.strip():
        errors["contact_name"] = [str(_("请填写联系人。"))]
    if not contact_phone.strip():
        errors["contact_phone"] = [str(_("请填写联系电话。"))]
    if errors:
        raise InvalidInput(detail={"fields": errors})
    return code


@transaction.atomic
def organization_create(
    *,
    parent: Organization | None,
    name: str,
    level: str,
    kind: str,
    region: Region,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
    status: str = Organization.Status.APPROVED,
    applied_by: Any = None,
) -> Organization:
    """Insert an organization under ``parent`` (or as the root), allocating its path.

    The parent row is locked so that siblings created at the same time get distinct paths.
    """
    code = _validate_fields(
        name=name,
        level=level,
        kind=kind,
        parent=parent,
        credit_code=credit_code,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    if parent is None:
        if Organization.objects.filter(parent__isnull=True).exists():
            raise InvalidInput(_("全国只能有一个根组织，请选择上级工会。"))
        path, depth = _segment(0), 0
    else:
        locked = Organization.objects.select_for_update().get(pk=parent.pk)
        Organization.objects.filter(pk=parent.pk).update(child_seq=F("child_seq") + 1)
        path, depth = locked.path + _segment(locked.child_seq), locked.depth + 1
    return Organization.objects.create(
        parent=parent,
        name=name.strip(),
        level=level,
        kind=kind,
        region=region,
        credit_code=code,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        status=status,
        applied_by=applied_by,
        path=path,
        depth=depth,
    )


@transaction.atomic
def organization_apply(
    *,
    applicant: Any,
    parent: Organization,
    name: str,
    level: str,
    kind: str,
    region: Region,
    credit_code: str,
    contact_name: str,
    contact_phone: str,
) -> Organization:
    """An organization applies to join the tree under ``parent``; it waits for approval."""
    if not parent.is_approved:
        raise ParentNotApproved(detail={"parent": parent.pk})
    org = organization_create(
        parent=parent,
        name=name,
        level=level,
        kind=kind,
        region=region,
        credit_code=credit_code,
        contact_name=contact_name,
        contact_phone=contact_phone,
        status=Organization.Status.PENDING,
        applied_by=applicant,
    )
    audit_record(actor=applicant, action="organization.apply", target=org)
    return org


def _decide(*, officer: Any, organization: Organization) -> Organization:
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    parent_path = org.path[:-PATH_STEP]
    # Officers of the parent or of any ancestor decide; the applicant's own role does not count.
    if not parent_path or not path_in_scope(path=parent_path, paths=officer_paths(user=officer)):
        raise OutsideScope(detail={"organization": org.pk})
    if org.status != Organization.Status.PENDING:
        raise AlreadyDecided(detail={"status": org.status})
    return org


@transaction.atomic
def organization_approve(*, officer: Any, organization: Organization) -> Organization:
    """Approve an application; the applicant becomes the organization's first officer."""
    org = _decide(officer=officer, organization=organization)
    org.status = Organization.Status.APPROVED
    org.decided_by = officer
    org.decided_at = clock.now()
    org.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    if org.applied_by_id is not None:
        Role.objects.get_or_create(
            organization=org,
            user_id=org.applied_by_id,
            kind=Role.Kind.OFFICER,
            defaults={"granted_by": officer},  # the applicant asked for it: accepted at once
        )
    audit_record(actor=officer, action="organization.approve", target=org)
    return org


@transaction.atomic
def organization_reject(*, officer: Any, organization: Organization, reason: str) -> Organization:
    """Reject an application with a reason that the applicant sees."""
    if not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写驳回理由，申请人会看到它。"))
    org = _decide(officer=officer, organization=organization)
    org.status = Organization.Status.REJECTED
    org.rejection_reason = reason.strip()
    org.decided_by = officer
    org.decided_at = clock.now()
    org.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=officer, action="organization.reject", target=org, data={"reason": reason})
    return org


@transaction.atomic
def organization_move(
    *, actor: Any, organization: Organization, new_parent: Organization
) -> Organization:
    """Move an organization and its whole subtree under ``new_parent``.

    Refused when ``new_parent`` is the organization itself or one of its descendants.
    """
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    target = Organization.objects.select_for_update().get(pk=new_parent.pk)
    _require_officer(actor=actor, organization=org)
    _require_officer(actor=actor, organization=target)
    if org.parent_id is None:
        raise InvalidInput(_("根组织不能移动。"))
    if target.path.startswith(org.path):
        raise TreeCycle(detail={"organization": org.pk, "new_parent": target.pk})
    if not target.is_approved:
        raise ParentNotApproved(detail={"parent": target.pk})
    if target.pk == org.parent_id:
        return org
    Organization.objects.filter(pk=target.pk).update(child_seq=F("child_seq") + 1)
    old_path = org.path
    new_path = target.path + _segment(target.child_seq)
    depth_delta = target.depth + 1 - org.depth
    Organization.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    Organization.objects.filter(pk=org.pk).update(parent=target)
    audit_record(
        actor=actor,
        action="organization.move",
        target=org,
        data={"from": old_path, "to": new_path, "new_parent": target.pk},
    )
    org.refresh_from_db()
    return org


def _is_member_within(*, user: Any, organization: Organization) -> bool:
    # Memberships live in accounts, a room above this one: ask through the reverse relation.
    return bool(
        user.memberships.filter(left_at__isnull=True)
        .filter(subtree_q(organization.path, field="organization__path"))
        .exists()
    )


@transaction.atomic
def role_grant(*, actor: Any, organization: Organization, user: Any, kind: str) -> Role:
    """Appoint ``user`` to a role in ``organization``; the actor must be an officer above it.

    A current member of the organization's subtree holds the role at once. Anybody else is
    asked first: the role is created pending and grants nothing until they accept it, so that
    an officer cannot bring an outsider's account under their subtree's power unasked.
    """
    _require_officer(actor=actor, organization=organization)
    if kind not in Role.Kind.values:
        raise InvalidInput.for_field("kind", _("请选择角色类型。"))
    accepted = _is_member_within(user=user, organization=organization) or user.pk == actor.pk
    role, created = Role.objects.select_for_update().get_or_create(
        organization=organization,
        user=user,
        kind=kind,
        defaults={"granted_by": actor, "accepted_at": clock.now() if accepted else None},
    )
    if not created and role.accepted_at is None and accepted:  # joined since the invitation
        role.accepted_at = clock.now()
        role.save(update_fields=["accepted_at", "updated_at"])
    elif not created:
        return role  # nothing changed: no second audit entry or notice
    audit_record(
        actor=actor,
        action="role.grant" if role.accepted_at else "role.invite",
        target=role,
        data={"kind": kind},
    )
    if role.accepted_at is None:
        role_invited.send(sender=Role, role=role)
    return role


def _role_of_user(*, user: Any, role: Role) -> Role:
    locked = Role.objects.select_for_update().filter(pk=role.pk, user=user).first()
    if locked is None:
        raise NotFound()
    return locked


@transaction.atomic
def role_accept(*, user: Any, role: Role) -> Role:
    """The appointee accepts a pending appointment; accepting twice changes nothing."""
    role = _role_of_user(user=user, role=role)
    if role.accepted_at is None:
        role.accepted_at = clock.now()
        role.save(update_fields=["accepted_at", "updated_at"])
        audit_record(actor=user, action="role.accept", target=role, data={"kind": role.kind})
    return role


@transaction.atomic
def role_decline(*, user: Any, role: Role) -> None:
    """The appointee declines a pending appointment (or gives up one they hold)."""
    role = _role_of_user(user=user, role=role)
    audit_record(
        actor=user,
        action="role.decline" if role.accepted_at is None else "role.resign",
        target=role,
        data={"kind": role.kind},
    )
    role.delete()


@transaction.atomic
def role_revoke(*, actor: Any, role: Role) -> None:
    _require_officer(actor=actor, organization=role.organization)
    if role.user_id == actor.pk and role.kind == Role.Kind.OFFICER:
        raise InvalidInput(_("不能撤销自己的工会干部角色，请由上级工会办理。"))
    audit_record(actor=actor, action="role.revoke", target=role, data={"kind": role.kind})
    role.delete()


@transaction.atomic
def invite_code_create(
    *, actor: Any, organization: Organization, expires_at: dt.datetime | None = None
) -> InviteCode:
    """A new invite code for an approved organization, optionally expiring."""
    _require_officer(actor=actor, organization=organization)
    if not organization.is_approved:
        raise InvalidInput(_("组织通过审批后才能生成邀请码。"))
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput.for_field("expires_at", _("过期时间必须晚于现在。"))
    for _attempt in range(5):
        code = "".join(secrets.choice(INVITE_ALPHABET) for _i in range(8))
        if not InviteCode.objects.filter(code=code).exists():
            break
    invite = InviteCode.objects.create(
        organization=organization, code=code, created_by=actor, expires_at=expires_at
    )
    audit_record(actor=actor, action="invite_code.create", target=invite)
    return invite


@transaction.atomic
def invite_code_revoke(*, actor: Any, invite: InviteCode) -> InviteCode:
    _require_officer(actor=actor, organization=invite.organization)
    if invite.revoked_at is None:
        invite.revoked_at = clock.now()
        invite.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="invite_code.revoke", target=invite)
    return invite


def invite_code_check(*, invite: InviteCode) -> None:
    """Raise unless the code can be used to join now."""
    if invite.revoked_at is not None:
        raise InviteCodeRevoked(detail={"code": invite.code})
    if invite.expires_at is not None and invite.expires_at <= clock.now():
        raise InviteCodeExpired(
            detail={"code": invite.code, "expired_at": invite.expires_at.isoformat()}
        )
    if not invite.organization.is_approved:
        raise NotFound(_("该组织尚未通过审批。"))
