from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import F
from django.test import Client

from saidao.accounts.models import Membership, User
from saidao.accounts.services import auth_login
from saidao.campaigns.models import Campaign, Phase
from saidao.campaigns.presets import YUN_THEMES
from saidao.campaigns.selectors import campaign_switches, phase_require
from saidao.core import clock, tasks
from saidao.demo.seed import DEMO_INVITE_CODE, DEMO_LOGINS, DEMO_PASSWORD, demo_seed
from saidao.demo.yun import YUN_2024_SLUG, YUN_LIVE_SLUG, YUN_THEME_LINE
from saidao.entries.models import Entry
from saidao.entries.services import entry_submit
from saidao.leaderboards.models import ParticipationEvent
from saidao.orgs.models import Organization, Role
from saidao.orgs.selectors import organization_ancestors, organization_subtree, path_in_scope
from saidao.orgs.validators import validate_credit_code
from saidao.regions.models import Region
from saidao.uploads.models import Upload
from saidao.video import sandbox
from saidao.video.synth import make_clip

MEMBERS = 120
S = Entry.Status


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Demo videos and posters go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seeded(regions: None) -> None:
    demo_seed(members=MEMBERS)


def _live() -> Campaign:
    return Campaign.objects.get(slug=YUN_LIVE_SLUG)


def _names(org: Organization) -> list[str]:
    return [o.name for o in organization_ancestors(organization=org)] + [org.name]


@pytest.mark.usefixtures("seeded")
def test_demo_tree_follows_the_newspaper() -> None:
    """The demo holds the chains the issue names, each organization under the right parent."""
    courier = Organization.objects.get(name="安定区快递行业工会联合会")
    assert _names(courier) == [
        "中华全国总工会",
        "甘肃省总工会",
        "定西市总工会",
        "安定区总工会",
        "安定区快递行业工会联合会",
    ]
    sixth = Organization.objects.get(name="胜利采油厂管理六区分工会")
    assert _names(sixth)[:5] == [
        "中华全国总工会",
        "山东省总工会",
        "东营市总工会",
        "胜利油田工会",
        "胜利采油厂工会",
    ]
    assert Organization.objects.filter(name="东辛采油厂工会", parent__name="胜利油田工会").exists()
    railway = Organization.objects.get(name="中国铁路乌鲁木齐局集团有限公司工会")
    assert _names(railway)[1:3] == ["新疆维吾尔自治区总工会", "乌鲁木齐市总工会"]
    dingxi = Organization.objects.get(name="定西市总工会")
    counties = {o.name for o in dingxi.children.all()}
    assert {"安定区总工会", "通渭县总工会", "陇西县总工会", "渭源县总工会"} <= counties
    assert {"临洮县总工会", "漳县总工会", "岷县总工会"} <= counties


@pytest.mark.usefixtures("seeded")
def test_every_mainland_province_has_its_union() -> None:
    """31 provincial unions sit directly under the national federation."""
    provincial = Organization.objects.filter(level=Organization.Level.PROVINCIAL)
    assert provincial.count() == 31
    assert all(o.parent is not None and o.parent.parent_id is None for o in provincial)


@pytest.mark.usefixtures("seeded")
def test_demo_credit_codes_are_valid() -> None:
    """Every demo organization has a credit code that passes the GB 32100-2015 check."""
    for code in Organization.objects.values_list("credit_code", flat=True):
        validate_credit_code(code)


@pytest.mark.usefixtures("seeded")
def test_demo_logins_work_and_officers_are_scoped() -> None:
    """The printed log-ins work; the city officer administers 定西市, the national one the root."""
    for login in DEMO_LOGINS:
        assert auth_login(phone=login.phone, password=login.password).is_activated
    city = User.objects.get(phone=DEMO_LOGINS[1].phone)
    national = User.objects.get(phone=DEMO_LOGINS[2].phone)
    assert Role.objects.get(user=city).organization.name == "定西市总工会"
    assert Role.objects.get(user=national).organization.parent_id is None


@pytest.mark.usefixtures("seeded")
def test_members_are_spread_over_grassroots_unions() -> None:
    """Generated members each have one current membership in a grassroots union."""
    members = Membership.objects.filter(user__phone__startswith="137", left_at__isnull=True)
    assert members.count() == MEMBERS
    assert set(members.values_list("organization__level", flat=True)) == {"grassroots"}


