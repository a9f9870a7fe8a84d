from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.test import Client

from saidao.campaigns.models import Campaign
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.entries.models import Entry
from saidao.entries.tests.conftest import stored_upload


def _form(live: Campaign, upload_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "upload_id": upload_id,
        "real_name": "韩永强",
        "mobile": "13912345678",
        "employer": "定西某快递网点",
        "position": "快递员",
        "province": "620000",
        "city": "621100",
        "theme": str(live.themes.first().pk),  # type: ignore[union-attr]
        "title": "我的快递路",
        "description": "",
        "consent_publish": "on",
        **extra,
    }


def test_entry_form_submits_and_shows_the_status_page(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The worker submits the form with a finished upload and lands on the status page, which
    shows 待审核 once processing ran."""
    worker = tree.anding_member.user
    client.force_login(worker)
    page = client.get(f"/entries/new/{live.slug}/").content.decode()
    assert "data-saidao-uploader" in page
    upload = stored_upload(worker, clip(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/entries/new/{live.slug}/", _form(live, str(upload.pk)))
    entry = Entry.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/entries/{entry.pk}/"
    tasks.run_pending()
    html = client.get(f"/entries/{entry.pk}/").content.decode()
    assert "待审核" in html


def test_entry_form_without_video_or_consent_explains_both(
    client: Client, live: Campaign, tree: Tree
) -> None:
    """Submitting without a video and without consent shows both messages; nothing is saved."""
    client.force_login(tree.anding_member.user)
    data = _form(live, "")
    del data["consent_publish"]
    html = client.post(f"/entries/new/{live.slug}/", data).content.decode()
    assert "请先上传作品视频" in html
    assert not Entry.objects.exists()


def test_status_page_is_the_authors_only(
    client: Client, live: Campaign, tree: Tree, clip: Callable[..., Path], settings: Any
) -> None:
    """Another worker asking for someone's status page gets 404."""
    worker = tree.anding_member.user
    client.force_login(worker)
    upload = stored_upload(worker, clip(), settings)
    client.post(f"/entries/new/{live.slug}/", _form(live, str(upload.pk)))
    entry = Entry.objects.get()
    client.force_login(tree.dongying_member.user)
    assert client.get(f"/entries/{entry.pk}/").status_code == 404


def test_review_page_approves_and_watch_page_plays_inline(
    client: Client,
    live: Campaign,
    tree: Tree,
    clip: Callable[..., Path],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """定西's officer approves from the queue page; the public page then plays the MP4 inline
    with its poster, and the gallery lists it. Before approval only the author and the zone's
    reviewers can fetch the video."""
    worker = tree.anding_member.user
    client.force_login(worker)
    upload = stored_upload(worker, clip(), settings)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/entries/new/{live.slug}/", _form(live, str(upload.pk)))
    tasks.run_pending()
    entry = Entry.objects.get()
    client.logout()
    # Before approval the video is the author's and the zone's reviewers' only.
    assert client.get(entry.video.url).status_code == 404
    assert client.get(entry.poster.url).status_code == 404
    client.force_login(tree.other_officer)
    assert "我的快递路" not in client.get("/entries/review/").content.decode()
    assert client.get(entry.video.url).status_code == 404
    client.force_login(worker)
    assert client.get(entry.video.url, HTTP_RANGE="bytes=0-9").status_code == 206
    client.force_login(tree.city_officer)
    assert client.get(entry.video.url, HTTP_RANGE="bytes=0-9").status_code == 206
    assert "我的快递路" in client.get("/entries/review/").content.decode()
    client.post("/entries/review/", {"entries": [entry.pk], "decision": "approve"})
    entry.refresh_from_db()
    assert entry.status == Entry.Status.APPROVED
    client.logout()
    html = client.get(f"/entries/watch/{entry.pk}/").content.decode()
    assert "playsinline" in html and entry.video.url in html and entry.poster.url in html
    assert (
        f"/entries/watch/{entry.pk}/"
        in client.get(f"/entries/gallery/{live.slug}/").content.decode()
    )
    video = client.get(entry.video.url, HTTP_RANGE="bytes=0-99")
    assert video.status_code == 206


def test_entry_form_has_one_upload_field(client: Client, live: Campaign, tree: Tree) -> None:
    """The uploader's hidden input is the form's only upload_id, so a browser posts its value."""
    client.force_login(tree.anding_member.user)
    html = client.get(f"/entries/new/{live.slug}/").content.decode()
    assert html.count('name="upload_id"') == 1
