"""A worker takes a contest on a phone in Debian's Chromium, against a live server: starts,
answers, reloads mid-way and finds the same paper and time left, hands in, reads the
explanations, downloads the certificate and sees their rank."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from saidao.conftest import Tree
from saidao.quizzes import services
from saidao.quizzes.models import Attempt, AttemptItem
from saidao.quizzes.tests.conftest import Clock
from saidao.quizzes.tests.factories import make_contest, member_of

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _seconds(timer: str) -> int:
    m = re.fullmatch(r"(\d\d):(\d\d)", timer.strip())
    assert m, timer
    return int(m[1]) * 60 + int(m[2])


def _wait_saved(attempt: Attempt, positions: set[int]) -> None:
    """Until the server holds an answer for each of ``positions`` (saves run in the
    background)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        saved = set(
            AttemptItem.objects.filter(attempt=attempt)
            .exclude(response="")
            .values_list("position", flat=True)
        )
        if positions <= saved:
            return
        time.sleep(0.1)
    raise AssertionError(f"answers {positions} not saved")


def _answer(page: Page, position: int, letters: str) -> None:
    for letter in letters:
        page.locator(f'[data-position="{position}"] input[value="{letter}"]').check()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_worker_takes_a_contest_on_a_phone(
    live_server: Any, tree: Tree, phone_context: BrowserContext, clock: Clock
) -> None:
    """Start, answer two questions, reload two minutes later on the server's clock: the same
    questions in the same order, the answers still ticked, the same question shown and two
    minutes less on the timer; answer the rest, confirm the submit, see 100 points with each
    explanation, the certificate as PNG and PDF (200, right content types) and rank 1."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.courier, real_name="韩永强")
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
    page.goto(live_server.url + reverse("quizzes:contest", args=[contest.pk]))
    expect(page.get_by_test_id("tries-left")).to_contain_text("今天还可以答 3 次")
    page.get_by_test_id("start").click()

    expect(page.get_by_test_id("progress")).to_have_text("1/5")
    attempt = Attempt.objects.get(contest=contest, worker=worker)
    correct = {
        item.position: services.stored_to_displayed(item, item.version.answer)
        for item in AttemptItem.objects.filter(attempt=attempt).select_related("version")
    }
    stems = page.get_by_test_id("stem").all_text_contents()
    assert len(stems) == 5
    expect(page.get_by_test_id("stem").nth(0)).to_be_visible()
    expect(page.get_by_test_id("stem").nth(1)).to_be_hidden()
    html = page.content()
    for item in AttemptItem.objects.filter(attempt=attempt).select_related("version"):
        assert item.version.explanation not in html  # no answers before the submit

    _answer(page, 1, correct[1])
    page.get_by_test_id("next").click()
    expect(page.get_by_test_id("progress")).to_have_text("2/5")
    _answer(page, 2, correct[2])
    _wait_saved(attempt, {1, 2})
    expect(page.get_by_test_id("save-state")).to_have_text("已保存")
    before = _seconds(page.get_by_test_id("timer").inner_text())
    assert 590 <= before <= 600

    clock.advance(seconds=120)
    page.reload()
    expect(page.get_by_test_id("progress")).to_have_text("2/5")
    assert page.get_by_test_id("stem").all_text_contents() == stems
    for position in (1, 2):
        for letter in correct[position]:
            expect(
                page.locator(f'[data-position="{position}"] input[value="{letter}"]')
            ).to_be_checked()
    after = _seconds(page.get_by_test_id("timer").inner_text())
    assert 0 <= before - 120 - after <= 5, (before, after)

    for position in (3, 4, 5):
        page.get_by_test_id("next").click()
        expect(page.get_by_test_id("progress")).to_have_text(f"{position}/5")
        _answer(page, position, correct[position])
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()
    page.get_by_test_id("confirm-submit").click()

    expect(page).to_have_url(live_server.url + reverse("quizzes:result", args=[attempt.pk]))
    expect(page.get_by_test_id("score")).to_contain_text("100")
    expect(page.get_by_test_id("passed")).to_have_text("及格")
    expect(page.get_by_test_id("explanation")).to_have_count(5)
    expect(page.get_by_test_id("explanation").first).to_be_visible()
    expect(page.get_by_test_id("rank")).to_contain_text("第 1 名")

    image = page.get_by_test_id("certificate-png")
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=image.element_handle())
    for test_id, content_type in (
        ("certificate-png-link", "image/png"),
        ("certificate-pdf", "application/pdf"),
    ):
        href = page.get_by_test_id(test_id).get_attribute("href")
        assert href
        resp = page.request.get(live_server.url + href)
        assert resp.status == 200 and resp.headers["content-type"] == content_type

    page.get_by_test_id("leaderboard-link").first.click()
    expect(page.get_by_test_id("my-rank")).to_contain_text("第 1 名")
    expect(page.get_by_test_id("individuals").locator("tbody tr")).to_have_count(1)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED and attempt.score == 100


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_hands_in_when_the_servers_time_runs_out(
    live_server: Any, tree: Tree, phone_context: BrowserContext
) -> None:
    """With a 10-second limit the countdown reaches zero and the page hands the paper in by
    itself, with the answer saved before, and shows the result."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=10)
    worker = member_of(tree.courier)
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
    page.goto(live_server.url + reverse("quizzes:contest", args=[contest.pk]))
    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("progress")).to_have_text("1/5")
    page.locator('[data-position="1"] input').first.check()
    attempt = Attempt.objects.get(contest=contest, worker=worker)
    _wait_saved(attempt, {1})
    expect(page).to_have_url(
        live_server.url + reverse("quizzes:result", args=[attempt.pk]), timeout=20_000
    )
    expect(page.get_by_test_id("score")).to_be_visible()
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.items.exclude(response="").count() == 1
