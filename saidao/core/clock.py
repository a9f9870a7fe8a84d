"""The one place that tells the time, so tests can move it and days are Asia/Shanghai days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    """Today's date in Asia/Shanghai, whatever the server's zone."""
    return now().astimezone(SHANGHAI).date()
