from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client

from saidao.core.media import _access, media_access, media_allowed

DATA = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def media_file(settings: Any, tmp_path: Path) -> Iterator[str]:
    """A clip in a folder served to everyone, and files in folders nobody registered."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "clip.mp4").write_bytes(DATA)
    (tmp_path / "open" / "x.part").write_bytes(b"partial")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "whole.mp4").write_bytes(DATA)
    media_access("open/", lambda request, name: True)
    yield "/media/open/clip.mp4"
    _access.pop("open/")


def _body(resp: Any) -> bytes:
    return b"".join(resp.streaming_content)


def test_whole_file_advertises_ranges(client: Client, media_file: str) -> None:
    """Without Range the whole file comes back with Accept-Ranges and the video type."""
    resp = client.get(media_file)
    assert resp.status_code == 200
    assert resp["Accept-Ranges"] == "bytes"
    assert resp["Content-Type"] == "video/mp4"
    assert _body(resp) == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),
        ("bytes=100-", 100, 10239),
        ("bytes=-10", 10230, 10239),
        ("bytes=10000-99999", 10000, 10239),
    ],
)
def test_range_answers_206_with_the_bytes(
    client: Client, media_file: str, header: str, start: int, end: int
) -> None:
    """A byte range is answered 206 with Content-Range and exactly those bytes (as iOS asks)."""
    resp = client.get(media_file, HTTP_RANGE=header)
    assert resp.status_code == 206
    assert resp["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert _body(resp) == DATA[start : end + 1]


def test_unsatisfiable_range_is_416(client: Client, media_file: str) -> None:
    """A range past the end is 416 with the file's size."""
    resp = client.get(media_file, HTTP_RANGE="bytes=20000-")
    assert resp.status_code == 416
    assert resp["Content-Range"] == f"bytes */{len(DATA)}"


def test_partial_uploads_and_traversal_are_not_served(client: Client, media_file: str) -> None:
    """Unfinished uploads and paths outside MEDIA_ROOT are 404."""
    assert client.get("/media/open/x.part").status_code == 404
    assert client.get("/media/../settings.py").status_code == 404
    assert client.get("/media/nope.mp4").status_code == 404


def test_folders_no_app_registered_are_not_served(client: Client, media_file: str) -> None:
    """A file in a folder that no app serves (uploads, certificates, evidence) is 404."""
    assert client.get("/media/uploads/whole.mp4").status_code == 404


def test_the_check_of_the_longest_prefix_decides(media_file: str) -> None:
    """A narrower folder's check overrides its parent's."""
    media_access("open/secret/", lambda request, name: False)
    try:
        assert media_allowed(HttpRequest(), "open/clip.mp4")
        assert not media_allowed(HttpRequest(), "open/secret/a.mp4")
    finally:
        _access.pop("open/secret/")
