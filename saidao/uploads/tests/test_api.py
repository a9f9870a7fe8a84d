"""GET /api/v1/uploads/{id}, the uploader snippet and script, and the admin."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import Client, RequestFactory
from playwright.sync_api import Browser, BrowserContext, Page

from saidao.accounts.tests.factories import UserFactory
from saidao.orgs.models import Role
from saidao.orgs.tests.factories import make_org
from saidao.uploads.models import Upload

from .conftest import PURPOSE, Recorder, Worker
from .helpers import tus_create, tus_patch, upload_id

Capture = Callable[..., Any]


def test_owner_reads_status_offset_size_and_sha256(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """The owner sees an upload's progress, then its SHA-256 once complete."""
    created = tus_create(client, worker, 6)
    pk = upload_id(created)
    tus_patch(client, worker, created["Location"], 0, b"abc")
    resp = client.get(f"/api/v1/uploads/{pk}", headers=worker.auth)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["id"], body["status"], body["offset"], body["declared_size"]) == (
        pk,
        "uploading",
        3,
        6,
    )
    assert body["sha256"] == ""
    assert body["purpose"] == PURPOSE and body["filename"] == "作品.mp4"
    assert body["backend"] == "local" and body["completed_at"] is None
    with django_capture_on_commit_callbacks(execute=True):
        tus_patch(client, worker, created["Location"], 3, b"def")
    body = client.get(f"/api/v1/uploads/{pk}", headers=worker.auth).json()
    assert (body["status"], body["offset"]) == ("complete", 6)
    assert body["sha256"] == hashlib.sha256(b"abcdef").hexdigest()
    assert body["completed_at"]


def test_session_users_read_their_uploads_too(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """A signed-in page (session cookie) reads the same endpoint."""
    pk = upload_id(tus_create(client, worker, 6))
    client.force_login(worker.user)
    assert client.get(f"/api/v1/uploads/{pk}").json()["offset"] == 0


def test_others_and_anonymous_cannot_read_an_upload(
    client: Client, worker: Worker, other_worker: Worker, media: Path, completed: Recorder
) -> None:
    """Someone else's upload is a 404 {"code","message","detail"}; no login is a 401; an id
    that does not exist is a 404 as well."""
    pk = upload_id(tus_create(client, worker, 6))
    resp = client.get(f"/api/v1/uploads/{pk}", headers=other_worker.auth)
    assert resp.status_code == 404
    assert set(resp.json()) == {"code", "message", "detail"}
    assert resp.json()["code"] == "upload_not_found"
    assert client.get(f"/api/v1/uploads/{pk}").status_code == 401
    missing = client.get(f"/api/v1/uploads/{uuid.uuid4()}", headers=worker.auth)
    assert missing.status_code == 404


# --- the snippet and the script -----------------------------------------------------------


def _render(**context: Any) -> str:
    request = RequestFactory().get("/")
    template = Template('{% include "uploads/_uploader.html" with purpose=purpose name=name %}')
    return template.render(Context({"request": request, "csrf_token": "tok", **context}))


def test_uploader_snippet_speaks_tus_in_embedded_mode(db: None, media: Path) -> None:
    """The snippet carries the purpose, the tus endpoint, the CSRF token, Chinese messages,
    a <progress> element, the hidden id field and the script."""
    html = _render(purpose="entry", name="video_upload")
    assert "data-saidao-uploader" in html
    assert 'data-mode="tus"' in html
    assert 'data-tus-url="/uploads/tus/"' in html
    assert 'data-api-url="/api/v1/uploads/"' in html
    assert 'data-purpose="entry"' in html
    assert 'data-csrf="tok"' in html
    assert "<progress" in html
    assert 'name="video_upload"' in html
    assert "上传完成" in html
    assert "uploads/resumable.js" in html


def test_uploader_snippet_speaks_s3_in_scaled_mode(db: None, settings: Any) -> None:
    """With a bucket configured the same snippet switches the script to S3 multipart."""
    settings.AWS_STORAGE_BUCKET_NAME = "media"
    assert 'data-mode="s3"' in _render(purpose="entry", name="v")


def test_the_script_is_a_static_file_of_our_own() -> None:
    """resumable.js is served as a static file and remembers uploads in localStorage."""
    path = finders.find("uploads/resumable.js")
    assert path
    source = Path(str(path)).read_text()
    assert "localStorage" in source and "Upload-Offset" in source
    assert "no third-party code" in source


# --- admin --------------------------------------------------------------------------------


def test_admin_lists_uploads_read_only_for_superusers_only(
    client: Client, worker: Worker, media: Path, completed: Recorder, regions: None
) -> None:
    """A superuser can view uploads (no add, change or delete); an officer sees no uploads."""
    pk = upload_id(tus_create(client, worker, 6))
    admin = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/admin/uploads/upload/").status_code == 200
    page = client.get(f"/admin/uploads/upload/{pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.get("/admin/uploads/upload/add/").status_code == 403

    officer = UserFactory.create()
    Role.objects.create(
        organization=make_org(None, "中华全国总工会", region="110000"),
        user=officer,
        kind=Role.Kind.OFFICER,
    )
    client.force_login(officer)
    assert client.get("/admin/uploads/upload/").status_code == 403


# --- the script in a real browser ---------------------------------------------------------


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(15_000)
    yield context
    context.close()


UPLOAD_JS = """
async ([bytes, auth, chunk, stopAt]) => {
  const file = new File([new Uint8Array(bytes)], "定西快递.mp4",
                        {type: "video/mp4", lastModified: 1723507200000});
  const up = new SaidaoUploads.ResumableUpload(file, {
    purpose: "test", headers: {Authorization: auth}, chunkSize: chunk,
    retryDelays: [10, 20, 40],
  });
  const seen = [];
  up.addEventListener("progress", (e) => {
    seen.push(e.detail.loaded);
    if (stopAt && e.detail.loaded >= stopAt) up.abort();
  });
  try {
    const id = await up.start();
    return {id, seen, offset: up.offset};
  } catch (err) {
    return {error: err.name, seen, offset: up.offset};
  }
}
"""


@pytest.mark.browser
def test_the_script_resumes_after_a_reload(
    live_server: Any, phone: BrowserContext, worker: Worker, media: Path, completed: Recorder
) -> None:
    """In Chromium: the script uploads part of a file, the page reloads, choosing the same file
    again HEADs the remembered upload and sends only the rest; the stored file is intact and
    the handler ran once."""
    data = os.urandom(300_000)
    page: Page = phone.new_page()
    page.goto(f"{live_server.url}/healthz")
    page.add_script_tag(url=f"{live_server.url}/static/uploads/resumable.js")
    auth = f"Bearer {worker.token}"
    first = page.evaluate(UPLOAD_JS, [list(data), auth, 64 * 1024, 100_000])
    assert first["error"] == "AbortedError"
    upload = Upload.objects.get()
    assert 0 < upload.offset < len(data)

    page.reload()
    page.add_script_tag(url=f"{live_server.url}/static/uploads/resumable.js")
    second = page.evaluate(UPLOAD_JS, [list(data), auth, 64 * 1024, 0])
    assert second.get("error") is None, second
    assert second["id"] == str(upload.pk)
    assert second["seen"][0] >= 64 * 1024  # resumed from the server's offset, not restarted
    assert Upload.objects.count() == 1
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert (media / upload.storage_key).read_bytes() == data
    assert completed.calls == [upload.pk]
    remembered = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('saidao-'))")
    assert remembered == []
