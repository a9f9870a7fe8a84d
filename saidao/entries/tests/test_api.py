from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.test import Client

from saidao.accounts.models import User
from saidao.accounts.tests.factories import login_headers
from saidao.campaigns.models import Campaign
from saidao.campaigns.services import phase_override
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.entries.models import Entry
from saidao.entries.tests.conftest import stored_upload


def _submit(client: Client, live: Campaign, worker: User, upload_id: str) -> Any:
    return client.post(
        f"/api/v1/campaigns/{live.slug}/entries",
        {
            "upload_id": upload_id,
            "real_name": worker.real_name,
            "mobile": worker.phone,
            "employer": "东营某快递",
            "position": "快递员",
            "province": "620000",
            "city": "621100",
            "theme_id": live.themes.first().pk,  # type: ignore[union-attr]
            "title": "一线故事",
            "consent_publish": True,
        },
        content_type="application/json",
        headers=login_headers(client, worker),
    )


def _approved_via_api(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    capture: Any,
) -> int:
    worker = tree.anding_member.user
    upload = stored_upload(worker, clip(), settings)
    with capture(execute=True):
        resp = _submit(client, live, worker, str(upload.pk))
    assert resp.status_code == 201, resp.content
    tasks.run_pending()
    entry_id: int = resp.json()["id"]
    officer = login_headers(client, tree.city_officer)
    resp = client.post(
        "/api/v1/review",
        {"entry_ids": [entry_id], "approve": True},
        content_type="application/json",
        headers=officer,
    )
    assert resp.status_code == 200, resp.content
    return entry_id


def test_submit_process_review_and_show_through_the_api(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Submitted with a finished upload, the entry is processed, approved by 定西's officer and
    then listed in the public gallery with its video and poster."""
    entry_id = _approved_via_api(
        client, live, tree, clip, settings, django_capture_on_commit_callbacks
    )
    body = client.get(f"/api/v1/campaigns/{live.slug}/gallery").json()
    assert [e["id"] for e in body["items"]] == [entry_id]
    item = body["items"][0]
    assert item["video_url"].endswith(".mp4") and item["poster_url"].endswith(".jpg")
    assert item["zone_city_name"] == "定西市"


def test_entry_state_is_visible_to_its_author_only(
    client: Client, live: Campaign, tree: Tree, clip: Callable[..., Path], settings: Any
) -> None:
    """The author reads the entry's state; another worker gets 404."""
    worker = tree.anding_member.user
    upload = stored_upload(worker, clip(), settings)
    entry_id = _submit(client, live, worker, str(upload.pk)).json()["id"]
    mine = client.get(f"/api/v1/entries/{entry_id}", headers=login_headers(client, worker))
    assert mine.json()["status"] == Entry.Status.RECEIVED
    other = client.get(
        f"/api/v1/entries/{entry_id}", headers=login_headers(client, tree.dongying_member.user)
    )
    assert other.status_code == 404


def test_review_outside_the_subtree_is_refused(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """东营's officer sees an empty queue and cannot approve an 安定区 entry (404)."""
    worker = tree.anding_member.user
    upload = stored_upload(worker, clip(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        entry_id = _submit(client, live, worker, str(upload.pk)).json()["id"]
    tasks.run_pending()
    other = login_headers(client, tree.other_officer)
    assert client.get("/api/v1/review", headers=other).json()["count"] == 0
    resp = client.post(
        "/api/v1/review",
        {"entry_ids": [entry_id], "approve": True},
        content_type="application/json",
        headers=other,
    )
    assert resp.status_code == 404
    assert Entry.objects.get(pk=entry_id).status == Entry.Status.PENDING_REVIEW
    mine = client.get("/api/v1/review", headers=login_headers(client, tree.city_officer)).json()
    assert [e["id"] for e in mine["items"]] == [entry_id]


def test_like_outside_the_showcase_phase_is_refused(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Liking works once while likes are open and is 403 with a phase message after."""
    entry_id = _approved_via_api(
        client, live, tree, clip, settings, django_capture_on_commit_callbacks
    )
    fan = login_headers(client, tree.dongying_member.user)
    first = client.post(f"/api/v1/gallery/{entry_id}/like", headers=fan).json()
    again = client.post(f"/api/v1/gallery/{entry_id}/like", headers=fan).json()
    assert (first, again) == ({"added": True, "likes": 1}, {"added": False, "likes": 1})
    phase_override(
        actor=tree.national_officer,
        phase=live.phases.get(kind="showcase"),
        override="closed",
        reason="结束",
    )
    resp = client.post(f"/api/v1/gallery/{entry_id}/like", headers=fan)
    assert resp.status_code == 403
    assert resp.json()["code"] == "phase_closed"


def test_nothing_is_public_before_approval(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A processed entry waiting for review is in no gallery and has no public page."""
    worker = tree.anding_member.user
    upload = stored_upload(worker, clip(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        entry_id = _submit(client, live, worker, str(upload.pk)).json()["id"]
    tasks.run_pending()
    assert client.get(f"/api/v1/campaigns/{live.slug}/gallery").json()["count"] == 0
    assert client.get(f"/api/v1/gallery/{entry_id}").status_code == 404
    assert client.get(f"/entries/watch/{entry_id}/").status_code == 404


def test_stats_count_per_zone_within_the_subtree(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """定西's officer sees one entry in 定西市; 东营's officer sees none."""
    _approved_via_api(client, live, tree, clip, settings, django_capture_on_commit_callbacks)
    mine = client.get(
        f"/api/v1/campaigns/{live.slug}/entry-stats",
        headers=login_headers(client, tree.city_officer),
    ).json()
    assert [(z["zone_city__name"], z["approved"]) for z in mine["zones"]] == [("定西市", 1)]
    other = client.get(
        f"/api/v1/campaigns/{live.slug}/entry-stats",
        headers=login_headers(client, tree.other_officer),
    ).json()
    assert other == {"zones": [], "organizations": []}
