"""A worker's certificates on a phone, in Debian's Chromium against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, ViewportSize, expect

from saidao.certificates.models import Certificate
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_worker_sees_the_certificate_image_and_verifies_it_on_a_phone(
    live_server: Any, tree: Tree, phone_context: BrowserContext, tmp_path: Any
) -> None:
    """The worker's page shows the certificate image (1080 px drawn, fitted to the phone's
    width without sideways scrolling); its verify link says the certificate is valid and shows
    the masked name only."""
    worker = tree.anding_member.user
    cert: Certificate = issue(holder=worker, issuer=tree.anding, source="browser:1")
    client = Client()
    client.force_login(worker)
    phone_context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = phone_context.new_page()
    page.goto(live_server.url + "/certificates/mine/")
    image = page.locator('[data-testid="certificate"] img')
    expect(image).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=certificate] img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert image.evaluate("i => i.naturalWidth") == 1080
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if shots := os.environ.get("SAIDAO_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/certificates-mine.png", full_page=True)
    page.get_by_role("link", name="验证页").click()
    expect(page.get_by_test_id("verify-status")).to_have_attribute("data-status", "valid")
    expect(page.get_by_test_id("masked-name")).to_have_text("吴*")
    assert "吴小利" not in page.content()
    if shots:
        page.screenshot(path=f"{shots}/certificates-verify.png", full_page=True)
    assert cert.code in page.url
