"""tus PATCH under ``saidao serve``: the ASGI application (uvicorn, as served) streams each body
into the upload's file as it arrives (``saidao.uploads.asgi``)."""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from django.test import Client

from saidao.accounts.tests.factories import UserFactory
from saidao.uploads.asgi import tus_streaming_close
from saidao.uploads.models import Upload

from .conftest import Recorder, Worker
from .helpers import OFFSET_TYPE, TUS, metadata

pytestmark = pytest.mark.django_db(transaction=True)

DATA = hashlib.sha256(b"seed").digest() * 40_000  # 1,280,000 bytes
CHUNK = 400_000


@pytest.fixture
def server(media: Path, connections_closed_after_each_request: None) -> Iterator[tuple[str, int]]:
    """``saidao.config.asgi.application`` under uvicorn on a free port of 127.0.0.1."""
    from saidao.config.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(application, lifespan="off", log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield "127.0.0.1", sock.getsockname()[1]
    uv.should_exit = True
    thread.join(10)
    sock.close()
    tus_streaming_close()  # the uploads thread's kept connection


def _call(
    server: tuple[str, int],
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(*server, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _create(server: tuple[str, int], auth: dict[str, str], size: int = len(DATA)) -> str:
    meta = metadata(filename="长江.mp4", filetype="video/mp4", purpose="test")
    r = _call(
        server,
        "POST",
        "/uploads/tus/",
        headers={**TUS, **auth, "Upload-Length": str(size), "Upload-Metadata": meta},
    )
    assert r.status == 201
    return "/uploads/tus/" + (r.getheader("Location") or "").rsplit("/", 1)[-1]


def _patch(
    server: tuple[str, int], auth: dict[str, str], path: str, offset: int, body: bytes
) -> http.client.HTTPResponse:
    headers = {**TUS, **auth, "Upload-Offset": str(offset), "Content-Type": OFFSET_TYPE}
    return _call(server, "PATCH", path, body, headers)


def _head_offset(server: tuple[str, int], auth: dict[str, str], path: str) -> int:
    r = _call(server, "HEAD", path, headers={**TUS, **auth})
    assert r.status == 200
    return int(r.getheader("Upload-Offset") or -1)


def _open_patch(
    server: tuple[str, int], auth: dict[str, str], path: str, offset: int, length: int
) -> socket.socket:
    """A PATCH whose headers are sent and whose body is not (yet)."""
    sock = socket.create_connection(server, timeout=10)
    lines = [
        f"PATCH {path} HTTP/1.1",
        f"Host: {server[0]}:{server[1]}",
        "Tus-Resumable: 1.0.0",
        *(f"{k}: {v}" for k, v in auth.items()),
        f"Upload-Offset: {offset}",
        f"Content-Type: {OFFSET_TYPE}",
        f"Content-Length: {length}",
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _read_status(sock: socket.socket) -> tuple[int, str]:
    """The status and headers of the answer on a raw connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        piece = sock.recv(65536)
        assert piece, "the server closed the connection without answering"
        received += piece
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return int(head.split(" ", 2)[1]), head


def _wait_offset(server: tuple[str, int], auth: dict[str, str], path: str, want: int) -> int:
    offset = -1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        offset = _head_offset(server, auth, path)
        if offset == want:
            break
        time.sleep(0.02)
    return offset


def _wait_part_size(media: Path, path: str, want: int) -> None:
    """Until the upload's part file holds ``want`` bytes (a loaded machine is slow to write)."""
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        part = media / upload.storage_key
        if part.exists() and part.stat().st_size >= want:
            return
        time.sleep(0.02)
    raise AssertionError(f"the part file never held {want} bytes")


def test_pieces_stream_into_the_file_and_complete_once(
    server: tuple[str, int], worker: Worker, media: Path, completed: Recorder
) -> None:
    """PATCHes of 400 kB go straight to the part file; the last completes the upload with the
    file's SHA-256, drops ``.part``, answers without Upload-Expires and runs the handler once."""
    path = _create(server, worker.auth)
    offset = 0
    while offset < len(DATA):
        r = _patch(server, worker.auth, path, offset, DATA[offset : offset + CHUNK])
        assert r.status == 204
        assert r.getheader("Tus-Resumable") == "1.0.0"
        offset = int(r.getheader("Upload-Offset") or -1)
        if offset < len(DATA):
            assert r.getheader("Upload-Expires")
    assert offset == len(DATA)
    assert r.getheader("Upload-Expires") is None
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(DATA).hexdigest()
    assert (media / upload.storage_key).read_bytes() == DATA
    assert not upload.storage_key.endswith(".part")
    assert completed.calls == [upload.pk]
    again = _patch(server, worker.auth, path, len(DATA), b"")
    assert (again.status, again.getheader("Upload-Offset")) == (204, str(len(DATA)))
    assert completed.calls == [upload.pk]


def test_a_piece_cut_short_keeps_what_arrived_and_the_upload_resumes(
    server: tuple[str, int], worker: Worker, media: Path, completed: Recorder
) -> None:
    """Half of a piece is sent and the connection dropped: HEAD shows the offset moved by those
    bytes; resuming from there completes the upload with the original's SHA-256."""
    path = _create(server, worker.auth)
    assert _patch(server, worker.auth, path, 0, DATA[:CHUNK]).status == 204
    half = CHUNK // 2 + 123
    sock = _open_patch(server, worker.auth, path, CHUNK, CHUNK)
    sock.sendall(DATA[CHUNK : CHUNK + half])
    sock.close()

    offset = _wait_offset(server, worker.auth, path, CHUNK + half)
    assert offset == CHUNK + half
    while offset < len(DATA):
        r = _patch(server, worker.auth, path, offset, DATA[offset : offset + CHUNK])
        assert r.status == 204
        offset = int(r.getheader("Upload-Offset") or -1)
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert upload.status == Upload.Status.COMPLETE
    assert upload.sha256 == hashlib.sha256(DATA).hexdigest()
    assert hashlib.sha256((media / upload.storage_key).read_bytes()).hexdigest() == upload.sha256
    assert completed.calls == [upload.pk]


def test_refusals_come_before_any_byte_of_the_body(
    server: tuple[str, int], worker: Worker, other_worker: Worker, media: Path, completed: Recorder
) -> None:
    """A stale offset (409 with the stored offset), a piece longer than what is left (413),
    a bad token (401) and someone else's upload (404) are answered while the body has not
    been sent at all; nothing is written."""
    path = _create(server, worker.auth, size=1000)
    assert _patch(server, worker.auth, path, 0, b"x" * 100).status == 204
    cases = [
        (worker.auth, 0, 10, 409),
        (worker.auth, 100, 901, 413),
        ({"Authorization": "Bearer nope"}, 100, 10, 401),
        (other_worker.auth, 100, 10, 404),
    ]
    for auth, offset, length, status in cases:
        sock = _open_patch(server, auth, path, offset, length)
        got, head = _read_status(sock)
        sock.close()
        assert got == status, head
        if status == 409:
            assert "upload-offset: 100" in head.lower()  # header names are case-free
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert upload.offset == 100
    assert (media / upload.storage_key).read_bytes() == b"x" * 100


def test_a_chunked_body_past_the_declared_size_is_cut_back(
    server: tuple[str, int], worker: Worker, media: Path, completed: Recorder
) -> None:
    """Without Content-Length (chunked), a body going past the declared size is 413 and the
    file and offset are as before; the connection can go on."""
    path = _create(server, worker.auth, size=10)
    assert _patch(server, worker.auth, path, 0, b"abc").status == 204
    conn = http.client.HTTPConnection(*server, timeout=10)
    headers = {**TUS, **worker.auth, "Upload-Offset": "3", "Content-Type": OFFSET_TYPE}
    conn.request("PATCH", path, body=iter([b"defgh", b"ijklmnop"]), headers=headers)
    r = conn.getresponse()
    r.read()
    conn.close()
    assert r.status == 413
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert upload.offset == 3
    assert (media / upload.storage_key).read_bytes() == b"abc"
    assert _patch(server, worker.auth, path, 3, b"defghij").status == 204


def test_a_newer_patch_takes_over_one_whose_client_went_silent(
    server: tuple[str, int], worker: Worker, media: Path, completed: Recorder
) -> None:
    """A phone's connection dies without the server noticing; the phone comes back and sends
    again from its old offset. The stalled PATCH stops and keeps what it got, the new one is
    told the offset (409), and the upload goes on from there to the right SHA-256."""
    path = _create(server, worker.auth)
    stalled = _open_patch(server, worker.auth, path, 0, CHUNK)
    stalled.sendall(DATA[:1000])
    assert _wait_offset(server, worker.auth, path, 0) == 0  # nothing committed while it streams
    _wait_part_size(media, path, 1000)  # the 1000 bytes reach the file
    r = _patch(server, worker.auth, path, 0, DATA[:CHUNK])
    assert (r.status, r.getheader("Upload-Offset")) == (409, "1000")
    status, _head = _read_status(stalled)  # the old request is told too, if it is still there
    stalled.close()
    assert status == 409
    offset = 1000
    while offset < len(DATA):
        r = _patch(server, worker.auth, path, offset, DATA[offset : offset + CHUNK])
        assert r.status == 204
        offset = int(r.getheader("Upload-Offset") or -1)
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert upload.sha256 == hashlib.sha256(DATA).hexdigest()


def test_session_users_stream_with_the_csrf_header_and_post_may_stand_in(
    server: tuple[str, int], media: Path, completed: Recorder
) -> None:
    """The page's uploader (session cookie) goes through Django's middleware first: without
    the CSRF header 403 and nothing stored; with it the body streams, also as a POST with
    X-HTTP-Method-Override: PATCH."""
    user = UserFactory.create()
    client = Client()
    client.force_login(user)
    secret = "a" * 32
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={secret}"}
    signed_in = {**cookie, "X-CSRFToken": secret}
    path = _create(server, signed_in, size=6)
    assert _patch(server, cookie, path, 0, b"abc").status == 403
    assert _patch(server, signed_in, path, 0, b"abc").status == 204
    headers = {
        **TUS,
        **signed_in,
        "X-HTTP-Method-Override": "PATCH",
        "Upload-Offset": "3",
        "Content-Type": OFFSET_TYPE,
    }
    r = _call(server, "POST", path, b"def", headers)
    assert (r.status, r.getheader("Upload-Offset")) == (204, "6")
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[-1])
    assert (upload.status, (media / upload.storage_key).read_bytes()) == (
        Upload.Status.COMPLETE,
        b"abcdef",
    )


def test_other_requests_are_django_s(
    server: tuple[str, int], worker: Worker, media: Path, completed: Recorder
) -> None:
    """Only PATCHes of an upload take the streaming path: a PATCH of the collection is the
    view's 405 as before, and other requests are Django's."""
    r = _call(server, "PATCH", "/uploads/tus/", b"x", {**TUS, **worker.auth})
    assert (r.status, r.getheader("Allow")) == (405, "OPTIONS, POST")
    assert _call(server, "GET", "/healthz").status == 200
