from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from saidao.accounts.models import User
from saidao.accounts.tests.factories import MembershipFactory
from saidao.campaigns.errors import OutsideCampaignScope, PhaseClosed
from saidao.campaigns.models import Campaign
from saidao.campaigns.services import phase_override
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.entries.errors import AlreadyReported, EntryLimitReached, EntryNotPublic
from saidao.entries.models import Entry, Like
from saidao.entries.services import (
    entries_review,
    entry_like,
    entry_report,
    entry_upload_completed,
)
from saidao.entries.tests.conftest import pending_upload, stored_upload, submit
from saidao.leaderboards.models import ParticipationEvent
from saidao.regions.models import Region
from saidao.uploads.models import Upload


@pytest.fixture
def process(
    live: Campaign, settings: Any, django_capture_on_commit_callbacks: Any
) -> Callable[..., Entry]:
    """Submit an entry with ``source`` as its finished upload and run the queued task."""

    def run(worker: User, source: Path, campaign: Campaign | None = None) -> Entry:
        upload = stored_upload(worker, source, settings)
        with django_capture_on_commit_callbacks(execute=True):
            entry = submit(campaign or live, worker, upload=upload)
        tasks.run_pending()
        entry.refresh_from_db()
        return entry

    return run


def test_submit_counts_the_entry_in_the_chosen_city_zone(live: Campaign, tree: Tree) -> None:
    """The entry records 定西市 and 甘肃 as its zone and the worker's union as its organization."""
    entry = submit(live, tree.anding_member.user)
    assert (entry.zone_city_id, entry.zone_province_id) == ("621100", "620000")
    assert entry.organization == tree.courier
    assert entry.status == Entry.Status.UPLOADING
    assert entry.slot == 1


def test_municipality_is_its_own_city_zone(live: Campaign, tree: Tree) -> None:
    """Choosing 北京市 as both province and city puts the entry in the 北京 zone."""
    bj = Region.objects.get(code="110000")
    entry = submit(live, tree.anding_member.user, province=bj, city=bj)
    assert entry.zone_city_id == "110000"


def test_city_outside_the_province_is_refused(live: Campaign, tree: Tree) -> None:
    """东营市 under 甘肃省 is refused on the city field and nothing is saved."""
    with pytest.raises(InvalidInput) as e:
        submit(live, tree.anding_member.user, city=Region.objects.get(code="370500"))
    assert "city" in e.value.detail["fields"]
    assert not Entry.objects.exists()


def test_required_fields_and_consent(live: Campaign, tree: Tree) -> None:
    """Missing title and missing consent are each reported on their field."""
    with pytest.raises(InvalidInput) as e:
        submit(live, tree.anding_member.user, title="", consent_publish=False)
    fields = e.value.detail["fields"]
    assert "作品标题" in fields["title"][0]
    assert "consent_publish" in fields
    assert not Entry.objects.exists()


def test_second_entry_past_the_limit_is_refused(live: Campaign, tree: Tree) -> None:
    """With one entry allowed, a second submit says so and saves nothing."""
    submit(live, tree.anding_member.user)
    with pytest.raises(EntryLimitReached) as e:
        submit(live, tree.anding_member.user)
    assert "1 件" in str(e.value.message)
    assert Entry.objects.count() == 1


def test_submit_after_collection_closed_is_refused(live: Campaign, tree: Tree) -> None:
    """When collection is forced closed, submitting says it has closed."""
    phase = live.phases.get(kind="collection")
    phase_override(actor=tree.national_officer, phase=phase, override="closed", reason="截止")
    with pytest.raises(PhaseClosed) as e:
        submit(live, tree.anding_member.user)
    assert "已于" in str(e.value.message)


def test_worker_outside_the_campaign_scope_is_refused(tree: Tree) -> None:
    """A 定西 campaign refuses a 东营 member."""
    from saidao.campaigns.tests.factories import live_phases, make_campaign

    c = make_campaign(
        actor=tree.city_officer, organizer=tree.dingxi, slug="dx", phases=live_phases()
    )
    with pytest.raises(OutsideCampaignScope):
        submit(c, tree.dongying_member.user)


