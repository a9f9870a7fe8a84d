"""The 云讲述 campaign end to end in Debian's Chromium at a phone's viewport, against a live server.

A worker enters a video through the resumable uploader, the background task checks it, an
officer of 定西市总工会 approves it, and a visitor plays it in the gallery; and an upload cut off
by a reload resumes where it stopped when the same file is chosen again.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Request,
    Response,
    ViewportSize,
    expect,
)

from saidao.accounts.models import User
from saidao.accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from saidao.campaigns.models import Campaign
from saidao.campaigns.presets import YUN_THEMES
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.core import tasks
from saidao.entries.models import Entry
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import make_org
from saidao.uploads.models import Upload
from saidao.video.synth import make_clip

L = Organization.Level
PHONE: ViewportSize = {"width": 390, "height": 844}
MB = 1024 * 1024
TITLE = "我的快递路"
THEME = YUN_THEMES[4]

# Play a <video> muted (no gesture needed) and wait until it has decoded frames and moved on.
PLAY = """async (v) => {
  v.muted = true;
  await v.play();
  const t0 = performance.now();
  while ((v.readyState < 2 || v.currentTime < 0.3) && performance.now() - t0 < 10000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {readyState: v.readyState, currentTime: v.currentTime, paused: v.paused,
          error: v.error ? v.error.code : null, width: v.videoWidth, height: v.videoHeight};
}"""
# Record the uploader's progress events and every message its status line shows.
RECORD = """() => {
  window.__progress = [];
  window.__said = [];
  document.addEventListener("upload:progress", (e) => window.__progress.push(e.detail));
  const status = document.querySelector("[data-saidao-uploader] [data-role=status]");
  // One record per message, even when several are shown within one task.
  new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(
    (n) => window.__said.push(n.textContent)))).observe(status, {childList: true});
}"""
# The natural width of an image at ``url`` once loaded (0 when it does not load).
IMAGE_WIDTH = """(url) => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => resolve(img.naturalWidth);
  img.onerror = () => resolve(0);
  img.src = url;
})"""


@dataclass
class World:
    campaign: Campaign
    worker: User
    officer: User


@pytest.fixture
def world(transactional_db: None, regions: None) -> World:
    """The shape of saidao/conftest.py's tree, committed so the live server sees it, and a
    national 云讲述 whose collection and showcase are open now."""
    national = make_org(None, "中华全国总工会", level=L.NATIONAL, region="110000")
    gansu = make_org(national, "甘肃省总工会", level=L.PROVINCIAL, region="620000")
    dingxi = make_org(gansu, "定西市总工会", level=L.CITY, region="621100")
    anding = make_org(dingxi, "安定区总工会", level=L.COUNTY, region="621102")
    courier = make_org(anding, "安定区快递行业工会联合会", level=L.GRASSROOTS, region="621102")
    national_officer = UserFactory.create(real_name="全总干部")
    officer = UserFactory.create(real_name="定西干部")
    Role.objects.create(organization=national, user=national_officer, kind=Role.Kind.OFFICER)
    Role.objects.create(organization=dingxi, user=officer, kind=Role.Kind.OFFICER)
    worker = MembershipFactory.create(
        organization=courier, user=UserFactory.create(real_name="韩永强")
    ).user
    campaign = make_campaign(
        actor=national_officer,
        organizer=national,
        slug="live",
        phases=live_phases(),
        max_video_seconds=120,
    )
    return World(campaign=campaign, worker=worker, officer=officer)


@pytest.fixture
def app_serves_media(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the app's own media view answer /media/, as it does when embedded.

    Django's live server puts a test-only handler in front of the app that serves MEDIA_URL
    itself (whole files, no ranges); with it out of the way the requests reach
    ``saidao.core.media.serve_media``, which answers range requests with 206.
    """
    from django.test.testcases import _MediaFilesHandler

    outer = live_server.thread.httpd.get_app()
    assert isinstance(outer.application, _MediaFilesHandler)
    monkeypatch.setattr(outer, "application", outer.application.application)


