"""End to end in Debian's Chromium at a phone's viewport, against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from saidao.accounts.models import Membership, User
from saidao.orgs.models import InviteCode, Organization
from saidao.orgs.tests.factories import make_org

L = Organization.Level
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
def test_worker_signs_up_joins_with_invite_code_and_sees_membership(
    live_server: Any, regions: None, phone_context: BrowserContext
) -> None:
    """On a phone, a worker signs up (picking province then city), joins 安定区快递行业工会联合会
    with its invite code, and the profile page shows the membership."""
    national = make_org(None, "中华全国总工会", level=L.NATIONAL, region="110000")
    gansu = make_org(national, "甘肃省总工会", level=L.PROVINCIAL, region="620000")
    dingxi = make_org(gansu, "定西市总工会", level=L.CITY, region="621100")
    courier = make_org(dingxi, "安定区快递行业工会联合会", region="621102")
    InviteCode.objects.create(organization=courier, code="KUAIDI88")

    page: Page = phone_context.new_page()
    page.goto(f"{live_server.url}/accounts/signup/")
    expect(page.locator("h1")).to_have_text("注册")
    page.fill("#id_phone", "138 1234 5678")
    page.fill("#id_password", "Kuaidi-2026")
    page.fill("#id_real_name", "韩永强")
    page.fill("#id_employer", "定西某快递网点")
    page.fill("#id_position", "快递员")
    page.select_option("#id_province", "620000")
    # The city list arrives by htmx once a province is chosen.
    expect(page.locator("#id_city option[value='621100']")).to_have_count(1)
    page.select_option("#id_city", "621100")
    page.check("#id_consent")
    page.click("button[type=submit]")

    expect(page).to_have_url(f"{live_server.url}/accounts/me/")
    expect(page.get_by_text("您还没有加入工会组织。")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/join/?code=KUAIDI88")
    expect(page.get_by_text("安定区快递行业工会联合会")).to_be_visible()
    page.click("button[type=submit]")

    expect(page).to_have_url(f"{live_server.url}/accounts/me/")
    expect(page.get_by_test_id("membership-org")).to_have_text("安定区快递行业工会联合会")
    user = User.objects.get(phone="13812345678")
    assert user.city_id == "621100"
    assert Membership.objects.get(user=user, left_at__isnull=True).organization == courier


@pytest.mark.browser
def test_bad_signup_shows_translated_messages_and_saves_nothing(
    live_server: Any, regions: None, phone_context: BrowserContext
) -> None:
    """A wrong phone number and a missing consent are each explained beside their field."""
    page = phone_context.new_page()
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_phone", "12345")
    page.fill("#id_password", "Kuaidi-2026")
    page.fill("#id_real_name", "韩永强")
    page.select_option("#id_province", "110000")
    expect(page.locator("#id_city option[value='110000']")).to_have_count(1)
    page.select_option("#id_city", "110000")
    page.click("button[type=submit]")
    expect(page.get_by_text("请输入 11 位中国大陆手机号")).to_be_visible()
    expect(page.get_by_text("请阅读并同意隐私政策后继续。")).to_be_visible()
    assert not User.objects.exists()
