"""tus 1.0.0 over HTTP: creation, offsets, resumption, termination, expiration, refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import io
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils.http import parse_http_date
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saidao.core import clock
from saidao.uploads import services
from saidao.uploads.errors import UploadOffsetMismatch
from saidao.uploads.models import Upload
from saidao.uploads.purposes import UPLOAD_DEFAULT_MAX_SIZE

from .conftest import CAP, Recorder, Worker
from .helpers import (
    COLLECTION,
    OFFSET_TYPE,
    TUS,
    metadata,
    tus_create,
    tus_delete,
    tus_head,
    tus_patch,
    upload_id,
)

Capture = Callable[..., Any]


def _stored(media: Path, pk: str) -> Path:
    return media / Upload.objects.get(pk=pk).storage_key


# --- discovery and creation ---------------------------------------------------------------


def test_options_advertises_version_extensions_and_max_size(client: Client, db: None) -> None:
    """OPTIONS needs no login and names the version, the extensions and the largest cap."""
    resp = client.options(COLLECTION)
    assert resp.status_code == 204
    assert resp["Tus-Resumable"] == "1.0.0"
    assert resp["Tus-Version"] == "1.0.0"
    assert set(resp["Tus-Extension"].split(",")) == {"creation", "termination", "expiration"}
    assert int(resp["Tus-Max-Size"]) >= 1


def test_create_returns_location_expiry_and_stores_metadata(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """POST makes an upload: 201, an absolute Location, Upload-Expires 24 h out (RFC 7231),
    the decoded metadata (Chinese file name included) and an empty part file."""
    before = clock.now()
    resp = tus_create(client, worker, 1000, filename="安定区快递员.mp4")
    assert resp.status_code == 201, resp.content
    assert resp["Tus-Resumable"] == "1.0.0"
    assert resp["Location"].startswith("http://testserver/uploads/tus/")
    upload = Upload.objects.get(pk=upload_id(resp))
    assert upload.owner == worker.user
    assert (upload.purpose, upload.filename, upload.content_type) == (
        "test",
        "安定区快递员.mp4",
        "video/mp4",
    )
    assert upload.metadata["filename"] == "安定区快递员.mp4"
    assert upload.declared_size == 1000 and upload.offset == 0 and upload.max_size == CAP
    assert upload.backend == Upload.Backend.LOCAL and upload.status == Upload.Status.UPLOADING
    assert upload.storage_key == f"uploads/{upload.pk}.mp4.part"
    assert (media / upload.storage_key).read_bytes() == b""
    expires = dt.datetime.fromtimestamp(parse_http_date(resp["Upload-Expires"]), tz=dt.UTC)
    assert resp["Upload-Expires"].endswith(" GMT")
    upload.refresh_from_db()
    age_at_expiry = upload.expires_at - upload.created_at
    assert abs(age_at_expiry - dt.timedelta(hours=24)) < dt.timedelta(seconds=1)
    assert abs(expires - (before + dt.timedelta(hours=24))) < dt.timedelta(seconds=2)
    assert completed.calls == []


def test_zero_byte_upload_completes_at_once_and_calls_the_handler_once(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """Upload-Length: 0 is complete on creation: empty file, SHA-256 of nothing, handler once."""
    with django_capture_on_commit_callbacks(execute=True):
        resp = tus_create(client, worker, 0, filename="empty.txt", filetype="text/plain")
    assert resp.status_code == 201, resp.content
    pk = upload_id(resp)
    upload = Upload.objects.get(pk=pk)
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(b"").hexdigest()
    assert upload.storage_key == f"uploads/{pk}.txt"
    assert (media / upload.storage_key).read_bytes() == b""
    assert completed.calls == [upload.pk]
    head = tus_head(client, worker, resp["Location"])
    assert (head.status_code, head["Upload-Offset"], head["Upload-Length"]) == (200, "0", "0")
    with django_capture_on_commit_callbacks(execute=True):
        again = tus_patch(client, worker, resp["Location"], 0, b"")
    assert again.status_code == 204
    assert completed.calls == [upload.pk]


def test_declared_size_over_the_cap_is_refused_before_anything_is_stored(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """Upload-Length above the purpose's cap: 413, no row, no file."""
    resp = tus_create(client, worker, CAP + 1)
    assert resp.status_code == 413
    assert resp.json()["code"] == "upload_too_large"
    assert resp.json()["detail"]["max_size"] == CAP
    assert resp["Tus-Resumable"] == "1.0.0"
    assert not Upload.objects.exists()
    assert list(media.rglob("*")) == []
    assert tus_create(client, worker, CAP).status_code == 201


