"""A worker's flows run through the API alone: what a campaign's answer carries is enough to
submit an entry under a theme and to start its knowledge contest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.campaigns.models import Campaign
from saidao.campaigns.services import PhaseSpec
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.core import clock
from saidao.entries.models import Entry
from saidao.entries.tests.conftest import pending_upload
from saidao.quizzes.tests.factories import make_contest

API = "/api/v1"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    """A national campaign collecting entries and running its contest today."""
    now = clock.now()
    day = dt.timedelta(days=1)
    quiz = PhaseSpec("quiz", "知识竞赛", now - day, now + 30 * day, quiz_open=True)
    return make_campaign(
        actor=tree.national_officer,
        organizer=tree.national,
        slug="flow",
        phases=[*live_phases(), quiz],
    )


def test_a_worker_submits_under_a_theme_and_starts_the_contest_from_the_api(
    client: Client, tree: Tree, campaign: Campaign
) -> None:
    """GET /campaigns/{slug} lists the themes with their ids and gives the contest's id; the
    worker submits an entry with one of those theme ids and starts a try of that contest."""
    contest = make_contest(actor=tree.national_officer, organizer=tree.national, campaign=campaign)
    worker = tree.anding_member.user
    h = login_headers(client, worker)
    body = client.get(f"{API}/campaigns/{campaign.slug}").json()
    themes = body["themes"]
    assert [t["title"] for t in themes] == [t.title for t in campaign.themes.all()]
    assert body["contest_id"] == contest.pk

    upload = pending_upload(worker)
    entry = client.post(
        f"{API}/campaigns/{campaign.slug}/entries",
        {
            "upload_id": str(upload.pk),
            "real_name": worker.real_name,
            "mobile": worker.phone,
            "employer": "安定区快递网点",
            "position": "快递员",
            "province": "620000",
            "city": "621100",
            "theme_id": themes[1]["id"],
            "title": "一线故事",
            "consent_publish": True,
        },
        content_type="application/json",
        headers=h,
    )
    assert entry.status_code == 201, entry.content
    assert entry.json()["theme_id"] == themes[1]["id"]
    assert Entry.objects.get(pk=entry.json()["id"]).theme.title == themes[1]["title"]  # type: ignore[union-attr]

    paper = client.post(f"{API}/quiz/contests/{body['contest_id']}/attempts", headers=h)
    assert paper.status_code == 201, paper.content
    assert len(paper.json()["questions"]) == 5


def test_a_campaign_without_a_contest_says_so(client: Client, campaign: Campaign) -> None:
    """The contest's id is null for a campaign that has none; the list shows themes with ids
    too."""
    body = client.get(f"{API}/campaigns/{campaign.slug}").json()
    assert body["contest_id"] is None
    listed = client.get(f"{API}/campaigns").json()
    assert {"id", "title"} <= set(listed[0]["themes"][0])
