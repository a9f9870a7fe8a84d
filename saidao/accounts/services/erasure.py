"""Erasing a worker's personal data at their request (PIPL)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.orgs.models import Role

from ..models import (
    AccountNotice,
    LoginThrottle,
    Membership,
    MembershipInvitation,
    OneTimeCode,
    PhoneCode,
    User,
)
from ..signals import user_erased
from .sign_in import sign_outs_everywhere


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Erase a worker's personal data at their request (PIPL).

    The row stays, anonymized, so that memberships and participation that others count keep
    their totals; the current membership ends; tokens, sessions, codes, invitations and roles
    go.
    """
    now = clock.now()
    Membership.objects.filter(user=user, left_at__isnull=True).update(left_at=now)
    sign_outs_everywhere(user=user)
    OneTimeCode.objects.filter(user=user).delete()
    PhoneCode.objects.filter(phone=user.phone).delete()
    MembershipInvitation.objects.filter(user=user).delete()
    AccountNotice.objects.filter(user=user).delete()
    Role.objects.filter(user=user).delete()
    LoginThrottle.objects.filter(key__startswith=f"n:{user.phone}").delete()
    user.phone = f"deleted-{user.pk}"
    user.real_name = str(_("已注销用户"))
    user.employer = ""
    user.position = ""
    user.province = None
    user.city = None
    user.is_active = False
    user.deleted_at = now
    user.set_unusable_password()
    user.save()
    user_erased.send(sender=User, user=user)
