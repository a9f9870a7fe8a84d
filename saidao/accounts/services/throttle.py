"""Slowing down guesses: failures counted per number from one address, per address and per
number, each earning a delay that grows with its failures.

No single key locks an account: a stranger who fails on somebody's number from their own
address delays only themselves, and the number-wide key (against guesses spread over many
addresses) waits at most ``SAIDAO_LOGIN_NUMBER_DELAY_MAX_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from saidao.core import clock

from ..errors import AccountLocked
from ..models import LoginThrottle
from ..phones import is_mobile
from ._common import sha256

# Failures older than this are forgotten at the next one: the counts measure a burst.
WINDOW = dt.timedelta(hours=1)
BASE_DELAY_S = 30


@dataclass(frozen=True)
class _Key:
    key: str
    free: int  # failures before any delay
    cap_s: int  # the longest delay


def _number(phone: str) -> str:
    # Whatever was typed, the key stays short: a mobile number as it is (erasure finds its
    # rows by it), anything else by its hash.
    return phone if is_mobile(phone) else "#" + sha256(phone)[:32]


def _keys(phone: str, ip_address: str | None) -> list[_Key]:
    free = settings.SAIDAO_LOGIN_MAX_FAILURES
    cap = settings.SAIDAO_LOGIN_LOCK_MINUTES * 60
    number = _number(phone)
    keys = [_Key(f"n:{number}", free * 4, settings.SAIDAO_LOGIN_NUMBER_DELAY_MAX_SECONDS)]
    if ip_address:
        keys.append(_Key(f"n:{number}@{ip_address[:45]}", free, cap))
        keys.append(_Key(f"a:{ip_address[:45]}", free * 4, cap))
    return keys


def delay_for(failures: int, *, free: int, cap_s: int) -> int:
    """Seconds to wait after ``failures``: none for the first ``free``, then doubling."""
    if failures < free:
        return 0
    return int(min(cap_s, BASE_DELAY_S * 2 ** min(failures - free, 20)))


def throttle_check(*, phone: str, ip_address: str | None) -> None:
    """Refuse an attempt while any of its keys waits out a delay."""
    now = clock.now()
    keys = [k.key for k in _keys(phone, ip_address)]
    until = (
        LoginThrottle.objects.filter(key__in=keys, blocked_until__gt=now)
        .order_by("-blocked_until")
        .values_list("blocked_until", flat=True)
        .first()
    )
    if until is not None:
        seconds = max(1, int((until - now).total_seconds()) + 1)
        raise AccountLocked(
            _("尝试次数过多，请 %(seconds)d 秒后再试。") % {"seconds": seconds},
            detail={"retry_after": seconds, "until": until.isoformat()},
        )


def throttle_fail(*, phone: str, ip_address: str | None) -> None:
    """Count a failure under every key; commits on its own, so a rollback keeps the count."""
    now = clock.now()
    with transaction.atomic():
        for k in _keys(phone, ip_address):
            t, _created = LoginThrottle.objects.select_for_update().get_or_create(key=k.key)
            if not _created and t.updated_at < now - WINDOW:
                t.failures = 0
            t.failures += 1
            wait = delay_for(t.failures, free=k.free, cap_s=k.cap_s)
            t.blocked_until = now + dt.timedelta(seconds=wait) if wait else None
            t.updated_at = now
            t.save(update_fields=["failures", "blocked_until", "updated_at"])


def throttle_clear(*, phone: str, ip_address: str | None) -> None:
    """A success clears the number's own keys; the address's count stays, so an attacker's
    log-in to their own account does not buy more guesses at others'."""
    keys = [k.key for k in _keys(phone, ip_address) if k.key.startswith("n:")]
    LoginThrottle.objects.filter(key__in=keys).delete()


def throttles_purge(*, now: dt.datetime) -> int:
    """Forget counts nobody waits on any more: a wait that has passed and a window that has
    closed. Keeps the table (numbers and addresses) from growing with every guess."""
    deleted, _by_model = (
        LoginThrottle.objects.filter(updated_at__lt=now - WINDOW)
        .exclude(blocked_until__gt=now)
        .delete()
    )
    return deleted
