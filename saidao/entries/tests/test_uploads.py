"""An entry's video is refused before any byte is stored when its campaign cannot take it."""

from __future__ import annotations

import base64
from typing import Any

from django.test import Client

from saidao.accounts.models import User
from saidao.accounts.tests.factories import login_headers
from saidao.campaigns.models import Campaign
from saidao.campaigns.services import phase_override
from saidao.conftest import Tree
from saidao.uploads.models import Upload


def _create(client: Client, worker: User, size: int, campaign: str) -> Any:
    def b64(v: str) -> str:
        return base64.b64encode(v.encode()).decode()

    meta = f"purpose {b64('entry')},filename {b64('a.mp4')},filetype {b64('video/mp4')}"
    meta += f",campaign {b64(campaign)}"
    return client.post(
        "/uploads/tus/",
        headers={
            **login_headers(client, worker),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": meta,
        },
    )


def test_video_over_the_campaign_cap_is_413_before_any_byte(
    client: Client, live: Campaign, tree: Tree
) -> None:
    """With a 1 MB campaign cap, declaring 2 MB is refused with 413 and nothing is created."""
    live.max_file_mb = 1
    live.save()
    resp = _create(client, tree.anding_member.user, 2 * 1024 * 1024, live.slug)
    assert resp.status_code == 413
    assert not Upload.objects.exists()
    ok = _create(client, tree.anding_member.user, 1024, live.slug)
    assert ok.status_code == 201


def test_video_after_collection_closed_is_refused_before_any_byte(
    client: Client, live: Campaign, tree: Tree
) -> None:
    """Once collection is closed, starting an upload for the campaign says so (403)."""
    phase_override(
        actor=tree.national_officer,
        phase=live.phases.get(kind="collection"),
        override="closed",
        reason="截止",
    )
    resp = _create(client, tree.anding_member.user, 1024, live.slug)
    assert resp.status_code == 403
    assert resp.json()["code"] == "phase_closed"
    assert not Upload.objects.exists()
