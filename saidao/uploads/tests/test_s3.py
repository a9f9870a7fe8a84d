"""Scaled mode end to end against a real S3 server (moto): start, presigned parts, complete."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from saidao.core import clock
from saidao.uploads.models import Upload
from saidao.uploads.s3 import MB, s3_client, s3_part_count, s3_part_size
from saidao.uploads.services import uploads_expire

from .conftest import CAP, Recorder, Worker
from .helpers import tus_create

Capture = Callable[..., Any]
JSON = "application/json"
API = "/api/v1/uploads"


def _post(client: Client, worker: Worker, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{path}", body or {}, content_type=JSON, headers=worker.auth)


def _get(client: Client, worker: Worker, path: str) -> Any:
    return client.get(f"{API}{path}", headers=worker.auth)


def _put(url: str, body: bytes) -> tuple[int, str]:
    req = urllib.request.Request(  # noqa: S310 (moto's server)
        url, data=body, method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (moto's server)
            return resp.status, str(resp.headers["ETag"])
    except urllib.error.HTTPError as e:
        return e.code, ""


def _start(client: Client, worker: Worker, size: int, **extra: Any) -> dict[str, Any]:
    body = {
        "purpose": "test",
        "size": size,
        "filename": "劳动竞赛.mp4",
        "content_type": "video/mp4",
    }
    resp = _post(client, worker, "/s3/start", {**body, **extra})
    assert resp.status_code == 201, resp.content
    data: dict[str, Any] = resp.json()
    return data


def _upload_parts(client: Client, worker: Worker, info: dict[str, Any], data: bytes) -> None:
    numbers = list(range(1, info["part_count"] + 1))
    resp = _post(client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": numbers})
    assert resp.status_code == 200, resp.content
    size = info["part_size"]
    for item in resp.json():
        n = item["part_number"]
        status, _etag = _put(item["url"], data[(n - 1) * size : n * size])
        assert status == 200


def _objects(bucket: str) -> dict[str, int]:
    listing = s3_client().list_objects_v2(Bucket=bucket)
    return {o["Key"]: o["Size"] for o in listing.get("Contents", [])}


def _open_multiparts(bucket: str) -> list[str]:
    listing = s3_client().list_multipart_uploads(Bucket=bucket)
    return [u["UploadId"] for u in listing.get("Uploads", [])]


def test_s3_upload_end_to_end_and_completing_twice_processes_once(
    client: Client,
    worker: Worker,
    bucket: str,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """Start → presigned part URLs → PUT the parts by urllib → list them → complete: the object
    is in the bucket at the storage key, its size checked and its SHA-256 computed; a second
    complete returns the same upload and the handler still ran once."""
    data = os.urandom(5 * MB + 123_457)
    info = _start(client, worker, len(data))
    assert info["backend"] == "s3" and info["status"] == "uploading"
    assert info["part_size"] == 5 * MB and info["part_count"] == 2
    upload = Upload.objects.get(pk=info["id"])
    assert upload.s3_upload_id
    assert upload.storage_key == f"uploads/{upload.pk}.mp4"
    assert upload.metadata["purpose"] == "test"

    _upload_parts(client, worker, info, data)
    parts = _get(client, worker, f"/s3/{info['id']}/parts").json()
    assert [(p["part_number"], p["size"]) for p in parts] == [(1, 5 * MB), (2, 123_457)]

    body = {"parts": [{"part_number": p["part_number"], "etag": p["etag"]} for p in parts]}
    with django_capture_on_commit_callbacks(execute=True):
        done = _post(client, worker, f"/s3/{info['id']}/complete", body)
    assert done.status_code == 200, done.content
    out = done.json()
    assert out["status"] == "complete"
    assert out["offset"] == out["declared_size"] == len(data)
    assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert _objects(bucket) == {upload.storage_key: len(data)}
    stored = s3_client().get_object(Bucket=bucket, Key=upload.storage_key)["Body"].read()
    assert stored == data
    assert completed.calls == [upload.pk]

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, worker, f"/s3/{info['id']}/complete", body)
    assert again.status_code == 200
    assert again.json()["sha256"] == out["sha256"]
    assert completed.calls == [upload.pk]
    assert _post(client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": [1]}).status_code
    assert _open_multiparts(bucket) == []


def test_s3_start_over_the_cap_is_413_and_opens_nothing(
    client: Client, worker: Worker, bucket: str, completed: Recorder
) -> None:
    """A declared size above the purpose's cap: 413 {"code","message","detail"}, no row, no
    multipart upload in the bucket."""
    resp = _post(client, worker, "/s3/start", {"purpose": "test", "size": CAP + 1})
    assert resp.status_code == 413
    body = resp.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == "upload_too_large"
    assert body["message"]
    assert body["detail"] == {"max_size": CAP, "declared_size": CAP + 1}
    assert not Upload.objects.exists()
    assert _open_multiparts(bucket) == []


def test_presigned_urls_are_signed_for_each_parts_exact_length(
    client: Client, worker: Worker, bucket: str, completed: Recorder
) -> None:
    """Every part URL signs its Content-Length: 5 MB but the last, so a client cannot send a
    bigger part than it declared (S3 refuses a request whose signed length differs)."""
    info = _start(client, worker, 7 * MB)
    resp = _post(client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": [2, 1]})
    assert resp.status_code == 200
    urls = resp.json()
    assert [u["part_number"] for u in urls] == [1, 2]
    for u in urls:
        query = parse_qs(urlsplit(u["url"]).query)
        assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")
        assert query["partNumber"] == [str(u["part_number"])]


@pytest.mark.parametrize(
    ("numbers", "status"), [([0], 400), ([3], 400), ([], 400), (list(range(1, 102)), 400)]
)
def test_part_numbers_outside_the_file_are_refused(
    client: Client,
    worker: Worker,
    bucket: str,
    completed: Recorder,
    numbers: list[int],
    status: int,
) -> None:
    """Part numbers run from 1 to the part count, at most 100 per request."""
    info = _start(client, worker, 6 * MB)
    resp = _post(client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": numbers})
    assert resp.status_code == status


def test_missing_or_wrong_sized_parts_refuse_completion_and_keep_the_upload_open(
    client: Client,
    worker: Worker,
    bucket: str,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """Completing without every part, or with a part of the wrong size, is a 400 listing what
    is wrong; the upload stays open, and once fixed completes."""
    data = os.urandom(5 * MB + 10)
    info = _start(client, worker, len(data))
    urls = {
        u["part_number"]: u["url"]
        for u in _post(
            client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": [1, 2]}
        ).json()
    }
    status, etag1 = _put(urls[1], data[: 5 * MB])
    assert status == 200
    resp = _post(
        client, worker, f"/s3/{info['id']}/complete", {"parts": [{"part_number": 1, "etag": etag1}]}
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "upload_incomplete"
    assert resp.json()["detail"]["missing"] == [2]

    status, etag2 = _put(urls[2], data[5 * MB :])
    assert status == 200
    wrong = {"parts": [{"part_number": 1, "etag": etag1}, {"part_number": 2, "etag": '"0"'}]}
    resp = _post(client, worker, f"/s3/{info['id']}/complete", wrong)
    assert resp.status_code == 400
    assert resp.json()["detail"]["wrong_etag"] == [2]
    assert Upload.objects.get(pk=info["id"]).status == Upload.Status.UPLOADING

    right = {"parts": [{"part_number": 1, "etag": etag1}, {"part_number": 2, "etag": etag2}]}
    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(client, worker, f"/s3/{info['id']}/complete", right)
    assert resp.status_code == 200, resp.content
    assert resp.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(completed.calls) == 1


def test_abort_drops_the_parts_and_the_upload_is_gone(
    client: Client, worker: Worker, bucket: str, completed: Recorder
) -> None:
    """Abort: 204, the bucket forgets the multipart upload, and the upload answers 410."""
    info = _start(client, worker, 6 * MB)
    assert len(_open_multiparts(bucket)) == 1
    resp = _post(client, worker, f"/s3/{info['id']}/abort")
    assert resp.status_code == 204
    assert _open_multiparts(bucket) == []
    assert Upload.objects.get(pk=info["id"]).status == Upload.Status.ABORTED
    again = _post(client, worker, f"/s3/{info['id']}/part-urls", {"part_numbers": [1]})
    assert again.status_code == 410
    assert again.json()["code"] == "upload_gone"


def test_another_users_s3_upload_is_404(
    client: Client, worker: Worker, other_worker: Worker, bucket: str, completed: Recorder
) -> None:
    """Part URLs, parts, completion and abort of someone else's upload: 404."""
    info = _start(client, worker, 6 * MB)
    assert _get(client, other_worker, f"/s3/{info['id']}/parts").status_code == 404
    calls: list[tuple[str, dict[str, Any]]] = [
        ("part-urls", {"part_numbers": [1]}),
        ("complete", {"parts": []}),
        ("abort", {}),
    ]
    for path, body in calls:
        resp = _post(client, other_worker, f"/s3/{info['id']}/{path}", body)
        assert resp.status_code == 404
    assert len(_open_multiparts(bucket)) == 1


