"""Nothing typed is lost to another form of the same page (saidao.js keeps it): in Debian's
Chromium against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect

from saidao.accounts.models import User
from saidao.conftest import Tree
from saidao.orgs.models import Role


@pytest.fixture
def worker_page(browser: Browser, live_server: Any, tree: Tree) -> Iterator[tuple[Page, User]]:
    """安定区's member, appointed (not yet accepted) officer of 通渭县, signed in on a phone."""
    user = tree.anding_member.user
    user.province_id, user.city_id = "620000", "621100"
    user.save(update_fields=["province", "city"])
    Role.objects.create(
        organization=tree.tongwei, user=user, kind=Role.Kind.OFFICER, accepted_at=None
    )
    client = Client()
    client.force_login(user)
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
    yield context.new_page(), user
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_profile_typed_then_an_invitation_declined_keeps_the_typing(
    live_server: Any, worker_page: tuple[Page, User]
) -> None:
    """On 我的, the worker types a new position, then declines the appointment (its own form):
    the page comes back with the position still typed, 保存 stores it; a later visit shows
    what is stored, not an old typing."""
    page, user = worker_page
    me = f"{live_server.url}/accounts/me/"
    page.goto(me)
    expect(page.locator("#id_position")).to_have_value("快递员")
    page.fill("#id_position", "网点负责人")
    page.fill("#id_employer", "定西某快递网点")
    page.get_by_test_id("role-invitation").get_by_role("button", name="拒绝").click()
    expect(page.get_by_test_id("role-invitation")).to_have_count(0)
    expect(page.locator("#id_position")).to_have_value("网点负责人")
    expect(page.locator("#id_employer")).to_have_value("定西某快递网点")
    page.locator("form:has(#id_position) button[type=submit]").click()
    expect(page.get_by_text("个人信息已保存。")).to_be_visible()
    user.refresh_from_db()
    assert (user.position, user.employer) == ("网点负责人", "定西某快递网点")
    page.fill("#id_position", "不保存的字")
    page.goto(me)
    expect(page.locator("#id_position")).to_have_value("网点负责人")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_switching_language_keeps_what_was_typed(
    live_server: Any, worker_page: tuple[Page, User]
) -> None:
    """Typing on 我的 and then switching to English (the footer's form) brings the page back
    in English with the typing still there."""
    page, _user = worker_page
    page.goto(f"{live_server.url}/accounts/me/")
    page.fill("#id_position", "网点负责人")
    page.select_option("#lang-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#id_position")).to_have_value("网点负责人")
