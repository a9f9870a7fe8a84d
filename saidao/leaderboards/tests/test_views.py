"""The big screen's page and who may open it, the officer's own standing, the member
snapshot's refresh, and signed read-only links that stop working the moment they are revoked."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from saidao.accounts.tests.factories import MembershipFactory
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.core.models import AuditEntry
from saidao.leaderboards import live
from saidao.leaderboards.links import screen_link_create
from saidao.leaderboards.models import ScreenLink
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.tests.recount import member_takes_part


@pytest.fixture(autouse=True)
def _fresh_live_state() -> None:
    """Ids start again in each test: no snapshot memoized by an earlier one may answer."""
    live.reset()


@pytest.fixture
def campaign(tree: Tree, settings: Any) -> Campaign:
    """A national campaign: two participants in 安定区's courier union, one in 通渭县, counted;
    rates from one member up."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    c = make_campaign(actor=tree.national_officer, organizer=tree.national, phases=live_phases())
    member_takes_part(c, tree.courier, "a1")
    member_takes_part(c, tree.courier, "a2")
    member_takes_part(c, tree.tongwei, "t1")
    for _i in range(3):
        MembershipFactory.create(organization=tree.tongwei)  # members who do not take part
    run_once()
    return c


def screen_url(campaign: Campaign) -> str:
    return reverse("leaderboards:screen", args=[campaign.pk])


def test_the_big_screen_renders_for_an_officer(campaign: Campaign, tree: Tree, client: Any) -> None:
    """The national officer sees the whole campaign: totals rendered, the initial snapshot in the
    page, the stream's address for the script; 定西's officer sees 定西's subtree by default."""
    client.force_login(tree.national_officer)
    r = client.get(screen_url(campaign))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="total" data-counter="total">3<' in html
    assert reverse("leaderboards:stream", args=[campaign.pk]) in html
    assert 'id="screen-snapshot"' in html and "leaderboards/screen.js" in html
    assert r["Cache-Control"] == "no-store"
    client.force_login(tree.city_officer)
    r = client.get(screen_url(campaign))
    assert r.status_code == 200 and r.context["view"].root == tree.dingxi
    assert r.context["snapshot"]["top_count"][0]["name"] == "安定区总工会"
    sub = client.get(screen_url(campaign), {"org": tree.tongwei.pk})
    assert sub.context["snapshot"]["total"] == 1
    assert f"?org={tree.tongwei.pk}" in sub.content.decode()


def test_the_big_screen_is_404_outside_the_scope(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """Anonymous visitors, a bad token, and 东营's officer asking for 定西 all get 404."""
    assert client.get(screen_url(campaign)).status_code == 404
    assert client.get(screen_url(campaign), {"t": "guess"}).status_code == 404
    client.force_login(tree.other_officer)
    assert client.get(screen_url(campaign), {"org": tree.dingxi.pk}).status_code == 404
    assert client.get(screen_url(campaign)).context["view"].root == tree.dongying


def test_a_signed_link_opens_the_screen_until_revoked(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """定西's officer makes a link on the links page: it opens 定西's screen and stream without
    logging in, only its hash is stored, and once revoked both answer 404 at once."""
    client.force_login(tree.city_officer)
    links_url = reverse("leaderboards:links", args=[campaign.pk])
    r = client.post(links_url, {"organization": tree.dingxi.pk, "label": "三楼大屏"}, follow=True)
    said = " ".join(str(m) for m in get_messages(r.wsgi_request))
    match = re.search(r"\?t=([\w-]+)", said) or re.search(r"\?t=([\w-]+)", r.content.decode())
    assert match is not None
    token = match.group(1)
    link = ScreenLink.objects.get()
    assert link.organization == tree.dingxi and token not in link.token_hash
    assert AuditEntry.objects.filter(action="screen_link.create").count() == 1
    client.logout()
    page = client.get(screen_url(campaign), {"t": token})
    assert page.status_code == 200 and page.context["view"].root == tree.dingxi
    assert f"?t={token}" in page.content.decode()
    assert (
        client.get(screen_url(campaign), {"t": token, "org": tree.national.pk}).context["view"].root
        == tree.dingxi
    )  # a link shows its own organization, whatever is asked
    client.force_login(tree.city_officer)
    client.post(reverse("leaderboards:link_revoke", args=[campaign.pk, link.pk]))
    client.logout()
    assert client.get(screen_url(campaign), {"t": token}).status_code == 404
    stream = reverse("leaderboards:stream", args=[campaign.pk])
    assert client.get(stream, {"t": token}).status_code == 404


def test_links_stay_within_the_officers_subtree(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """东营's officer cannot make a link for 定西 (404 on the page, OutsideScope in the service)
    nor revoke 定西's link."""
    from saidao.core.errors import OutsideScope

    link, _token = screen_link_create(
        actor=tree.city_officer, campaign=campaign, organization=tree.dingxi
    )
    with pytest.raises(OutsideScope):
        screen_link_create(actor=tree.other_officer, campaign=campaign, organization=tree.dingxi)
    client.force_login(tree.other_officer)
    links_url = reverse("leaderboards:links", args=[campaign.pk])
    assert client.post(links_url, {"organization": tree.dingxi.pk}).status_code == 404
    revoke = reverse("leaderboards:link_revoke", args=[campaign.pk, link.pk])
    assert client.post(revoke).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    assert tree.dingxi.name not in client.get(links_url).content.decode()


def test_my_page_ranks_me_among_siblings_and_my_children_worst_first(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """定西's officer: 定西 is first of its one sibling; 通渭县 (1 of 4 members) comes before
    安定区 (2 of 3) in the worst-first list. 东营's officer cannot open 定西's page."""
    client.force_login(tree.city_officer)
    mine = reverse("leaderboards:mine", args=[campaign.pk])
    r = client.get(mine)
    assert r.status_code == 200
    assert r.context["org"] == tree.dingxi
    assert r.context["rank"] == (1, 1)
    assert [row.name for row in r.context["children"]] == ["通渭县总工会", "安定区总工会"]
    assert [(row.participants, row.members) for row in r.context["children"]] == [(1, 4), (2, 3)]
    assert not r.context["can_refresh"]
    client.force_login(tree.other_officer)
    assert client.get(mine, {"org": tree.dingxi.pk}).status_code == 404


def test_refreshing_the_member_snapshot_is_audited(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """The organizer's officer refreshes the frozen member counts from the page; the audit log
    keeps it. 定西's officer, below the organizer, is refused with a message."""
    MembershipFactory.create(organization=tree.tongwei)
    client.force_login(tree.national_officer)
    r = client.post(reverse("leaderboards:snapshot_refresh", args=[campaign.pk]), follow=True)
    assert r.status_code == 200
    assert AuditEntry.objects.filter(action="member_snapshot.refresh").count() == 1
    client.force_login(tree.city_officer)
    r = client.get(reverse("leaderboards:mine", args=[campaign.pk]))
    assert next((row.name, row.members) for row in r.context["children"]) == ("通渭县总工会", 5)
    r = client.post(reverse("leaderboards:snapshot_refresh", args=[campaign.pk]), follow=True)
    assert AuditEntry.objects.filter(action="member_snapshot.refresh").count() == 1
    assert (
        any("范围" in str(m) for m in get_messages(r.wsgi_request)) or "范围" in r.content.decode()
    )
