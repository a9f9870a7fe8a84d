"""The big screen in Debian's Chromium at 1920x1080 against a live server: a participation
arrives, the aggregator flushes, and the page shows the new total without a reload (pushed by
the event stream; waits are generous, as a loaded machine is slow)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Frame, Page, expect

from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.leaderboards import live
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.tests.recount import member_takes_part


@pytest.fixture(autouse=True)
def _fresh_live_state() -> None:
    """Ids start again in each test: no snapshot memoized by an earlier one may answer."""
    live.reset()


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_big_screen_follows_a_participation_without_reload(
    live_server: Any, tree: Tree, page: Page
) -> None:
    """An officer of the organizer opens the screen; a worker of 安定区快递行业工会联合会 takes
    part and the aggregator runs once: the total goes 0 -> 1 by the event stream, on the same
    page (no navigation happened), and the province bar appears."""
    campaign = make_campaign(
        actor=tree.national_officer, organizer=tree.national, phases=live_phases()
    )
    client = Client()
    client.force_login(tree.national_officer)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.set_viewport_size({"width": 1920, "height": 1080})
    navigations: list[str] = []

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", on_navigated)
    page.goto(live_server.url + reverse("leaderboards:screen", args=[campaign.pk]))
    total = page.get_by_test_id("total")
    expect(total).to_have_text("0")
    expect(page.locator("[data-role=live]")).to_have_class("dot on", timeout=30_000)
    page.evaluate("window.__samePage = true")

    member_takes_part(campaign, tree.courier, "browser-1")
    run_once()
    expect(total).to_have_text("1", timeout=30_000)
    assert page.evaluate("window.__samePage") is True
    assert navigations == [live_server.url + reverse("leaderboards:screen", args=[campaign.pk])]
    expect(page.locator(".bar:not([hidden]) .bar-name")).to_have_text(["甘肃省"])
    expect(page.locator("[data-list=top_count] li:not([hidden]) .rank-name")).to_have_text(
        ["甘肃省总工会"]
    )
    box = page.locator("[data-screen]").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (1920, 1080)
