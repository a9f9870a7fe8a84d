from __future__ import annotations

import datetime as dt
from typing import Any

from saidao.campaigns.models import Campaign
from saidao.campaigns.presets import YUN_THEMES, yun_phases_2024
from saidao.campaigns.services import PhaseSpec, campaign_create
from saidao.orgs.models import Organization


def make_campaign(
    *, actor: Any, organizer: Organization, slug: str = "yunjiangshu-2024", **kwargs: Any
) -> Campaign:
    defaults: dict[str, Any] = {
        "title": "全国职工岗位“云讲述”活动",
        "themes": YUN_THEMES,
        "phases": yun_phases_2024(),
        "publish": True,
    }
    return campaign_create(actor=actor, organizer=organizer, slug=slug, **(defaults | kwargs))


def live_phases(*, likes: bool = True) -> list[PhaseSpec]:
    """Phases around today: collection open now, showcase (likes) open now when ``likes``."""
    from saidao.core import clock

    now = clock.now()
    day = dt.timedelta(days=1)
    phases = [
        PhaseSpec("mobilization", "宣传动员", now - 30 * day, now - day),
        PhaseSpec("collection", "集中讲述", now - day, now + 30 * day, entries_open=True),
    ]
    if likes:
        phases.append(PhaseSpec("showcase", "展示宣传", now - day, now + 60 * day, likes_open=True))
    return phases
