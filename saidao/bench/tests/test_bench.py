"""`saidao bench upload` end to end, its peer PUT endpoint, its verification and its report."""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from saidao.accounts.services import api_token_issue
from saidao.accounts.tests.factories import UserFactory
from saidao.bench import upload
from saidao.bench.site import BenchError, BenchSite
from saidao.bench.views import bench_put

# A run small enough for the suite: 6 MB in a 5 MB and a 1 MB PATCH, a 5 s clip.
TINY_RUN = [
    *("--size-mb", "6", "--chunk-mb", "5", "--runs", "1"),
    *("--clip-seconds", "5", "--video-runs", "3"),
]
REQUIRED_NUMBERS = ("resumable_mb_per_s", "plain_put_mb_per_s", "chunk_mb", "probe_ms", "poster_ms")


def _bench_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "saidao.cli", "bench", "upload", *args]


def _gone(pid: int) -> bool:
    """Whether no process with this id runs any more (a zombie would still be there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_json_run_end_to_end_leaves_nothing_behind() -> None:
    """A tiny run prints exactly one JSON object on stdout with the figures, all positive and
    consistent with each other, and stops its server and sandbox and deletes its directory."""
    done = subprocess.run(
        _bench_argv(*TINY_RUN, "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1, done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    assert isinstance(report, dict)
    for key in REQUIRED_NUMBERS:
        assert isinstance(report[key], int | float) and report[key] > 0, key
    assert (report["size_mb"], report["chunk_mb"], report["runs"]) == (6, 5, 1)
    assert report["ratio"] == pytest.approx(
        report["resumable_mb_per_s"] / report["plain_put_mb_per_s"], abs=0.01
    )
    assert report["targets_met"]["all"] == all(
        report["targets_met"][k] for k in ("ratio", "probe_ms", "poster_ms")
    )
    assert report["video"]["cold_start_excluded"] is True
    assert report["video"]["width"] == 1280 and report["video"]["height"] == 720
    # how fast the tests' clips are made is measured here, not asserted in the video tests
    assert report["video"]["synth_test_clip_s"] > 0 and report["video"]["synth_bench_clip_s"] > 0
    assert 0 < report["video"]["synth_test_clip_bytes"] < 1_000_000
    assert _gone(report["server_pid"])
    assert _gone(report["sandbox_pid"])
    assert not Path(report["temp_dir"]).exists()
    assert "stopped" in done.stderr and "removed" in done.stderr


def _wait_for_line(proc: subprocess.Popen[bytes], needle: str, timeout_s: float) -> str:
    """Read the child's stderr until a line contains ``needle``; returns what was read."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([fd], [], [], 0.5)
        if ready:
            data = os.read(fd, 65536)
            if not data:
                break
            seen += data
            if needle.encode() in seen:
                return seen.decode()
    raise AssertionError(f"no {needle!r} within {timeout_s} s: {seen.decode()}")