@pytest.fixture
def new_phone(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Opens phone contexts (each its own cookies and storage) and closes them afterwards."""
    opened: list[BrowserContext] = []

    def new() -> BrowserContext:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


def log_in(page: Page, user: User) -> None:
    """Fill the log-in page the browser was sent to."""
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("#id_phone", user.phone)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()


def image_loaded(img: Locator) -> int:
    """Wait for an <img> to finish loading; its natural width (0 if it failed)."""
    expect(img).to_have_js_property("complete", True)
    width = img.evaluate("(i) => i.naturalWidth")
    assert isinstance(width, int)
    return width


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.browser
def test_worker_enters_officer_approves_and_visitor_plays_the_video(
    live_server: Any,
    app_serves_media: None,
    world: World,
    new_phone: Callable[[], BrowserContext],
    tmp_path: Path,
) -> None:
    """On a phone: a worker of 安定区快递行业工会联合会 finds the live 云讲述 on the home page,
    uploads a real clip with the resumable uploader, fills the form and submits; the processing
    task makes it wait for review; an officer of 定西市总工会 plays and approves it; a visitor
    opens the gallery and the video plays inline, fetched by range requests."""
    base = live_server.url
    clip = make_clip(tmp_path / "wode-kuaidi-lu.mp4", seconds=3, width=160, height=120)

    # 1. The worker: home page -> campaign -> 我要参加 -> log in -> the entry form.
    page = new_phone().new_page()
    page.goto(f"{base}/")
    page.get_by_test_id("activity").filter(has_text=world.campaign.title).click()
    expect(page).to_have_url(f"{base}/campaigns/live/")
    expect(page.get_by_test_id("switch-entries")).to_have_text("作品征集中")
    page.get_by_test_id("enter").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/entries/new/live/$"))
    log_in(page, world.worker)
    expect(page).to_have_url(f"{base}/entries/new/live/")
    expect(page.locator("h1")).to_have_text("我要参加")

    uploader = page.locator("[data-saidao-uploader]")
    bar = uploader.locator("[data-role=progress]")
    expect(bar).to_be_hidden()
    page.evaluate(RECORD)
    expect(uploader).to_have_attribute("data-bound", "1")  # the uploader script is wired up
    uploader.locator("[data-role=file]").set_input_files(clip)
    expect(bar).to_be_visible()
    expect(uploader).to_have_attribute("data-state", "complete")
    expect(bar).to_have_js_property("value", 100)
    expect(uploader.locator("[data-role=status]")).to_have_text("上传完成")
    progress = page.evaluate("window.__progress")
    assert progress and progress[-1] == {
        "loaded": clip.stat().st_size,
        "total": clip.stat().st_size,
    }
    upload_id = uploader.locator("[data-role=upload-id]").input_value()
    upload = Upload.objects.get(pk=upload_id)
    assert upload.owner == world.worker and upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == sha256(clip)

    # Name, phone, employer and position come from the profile; the rest is the worker's.
    expect(page.locator("#id_real_name")).to_have_value("韩永强")
    page.select_option("#id_province", "620000")
    # The city list arrives by htmx once a province is chosen.
    expect(page.locator("#id_city option[value='621100']")).to_have_count(1)
    page.select_option("#id_city", "621100")
    page.select_option("#id_theme", label=THEME)
    page.fill("#id_title", TITLE)
    page.check("#id_consent_publish")
    page.get_by_role("button", name="提交作品").click()

    expect(page).to_have_url(re.compile(r"/entries/\d+/$"))
    entry = Entry.objects.get()
    assert page.url == f"{base}/entries/{entry.pk}/"
    assert entry.upload_id == upload.pk and entry.worker == world.worker
    assert entry.zone_city_id == "621100" and entry.theme is not None and entry.theme.title == THEME
    status = page.get_by_test_id("entry-status")
    expect(status).to_have_attribute("data-status", "received")
    expect(page.get_by_text("作品已提交，正在检查视频。")).to_be_visible()

    # 2. The background task, queued by the server thread on commit, runs here; the status
    #    partial polls every 3 s and shows the result without a reload.
    assert tasks.run_pending() == 1
    entry.refresh_from_db()
    assert entry.status == Entry.Status.PENDING_REVIEW, (entry.status, entry.invalid_message)
    expect(status).to_have_attribute("data-status", "pending_review", timeout=10_000)
    expect(status).to_contain_text("待审核")
    assert image_loaded(status.get_by_alt_text("作品封面")) > 0

    # 3. The officer of 定西市总工会, in a browser of their own, plays and approves it.
    officer = new_phone().new_page()
    officer.goto(f"{base}/entries/review/")
    log_in(officer, world.officer)
    expect(officer).to_have_url(f"{base}/entries/review/")
    item = officer.get_by_test_id("review-entry").filter(has_text=TITLE)
    expect(item).to_have_count(1)
    expect(item).to_contain_text("安定区快递行业工会联合会")
    video = item.locator("video")
    src = video.locator("source").get_attribute("src")
    assert src == entry.video.url
    ranged = officer.request.get(f"{base}{src}", headers={"Range": "bytes=0-1023"})
    assert ranged.status == 206 and ranged.headers["content-type"] == "video/mp4"
    assert len(ranged.body()) == 1024
    played = video.evaluate(PLAY)
    assert played["error"] is None and played["readyState"] >= 2, played
    item.get_by_role("checkbox").check()
    officer.get_by_test_id("review-submit").click()
    expect(officer.get_by_text("已审核 1 件作品。")).to_be_visible()
    expect(officer.get_by_text("没有待审核的作品。")).to_be_visible()
    entry.refresh_from_db()
    assert entry.status == Entry.Status.APPROVED and entry.reviewed_by == world.officer

    # 4. The showcase is open: an anonymous visitor opens the gallery and watches the entry.
    visitor = new_phone().new_page()
    media: list[tuple[str | None, int]] = []

    def on_response(response: Response) -> None:
        if "/media/entries/video/" in response.url:
            media.append((response.request.headers.get("range"), response.status))

    visitor.on("response", on_response)
    visitor.goto(f"{base}/entries/gallery/live/")
    expect(visitor.locator("h1")).to_have_text("作品展示")
    tile = visitor.get_by_test_id("gallery-entry").filter(has_text=TITLE)
    expect(tile).to_be_visible()
    expect(tile).to_contain_text("定西市")
    assert image_loaded(tile.locator("img")) > 0
    tile.click()
    expect(visitor).to_have_url(f"{base}/entries/watch/{entry.pk}/")
    expect(visitor.locator("h1")).to_have_text(TITLE)
    player = visitor.get_by_test_id("player")
    expect(player).to_be_visible()
    expect(player).to_have_attribute("playsinline", "")
    poster = player.get_attribute("poster")
    assert poster and visitor.evaluate(IMAGE_WIDTH, poster) > 0
    played = player.evaluate(PLAY)
    assert played["error"] is None, played
    assert played["readyState"] >= 2 and played["currentTime"] >= 0.3, played
    assert (played["width"], played["height"]) == (160, 120), played
    # Chromium's media loader asks for byte ranges; the app answers 206 Partial Content.
    assert any(rng and rng.startswith("bytes=") and st == 206 for rng, st in media), media
    # Likes are open in the showcase: a visitor is offered the log-in to like.
    expect(visitor.get_by_role("link", name="♥ 0")).to_be_visible()


@pytest.mark.browser
def test_upload_cut_off_by_a_reload_resumes_with_the_same_file(
    live_server: Any, world: World, new_phone: Callable[[], BrowserContext], tmp_path: Path
) -> None:
    """On a slow connection the worker reloads the form half-way through a 12 MB upload and
    picks the same file again: the uploader finds the upload it started (remembered in
    localStorage), asks the server how far it got and sends only the rest; the one upload
    completes with the original's SHA-256. (The bytes are random: the file would be found
    invalid later, which does not matter to the transfer.)"""
    base = live_server.url
    big = tmp_path / "changchang-de-gushi.mp4"
    big.write_bytes(os.urandom(12 * MB))
    size, digest = big.stat().st_size, sha256(big)

    context = new_phone()
    page = context.new_page()
    creates: list[str] = []  # tus creation requests: there must be one only

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/uploads/tus/"):
            creates.append(request.url)

    page.on("request", on_request)
    page.goto(f"{base}/entries/new/live/")
    log_in(page, world.worker)
    expect(page).to_have_url(f"{base}/entries/new/live/")

    # About 2 MB/s up: each 5 MB piece (the uploader's chunk) takes some 2.5 s.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 40, "downloadThroughput": -1, "uploadThroughput": 2 * MB}
    cdp.send("Network.emulateNetworkConditions", slow)

    uploader = page.locator("[data-saidao-uploader]")
    file_input = uploader.locator("[data-role=file]")
    expect(uploader).to_have_attribute("data-bound", "1")  # the uploader script is wired up
    file_input.set_input_files(big)
    expect(uploader).to_have_attribute("data-state", "uploading")
    expect(uploader.locator("[data-role=progress]")).to_be_visible()
    expect(uploader.locator("[data-role=status]")).to_contain_text("正在上传")

    # Wait until the server holds part of the file, but not all of it.
    deadline = time.monotonic() + 30
    upload = None
    while time.monotonic() < deadline:
        upload = Upload.objects.filter(owner=world.worker).first()
        if upload is not None and upload.offset > 0:
            break
        time.sleep(0.05)
    assert upload is not None and 0 < upload.offset < size, upload
    assert upload.status == Upload.Status.UPLOADING
    saved = page.evaluate(
        "Object.entries(localStorage).filter(([k]) => k.startsWith('saidao-upload:'))"
    )
    assert len(saved) == 1 and saved[0][1].endswith(f"/uploads/tus/{upload.pk}"), saved
    assert saved[0][0].startswith(f"saidao-upload:entry|{big.name}|{size}|")

    page.reload()
    expect(uploader.locator("[data-role=progress]")).to_be_hidden()
    upload.refresh_from_db()
    at_reload = upload.offset
    assert 0 < at_reload < size and upload.status == Upload.Status.UPLOADING
    cdp.send(
        "Network.emulateNetworkConditions",
        slow | {"latency": 0, "uploadThroughput": -1},
    )
    page.evaluate(RECORD)
    expect(uploader).to_have_attribute("data-bound", "1")  # the uploader script is wired up
    file_input.set_input_files(big)
    expect(uploader).to_have_attribute("data-state", "complete", timeout=30_000)
    expect(uploader.locator("[data-role=status]")).to_have_text("上传完成")
    assert uploader.locator("[data-role=upload-id]").input_value() == str(upload.pk)
    # The worker is told the last upload goes on (with its percentage, not a message replaced
    # before it is painted), and the first progress is where the server said it stood, not 0.
    said = page.evaluate("window.__said")
    assert any(re.fullmatch(r"正在继续上次的上传 \d+%", m) for m in said), said
    first = page.evaluate("window.__progress[0]")
    assert first["total"] == size and first["loaded"] >= at_reload, (first, at_reload)
    assert creates == [f"{base}/uploads/tus/"], creates
    assert page.evaluate("Object.keys(localStorage).length") == 0

    api = page.request.get(f"{base}/api/v1/uploads/{upload.pk}")
    assert api.ok, api.text()
    body = api.json()
    assert body["status"] == "complete" and body["declared_size"] == size
    assert body["offset"] == size and body["sha256"] == digest
    assert Upload.objects.count() == 1
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE and upload.sha256 == digest
    assert sha256(Path(default_storage.path(upload.storage_key))) == digest