@pytest.mark.usefixtures("seeded")
def test_demo_has_a_pending_application_for_the_city_officer(client: Client) -> None:
    """The 定西市 officer's dashboard shows the demo's pending application."""
    client.force_login(User.objects.get(phone=DEMO_LOGINS[1].phone))
    html = client.get("/officer/").content.decode()
    assert "漳县城关镇商贸物流园区工会" in html


@pytest.mark.usefixtures("seeded")
def test_demo_invite_code_joins_the_courier_federation(client: Client) -> None:
    """The demo invite code moves the demo worker into 安定区快递行业工会联合会."""
    worker = User.objects.get(phone=DEMO_LOGINS[0].phone)
    client.force_login(worker)
    client.post("/accounts/join/", {"code": DEMO_INVITE_CODE})
    current = Membership.objects.get(user=worker, left_at__isnull=True)
    assert current.organization.name == "安定区快递行业工会联合会"


def test_demo_command_prints_logins_and_seeds_once(regions: None) -> None:
    """`saidao demo --no-serve` seeds an empty database once and prints one log-in per line."""
    out = StringIO()
    call_command("demo", "--no-serve", "--members", "20", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("demo-login: ")]
    assert lines == [f"demo-login: {d.role} {d.phone} {DEMO_PASSWORD}" for d in DEMO_LOGINS]
    roles = {line.split()[1] for line in lines}
    assert {"worker", "city-officer", "national-officer"} <= roles
    count = Organization.objects.count()
    again = StringIO()
    call_command("demo", "--no-serve", stdout=again)
    assert "not seeding" in again.getvalue()
    assert Organization.objects.count() == count
    subtree = organization_subtree(organization=Organization.objects.get(parent__isnull=True))
    assert subtree.count() == count
    assert f"demo: campaign {YUN_LIVE_SLUG}: approved" in out.getvalue()
    assert Entry.objects.filter(campaign__slug=YUN_LIVE_SLUG).count() == 10


def _sh(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=clock.SHANGHAI)


