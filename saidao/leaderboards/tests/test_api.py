"""The leaderboard API: public numbers of a published campaign, member counts and rates only
within an officer's scope, ETag and 304, and rankings as .xlsx."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.leaderboards.ranks import ranks_invalidate
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.tests.recount import member_takes_part


@pytest.fixture
def campaign(tree: Tree, settings: Any) -> Campaign:
    """A national campaign with two participants in 定西 (courier union) and one in 东营,
    counted by the aggregator; rates count from one member up."""
    settings.SAIDAO_RATE_MIN_MEMBERS = 1
    c = make_campaign(actor=tree.national_officer, organizer=tree.national, phases=live_phases())
    member_takes_part(c, tree.courier, "c1", city="621100")
    member_takes_part(c, tree.courier, "c2", city="621100")
    member_takes_part(c, tree.dongying, "d1", city="370500")
    run_once()
    return c


def url(campaign: Campaign, rest: str) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/leaderboard/{rest}"


def test_summary_is_public_and_cacheable(campaign: Campaign, tree: Tree, client: Any) -> None:
    """Anyone reads a published campaign's totals; the ETag answers 304 until the next flush
    changes the watermark, and then the numbers move."""
    r = client.get(url(campaign, "summary"))
    assert r.status_code == 200
    assert r.json() == {
        "campaign_id": campaign.pk,
        "participants": 3,
        "entry": 3,
        "quiz": 0,
        "provinces": 2,
    }
    assert r["Cache-Control"] == "public, max-age=2"
    etag = r["ETag"]
    again = client.get(url(campaign, "summary"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
    member_takes_part(campaign, tree.tongwei, "t1", city="621100")
    run_once()
    fresh = client.get(url(campaign, "summary"), headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert fresh.json()["participants"] == 4


def test_an_etag_changes_when_the_tallies_are_rewritten(campaign: Campaign, client: Any) -> None:
    """``reconcile --repair`` and ``rebuild-ranks`` rewrite tallies without moving the watermark:
    the rank epoch they bump is in the ETag, so a client holding the old answer gets the new."""
    etag = client.get(url(campaign, "summary"))["ETag"]
    ranks_invalidate(campaign_id=campaign.pk)
    fresh = client.get(url(campaign, "summary"), headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh["ETag"] != etag


def test_top_by_count_hides_member_counts_outside_the_scope(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """The public top list shows participants only; among the cities, 定西's officer sees the
    member count of 定西, which they administer, and not that of 东营."""
    r = client.get(url(campaign, "top"), {"level": "provincial"})
    rows = r.json()["rows"]
    assert [(x["rank"], x["name"], x["participants"]) for x in rows] == [
        (1, "甘肃省总工会", 2),
        (2, "山东省总工会", 1),
    ]
    assert all(x["members"] is None and x["rate"] is None for x in rows)
    client.force_login(tree.city_officer)
    cities = client.get(url(campaign, "top"), {"level": "city"}).json()["rows"]
    by_name = {x["name"]: x for x in cities}
    assert by_name["定西市总工会"]["members"] == 3  # anding_member + two participants
    assert by_name["东营市总工会"]["members"] is None
    assert client.get(url(campaign, "top"), {"kind": "nope"}).status_code == 400


def test_top_by_rate_needs_an_officer_of_the_parent(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """Rates rank only for officers: anonymous 401; 定西's officer may rank 定西's children but
    not the whole campaign (404); the national officer may."""
    assert client.get(url(campaign, "top"), {"by": "rate"}).status_code == 401
    client.force_login(tree.city_officer)
    assert client.get(url(campaign, "top"), {"by": "rate"}).status_code == 404
    mine = client.get(url(campaign, "top"), {"by": "rate", "parent": tree.dingxi.pk})
    assert mine.status_code == 200
    assert [x["name"] for x in mine.json()["rows"]] == ["安定区总工会"]
    client.force_login(tree.national_officer)
    r = client.get(url(campaign, "top"), {"by": "rate", "level": "provincial"})
    assert r.status_code == 200 and r.json()["rows"][0]["rate"] is not None


def test_an_officer_of_dongying_cannot_read_dingxi(
    campaign: Campaign, tree: Tree, client: Any
) -> None:
    """Rank, window and children of 定西 answer 404 to 东营's officer and 200 to 定西's, whose
    window hides 东营's member count."""
    client.force_login(tree.other_officer)
    for rest in ("rank", "window", "children"):
        assert client.get(url(campaign, f"{rest}/{tree.dingxi.pk}")).status_code == 404
    client.force_login(tree.city_officer)
    rank = client.get(url(campaign, f"rank/{tree.dingxi.pk}")).json()
    assert rank["level"] == {"rank": 1, "of": 2} and rank["siblings"] == {"rank": 1, "of": 1}
    assert rank["participants"] == 2 and rank["members"] == 3
    window = client.get(url(campaign, f"window/{tree.dingxi.pk}")).json()["rows"]
    assert [(x["name"], x["members"]) for x in window] == [
        ("定西市总工会", 3),
        ("东营市总工会", None),
    ]
    children = client.get(url(campaign, f"children/{tree.dingxi.pk}")).json()["rows"]
    assert [x["name"] for x in children] == ["安定区总工会"]


def test_zones_by_province_and_city(campaign: Campaign, client: Any) -> None:
    """Participants per province and per city zone, public."""
    provinces = client.get(url(campaign, "zones")).json()["rows"]
    assert [(x["name"], x["participants"]) for x in provinces] == [("甘肃省", 2), ("山东省", 1)]
    cities = client.get(url(campaign, "zones"), {"level": "city"}).json()["rows"]
    assert [(x["name"], x["participants"]) for x in cities] == [("定西市", 2), ("东营市", 1)]


def test_any_ranking_downloads_as_xlsx(campaign: Campaign, tree: Tree, client: Any) -> None:
    """top.xlsx opens in openpyxl with a header and one row per organization."""
    client.force_login(tree.national_officer)
    r = client.get(url(campaign, "top.xlsx"), {"level": "city"})
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("名次", "组织", "层级", "参与人数", "会员数", "参与率")
    assert rows[1][:5] == (1, "定西市总工会", "市级", 2, 3)
    assert rows[2][:5] == (2, "东营市总工会", "市级", 1, 2)


def test_a_draft_campaign_is_for_its_officers_only(tree: Tree, client: Any) -> None:
    """Unpublished: 404 to the public and to officers outside the organizer's subtree."""
    draft = make_campaign(
        actor=tree.national_officer, organizer=tree.dingxi, slug="draft", publish=False
    )
    assert client.get(url(draft, "summary")).status_code == 404
    client.force_login(tree.other_officer)
    assert client.get(url(draft, "summary")).status_code == 404
    client.force_login(tree.city_officer)
    assert client.get(url(draft, "summary")).status_code == 200
