"""The report form in Debian's Chromium: values typed, then evidence uploaded, are still there
when the page comes back, and 提交审核 submits them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, expect

from saidao.competitions.models import Competition, Report
from saidao.competitions.tests.test_views import _period, _reporter, seed_demo
from saidao.conftest import Tree


@pytest.fixture
def reporter_page(browser: Browser, live_server: Any, tree: Tree) -> Iterator[Page]:
    """胜利采油厂's reporter signed in on a phone-sized page, on the demo program."""
    seed_demo(tree)
    client = Client()
    client.force_login(_reporter("shengli"))
    context: BrowserContext = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
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
    yield context.new_page()
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_typed_values_survive_an_upload_and_are_what_is_submitted(
    live_server: Any, reporter_page: Page, settings: Any, tmp_path: Path
) -> None:
    """The draft holds 9 / 5.2 / 7. The reporter types 15 / 5.4 / 7.9, chooses a file and
    presses 上传: the page comes back listing the file with 15 / 5.4 / 7.9 still in the boxes;
    提交审核 then stores 15 / 5.4 / 7.9."""
    settings.MEDIA_ROOT = tmp_path / "media"
    capacity = Competition.objects.get(name="大幅度提高单井产能")
    q4 = _period(capacity, "2024-Q4")
    sl = capacity.participants.get(code="SL")
    ids = {i.code: i.pk for i in capacity.indicators.all()}
    page = reporter_page
    page.goto(live_server.url + reverse("competitions:report", args=[sl.pk, q4.pk]))
    boxes = {code: page.locator(f"#id_v_{ids[code]}") for code in ("wells", "designed", "actual")}
    expect(boxes["wells"]).to_have_value("9")
    typed = {"wells": "15", "designed": "5.4", "actual": "7.9"}
    for code, value in typed.items():
        boxes[code].fill(value)
    evidence: FilePayload = {"name": "月报.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1"}
    page.get_by_test_id("evidence-file").set_input_files(files=[evidence])
    page.get_by_test_id("evidence-upload").click()
    expect(page.get_by_test_id("evidence")).to_have_text("月报.pdf")
    for code, value in typed.items():
        expect(boxes[code]).to_have_value(value)
    page.get_by_test_id("submit-report").click()
    expect(page.get_by_text("已提交，等待考核员审核。")).to_be_visible()
    report = Report.objects.get(participant=sl, period=q4, is_current=True)
    assert report.state == Report.State.SUBMITTED
    stored = {v.indicator.code: v.value for v in report.values.select_related("indicator")}
    assert {code: stored[code] for code in typed} == {
        code: Decimal(value) for code, value in typed.items()
    }
    assert report.evidence.get().name == "月报.pdf"
