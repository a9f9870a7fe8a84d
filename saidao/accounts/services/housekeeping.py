"""Forgetting what no longer serves: records of failed attempts, used and stale SMS codes,
ended sessions and expired tokens. They hold numbers and addresses (PIPL: kept no longer than
needed)."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.db import transaction

from saidao.core import clock

from ..models import ApiToken, PhoneCode, UserSession
from .throttle import throttles_purge

# Kept a day after they were sent: the per-number and per-address limits count the last hour.
PHONE_CODE_KEEP = dt.timedelta(days=1)


@transaction.atomic
def account_records_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete every stale record; returns how many of each kind went."""
    now = now or clock.now()
    live_sessions = Session.objects.filter(expire_date__gt=now).values("session_key")
    return {
        "throttles": throttles_purge(now=now),
        "phone_codes": PhoneCode.objects.filter(created_at__lt=now - PHONE_CODE_KEEP).delete()[0],
        "sessions": UserSession.objects.exclude(session_key__in=live_sessions).delete()[0],
        "tokens": ApiToken.objects.filter(expires_at__lte=now).delete()[0],
    }
