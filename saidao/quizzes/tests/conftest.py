from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone


class Clock:
    """Moves ``saidao.core.clock.now`` for the services and selectors."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at: dt.datetime | None = None
        monkeypatch.setattr("saidao.core.clock.now", self.now)

    def now(self) -> dt.datetime:
        return self.at or timezone.now()

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at = self.now() + dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with empty in-process contest caches (ids are reused across tests)."""
    from saidao.quizzes import caches

    caches.clear()
    caches.usage_due(all_now=True)  # an earlier test's draw counts, dropped