def test_sigterm_mid_run_stops_the_server_and_deletes_the_directory() -> None:
    """SIGTERM while the uploads run: the command exits with 143 after stopping its server and
    deleting its temporary directory, and prints nothing on stdout."""
    proc = subprocess.Popen(
        _bench_argv("--size-mb", "100", "--runs", "5", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        log = _wait_for_line(proc, "writing", timeout_s=60)
        root = re.search(r"temporary site in (\S+)", log)
        server = re.search(r"server pid (\d+) starting", log)
        assert root is not None and server is not None, log
        proc.send_signal(signal.SIGTERM)
        stdout, _stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert stdout == b""
    assert _gone(int(server.group(1)))
    assert not Path(root.group(1)).exists()


@pytest.mark.django_db
def test_peer_put_stores_the_body_and_answers_its_hash(settings: Any, tmp_path: Path) -> None:
    """PUT /bench/put/<name> with the bearer token stores the body under MEDIA_ROOT/bench and
    answers 201 with its byte count and SHA-256; without a valid token it is a 401."""
    settings.MEDIA_ROOT = tmp_path
    token = api_token_issue(user=UserFactory.create())
    body = os.urandom(200 * 1024 + 7)  # several 64 KiB pieces and a ragged end
    factory = RequestFactory()

    def put(headers: dict[str, str]) -> Any:
        request = factory.put(
            "/bench/put/x", data=body, content_type="application/octet-stream", headers=headers
        )
        return bench_put(request, name="x")

    refused = put({"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert json.loads(refused.content)["code"] == "not_authenticated"
    assert not (tmp_path / "bench" / "x").exists()

    response = put({"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert json.loads(response.content) == {
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    assert (tmp_path / "bench" / "x").read_bytes() == body
    assert list((tmp_path / "bench").iterdir()) == [tmp_path / "bench" / "x"]


def test_peer_put_takes_only_put() -> None:
    """Any other method than PUT is a 405 before anything is read."""
    response = bench_put(
        RequestFactory().post("/bench/put/x", data=b"abc", content_type="application/octet-stream"),
        name="x",
    )
    assert response.status_code == 405


def test_peer_paths_exist_only_in_a_bench_server() -> None:
    """Without SAIDAO_BENCH (as here) /bench/ is not mounted at all."""
    with pytest.raises(Resolver404):
        resolve("/bench/put/x")


def _site(tmp_path: Path) -> BenchSite:
    return BenchSite(
        root=tmp_path,
        var_dir=tmp_path / "var",
        media_root=tmp_path / "media",
        port=1,
        token="unused",
        server_pid=0,
    )


def test_a_corrupted_plain_put_fails_loudly(tmp_path: Path) -> None:
    """A stored file that differs from the source stops the benchmark with BenchError, and so
    does a server answer whose hash or size is wrong; a faithful one passes and is removed."""
    site = _site(tmp_path)
    source = tmp_path / "source.bin"
    source_sha = upload.write_random_file(source, 70_000)
    stored = site.media_root / "bench" / "run-0"
    stored.parent.mkdir(parents=True)
    good = {"bytes": 70_000, "sha256": source_sha}

    stored.write_bytes(source.read_bytes()[:-1] + b"\0")
    with pytest.raises(BenchError, match="corrupted"):
        upload.verify_plain_put(site, "run-0", good, 70_000, source_sha)

    stored.write_bytes(source.read_bytes())
    with pytest.raises(BenchError, match="corrupted"):
        upload.verify_plain_put(site, "run-0", {**good, "bytes": 69_999}, 70_000, source_sha)

    upload.verify_plain_put(site, "run-0", good, 70_000, source_sha)
    assert not stored.exists()


def _report(*, resumable: float, put: float, probe: float, poster: float) -> dict[str, Any]:
    video = {
        "clip_seconds": 5.0,
        "width": 1280,
        "height": 720,
        "duration_s": 5.0,
        "size_bytes": 1000,
        "runs": 3,
        "probe_ms": probe,
        "poster_ms": poster,
        "probe_ms_max": probe,
        "poster_ms_max": poster,
        "sandbox_pid": 2,
    }
    return upload.build_report(
        upload.UploadBenchOptions(size_mb=6, chunk_mb=5, runs=1),
        rates={upload.RESUMABLE: [resumable], upload.PLAIN_PUT: [put]},
        orders=[[upload.RESUMABLE, upload.PLAIN_PUT]],
        video=video,
        server_pid=1,
        temp_dir="/nonexistent",
        elapsed_s=1.0,
    )


def test_targets_are_judged_at_their_limits() -> None:
    """Each target is met exactly at its limit and missed just past it, and the table shows
    every figure with its target and verdict."""
    at_limits = _report(
        resumable=upload.TARGET_RATIO_MIN * 100,
        put=100,
        probe=upload.TARGET_PROBE_MS_MAX,
        poster=upload.TARGET_POSTER_MS_MAX,
    )
    assert at_limits["targets_met"] == {
        "ratio": True,
        "probe_ms": True,
        "poster_ms": True,
        "all": True,
    }
    past = _report(
        resumable=upload.TARGET_RATIO_MIN * 100 - 0.1,
        put=100,
        probe=upload.TARGET_PROBE_MS_MAX + 0.1,
        poster=upload.TARGET_POSTER_MS_MAX + 0.1,
    )
    assert past["targets_met"] == {
        "ratio": False,
        "probe_ms": False,
        "poster_ms": False,
        "all": False,
    }
    table = upload.format_table(past)
    for label in ("resumable (tus) MB/s", "plain PUT MB/s", "resumable / plain PUT"):
        assert label in table
    assert "warm probe ms" in table and "warm poster ms" in table
    verdicts = [line.split()[-1] for line in table.splitlines() if line.endswith(("yes", "NO"))]
    assert verdicts == ["NO", "NO", "NO"]
    assert "all targets met: NO" in table
    assert "cold start is excluded" in table
