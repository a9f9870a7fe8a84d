"""The labor competition flow end to end in Debian's Chromium, against a live server: a
reporter imports a period's values from .xlsx on a phone, the assessor verifies them, the
officer computes and publishes the ranking, the bottom unit appears on the help list, and a
title certificate downloads as a PDF."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from saidao.accounts.models import User
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.competitions import services
from saidao.competitions.demo import AREA_REPORTER, ASSESSOR, WORKERS
from saidao.competitions.models import HelpAssignment, Report
from saidao.competitions.tests.test_views import OFFICER_PHONE, seed_demo
from saidao.conftest import Tree

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}

# 2025-Q1 of 大幅度提高单井产能: (code, wells, designed, actual); 滨南 comes out last.
ROWS = [
    ("DX", 30, "5.6", "8.4"),
    ("XH", 27, "5.0", "8.1"),
    ("SL", 25, "5.2", "7.6"),
    ("GD", 28, "6.0", "7.9"),
    ("HK", 21, "4.8", "6.6"),
    ("BN", 12, "5.5", "5.2"),
]


def _xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["参赛单位编码", "指标", "期间", "数值", "单位", "备注"])
    for code, wells, designed, actual in ROWS:
        ws.append([code, "新井投产数", "2025-Q1", wells, "口", ""])
        ws.append([code, "单井设计日产", "2025-Q1", float(designed), "吨/日", ""])
        ws.append([code, "单井实际日产", "2025-Q1", float(actual), "吨/日", "月报汇总"])
        ws.append([code, "一般及以上安全事故", "2025-Q1", 0, "起", ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def login(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """A page signed in as a user, in a context of its own (phone or desk sized)."""
    contexts: list[BrowserContext] = []

    def open_as(user: User, *, viewport: Any = DESK) -> Page:
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
        context.set_default_timeout(15_000)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_as
    for c in contexts:
        c.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_import_verify_compute_publish_help_and_certificate(
    live_server: Any, tree: Tree, login: Callable[..., Page], settings: Any, tmp_path: Any
) -> None:
    """On the demo program: the oilfield's statistician imports 2025-Q1 of 大幅度提高单井产能
    from .xlsx on a phone (submitted at once); 张在朋 verifies the six reports from his queue;
    the officer computes, sees the unpublished ranking, publishes it, and finds 滨南采油厂 (last)
    on the help list. Then 最佳降含水's 2024-Q4 is computed and published, the top worker is
    nominated, approved and published, and the certificate downloads as a PDF."""
    settings.MEDIA_ROOT = tmp_path / "media"
    demo = seed_demo(tree)
    officer = User.objects.get(phone=OFFICER_PHONE)
    oilfield = demo.program.organization
    statistician = UserFactory.create(real_name="油田统计员")
    MembershipFactory.create(user=statistician, organization=oilfield)
    services.program_role_grant(
        actor=officer,
        program=demo.program,
        user=statistician,
        kind="reporter",
        organization=oilfield,
    )
    q1 = services.period_create(actor=officer, competition=demo.capacity, key="2025-Q1")
    base = live_server.url

    # The reporter imports on a phone.
    page = login(statistician, viewport=PHONE)
    page.goto(base + reverse("competitions:reporting", args=[demo.program.pk]))
    page.get_by_test_id("import-link").first.click()
    expect(page.locator("h1")).to_have_text("导入填报")
    upload: FilePayload = {
        "name": "2025-Q1.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _xlsx(),
    }
    page.set_input_files("#id_file", files=[upload])
    expect(page.locator("#id_submit")).to_be_checked()
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    expect(page.get_by_text("已导入 6 份填报、24 个数值。")).to_be_visible()
    assert Report.objects.filter(period=q1, state=Report.State.SUBMITTED).count() == 6

    # The assessor verifies each report from the queue.
    assessor = User.objects.get(phone=ASSESSOR[1])
    page = login(assessor)
    page.goto(base + reverse("competitions:verify", args=[demo.program.pk]))
    items = page.get_by_test_id("verify-item")
    for remaining in range(8, 0, -1):  # two reports of 2024-Q4 wait there too
        expect(items).to_have_count(remaining)
        items.first.get_by_test_id("verify").click()
        expect(page.get_by_text("已审核通过")).to_be_visible()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    assert Report.objects.filter(period=q1, state=Report.State.VERIFIED).count() == 6

    # The officer computes, then publishes.
    page = login(officer)
    page.goto(base + reverse("competitions:board", args=[demo.capacity.pk, q1.pk]))
    expect(page.get_by_test_id("no-ranking")).to_be_visible()
    page.get_by_test_id("compute").click()
    expect(page.get_by_test_id("unpublished")).to_be_visible()
    rows = page.get_by_test_id("ranking-row")
    expect(rows).to_have_count(6)
    expect(rows.last.get_by_test_id("participant")).to_have_text("滨南采油厂")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("published")).to_be_visible()
    expect(rows.last.get_by_test_id("help")).to_be_visible()
    expect(rows.first.get_by_test_id("award")).to_be_visible()
    expect(rows.first.locator("svg.cmp-spark")).to_have_count(1)
    page.get_by_test_id("help-link").click()
    help_rows = page.get_by_test_id("help-row")
    expect(help_rows).to_have_count(1)
    expect(help_rows.first.locator("h2")).to_contain_text("滨南采油厂")
    assert HelpAssignment.objects.get(snapshot__period=q1).participant.code == "BN"

    # 最佳降含水 2024-Q4: reported and verified beforehand; computed, published, title, PDF.
    water_q4 = demo.water.periods.get(key="2024-Q4")
    reporter = User.objects.get(phone=AREA_REPORTER[1])
    for n, w in enumerate(WORKERS):
        participant = demo.water.participants.get(user__phone=w.phone)
        r = services.report_save(
            actor=reporter,
            participant=participant,
            period=water_q4,
            values={"watercut_drop": Decimal(11 - n), "oil_gain": Decimal("4.0") - n},
        )
        r = services.report_submit(actor=reporter, report=r)
        services.report_verify(actor=assessor, report=r)
    page.goto(base + reverse("competitions:board", args=[demo.water.pk, water_q4.pk]))
    page.get_by_test_id("compute").click()
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("published")).to_be_visible()
    page.get_by_test_id("titles-link").click()
    candidate = page.get_by_test_id("candidate").first
    expect(candidate).to_contain_text("吴昊")
    candidate.get_by_test_id("nominate").click()
    expect(page.get_by_test_id("title-state")).to_have_text("已提名")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("title-state")).to_have_text("已批准")
    page.get_by_test_id("publish-title").click()
    expect(page.get_by_test_id("title-state")).to_have_text("已公布")
    expect(page.get_by_test_id("title")).to_contain_text("2024年第四季度 最佳降含水标兵")
    link = page.get_by_test_id("certificate-pdf")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
    href = link.get_attribute("href")
    assert href is not None
    response = page.request.get(base + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