def test_unregistered_purpose_uses_no_default_and_is_refused(
    client: Client, worker: Worker, media: Path
) -> None:
    """A purpose no app registered is refused (400): its file would have no one to take it."""
    resp = tus_create(client, worker, 10, purpose="nobody")
    assert resp.status_code == 400
    assert resp.json()["code"] == "upload_purpose_unknown"
    assert not Upload.objects.exists()
    assert UPLOAD_DEFAULT_MAX_SIZE == 500 * 1024 * 1024


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Upload-Length": "-1"}, "invalid"),
        ({"Upload-Length": "ten"}, "invalid"),
        ({"Upload-Length": "", "Upload-Defer-Length": "1"}, "invalid"),
        ({"Upload-Metadata": "filename not-base64!"}, "invalid"),
        ({"Upload-Metadata": "purpose dGVzdA==,purpose dGVzdA=="}, "invalid"),
    ],
)
def test_bad_creation_headers_are_400(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    headers: dict[str, str],
    code: str,
) -> None:
    """A malformed Upload-Length, deferred length or Upload-Metadata is a 400 and no upload."""
    h = {**TUS, **worker.auth, "Upload-Length": "10", "Upload-Metadata": metadata(purpose="test")}
    h.update(headers)
    if h["Upload-Length"] == "":
        del h["Upload-Length"]
    resp = client.post(COLLECTION, headers=h)
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == code
    assert not Upload.objects.exists()


@pytest.mark.parametrize("version", ["0.2.2", "", None])
def test_wrong_tus_resumable_is_412(
    client: Client, worker: Worker, media: Path, completed: Recorder, version: str | None
) -> None:
    """Any request but OPTIONS without Tus-Resumable: 1.0.0 gets 412 and the Tus-Version."""
    created = tus_create(client, worker, 10)
    headers = {**worker.auth, "Upload-Length": "10", "Upload-Metadata": metadata(purpose="test")}
    if version is not None:
        headers["Tus-Resumable"] = version
    resp = client.post(COLLECTION, headers=headers)
    assert resp.status_code == 412
    assert resp["Tus-Version"] == "1.0.0"
    assert Upload.objects.count() == 1
    patch = client.generic(
        "PATCH",
        created["Location"],
        data=b"x",
        content_type=OFFSET_TYPE,
        headers={**headers, "Upload-Offset": "0"},
    )
    assert patch.status_code == 412
    assert client.head(created["Location"], headers=headers).status_code == 412