def test_a_zero_byte_s3_upload_completes_at_once(
    client: Client,
    worker: Worker,
    bucket: str,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """S3 multipart needs one part at least: an empty file is put and completed at start."""
    with django_capture_on_commit_callbacks(execute=True):
        info = _start(client, worker, 0)
    assert info["status"] == "complete"
    assert info["part_count"] == 0
    assert info["sha256"] == hashlib.sha256(b"").hexdigest()
    assert _objects(bucket) == {f"uploads/{info['id']}.mp4": 0}
    assert [str(c) for c in completed.calls] == [info["id"]]


def test_expiry_aborts_unfinished_s3_uploads(
    client: Client, worker: Worker, bucket: str, completed: Recorder
) -> None:
    """`uploads_expire` aborts an S3 upload left unfinished for 24 h and marks it expired."""
    info = _start(client, worker, 6 * MB)
    assert uploads_expire(now=clock.now() + dt.timedelta(hours=24, seconds=1)) == 1
    assert _open_multiparts(bucket) == []
    assert Upload.objects.get(pk=info["id"]).status == Upload.Status.EXPIRED


def test_tus_is_refused_in_scaled_mode(
    client: Client, worker: Worker, bucket: str, media: Path, completed: Recorder
) -> None:
    """With a bucket configured, files must go to the bucket: tus creation is refused."""
    resp = tus_create(client, worker, 10)
    assert resp.status_code == 400
    assert resp.json()["code"] == "upload_wrong_backend"
    assert list(media.rglob("*")) == []


def test_s3_endpoints_without_a_bucket_are_404(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """Embedded mode has no bucket: the S3 endpoints say so."""
    resp = _post(client, worker, "/s3/start", {"purpose": "test", "size": 10})
    assert resp.status_code == 404
    assert resp.json()["code"] == "storage_not_configured"


def test_part_size_grows_for_files_beyond_ten_thousand_parts() -> None:
    """5 MB parts up to 50 GB; above, whole-MB parts so that 10,000 suffice."""
    assert s3_part_size(1) == 5 * MB
    assert s3_part_count(1) == 1
    assert s3_part_count(10 * MB) == 2
    big = 60 * 1024 * MB
    assert s3_part_size(big) % MB == 0
    assert s3_part_count(big) <= 10_000


# --- the script in a real browser, straight to the bucket ---------------------------------

S3_UPLOAD_JS = """
async ([apiUrl, auth, stopAfterPart]) => {
  const n = 5 * 1024 * 1024 + 54321;
  const bytes = new Uint8Array(n);
  let x = 20240813;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; bytes[i] = x >>> 24; }
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const file = new File([bytes], "东营劳动竞赛.mp4",
                        {type: "video/mp4", lastModified: 1723507200000});
  const up = new SaidaoUploads.ResumableUpload(file, {
    mode: "s3", apiUrl, purpose: "test", headers: {Authorization: auth}, retryDelays: [10],
  });
  const seen = [];
  up.addEventListener("progress", (e) => seen.push(e.detail.loaded));
  up.addEventListener("part", (e) => {
    if (e.detail.partNumber === stopAfterPart) up.abort();
  });
  try {
    return {id: await up.start(), seen, digest};
  } catch (err) {
    return {error: err.name + ": " + err.message, seen, digest};
  }
}
"""


@pytest.mark.browser
def test_the_script_uploads_to_the_bucket_and_resumes_after_a_reload(
    live_server: Any,
    browser: Any,
    worker: Worker,
    bucket: str,
    completed: Recorder,
) -> None:
    """In Chromium, scaled mode: the script PUTs parts to presigned URLs (cross-origin, to the
    S3 server), is stopped once the first part is stored, and after a reload lists the parts the
    bucket holds and sends only the missing one; the object hashes like the file."""
    context = browser.new_context()
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        script = f"{live_server.url}/static/uploads/resumable.js"
        api = f"{live_server.url}/api/v1/uploads/"
        auth = f"Bearer {worker.token}"
        page.goto(f"{live_server.url}/healthz")
        page.add_script_tag(url=script)
        first = page.evaluate(S3_UPLOAD_JS, [api, auth, 1])
        assert first["error"].startswith("AbortedError"), first
        upload = Upload.objects.get()
        assert [p["PartNumber"] for p in _parts(bucket, upload)] == [1]

        page.reload()
        page.add_script_tag(url=script)
        second = page.evaluate(S3_UPLOAD_JS, [api, auth, 0])
        assert second.get("error") is None, second
    finally:
        context.close()
    assert second["id"] == str(upload.pk)
    assert second["seen"][0] == 5 * MB  # part 1 was not sent again
    upload.refresh_from_db()
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == second["digest"] == first["digest"]
    assert _objects(bucket) == {upload.storage_key: 5 * MB + 54321}
    assert completed.calls == [upload.pk]


def _parts(bucket: str, upload: Upload) -> list[dict[str, Any]]:
    resp = s3_client().list_parts(
        Bucket=bucket, Key=upload.storage_key, UploadId=upload.s3_upload_id
    )
    parts: list[dict[str, Any]] = resp.get("Parts", [])
    return parts
