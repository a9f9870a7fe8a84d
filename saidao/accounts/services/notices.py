"""Telling a holder what was done to their account: at the next sign-in, and by SMS where
SMS is configured."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from saidao.core import clock, sms
from saidao.core.errors import SaidaoError

from ..models import AccountNotice, User

log = logging.getLogger(__name__)


def _sms_after_commit(*, notice_id: int, phone: str, params: dict[str, str], kind: str) -> None:
    try:
        sms.sms_send(phone=phone, template=kind, params=params)
    except SaidaoError:
        # The notice still waits for the next sign-in; the failure is the operator's to see.
        log.warning("account notice %s: SMS not delivered", notice_id, exc_info=True)
        return
    AccountNotice.objects.filter(pk=notice_id).update(sent_by_sms=True)


def account_notice_record(*, user: User, kind: str, data: dict[str, Any] | None = None) -> None:
    """Keep a notice for ``user`` and, after the commit, send it by SMS if SMS is configured."""
    data = data or {}
    notice = AccountNotice.objects.create(user=user, kind=kind, data=data)
    if sms.sms_configured(kind) and user.deleted_at is None:
        known = sms.KINDS.get(kind)
        params = {k: str(v) for k, v in data.items() if known is None or k in known.params}
        transaction.on_commit(
            lambda: _sms_after_commit(
                notice_id=notice.pk, phone=user.phone, params=params, kind=kind
            )
        )


def account_notices_take(*, user: User) -> list[AccountNotice]:
    """The notices ``user`` has not seen yet, marked seen: shown once, at sign-in."""
    notices = list(AccountNotice.objects.filter(user=user, seen_at__isnull=True).order_by("id"))
    if notices:
        AccountNotice.objects.filter(pk__in=[n.pk for n in notices]).update(seen_at=clock.now())
    return notices