def test_anonymous_and_bad_tokens_are_401(client: Client, db: None, completed: Recorder) -> None:
    """No session and no token, or a token that is not ours: 401 and nothing created."""
    assert tus_create(client, None, 10).status_code == 401
    resp = tus_create(client, None, 10, headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "not_authenticated"
    assert not Upload.objects.exists()


def test_session_users_need_the_csrf_header_bearer_users_do_not(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """With CSRF enforced: a session POST without X-CSRFToken is 403; with it, 201; a bearer
    token needs none."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker.user)
    assert tus_create(client, None, 10).status_code == 403
    client.get("/accounts/login/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    ok = tus_create(client, None, 10, headers={"X-CSRFToken": token})
    assert ok.status_code == 201, ok.content
    patch = tus_patch(client, None, ok["Location"], 0, b"0123456789")
    assert patch.status_code == 403
    assert Upload.objects.get(pk=upload_id(ok)).offset == 0
    patch = tus_patch(client, None, ok["Location"], 0, b"01234", headers={"X-CSRFToken": token})
    assert patch.status_code == 204
    anonymous = Client(enforce_csrf_checks=True)
    assert tus_create(anonymous, worker, 10).status_code == 201


# --- appending ----------------------------------------------------------------------------


def test_patch_appends_and_completes_with_the_right_sha256(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """Two PATCHes fill the file: offsets advance, the last one completes it (handler once),
    and the stored file loses its .part suffix."""
    data = bytes(range(256)) * 40
    created = tus_create(client, worker, len(data))
    url = created["Location"]
    first = tus_patch(client, worker, url, 0, data[:4000])
    assert first.status_code == 204
    assert first["Upload-Offset"] == "4000"
    assert "Upload-Expires" in first
    with django_capture_on_commit_callbacks(execute=True):
        last = tus_patch(client, worker, url, 4000, data[4000:])
    assert last.status_code == 204
    assert last["Upload-Offset"] == str(len(data))
    upload = Upload.objects.get(pk=upload_id(created))
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.completed_at is not None
    assert not upload.storage_key.endswith(".part")
    assert (media / upload.storage_key).read_bytes() == data
    assert not (media / f"{upload.storage_key}.part").exists()
    assert completed.calls == [upload.pk]


def test_wrong_content_type_is_415_and_writes_nothing(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """A PATCH not typed application/offset+octet-stream is refused with 415."""
    created = tus_create(client, worker, 10)
    resp = tus_patch(client, worker, created["Location"], 0, b"abc", content_type="text/plain")
    assert resp.status_code == 415
    assert _stored(media, upload_id(created)).read_bytes() == b""
    assert Upload.objects.get(pk=upload_id(created)).offset == 0


def test_chunk_beyond_the_declared_length_is_413_and_the_file_is_unchanged(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """No PATCH may write past Upload-Length: 413, not a byte written, offset unchanged."""
    created = tus_create(client, worker, 10)
    url = created["Location"]
    assert tus_patch(client, worker, url, 0, b"abcd").status_code == 204
    resp = tus_patch(client, worker, url, 4, b"efghijklmnop")
    assert resp.status_code == 413
    assert resp.json()["code"] == "upload_beyond_length"
    assert _stored(media, upload_id(created)).read_bytes() == b"abcd"
    assert Upload.objects.get(pk=upload_id(created)).offset == 4
    assert tus_patch(client, worker, url, 4, b"efghij").status_code == 204


def test_stale_offset_is_409_with_the_current_offset(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """A PATCH at an offset other than the stored one: 409, Upload-Offset says where to go on."""
    created = tus_create(client, worker, 10)
    url = created["Location"]
    assert tus_patch(client, worker, url, 0, b"abcd").status_code == 204
    for stale in (0, 2, 6):
        resp = tus_patch(client, worker, url, stale, b"xy")
        assert resp.status_code == 409
        assert resp["Upload-Offset"] == "4"
        assert resp.json()["detail"]["offset"] == 4
    assert _stored(media, upload_id(created)).read_bytes() == b"abcd"


def test_missing_upload_offset_is_400(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """PATCH needs Upload-Offset."""
    created = tus_create(client, worker, 10)
    resp = client.generic(
        "PATCH",
        created["Location"],
        data=b"x",
        content_type=OFFSET_TYPE,
        headers={**TUS, **worker.auth},
    )
    assert resp.status_code == 400


def test_head_reports_offset_length_metadata_and_no_store(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """HEAD: Upload-Offset, Upload-Length, the metadata re-encoded, Cache-Control: no-store."""
    created = tus_create(client, worker, 10, filename="定西.mov", filetype="video/quicktime")
    tus_patch(client, worker, created["Location"], 0, b"abc")
    resp = tus_head(client, worker, created["Location"])
    assert resp.status_code == 200
    assert resp.content == b""
    assert (resp["Upload-Offset"], resp["Upload-Length"]) == ("3", "10")
    assert resp["Cache-Control"] == "no-store"
    assert resp["Tus-Resumable"] == "1.0.0"
    assert parse_http_date(resp["Upload-Expires"]) > time.time()
    pairs = dict(p.split(" ") for p in resp["Upload-Metadata"].split(","))
    assert pairs["filename"] == metadata(filename="定西.mov").split(" ")[1]
    assert pairs["purpose"] == metadata(purpose="test").split(" ")[1]


def test_method_override_lets_post_stand_in_for_patch(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """X-HTTP-Method-Override: PATCH on a POST appends (for proxies that drop PATCH)."""
    created = tus_create(client, worker, 3)
    resp = client.post(
        created["Location"],
        data=b"abc",
        content_type=OFFSET_TYPE,
        headers={**TUS, **worker.auth, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"},
    )
    assert resp.status_code == 204
    assert Upload.objects.get(pk=upload_id(created)).status == Upload.Status.COMPLETE


def test_another_users_upload_is_404(
    client: Client, worker: Worker, other_worker: Worker, media: Path, completed: Recorder
) -> None:
    """Someone else's upload does not exist for you: HEAD, PATCH and DELETE are all 404."""
    created = tus_create(client, worker, 10)
    url = created["Location"]
    assert tus_head(client, other_worker, url).status_code == 404
    patch = tus_patch(client, other_worker, url, 0, b"abc")
    assert patch.status_code == 404
    assert patch.json()["code"] == "upload_not_found"
    assert tus_delete(client, other_worker, url).status_code == 404
    assert _stored(media, upload_id(created)).read_bytes() == b""
    assert Upload.objects.get(pk=upload_id(created)).status == Upload.Status.UPLOADING


def test_terminated_upload_is_gone_afterwards(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """DELETE frees the file (204); from then on HEAD, PATCH and DELETE answer 410."""
    created = tus_create(client, worker, 10)
    url = created["Location"]
    tus_patch(client, worker, url, 0, b"abc")
    part = _stored(media, upload_id(created))
    assert part.exists()
    resp = tus_delete(client, worker, url)
    assert resp.status_code == 204
    assert resp["Tus-Resumable"] == "1.0.0"
    assert not part.exists()
    assert Upload.objects.get(pk=upload_id(created)).status == Upload.Status.ABORTED
    assert tus_head(client, worker, url).status_code == 410
    assert tus_patch(client, worker, url, 3, b"def").status_code == 410
    assert tus_delete(client, worker, url).status_code == 410
    assert completed.calls == []


def test_a_complete_upload_cannot_be_terminated(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """Once complete the file belongs to its purpose: DELETE is 409 and the file stays."""
    created = tus_create(client, worker, 3)
    tus_patch(client, worker, created["Location"], 0, b"abc")
    resp = tus_delete(client, worker, created["Location"])
    assert resp.status_code == 409
    assert _stored(media, upload_id(created)).read_bytes() == b"abc"


def test_an_upload_past_its_deadline_is_410_before_the_sweep(
    client: Client, worker: Worker, media: Path, completed: Recorder
) -> None:
    """After 24 h an unfinished upload is gone even before `uploads expire` has run."""
    created = tus_create(client, worker, 10)
    Upload.objects.filter(pk=upload_id(created)).update(
        expires_at=clock.now() - dt.timedelta(seconds=1)
    )
    assert tus_head(client, worker, created["Location"]).status_code == 410
    resp = tus_patch(client, worker, created["Location"], 0, b"abc")
    assert resp.status_code == 410
    assert resp.json()["code"] == "upload_gone"


def test_finishing_twice_processes_once(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """The final PATCH repeated (a retry after a lost response) is 409 with the final offset,
    an empty PATCH at the end is a no-op 204, a byte more is 413: the handler ran once."""
    created = tus_create(client, worker, 6)
    url = created["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        assert tus_patch(client, worker, url, 0, b"abc").status_code == 204
        assert tus_patch(client, worker, url, 3, b"def").status_code == 204
        repeated = tus_patch(client, worker, url, 3, b"def")
        empty = tus_patch(client, worker, url, 6, b"")
        more = tus_patch(client, worker, url, 6, b"g")
    assert (repeated.status_code, repeated["Upload-Offset"]) == (409, "6")
    assert (empty.status_code, empty["Upload-Offset"]) == (204, "6")
    assert more.status_code == 413
    upload = Upload.objects.get(pk=upload_id(created))
    assert completed.calls == [upload.pk]
    assert (media / upload.storage_key).read_bytes() == b"abcdef"


# --- resuming -----------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.binary(min_size=1, max_size=3000),
    steps=st.lists(
        st.tuples(st.integers(1, 1200), st.floats(0, 1), st.booleans()), min_size=1, max_size=8
    ),
)
def test_interrupted_upload_resumed_in_pieces_has_the_original_sha256(
    client: Client,
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
    data: bytes,
    steps: list[tuple[int, float, bool]],
) -> None:
    """Random bytes sent in random pieces, some cut off part-way (the connection dropped, the
    client does not know what arrived) and some after a "reload" (the client forgot its
    offset and asks with HEAD): the stored file hashes like the original, handler once."""
    with django_capture_on_commit_callbacks(execute=True):
        created = tus_create(client, worker, len(data))
        url, pk = created["Location"], upload_id(created)
        known: int | None = 0
        for size, kept, reload in steps:
            if known is None or reload:
                head = tus_head(client, worker, url)
                assert head.status_code == 200
                known = int(head["Upload-Offset"])
            if known >= len(data):
                break
            piece = data[known : known + size]
            if kept < 1:
                # The connection drops after part of the body: what arrived is kept.
                arrived = piece[: int(len(piece) * kept)]
                upload = Upload.objects.get(pk=pk)
                services.upload_append(
                    upload=upload, offset=known, stream=io.BytesIO(arrived), length=len(piece)
                )
                known = None
            else:
                resp = tus_patch(client, worker, url, known, piece)
                assert resp.status_code == 204, resp.content
                known = int(resp["Upload-Offset"])
        head = tus_head(client, worker, url)
        rest = int(head["Upload-Offset"])
        if rest < len(data):
            assert tus_patch(client, worker, url, rest, data[rest:]).status_code == 204
    upload = Upload.objects.get(pk=pk)
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert (media / upload.storage_key).read_bytes() == data
    assert completed.calls.count(upload.pk) == 1


def test_concurrent_patches_at_one_offset_do_not_interleave(
    transactional_db: None, worker: Worker, media: Path, completed: Recorder
) -> None:
    """Two appends at the same offset at once: the second waits for the first (file lock and
    row lock), then finds the offset moved and gets 409; the file holds one of them whole."""
    upload = services.upload_create(owner=worker.user, purpose="test", declared_size=200_000)
    first_started = threading.Event()
    release = threading.Event()
    results: dict[str, Any] = {}

    class SlowBody(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            first_started.set()
            release.wait(5)
            return super().read(size)

    def append(name: str, stream: io.BytesIO) -> None:
        from django.db import connection

        try:
            results[name] = services.upload_append(
                upload=Upload.objects.get(pk=upload.pk), offset=0, stream=stream, length=100_000
            ).offset
        except UploadOffsetMismatch as e:
            results[name] = e
        finally:
            connection.close()

    a = threading.Thread(target=append, args=("a", SlowBody(b"a" * 100_000)))
    b = threading.Thread(target=append, args=("b", io.BytesIO(b"b" * 100_000)))
    a.start()
    assert first_started.wait(5)
    b.start()
    time.sleep(0.3)  # b is now blocked behind a's lock
    assert "b" not in results
    release.set()
    a.join(10)
    b.join(10)
    assert results["a"] == 100_000
    assert isinstance(results["b"], UploadOffsetMismatch)
    assert results["b"].detail == {"offset": 100_000}
    upload.refresh_from_db()
    assert upload.offset == 100_000
    assert (media / upload.storage_key).read_bytes() == b"a" * 100_000


@pytest.mark.parametrize("drop_at", [0.1, 0.6])
def test_live_upload_survives_a_dropped_connection(
    live_server: Any, worker: Worker, media: Path, completed: Recorder, drop_at: float
) -> None:
    """Over real HTTP: chunks go up by urllib; one PATCH is cut off mid-body by closing the
    socket; the client asks the server for its offset (HEAD) and resumes from there. The
    stored file's SHA-256 equals the original's and the handler ran once (after commit)."""
    data = hashlib.sha256(b"seed").digest() * 12_000  # 384,000 bytes
    chunk = 100_000
    base = live_server.url
    auth = {**TUS, **worker.auth}

    def call(
        method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Any:
        assert url.startswith(base)
        req = urllib.request.Request(  # noqa: S310 (our live server)
            url, data=body or None, method=method, headers={**auth, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (our live server)
                return resp.status, resp.headers
        except urllib.error.HTTPError as e:
            return e.code, e.headers

    meta = metadata(filename="直播.mp4", filetype="video/mp4", purpose="test")
    status, headers = call(
        "POST",
        f"{base}/uploads/tus/",
        headers={"Upload-Length": str(len(data)), "Upload-Metadata": meta},
    )
    assert status == 201
    url = headers["Location"]
    assert url.startswith(base)

    status, headers = call(
        "PATCH", url, data[:chunk], {"Upload-Offset": "0", "Content-Type": OFFSET_TYPE}
    )
    assert (status, headers["Upload-Offset"]) == (204, str(chunk))

    # The connection drops part-way through the second chunk's body.
    sent = int(chunk * drop_at)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.putrequest("PATCH", parts.path)
    for k, v in {
        **auth,
        "Upload-Offset": str(chunk),
        "Content-Type": OFFSET_TYPE,
        "Content-Length": str(chunk),
    }.items():
        conn.putheader(k, v)
    conn.endheaders()
    assert conn.sock is not None
    conn.sock.sendall(data[chunk : chunk + sent])
    conn.sock.close()
    conn.close()

    # "Reload": ask where the server got to, and go on from there.
    offset = -1
    for _attempt in range(50):
        status, headers = call("HEAD", url)
        assert status == 200
        offset = int(headers["Upload-Offset"])
        if offset > chunk:
            break  # the server has stored what arrived before the drop
        time.sleep(0.05)
    assert offset == chunk + sent  # the bytes that arrived before the drop were kept
    while offset < len(data):
        piece = data[offset : offset + chunk]
        status, headers = call(
            "PATCH", url, piece, {"Upload-Offset": str(offset), "Content-Type": OFFSET_TYPE}
        )
        assert status == 204
        offset = int(headers["Upload-Offset"])

    upload = Upload.objects.get(pk=url.rsplit("/", 1)[-1])
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert (media / upload.storage_key).read_bytes() == data
    assert completed.calls == [upload.pk]
