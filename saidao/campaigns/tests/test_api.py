from __future__ import annotations

from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree


def test_campaign_detail_has_phases_themes_and_switches(client: Client, tree: Tree) -> None:
    """GET /api/v1/campaigns/{slug} returns the phases in order, the themes and the switches."""
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    body = client.get("/api/v1/campaigns/yunjiangshu-2024").json()
    assert [p["kind"] for p in body["phases"]] == ["mobilization", "collection", "showcase", "quiz"]
    assert len(body["themes"]) == 5
    assert body["switches"]["entries_open"] is False
    assert body["organizer_name"] == "中华全国总工会"


def test_create_campaign_through_the_api(client: Client, tree: Tree) -> None:
    """An officer creates a campaign for an organization in their subtree."""
    headers = login_headers(client, tree.city_officer)
    resp = client.post(
        "/api/v1/campaigns",
        {
            "organizer_id": tree.anding.pk,
            "slug": "anding-2026",
            "title": "安定区职工讲述",
            "themes": ["身边的劳模"],
            "phases": [
                {
                    "kind": "collection",
                    "title": "征集",
                    "starts_at": "2026-11-01T00:00:00+08:00",
                    "ends_at": "2026-12-31T00:00:00+08:00",
                    "entries_open": True,
                }
            ],
            "publish": True,
        },
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 201, resp.content
    assert [t["title"] for t in resp.json()["themes"]] == ["身边的劳模"]


def test_create_campaign_for_another_city_is_refused(client: Client, tree: Tree) -> None:
    """A 定西 officer cannot create a campaign organized by 东营: 404 in the error format."""
    headers = login_headers(client, tree.city_officer)
    resp = client.post(
        "/api/v1/campaigns",
        {"organizer_id": tree.dongying.pk, "slug": "x", "title": "x"},
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 404
    assert set(resp.json()) == {"code", "message", "detail"}


def test_override_through_the_api(client: Client, tree: Tree) -> None:
    """POST .../phases/2/override forces collection open; the detail shows entries open."""
    make_campaign(actor=tree.national_officer, organizer=tree.national)
    headers = login_headers(client, tree.national_officer)
    resp = client.post(
        "/api/v1/campaigns/yunjiangshu-2024/phases/2/override",
        {"override": "open", "reason": "延期"},
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 200
    assert client.get("/api/v1/campaigns/yunjiangshu-2024").json()["switches"]["entries_open"]
