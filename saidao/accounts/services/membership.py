"""Joining organizations: invite codes, invitations from a roster, and roster imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.imports import ImportProgress, import_job_create
from saidao.core.models import ImportJob
from saidao.core.services import audit_record
from saidao.core.tasks import enqueue
from saidao.orgs.models import Organization
from saidao.orgs.selectors import invite_code_get, officer_paths, path_in_scope
from saidao.orgs.services import invite_code_check

from ..errors import AlreadyMember, RosterInvalid
from ..models import AccountNotice, Membership, MembershipInvitation, OneTimeCode, User
from ..roster import roster_parse
from .codes import one_time_code_issue
from .notices import account_notice_record


def _membership_switch(
    *, user: User, organization: Organization, source: str, invite: Any = None
) -> Membership:
    """End the user's current membership (kept as history) and start one in ``organization``."""
    now = clock.now()
    current = Membership.objects.select_for_update().filter(user=user, left_at__isnull=True).first()
    if current is not None:
        if current.organization_id == organization.pk:
            raise AlreadyMember(detail={"organization": organization.pk})
        current.left_at = now
        current.save(update_fields=["left_at", "updated_at"])
    return Membership.objects.create(
        user=user, organization=organization, source=source, invite_code=invite, joined_at=now
    )


@transaction.atomic
def membership_join(*, user: User, code: str) -> Membership:
    """Join an organization with its invite code; a code of another one moves the membership."""
    if not code.strip():
        raise InvalidInput.for_field("code", _("请输入邀请码。"))
    invite = invite_code_get(code=code)
    invite_code_check(invite=invite)
    membership = _membership_switch(
        user=user, organization=invite.organization, source=Membership.Source.INVITE, invite=invite
    )
    type(invite).objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    return membership


def _invitation_of_user(*, user: User, invitation_id: int) -> MembershipInvitation:
    invitation = (
        MembershipInvitation.objects.select_for_update()
        .select_related("organization")
        .filter(pk=invitation_id, user=user)
        .first()
    )
    if invitation is None:
        raise NotFound(detail={"invitation": invitation_id})
    if invitation.status != MembershipInvitation.Status.PENDING:
        raise InvalidInput(_("该邀请已处理过了。"))
    return invitation


@transaction.atomic
def membership_invitation_accept(*, user: User, invitation_id: int) -> Membership:
    """The invited worker accepts: they join (or move to) the inviting organization."""
    invitation = _invitation_of_user(user=user, invitation_id=invitation_id)
    if not invitation.organization.is_approved:
        raise NotFound(_("该组织尚未通过审批。"))
    membership = _membership_switch(
        user=user, organization=invitation.organization, source=Membership.Source.ROSTER
    )
    invitation.status = MembershipInvitation.Status.ACCEPTED
    invitation.decided_at = clock.now()
    invitation.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=user, action="membership_invitation.accept", target=invitation)
    return membership


@transaction.atomic
def membership_invitation_decline(*, user: User, invitation_id: int) -> None:
    invitation = _invitation_of_user(user=user, invitation_id=invitation_id)
    invitation.status = MembershipInvitation.Status.DECLINED
    invitation.decided_at = clock.now()
    invitation.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=user, action="membership_invitation.decline", target=invitation)


@dataclass
class RosterImportResult:
    created: list[tuple[User, str]] = field(default_factory=list)  # (user, activation code)
    invited: int = 0
    unchanged: int = 0


def _invite(*, user: User, organization: Organization, officer: User) -> None:
    if MembershipInvitation.objects.filter(
        user=user, organization=organization, status=MembershipInvitation.Status.PENDING
    ).exists():
        return
    try:
        with transaction.atomic():
            MembershipInvitation.objects.create(
                user=user, organization=organization, invited_by=officer
            )
    except IntegrityError:  # invited by a concurrent import
        return
    account_notice_record(
        user=user,
        kind=AccountNotice.Kind.MEMBERSHIP_INVITED,
        data={"organization": organization.name},
    )


def _roster_import_check(*, officer: User, organization: Organization) -> None:
    if not path_in_scope(path=organization.path, paths=officer_paths(user=officer)):
        raise OutsideScope(detail={"organization": organization.pk})
    if not organization.is_approved:
        raise InvalidInput(_("组织通过审批后才能导入名册。"))


@transaction.atomic
def roster_import(
    *,
    officer: User,
    organization: Organization,
    file: IO[bytes],
    progress: ImportProgress | None = None,
) -> RosterImportResult:
    """Import a roster into ``organization``: all rows or none.

    New numbers become accounts that wait for activation with a one-time code, created by this
    organization. A number that already has an account is invited, and joins only if its owner
    accepts: an import never makes anybody's existing account a member, and its answer never
    tells where else a number is a member. ``progress`` (a background job's) is told how far
    the reading and the saving are.
    """
    _roster_import_check(officer=officer, organization=organization)
    parsed = roster_parse(file, progress=progress.reading if progress else None)
    unreadable = [e["message"] for e in parsed.errors if e["row"] == 0]
    if unreadable:  # not an .xlsx at all: one message on the file, not "row 0"
        raise RosterInvalid(unreadable[0], detail={"fields": {"file": unreadable}})
    if parsed.errors:
        raise RosterInvalid(detail={"errors": sorted(parsed.errors, key=lambda e: e["row"])})
    phones = [r.phone for r in parsed.rows]
    existing = {u.phone: u for u in User.objects.filter(phone__in=phones)}
    members_here = set(
        Membership.objects.filter(
            user__in=existing.values(), organization=organization, left_at__isnull=True
        ).values_list("user_id", flat=True)
    )
    result = RosterImportResult()
    for i, r in enumerate(parsed.rows, start=1):
        if progress is not None:
            progress.saving(i, len(parsed.rows))
        u = existing.get(r.phone)
        if u is None:
            u = User.objects.create_user(
                r.phone,
                None,
                real_name=r.real_name,
                employer=r.employer,
                position=r.position,
                created_by_organization=organization,
            )
            code = one_time_code_issue(
                user=u, purpose=OneTimeCode.Purpose.ACTIVATION, issued_by=officer
            )
            Membership.objects.create(
                user=u, organization=organization, source=Membership.Source.ROSTER
            )
            result.created.append((u, code))
        elif u.pk in members_here:
            result.unchanged += 1
        elif u.is_active:
            _invite(user=u, organization=organization, officer=officer)
            result.invited += 1
        else:  # an erased account keeps no number; a deactivated one is not invited
            result.invited += 1
    audit_record(
        actor=officer,
        action="roster.import",
        target=organization,
        data={
            "created": len(result.created),
            "invited": result.invited,
            "unchanged": result.unchanged,
        },
    )
    return result


def roster_import_start(
    *, officer: User, organization: Organization, file: UploadedFile[Any]
) -> ImportJob:
    """Import a large roster in the background (``roster_import`` run by a task); the job
    reports its progress, then the same result or the same errors."""
    from ..tasks import ROSTER_IMPORT_TASK

    _roster_import_check(officer=officer, organization=organization)
    job = import_job_create(
        kind=ImportJob.Kind.ROSTER, organization=organization, actor=officer, file=file
    )
    enqueue(ROSTER_IMPORT_TASK, job_id=job.pk)
    return job