@pytest.mark.usefixtures("seeded")
def test_2024_campaign_follows_the_newspaper() -> None:
    """The finished 2024 campaign has the reported organizer, theme, rules, five themes and four
    dated phases in Asia/Shanghai (showcase overlapping collection), and nothing is open now."""
    c = Campaign.objects.get(slug=YUN_2024_SLUG)
    assert c.title == "全国职工岗位“云讲述”活动（2024）"
    assert c.organizer.name == "中华全国总工会"
    assert c.status == Campaign.Status.PUBLISHED
    assert YUN_THEME_LINE in c.description
    assert "2 分钟" in c.rules and "地级市" in c.rules and "省份" in c.rules
    assert list(c.themes.order_by("position").values_list("title", flat=True)) == YUN_THEMES
    phases = list(c.phases.order_by("position"))
    assert [(p.kind, p.title) for p in phases] == [
        (Phase.Kind.MOBILIZATION, "宣传动员"),
        (Phase.Kind.COLLECTION, "集中讲述"),
        (Phase.Kind.SHOWCASE, "展示宣传"),
        (Phase.Kind.QUIZ, "知识竞赛"),
    ]
    assert [(p.starts_at, p.ends_at) for p in phases] == [
        (_sh(2024, 8, 1), _sh(2024, 9, 1)),
        (_sh(2024, 9, 1), _sh(2024, 11, 1)),
        (_sh(2024, 10, 1), _sh(2024, 12, 1)),
        (_sh(2024, 12, 1), _sh(2025, 2, 1)),
    ]
    assert [(p.entries_open, p.likes_open, p.quiz_open) for p in phases] == [
        (False, False, False),
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert phases[1].ends_at > phases[2].starts_at  # showcase began while stories came in
    switches = campaign_switches(campaign=c)
    assert not (switches.entries_open or switches.likes_open or switches.quiz_open)
    assert switches.last_closing["entries_open"] == _sh(2024, 11, 1)
    assert not c.entries.exists()


@pytest.mark.usefixtures("seeded")
def test_live_campaign_is_open_today() -> None:
    """The live copy takes entries and likes now, and its knowledge contest is open too (for
    about 60 more days)."""
    c = _live()
    assert c.title == "全国职工岗位“云讲述”活动（演示）"
    assert c.status == Campaign.Status.PUBLISHED
    assert list(c.themes.order_by("position").values_list("title", flat=True)) == YUN_THEMES
    switches = campaign_switches(campaign=c)
    assert switches.entries_open and switches.likes_open and switches.quiz_open
    phase_require(campaign=c, switch="entries_open")
    phase_require(campaign=c, switch="likes_open")
    phase_require(campaign=c, switch="quiz_open")
    now = clock.now()
    quiz = c.phases.get(kind=Phase.Kind.QUIZ)
    assert quiz.starts_at < now
    assert dt.timedelta(days=59) < quiz.ends_at - now < dt.timedelta(days=62)
    mobilization = c.phases.get(kind=Phase.Kind.MOBILIZATION)
    assert now - dt.timedelta(days=1) < mobilization.ends_at <= now


@pytest.mark.usefixtures("seeded")
def test_live_entries_spread_over_china_from_members_in_scope() -> None:
    """Entries come from at least 20 provinces, each from a demo member's current organization
    inside the organizer's subtree, counted in a real city zone of its province."""
    c = _live()
    entries = list(c.entries.select_related("organization", "zone_city", "zone_province"))
    assert len(entries) >= 40
    assert len({e.zone_province_id for e in entries}) >= 20
    assert len({e.zone_city_id for e in entries}) >= 25
    current = dict(
        Membership.objects.filter(left_at__isnull=True).values_list("user_id", "organization_id")
    )
    for e in entries:
        assert e.zone_city.zone_city_id == e.zone_city.code
        assert e.zone_city.province_id == e.zone_province_id
        assert e.zone_province.level == Region.Level.PROVINCE
        assert current[e.worker_id] == e.organization_id
        assert e.organization.level == Organization.Level.GRASSROOTS
        assert path_in_scope(path=e.organization.path, paths=[c.organizer.path])
        assert e.consent_publish and e.real_name and e.mobile and e.title
    assert len({e.worker_id for e in entries}) == len(entries)
    assert not c.entries.filter(worker__phone__in=[d.phone for d in DEMO_LOGINS]).exists()


@pytest.mark.usefixtures("seeded")
def test_live_entries_have_every_status_a_reviewer_meets() -> None:
    """Most entries are approved by the national officer with likes; some wait for review; a few
    are rejected with a reason; a few are too long, with the measured length and no slot."""
    c = _live()
    national = User.objects.get(phone=DEMO_LOGINS[2].phone)
    counts = {s: c.entries.filter(status=s).count() for s in S.values}
    assert counts[S.APPROVED] > c.entries.count() // 2
    assert counts[S.PENDING_REVIEW] >= 1
    assert counts[S.REJECTED] >= 1
    assert counts[S.INVALID] >= 1
    assert (
        counts[S.APPROVED] + counts[S.PENDING_REVIEW] + counts[S.REJECTED] + counts[S.INVALID]
        == c.entries.count()
    )
    approved = c.entries.filter(status=S.APPROVED)
    assert not approved.exclude(reviewed_by=national).exists()
    assert approved.filter(likes_count__gt=0).exists()
    for e in c.entries.filter(status=S.REJECTED):
        assert e.reviewed_by == national and e.rejection_reason
    for e in c.entries.filter(status=S.INVALID):
        assert e.invalid_code == "too_long" and e.slot is None and not e.video
        assert "秒" in e.invalid_message and "120" in e.invalid_message
    assert not c.entries.filter(status=S.PENDING_REVIEW, reviewed_by__isnull=False).exists()
    now = clock.now()
    for e in c.entries.all():
        assert e.created_at <= now and (e.reviewed_at is None or e.reviewed_at >= e.created_at)


@pytest.mark.usefixtures("seeded")
def test_processed_entries_have_a_playable_mp4_and_a_poster() -> None:
    """Every processed entry points at a stored MP4 that probes as a video of some length and a
    stored JPEG poster; a handful of distinct files is shared by many entries."""
    processed = _live().entries.exclude(status=S.INVALID)
    videos: set[str] = set()
    posters: set[str] = set()
    for e in processed:
        video, poster = e.video.name or "", e.poster.name or ""
        assert video.startswith("entries/video/") and video.endswith(".mp4")
        assert poster.startswith("entries/poster/") and poster.endswith(".jpg")
        assert e.duration_s and e.width and e.height
        videos.add(video)
        posters.add(poster)
    assert 2 <= len(videos) <= 8 < processed.count()
    for name in videos:
        assert default_storage.exists(name)
        probe = sandbox.probe(default_storage.path(name))
        assert probe.has_video and probe.duration_s and probe.duration_s > 0
        assert "mp4" in probe.container and probe.video_codec == "h264"
    assert processed.filter(height__gt=F("width")).exists()  # portrait clips, shown upright
    assert processed.filter(width__gt=F("height")).exists()
    for name in posters:
        with default_storage.open(name, "rb") as fh:
            assert fh.read(3) == b"\xff\xd8\xff"  # a JPEG


@pytest.mark.usefixtures("seeded")
def test_every_processed_entry_has_one_participation_event() -> None:
    """Processed entries (pending, approved, rejected) each have exactly one event keyed by the
    entry, in the entry's zone and organization; a too-long entry has none. (The demo
    contest's finished attempts add quiz events of their own.)"""
    c = _live()
    processed = {e.pk: e for e in c.entries.exclude(status=S.INVALID)}
    events = list(ParticipationEvent.objects.filter(campaign=c, kind=ParticipationEvent.Kind.ENTRY))
    assert sorted(ev.key for ev in events) == sorted(f"entry:{pk}" for pk in processed)
    for ev in events:
        e = processed[int(ev.key.removeprefix("entry:"))]
        assert ev.kind == ParticipationEvent.Kind.ENTRY and ev.value == 1
        assert ev.worker_id == e.worker_id and ev.organization_id == e.organization_id
        assert (ev.zone_city_id, ev.zone_province_id) == (e.zone_city_id, e.zone_province_id)
    invalid = [
        f"entry:{pk}" for pk in c.entries.filter(status=S.INVALID).values_list("pk", flat=True)
    ]
    assert not ParticipationEvent.objects.filter(key__in=invalid).exists()


def _finished_upload(worker: User, source: Path) -> Upload:
    """``source`` stored as the worker's completed upload, as the tus server leaves it."""
    key = f"uploads/demo-test-{uuid.uuid4()}.mp4"
    data = source.read_bytes()
    target = Path(default_storage.path(key))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return Upload.objects.create(
        owner=worker,
        purpose="entry",
        filename=source.name,
        content_type="video/mp4",
        declared_size=len(data),
        offset=len(data),
        max_size=500 * 1024 * 1024,
        storage_key=key,
        status=Upload.Status.COMPLETE,
        sha256=hashlib.sha256(data).hexdigest(),
        expires_at=clock.now() + dt.timedelta(days=1),
        completed_at=clock.now(),
    )


@pytest.mark.usefixtures("seeded")
def test_demo_worker_can_submit_to_the_live_campaign(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """The demo worker log-in has no entry yet; their video is accepted and processed."""
    c = _live()
    worker = User.objects.get(phone=DEMO_LOGINS[0].phone)
    assert not c.entries.filter(worker=worker).exists()
    upload = _finished_upload(worker, make_clip(tmp_path / "mine.mp4", seconds=3.0))
    with django_capture_on_commit_callbacks(execute=True):
        entry = entry_submit(
            campaign=c,
            worker=worker,
            real_name=worker.real_name,
            mobile=worker.phone,
            employer=worker.employer,
            position=worker.position,
            theme=c.themes.get(position=4),
            title="货车司机的驿站之家",
            consent_publish=True,
            upload=upload,
        )
    assert entry.status == S.RECEIVED
    assert entry.zone_city_id == "621100" and entry.organization.name == "安定区货车司机工会"
    tasks.run_pending()
    entry.refresh_from_db()
    assert entry.status == S.PENDING_REVIEW
    assert entry.video.name and default_storage.exists(entry.video.name)
    assert ParticipationEvent.objects.filter(key=f"entry:{entry.pk}").count() == 1
