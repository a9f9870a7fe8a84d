"""The home page's activities list, filled by apps below core without core importing them.

An app registers a provider in its ``AppConfig.ready``; each provider returns cards for the
viewer, and the home page shows them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ActivityCard:
    title: str
    url: str
    organizer: str
    status: str
    summary: str = ""
    starts_at: dt.datetime | None = None


Provider = Callable[[Any], list[ActivityCard]]
_providers: list[Provider] = []


def activity_provider(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def activities_for(user: Any) -> list[ActivityCard]:
    cards: list[ActivityCard] = []
    for provider in _providers:
        cards.extend(provider(user))
    return cards
