"""Who may like and report a public entry, when reports hide it, and what reviewers see of them.

Only current members of a union in the campaign's scope like and report. Reports from accounts
younger than a day are kept for the reviewers but do not count toward hiding.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from saidao.accounts.models import User
from saidao.accounts.phones import mask_phone
from saidao.accounts.tests.factories import MembershipFactory, UserFactory, login_headers
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.core import clock
from saidao.entries.errors import AlreadyReported, NotAMember
from saidao.entries.models import Entry, Like, Report
from saidao.entries.services import entries_review, entry_like, entry_report
from saidao.entries.tests.conftest import submit
from saidao.orgs.models import Organization

DAY = dt.timedelta(days=1)


def shown(campaign: Campaign, worker: User) -> Entry:
    """An entry of ``worker`` approved and on show (its processing is not what is tested)."""
    entry = submit(campaign, worker)
    Entry.objects.filter(pk=entry.pk).update(
        status=Entry.Status.APPROVED, video="entries/video/shown.mp4", reviewed_at=clock.now()
    )
    entry.refresh_from_db()
    return entry


def member(organization: Organization, *, age: dt.timedelta = 2 * DAY) -> User:
    """A current member of ``organization`` whose account was created ``age`` ago."""
    user: User = MembershipFactory.create(
        organization=organization, user__date_joined=timezone.now() - age
    ).user
    return user


@pytest.fixture
def entry(live: Campaign, tree: Tree) -> Entry:
    return shown(live, tree.anding_member.user)


@pytest.fixture
def outsider(db: None) -> User:
    """A signed-up account, a week old, that never joined a union."""
    user: User = UserFactory.create(date_joined=timezone.now() - 7 * DAY)
    return user


# Services


def test_a_non_member_can_neither_like_nor_report(entry: Entry, outsider: User) -> None:
    """An account without a membership is refused with not_a_member; nothing is recorded."""
    with pytest.raises(NotAMember) as e:
        entry_like(worker=outsider, entry=entry)
    assert e.value.code == "not_a_member" and e.value.status == 403
    assert "全国总工会" in str(e.value.message)
    with pytest.raises(NotAMember):
        entry_report(reporter=outsider, entry=entry, reason="inappropriate")
    entry.refresh_from_db()
    assert (entry.likes_count, entry.reports_count) == (0, 0)
    assert not Like.objects.exists() and not Report.objects.exists()


def test_a_member_outside_the_campaign_scope_can_neither_like_nor_report(tree: Tree) -> None:
    """In a 定西 campaign, a 东营 member and a former 定西 member are refused; a 通渭 member
    (inside the subtree) likes."""
    campaign = make_campaign(
        actor=tree.city_officer, organizer=tree.dingxi, slug="dx", phases=live_phases()
    )
    entry = shown(campaign, tree.anding_member.user)
    former = member(tree.tongwei)
    former.memberships.update(left_at=timezone.now())
    for user in (tree.dongying_member.user, former):
        with pytest.raises(NotAMember):
            entry_like(worker=user, entry=entry)
        with pytest.raises(NotAMember):
            entry_report(reporter=user, entry=entry, reason="other")
    assert entry_like(worker=member(tree.tongwei), entry=entry) is True


def test_reports_from_accounts_younger_than_a_day_do_not_hide(
    entry: Entry, tree: Tree, settings: Any
) -> None:
    """Three members who signed up an hour ago report: the reports are kept, marked as not
    counting, and the entry stays on show."""
    settings.SAIDAO_REPORTS_TO_HIDE = 3
    for _ in range(3):
        entry_report(
            reporter=member(tree.courier, age=dt.timedelta(hours=1)),
            entry=entry,
            reason="inappropriate",
        )
    entry.refresh_from_db()
    assert entry.is_public and entry.reports_count == 0
    assert list(entry.reports.values_list("counted", flat=True)) == [False, False, False]


def test_reports_from_n_older_members_hide(entry: Entry, tree: Tree, settings: Any) -> None:
    """With the threshold at 2, one young and one older member leave the entry on show; a second
    older member hides it. The count holds the counting reports only."""
    settings.SAIDAO_REPORTS_TO_HIDE = 2
    entry_report(
        reporter=member(tree.courier, age=dt.timedelta(hours=23)), entry=entry, reason="other"
    )
    entry_report(reporter=member(tree.dongying), entry=entry, reason="other")
    entry.refresh_from_db()
    assert entry.is_public and entry.reports_count == 1
    entry_report(reporter=member(tree.tongwei), entry=entry, reason="infringes")
    entry.refresh_from_db()
    assert entry.hidden and entry.reports_count == 2


def test_account_age_is_measured_on_the_clock(
    entry: Entry, tree: Tree, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Members who signed up today count once the clock has moved past their first day."""
    settings.SAIDAO_REPORTS_TO_HIDE = 2
    fresh = [member(tree.courier, age=dt.timedelta(0)) for _ in range(2)]
    later = timezone.now() + DAY + dt.timedelta(minutes=1)
    monkeypatch.setattr("saidao.core.clock.now", lambda: later)
    for user in fresh:
        entry_report(reporter=user, entry=entry, reason="other")
    entry.refresh_from_db()
    assert entry.hidden


