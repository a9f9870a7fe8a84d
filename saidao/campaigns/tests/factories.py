from __future__ import annotations

import datetime as dt
from typing import Any

from saidao.campaigns.models import Campaign
from saidao.campaigns.services import PhaseSpec, campaign_create
from saidao.core.clock import SHANGHAI
from saidao.orgs.models import Organization

YUN_THEMES = [
    "学习习近平新时代中国特色社会主义思想和党的二十届三中全会精神的体会",
    "在推进中国式现代化进程中勇立潮头、建功立业、改革创新的身边故事",
    "在发展新质生产力、实现高质量发展中的生动实践",
    "在生产一线克服的技术难题、提出的创新妙招、练就的过硬本领、总结的先进经验",
    "在工作学习生活中自强不息、积极向上的感人故事",
]


def sh(year: int, month: int, day: int, hour: int = 0) -> dt.datetime:
    """A moment in Asia/Shanghai time."""
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


def yun_phases_2024() -> list[PhaseSpec]:
    """The 2024 云讲述 phases as 工人日报 2024-08-13 reported them; showcase overlaps collection."""
    K = "mobilization", "collection", "showcase", "quiz"
    return [
        PhaseSpec(K[0], "宣传动员", sh(2024, 8, 1), sh(2024, 9, 1)),
        PhaseSpec(K[1], "集中讲述", sh(2024, 9, 1), sh(2024, 11, 1), entries_open=True),
        PhaseSpec(K[2], "展示宣传", sh(2024, 10, 1), sh(2024, 12, 1), likes_open=True),
        PhaseSpec(K[3], "知识竞赛", sh(2024, 12, 1), sh(2025, 2, 1), quiz_open=True),
    ]


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