def test_processing_a_good_clip_waits_for_review_and_records_participation(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """A 3-second H.264 clip becomes a phone-ready MP4 with a poster, pending review, and the
    worker's participation is recorded once even if the task runs again."""
    entry = process(tree.anding_member.user, clip())
    assert entry.status == Entry.Status.PENDING_REVIEW
    assert str(entry.video.name).endswith(".mp4")
    assert str(entry.poster.name).endswith(".jpg")
    assert entry.duration_s is not None and 2.5 < entry.duration_s < 3.5
    assert ParticipationEvent.objects.filter(key=f"entry:{entry.pk}").count() == 1
    tasks.enqueue("entries.process", entry_id=entry.pk)
    tasks.run_pending()
    assert ParticipationEvent.objects.count() == 1


def test_too_long_clip_is_invalid_with_its_length_and_frees_the_slot(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """A 121-second clip is invalid, the message names 121.0 s, and the worker may retry."""
    entry = process(tree.anding_member.user, clip("long.mp4", seconds=121.0, fps=2))
    assert entry.status == Entry.Status.INVALID
    assert entry.invalid_code == "too_long"
    assert "121.0" in entry.invalid_message
    assert entry.slot is None
    assert not ParticipationEvent.objects.exists()
    submit(live, tree.anding_member.user)


def test_text_file_renamed_mp4_is_invalid(
    live: Campaign, tree: Tree, tmp_path: Path, process: Callable[..., Entry]
) -> None:
    """A text file named .mp4 is refused as not a video."""
    fake = tmp_path / "story.mp4"
    fake.write_text("这不是视频")
    entry = process(tree.anding_member.user, fake)
    assert (entry.status, entry.invalid_code) == (Entry.Status.INVALID, "not_a_video")


def test_finishing_twice_processes_once(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """An entry submitted while its upload runs is queued once when the upload completes,
    however often completion is reported."""
    upload = stored_upload(tree.anding_member.user, clip(), settings)
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.UPLOADING)
    upload.refresh_from_db()
    entry = submit(live, tree.anding_member.user, upload=upload)
    assert entry.status == Entry.Status.UPLOADING
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.COMPLETE)
    upload.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        entry_upload_completed(upload)
        entry_upload_completed(upload)
    assert tasks.run_pending() == 1
    entry.refresh_from_db()
    assert entry.status == Entry.Status.PENDING_REVIEW


def test_an_upload_serves_one_entry_and_the_campaign_cap(live: Campaign, tree: Tree) -> None:
    """The same upload cannot make two entries; an upload over the campaign's cap is refused."""
    live.entries_per_worker = 2
    live.max_file_mb = 1
    live.save()
    worker = tree.anding_member.user
    upload = pending_upload(worker)
    submit(live, worker, upload=upload)
    with pytest.raises(InvalidInput) as e:
        submit(live, worker, upload=upload)
    assert "另一件作品" in e.value.detail["fields"]["upload"][0]
    with pytest.raises(InvalidInput) as e:
        submit(live, worker, upload=pending_upload(worker, size=2 * 1024 * 1024))
    assert "1 MB" in e.value.detail["fields"]["upload"][0]


def _approved(
    live: Campaign, tree: Tree, clip: Callable[..., Path], process: Callable[..., Entry]
) -> Entry:
    entry = process(tree.anding_member.user, clip())
    entries_review(actor=tree.city_officer, entries=[entry], approve=True)
    entry.refresh_from_db()
    return entry


def test_review_by_an_officer_of_the_zone_and_not_elsewhere(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """定西's officer approves an 安定区 entry; 东营's officer cannot; rejecting needs a reason."""
    entry = process(tree.anding_member.user, clip())
    with pytest.raises(OutsideScope):
        entries_review(actor=tree.other_officer, entries=[entry], approve=True)
    with pytest.raises(InvalidInput):
        entries_review(actor=tree.city_officer, entries=[entry], approve=False, reason="")
    entries_review(actor=tree.city_officer, entries=[entry], approve=True)
    entry.refresh_from_db()
    assert entry.is_public


def test_reports_hide_an_entry_until_re_review(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """Three reports (the default threshold) by members whose accounts are older than a day
    hide the entry; reporting twice is refused; a reviewer's approval shows it again."""
    settings.SAIDAO_REPORTS_TO_HIDE = 3
    entry = _approved(live, tree, clip, process)
    joined = timezone.now() - dt.timedelta(days=2)
    reporters = [
        MembershipFactory.create(organization=tree.courier, user__date_joined=joined).user
        for _ in range(3)
    ]
    entry_report(reporter=reporters[0], entry=entry, reason="inappropriate")
    with pytest.raises(AlreadyReported):
        entry_report(reporter=reporters[0], entry=entry, reason="other")
    entry_report(reporter=reporters[1], entry=entry, reason="other")
    entry.refresh_from_db()
    assert entry.is_public
    entry_report(reporter=reporters[2], entry=entry, reason="not_worker_story")
    entry.refresh_from_db()
    assert entry.hidden and not entry.is_public
    entries_review(actor=tree.city_officer, entries=[entry], approve=True)
    entry.refresh_from_db()
    assert entry.is_public


def test_like_once_and_only_while_likes_are_open(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """A worker's second like changes nothing; with showcase closed, liking says so."""
    entry = _approved(live, tree, clip, process)
    fan = tree.dongying_member.user
    assert entry_like(worker=fan, entry=entry) is True
    assert entry_like(worker=fan, entry=entry) is False
    entry.refresh_from_db()
    assert entry.likes_count == 1
    phase_override(
        actor=tree.national_officer,
        phase=live.phases.get(kind="showcase"),
        override="closed",
        reason="结束",
    )
    with pytest.raises(PhaseClosed):
        entry_like(worker=tree.anding_member.user, entry=entry)


def test_like_of_an_entry_not_yet_public_is_refused(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """Nothing is public before approval, likes included."""
    entry = process(tree.anding_member.user, clip())
    with pytest.raises(EntryNotPublic):
        entry_like(worker=tree.dongying_member.user, entry=entry)


@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_count_once_each(
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    process: Callable[..., Entry],
    settings: Any,
) -> None:
    """Eight threads clicking like for the same worker at once leave one like, counted once."""
    entry = _approved(live, tree, clip, process)
    fan = tree.dongying_member.user
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def click() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(entry_like(worker=fan, entry=entry))
        except BaseException as e:  # reported below, not swallowed
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert results.count(True) == 1
    assert Like.objects.filter(entry=entry).count() == 1
    entry.refresh_from_db()
    assert entry.likes_count == 1
