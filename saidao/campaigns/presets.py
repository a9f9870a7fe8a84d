"""The 2024 national 云讲述 campaign as 工人日报 (2024-08-13) reported it, so that any union can
start a campaign like it: its themes and its four dated phases (showcase overlaps collection)."""

from __future__ import annotations

import datetime as dt

from saidao.core.clock import SHANGHAI

from .services import PhaseSpec

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
    """Mobilization in August, collection in September and October, showcase from October to
    November, the knowledge contest from December to January."""
    return [
        PhaseSpec("mobilization", "宣传动员", sh(2024, 8, 1), sh(2024, 9, 1)),
        PhaseSpec("collection", "集中讲述", sh(2024, 9, 1), sh(2024, 11, 1), entries_open=True),
        PhaseSpec("showcase", "展示宣传", sh(2024, 10, 1), sh(2024, 12, 1), likes_open=True),
        PhaseSpec("quiz", "知识竞赛", sh(2024, 12, 1), sh(2025, 2, 1), quiz_open=True),
    ]
