"""The 云讲述 campaigns of the demo: the real 2024 one, finished, and a live copy with entries.

工人日报 2024-08-13 reported the 2024 activity: organized by the ACFTU's publicity department
under the theme 凝心聚力担使命 立足岗位建新功, in four phases (mobilization in August, storytelling
in September and October, showcase in October and November, a knowledge quiz in December and
January), with videos of at most two minutes, and each worker choosing a province and a
prefecture-level city so the entry counts in that zone.

The live copy's entries share a handful of small synthetic clips: each is generated once,
normalized and given a poster by the video sandbox exactly as a worker's upload would be, and
stored once under ``entries/video/`` and ``entries/poster/``; many entries point at the same files.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from saidao.accounts.models import User
from saidao.campaigns.models import Campaign, Phase, Theme
from saidao.campaigns.presets import YUN_THEMES, yun_phases_2024
from saidao.campaigns.services import PhaseSpec, campaign_create
from saidao.core import clock
from saidao.entries.models import Entry
from saidao.leaderboards.models import ParticipationEvent
from saidao.orgs.models import Organization
from saidao.regions.models import Region
from saidao.video import sandbox
from saidao.video.errors import VideoTooLong
from saidao.video.synth import make_clip
from saidao.video.validate import DURATION_TOLERANCE_S

YUN_2024_SLUG = "yunjiangshu-2024"
YUN_LIVE_SLUG = "yunjiangshu-live"
YUN_THEME_LINE = "凝心聚力担使命 立足岗位建新功"
MAX_VIDEO_SECONDS = 120

YUN_DESCRIPTION = (
    f"中华全国总工会宣传教育部主办，活动主题为“{YUN_THEME_LINE}”。"
    "职工在手机上录一段视频，讲自己学习党的二十届三中全会精神的体会，讲岗位上攻坚克难、"
    "改革创新的真实经历；劳模工匠带头示范，一线职工人人都能当一回宣讲员。"
    "活动依次经过宣传动员、集中讲述、展示宣传和知识竞赛四个阶段。"
)
YUN_RULES = "\n".join(
    [
        "1. 作品形式：本人出镜讲述的视频一段，时长不超过 2 分钟，可用手机竖屏或横屏拍摄。",
        "2. 报名信息：提交时如实填写姓名、手机号、工作单位和岗位，并选定所在的省份和地级市"
        "（直辖市选本市），作品计入所选城市所在的赛区。",
        "3. 讲述主题：从活动公布的五个主题中选择一个，讲身边的真人真事，内容须为原创。",
        "4. 组织参与：各级工会可在平台登记为组织，动员本单位职工参加；"
        "平台按各组织会员的参与情况实时展示。",
        "5. 审核展示：作品经工会审核通过后进入展示宣传，职工可以浏览、点赞；"
        "同意公开展示本人肖像和声音是参赛的前提。",
    ]
)


def _shanghai_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI)


def live_phases() -> list[PhaseSpec]:
    """Phases around today (Asia/Shanghai days): mobilization ended at midnight, collection
    open for 30 more days (it began two weeks ago), showcase open since a week ago for 60
    days, and the knowledge contest open too (since three days ago, for 60 more days), so a
    visitor can try every part of the campaign today."""
    today = _shanghai_midnight(clock.today())
    day = dt.timedelta(days=1)
    return [
        PhaseSpec("mobilization", "宣传动员", today - 45 * day, today),
        PhaseSpec("collection", "集中讲述", today - 14 * day, today + 31 * day, entries_open=True),
        PhaseSpec("showcase", "展示宣传", today - 7 * day, today + 53 * day, likes_open=True),
        PhaseSpec("quiz", "知识竞赛", today - 3 * day, today + 61 * day, quiz_open=True),
    ]


def campaigns_create(*, actor: User, organizer: Organization) -> tuple[Campaign, Campaign]:
    """The finished 2024 campaign and its live copy, both published."""
    finished = campaign_create(
        actor=actor,
        organizer=organizer,
        slug=YUN_2024_SLUG,
        title="全国职工岗位“云讲述”活动（2024）",
        description=YUN_DESCRIPTION,
        rules=YUN_RULES,
        themes=YUN_THEMES,
        phases=yun_phases_2024(),
        max_video_seconds=MAX_VIDEO_SECONDS,
        publish=True,
    )
    live = campaign_create(
        actor=actor,
        organizer=organizer,
        slug=YUN_LIVE_SLUG,
        title="全国职工岗位“云讲述”活动（演示）",
        description=YUN_DESCRIPTION + "这是一份演示：征集和展示正在进行，可以投稿、浏览、点赞。",
        rules=YUN_RULES,
        themes=YUN_THEMES,
        phases=live_phases(),
        max_video_seconds=MAX_VIDEO_SECONDS,
        publish=True,
    )
    return finished, live


@dataclass(frozen=True)
class ClipSpec:
    width: int
    height: int
    seconds: float
    rotation: int = 0
    fps: int = 10
    tint: tuple[int, int] = (128, 128)  # the (U, V) chroma: each clip its own colour


# Landscape and portrait (rotation 90, as a phone held upright records), two sizes.
CLIP_SPECS = (
    ClipSpec(320, 240, 6.0, tint=(90, 200)),
    ClipSpec(160, 120, 4.0, rotation=90, tint=(200, 90)),
    ClipSpec(320, 240, 9.0, rotation=90, fps=12, tint=(160, 160)),
    ClipSpec(160, 120, 5.0, tint=(80, 80)),
    ClipSpec(320, 240, 4.0, fps=15, tint=(180, 110)),
    ClipSpec(160, 120, 8.0, rotation=90, fps=8, tint=(110, 180)),
    ClipSpec(320, 240, 12.0, rotation=90, tint=(140, 60)),
    ClipSpec(160, 120, 7.0, fps=12, tint=(60, 140)),
)


@dataclass(frozen=True)
class StoredClip:
    """A processed demo video in MEDIA storage, as ``entry_process`` would have left it."""

    video: str
    poster: str
    duration_s: float
    width: int
    height: int


@dataclass(frozen=True)
class _Processed:
    mp4: bytes
    jpg: bytes
    duration_s: float
    width: int
    height: int


@functools.cache
def _processed(spec: ClipSpec) -> _Processed:
    """Generate a clip and run it once through the sandbox, as ``entry_process`` would.

    Cached for the process: the bytes only depend on ``spec``, and a test suite seeds often.
    """
    with tempfile.TemporaryDirectory(prefix="saidao-demo-") as tmpdir:
        tmp = Path(tmpdir)
        source = make_clip(
            tmp / "source.mp4",
            seconds=spec.seconds,
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            rotation=spec.rotation,
            tint=spec.tint,
        )
        mp4, jpg = tmp / "video.mp4", tmp / "poster.jpg"
        sandbox.normalize(source, mp4)
        probe = sandbox.probe(mp4)
        duration = probe.duration_s or spec.seconds
        sandbox.poster(source, jpg, at_s=min(1.0, duration / 2))
        return _Processed(
            mp4.read_bytes(),
            jpg.read_bytes(),
            duration,
            probe.display_width,
            probe.display_height,
        )


def clips_store(specs: tuple[ClipSpec, ...] = CLIP_SPECS) -> list[StoredClip]:
    """Store each processed clip once in MEDIA storage, named ``demo-<n>``."""
    stored = []
    for i, spec in enumerate(specs, start=1):
        p = _processed(spec)
        video = default_storage.save(f"entries/video/demo-{i}.mp4", ContentFile(p.mp4))
        poster = default_storage.save(f"entries/poster/demo-{i}.jpg", ContentFile(p.jpg))
        stored.append(StoredClip(video, poster, p.duration_s, p.width, p.height))
    return stored


TITLES: dict[int, list[str]] = {
    1: [
        "学全会精神，说说我的岗位体会",
        "改革就在我们身边",
        "把学习心得讲给工友听",
        "一名一线职工眼中的全面深化改革",
        "学思践悟，干在岗位",
        "全会精神进班组",
    ],
    2: [
        "我的师傅是劳模",
        "十年坚守一条线",
        "班组里的改革带头人",
        "从学徒到首席技师",
        "驿站里的新伙伴",
        "敢为人先的“老黄牛”",
    ],
    3: [
        "智能化改造后的第一年",
        "数据多跑路，我们少跑腿",
        "从手工台账到智慧平台",
        "新设备上岗记",
        "绿色转型中的我们",
        "一条生产线的数字化之路",
    ],
    4: [
        "一个小改进，省下半天工",
        "我的创新妙招",
        "攻克难题的那个冬天",
        "“治水”记：给油井降含水",
        "练就过硬本领的秘诀",
        "金点子是怎样炼成的",
    ],
    5: [
        "夜校里考出来的技师证",
        "风雪中的投递路",
        "一杯热水的温度",
        "不服输的老司机",
        "带着梦想去上班",
        "平凡岗位上的不平凡",
    ],
}
DESCRIPTIONS = [
    "",
    "",
    "用两分钟讲讲我和工友们的故事。",
    "第一次对着镜头讲述，讲得不好请大家多指教。",
    "感谢工会给了我们一线职工讲述的机会。",
    "这是我们班组一起拍的，讲的是去年的一次技术攻关。",
    "希望更多工友看到，一起把活儿干得更好。",
]
REJECTIONS = [
    "视频中出现了商业广告，请删除后重新提交。",
    "讲述内容与所选主题关系不大，请调整后重新提交。",
    "画面中有他人未经同意的正面肖像，请处理后重新提交。",
    "声音太小，听不清讲述内容，请重新录制。",
]


@dataclass(frozen=True)
class Author:
    """A demo member who submitted, with the zone they chose."""

    user: User
    organization: Organization
    city: Region


def entries_count(members: int) -> int:
    """A few hundred for the default 3000 members; at least half the members in a small demo."""
    return min(members, max(members // 10, min(members // 2, 60)))


def entries_seed(
    *,
    rng: random.Random,
    campaign: Campaign,
    authors: list[Author],
    reviewer: User,
    clips: list[StoredClip],
) -> list[Entry]:
    """One entry per author: most approved, some pending, a few rejected, a few too long."""
    now = clock.now()
    collection = campaign.phases.get(kind=Phase.Kind.COLLECTION)
    themes: list[Theme] = list(campaign.themes.order_by("position"))
    n = len(authors)
    invalid = max(1, n * 3 // 100) if n >= 10 else 0
    rejected = max(1, n * 4 // 100) if n >= 10 else 0
    pending = max(1, n * 8 // 100) if n >= 5 else 0
    statuses = (
        [Entry.Status.INVALID] * invalid
        + [Entry.Status.REJECTED] * rejected
        + [Entry.Status.PENDING_REVIEW] * pending
    )
    statuses += [Entry.Status.APPROVED] * (n - len(statuses))
    rng.shuffle(statuses)
    span = (now - collection.starts_at).total_seconds()
    entries = []
    for author, status in zip(authors, statuses, strict=True):
        user = author.user
        if status == Entry.Status.PENDING_REVIEW:  # waiting: sent in the last two days
            created = now - dt.timedelta(seconds=rng.uniform(600, min(span, 2 * 86400)))
        else:
            created = collection.starts_at + dt.timedelta(seconds=rng.uniform(0, span - 86400))
        theme = rng.choice(themes)
        title = rng.choice(TITLES[theme.position])
        if rng.random() < 0.3:
            title = f"{user.position}：{title}"
        entry = Entry(
            campaign=campaign,
            worker=user,
            slot=None if status == Entry.Status.INVALID else 1,
            organization=author.organization,
            zone_province_id=author.city.province_id,
            zone_city=author.city,
            theme=theme,
            title=title[:60],
            description=rng.choice(DESCRIPTIONS),
            real_name=user.real_name,
            mobile=user.phone,
            employer=user.employer,
            position=user.position,
            consent_publish=True,
            consent_at=created,
            status=status,
            attempts=1,
            created_at=created,
            updated_at=created,
        )
        if status == Entry.Status.INVALID:
            measured = rng.uniform(MAX_VIDEO_SECONDS + 5, 300)
            error = VideoTooLong.measured(measured, MAX_VIDEO_SECONDS, DURATION_TOLERANCE_S)
            entry.invalid_code = error.code
            entry.invalid_message = str(error.message)[:200]
        else:
            clip = rng.choice(clips)
            entry.video, entry.poster = clip.video, clip.poster
            entry.duration_s, entry.width, entry.height = clip.duration_s, clip.width, clip.height
        if status in (Entry.Status.APPROVED, Entry.Status.REJECTED):
            entry.reviewed_by = reviewer
            entry.reviewed_at = min(now, created + dt.timedelta(hours=rng.uniform(1, 48)))
            entry.updated_at = entry.reviewed_at
        if status == Entry.Status.REJECTED:
            entry.rejection_reason = rng.choice(REJECTIONS)
        if status == Entry.Status.APPROVED:
            entry.likes_count = min(5000, int(rng.lognormvariate(2.3, 1.3)))
        entries.append(entry)
    history = [(e.created_at, e.updated_at) for e in entries]
    Entry.objects.bulk_create(entries, batch_size=500)
    assert all(e.pk is not None for e in entries)  # SQLite >= 3.35 and PostgreSQL return ids
    # auto_now_add and auto_now stamped the insert time on the rows and the objects; put the
    # history back.
    for e, (created_at, updated_at) in zip(entries, history, strict=True):
        e.created_at, e.updated_at = created_at, updated_at
    Entry.objects.bulk_update(entries, ["created_at", "updated_at"], batch_size=500)
    processed = [e for e in entries if e.status != Entry.Status.INVALID]
    events = [
        ParticipationEvent(
            campaign=campaign,
            worker_id=e.worker_id,
            organization_id=e.organization_id,
            zone_province_id=e.zone_province_id,
            zone_city_id=e.zone_city_id,
            kind=ParticipationEvent.Kind.ENTRY,
            key=f"entry:{e.pk}",
        )
        for e in processed
    ]
    ParticipationEvent.objects.bulk_create(events, batch_size=500)
    for event, e in zip(events, processed, strict=True):  # recorded when processing finished
        event.created_at = e.created_at + dt.timedelta(minutes=1)
    ParticipationEvent.objects.bulk_update(events, ["created_at"], batch_size=500)
    return entries