def test_the_same_member_reporting_twice_counts_once(
    entry: Entry, tree: Tree, settings: Any
) -> None:
    """A second report by the same member is refused and the count stays at one."""
    settings.SAIDAO_REPORTS_TO_HIDE = 2
    user = member(tree.courier)
    entry_report(reporter=user, entry=entry, reason="other")
    with pytest.raises(AlreadyReported):
        entry_report(reporter=user, entry=entry, reason="inappropriate")
    entry.refresh_from_db()
    assert entry.is_public and entry.reports_count == 1
    assert entry.reports.count() == 1


def test_review_resolves_the_reports_and_restarts_the_count(
    entry: Entry, tree: Tree, settings: Any
) -> None:
    """After a reviewer shows a hidden entry again, its count is back to zero: one new report
    does not hide it at once."""
    settings.SAIDAO_REPORTS_TO_HIDE = 2
    for _ in range(2):
        entry_report(reporter=member(tree.courier), entry=entry, reason="other")
    entries_review(actor=tree.city_officer, entries=[entry], approve=True)
    entry.refresh_from_db()
    assert entry.is_public and entry.reports_count == 0
    assert not entry.reports.filter(resolved_at__isnull=True).exists()
    entry_report(reporter=member(tree.courier), entry=entry, reason="other")
    entry.refresh_from_db()
    assert entry.is_public and entry.reports_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_are_each_counted(entry: Entry, tree: Tree, settings: Any) -> None:
    """Six older members reporting at the same moment leave six counted reports and a hidden
    entry."""
    settings.SAIDAO_REPORTS_TO_HIDE = 6
    users = [member(tree.courier) for _ in range(6)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(users))

    def report(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            entry_report(reporter=user, entry=entry, reason="other")
        except BaseException as e:  # reported below, not swallowed
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    entry.refresh_from_db()
    assert entry.reports_count == 6 and entry.hidden


# API


def test_api_refuses_a_non_members_like_and_report(
    client: Client, entry: Entry, outsider: User
) -> None:
    """Both answer 403 with the project's error shape and code not_a_member."""
    headers = login_headers(client, outsider)
    like = client.post(f"/api/v1/gallery/{entry.pk}/like", headers=headers)
    report = client.post(
        f"/api/v1/gallery/{entry.pk}/report",
        {"reason": "inappropriate"},
        content_type="application/json",
        headers=headers,
    )
    for resp in (like, report):
        assert resp.status_code == 403
        body = resp.json()
        assert set(body) == {"code", "message", "detail"}
        assert body["code"] == "not_a_member" and "会员" in body["message"]
    assert not Like.objects.exists() and not Report.objects.exists()


def _hidden_with_reports(entry: Entry, tree: Tree, settings: Any) -> list[User]:
    """Two older members and one new one report; the older two hide the entry."""
    settings.SAIDAO_REPORTS_TO_HIDE = 2
    young = member(tree.courier, age=dt.timedelta(hours=2))
    old = [member(tree.courier), member(tree.tongwei)]
    entry_report(reporter=young, entry=entry, reason="other", note="看着像广告")
    for user in old:
        entry_report(reporter=user, entry=entry, reason="inappropriate")
    entry.refresh_from_db()
    assert entry.hidden
    return [young, *old]


def test_review_api_shows_the_reporters_masked(
    client: Client, entry: Entry, tree: Tree, settings: Any
) -> None:
    """The queue lists each report with the reporter's name and masked phone, whether it counted,
    the reason, the note and the time; no full phone number appears. 东营's officer sees none."""
    young, *old = _hidden_with_reports(entry, tree, settings)
    resp = client.get("/api/v1/review", headers=login_headers(client, tree.city_officer))
    assert resp.status_code == 200
    (item,) = resp.json()["items"]
    assert item["id"] == entry.pk and item["hidden"] is True
    reports = {r["reporter_phone"]: r for r in item["reports"]}
    assert set(reports) == {mask_phone(u.phone) for u in (young, *old)}
    first = reports[mask_phone(young.phone)]
    assert first["reporter_name"] == young.real_name
    assert first["counted"] is False
    assert (first["reason"], first["note"]) == ("other", "看着像广告")
    assert first["created_at"]
    assert all(reports[mask_phone(u.phone)]["counted"] for u in old)
    for u in (young, *old):
        assert u.phone not in resp.content.decode()
    detail = client.get(
        f"/api/v1/review/{entry.pk}", headers=login_headers(client, tree.city_officer)
    )
    assert len(detail.json()["reports"]) == 3
    other = login_headers(client, tree.other_officer)
    assert client.get("/api/v1/review", headers=other).json()["count"] == 0
    assert client.get(f"/api/v1/review/{entry.pk}", headers=other).status_code == 404


# Pages


def test_watch_page_refuses_a_non_members_like_and_report_and_links_to_join(
    client: Client, entry: Entry, outsider: User
) -> None:
    """The page offers no like button or report form to a non-member but says why and links
    to the join page; posting anyway shows the message, and an htmx like is sent to it."""
    client.force_login(outsider)
    html = client.get(f"/entries/watch/{entry.pk}/").content.decode()
    assert 'data-testid="join-to-act"' in html and 'href="/accounts/join/"' in html
    assert 'data-testid="like"' not in html
    resp = client.post(f"/entries/watch/{entry.pk}/like/", follow=True)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "点赞和举报仅限" in html and 'href="/accounts/join/"' in html
    hx = client.post(f"/entries/watch/{entry.pk}/like/", headers={"HX-Request": "true"})
    assert hx.status_code == 403 and hx["HX-Redirect"] == f"/entries/watch/{entry.pk}/"
    resp = client.post(
        f"/entries/watch/{entry.pk}/report/", {"reason": "inappropriate"}, follow=True
    )
    assert "点赞和举报仅限" in resp.content.decode()
    assert not Like.objects.exists() and not Report.objects.exists()


def test_watch_page_lets_a_member_like_and_report(client: Client, entry: Entry, tree: Tree) -> None:
    """A member of a union in the scope sees the like button and the report form and uses both."""
    client.force_login(tree.dongying_member.user)
    html = client.get(f"/entries/watch/{entry.pk}/").content.decode()
    assert 'data-testid="like"' in html and 'data-testid="join-to-act"' not in html
    client.post(f"/entries/watch/{entry.pk}/like/")
    client.post(f"/entries/watch/{entry.pk}/report/", {"reason": "other"})
    entry.refresh_from_db()
    assert entry.likes_count == 1 and entry.reports.count() == 1


def test_review_page_shows_the_reporters_masked(
    client: Client, entry: Entry, tree: Tree, settings: Any
) -> None:
    """The reviewer's queue shows each reporter's name and masked phone, whether the report
    counted, the reason and the note; never a full phone number."""
    young, *old = _hidden_with_reports(entry, tree, settings)
    client.force_login(tree.city_officer)
    html = client.get("/entries/review/").content.decode()
    assert html.count('data-testid="report"') == 3
    for u in (young, *old):
        assert u.real_name in html and mask_phone(u.phone) in html
        assert u.phone not in html
    assert "看着像广告" in html and "内容不当" in html
    assert html.count('data-counted="1"') == 2 and html.count('data-counted="0"') == 1
    client.force_login(tree.other_officer)
    assert 'data-testid="report"' not in client.get("/entries/review/").content.decode()
