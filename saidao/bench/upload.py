"""``saidao bench upload``: our resumable upload beside a plain PUT, and the warm video sandbox.

In one throwaway site (``saidao.bench.site``) a file of random bytes is sent over 127.0.0.1
with ``http.client``, ``runs`` times each way, alternating which goes first:

- *resumable*: the tus path our uploader uses, ``POST /uploads/tus/`` (purpose ``entry``) then
  one ``PATCH`` per chunk, each read from the file and sent with its Content-Length;
- *plain PUT*: the peer, ``PUT /bench/put/<name>``, the whole file in one request.

Each run's clock covers the whole exchange, from the first request to the last answer, so the
resumable side includes its per-request work (Django's middleware, authentication, the offset
checked and updated in the database) and the sync to disk and SHA-256 that complete the upload.
Under ``saidao serve`` each PATCH body streams into the upload's file as it arrives
(``saidao.uploads.asgi``); the peer PUT is an ordinary Django view, whose body Django's ASGI
handler reads whole first (to a temporary file past ``FILE_UPLOAD_MAX_MEMORY_SIZE``).

After every run both stored files are hashed and compared with the source; a mismatch stops
the benchmark. The figures are medians, and the ratio of the two medians is the number to
compare between machines.

Then a short phone-like clip (720p, ``make_bench_clip``) is probed and given a poster by a
pre-forked sandbox child: ``bench_probe_poster`` discards the first probe and poster (the
child's start and the cold page cache), so the medians are what a request pays on a warm child.

MB here is 2**20 bytes, as in ``saidao.uploads.purposes.MB``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import platform
import sqlite3
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse

from saidao.uploads.models import Upload
from saidao.uploads.purposes import MB, upload_purpose_get
from saidao.video.bench import BENCH_SIZE, bench_probe_poster, bench_synth, make_bench_clip
from saidao.video.sandbox import VideoSandbox

from .site import BenchError, BenchSite, Log, bench_site

PURPOSE = "entry"  # registered by saidao.entries; its cap is 500 MB
PUT_PATH = "/bench/put/"  # saidao.bench.urls, mounted only in the benchmark's own server
TUS_VERSION = "1.0.0"
CLIENT_BLOCK = 1 * MB  # http.client's read size when it streams a file body
HASH_BLOCK = 1 * MB

TARGET_RATIO_MIN = 0.70  # resumable at least 70 % of a plain PUT
TARGET_PROBE_MS_MAX = 50.0
TARGET_POSTER_MS_MAX = 100.0

RESUMABLE = "resumable"
PLAIN_PUT = "plain_put"


@dataclass(frozen=True)
class UploadBenchOptions:
    size_mb: float = 200.0
    chunk_mb: float = 5.0
    runs: int = 3
    clip_seconds: float = 120.0
    video_runs: int = 20
    request_timeout_s: float = 120.0
    max_seconds: float = 900.0

    @property
    def size(self) -> int:
        return int(self.size_mb * MB)

    @property
    def chunk(self) -> int:
        return int(self.chunk_mb * MB)


# --- helpers ----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(HASH_BLOCK):
            digest.update(piece)
    return digest.hexdigest()


def write_random_file(path: Path, size: int) -> str:
    """``size`` bytes from ``os.urandom`` (incompressible, like a video); returns their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            piece = os.urandom(min(HASH_BLOCK, left))
            fh.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def _metadata(values: dict[str, str]) -> str:
    return ",".join(
        f"{k} {base64.b64encode(v.encode()).decode('ascii')}" for k, v in values.items()
    )


def _answer(
    conn: http.client.HTTPConnection, what: str, status: int
) -> tuple[http.client.HTTPResponse, bytes]:
    """The response (read to its end, so the connection can be reused) and its body."""
    response = conn.getresponse()
    body = response.read()
    if response.status != status:
        text = body[:500].decode(errors="replace")
        raise BenchError(f"{what}: expected {status}, got {response.status}: {text}")
    return response, body


def _mb_per_s(size: int, seconds: float) -> float:
    return size / MB / seconds


# --- the two paths ----------------------------------------------------------------------------


def resumable_upload(
    site: BenchSite, source: Path, options: UploadBenchOptions
) -> tuple[float, str]:
    """Send ``source`` by tus in chunks; returns the seconds taken and the upload's id."""
    size, chunk = options.size, options.chunk
    common = {"Authorization": f"Bearer {site.token}", "Tus-Resumable": TUS_VERSION}
    metadata = _metadata({"purpose": PURPOSE, "filename": "bench.mp4", "filetype": "video/mp4"})
    conn = site.connection(timeout_s=options.request_timeout_s, blocksize=CLIENT_BLOCK)
    try:
        start = time.perf_counter()
        conn.request(
            "POST",
            reverse("uploads:tus"),
            headers={**common, "Upload-Length": str(size), "Upload-Metadata": metadata},
        )
        created, _body = _answer(conn, "tus POST", 201)
        path = urlsplit(created.getheader("Location") or "").path
        offset = 0
        with source.open("rb") as fh:
            while offset < size:
                data = fh.read(chunk)
                if not data:
                    raise BenchError(f"{source} ended at {offset} of {size} bytes")
                conn.request(
                    "PATCH",
                    path,
                    body=data,
                    headers={
                        **common,
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(len(data)),
                        "Upload-Offset": str(offset),
                    },
                )
                answer, _body = _answer(conn, f"tus PATCH at {offset}", 204)
                offset += len(data)
                if answer.getheader("Upload-Offset") != str(offset):
                    raise BenchError(
                        f"tus PATCH: server offset {answer.getheader('Upload-Offset')}, "
                        f"expected {offset}"
                    )
        seconds = time.perf_counter() - start
    finally:
        conn.close()
    return seconds, path.rstrip("/").rsplit("/", 1)[-1]


def verify_resumable(site: BenchSite, upload_id: str, source_sha256: str) -> None:
    """The upload is complete, its recorded and stored SHA-256 are the source's; then the
    stored file is removed (the next run starts from the same disk state)."""
    query = f"SELECT status, sha256, storage_key FROM {Upload._meta.db_table} WHERE id = ?"  # noqa: S608
    with contextlib.closing(sqlite3.connect(f"file:{site.database}?mode=ro", uri=True)) as db:
        row = db.execute(query, (uuid.UUID(upload_id).hex,)).fetchone()
    if row is None:
        raise BenchError(f"upload {upload_id} is not in the database")
    status, recorded, key = row
    if status != Upload.Status.COMPLETE:
        raise BenchError(f"upload {upload_id} is {status}, not complete")
    stored = site.media_root / key
    actual = sha256_file(stored)
    if not recorded == actual == source_sha256:
        raise BenchError(
            f"resumable upload corrupted: source {source_sha256}, recorded {recorded}, "
            f"stored {actual} ({stored})"
        )
    stored.unlink()


def plain_put(
    site: BenchSite, source: Path, name: str, options: UploadBenchOptions
) -> tuple[float, dict[str, Any]]:
    """Send ``source`` in one PUT; returns the seconds taken and the server's answer."""
    conn = site.connection(timeout_s=options.request_timeout_s, blocksize=CLIENT_BLOCK)
    try:
        start = time.perf_counter()
        with source.open("rb") as fh:
            conn.request(
                "PUT",
                f"{PUT_PATH}{name}",
                body=fh,
                headers={
                    "Authorization": f"Bearer {site.token}",
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(options.size),
                },
            )
            _response, body = _answer(conn, "plain PUT", 201)
        seconds = time.perf_counter() - start
    finally:
        conn.close()
    result: dict[str, Any] = json.loads(body)
    return seconds, result


def verify_plain_put(
    site: BenchSite, name: str, answer: dict[str, Any], size: int, source_sha256: str
) -> None:
    """The PUT's answer and stored file match the source; then the stored file is removed."""
    stored = site.media_root / "bench" / name
    actual = sha256_file(stored)
    if answer.get("bytes") != size or not answer.get("sha256") == actual == source_sha256:
        raise BenchError(
            f"plain PUT corrupted: source {size} bytes {source_sha256}, answer {answer}, "
            f"stored {actual} ({stored})"
        )
    stored.unlink()


# --- the video sandbox ------------------------------------------------------------------------


def video_bench(root: Path, options: UploadBenchOptions, log: Log) -> dict[str, Any]:
    """Warm probe and poster medians on a 720p clip made once per run in ``root``."""
    clip = root / f"clip-{options.clip_seconds:g}s.mp4"
    synth = bench_synth(root)
    log(f"test clip made in {synth['synth_test_clip_s']:.2f} s")
    if not clip.exists():
        log(f"making a {options.clip_seconds:g} s {BENCH_SIZE[0]}x{BENCH_SIZE[1]} clip")
        start = time.perf_counter()
        make_bench_clip(clip, seconds=options.clip_seconds)
        synth["synth_bench_clip_s"] = round(time.perf_counter() - start, 3)
        log(f"clip made in {time.perf_counter() - start:.1f} s ({clip.stat().st_size} bytes)")
    sandbox = VideoSandbox()  # pre-forked: the child starts now, before anything is timed
    try:
        sandbox_pid = sandbox.pid
        result = bench_probe_poster(clip, runs=options.video_runs, sandbox=sandbox)
    finally:
        sandbox.close()
    result["sandbox_pid"] = sandbox_pid
    result["clip_seconds"] = options.clip_seconds
    return {**result, **synth}


# --- the benchmark ----------------------------------------------------------------------------


def check_options(options: UploadBenchOptions) -> None:
    if options.size < 1 or options.chunk < 1:
        raise BenchError("--size-mb and --chunk-mb must come to at least one byte")
    if options.runs < 1 or options.video_runs < 1:
        raise BenchError("--runs and --video-runs must be at least 1")
    if options.clip_seconds <= 1:
        raise BenchError("--clip-seconds must be more than 1 (the poster is taken at 1 s)")
    cap = upload_purpose_get(PURPOSE).max_size
    if options.size > cap:
        raise BenchError(
            f"--size-mb {options.size_mb:g} is over the {PURPOSE!r} cap of {cap} bytes"
        )


def run_upload_bench(options: UploadBenchOptions, log: Log) -> dict[str, Any]:
    """Run the whole benchmark in a throwaway site; returns the report (see ``format_table``)."""
    check_options(options)
    began = time.monotonic()
    deadline = began + options.max_seconds
    rates: dict[str, list[float]] = {RESUMABLE: [], PLAIN_PUT: []}
    orders: list[list[str]] = []
    with bench_site(log) as site:
        source = site.root / "source.bin"
        log(f"writing {options.size_mb:g} MB of random bytes")
        source_sha256 = write_random_file(source, options.size)
        for run in range(options.runs):
            order = [RESUMABLE, PLAIN_PUT] if run % 2 == 0 else [PLAIN_PUT, RESUMABLE]
            orders.append(order)
            for which in order:
                if time.monotonic() > deadline:
                    raise BenchError(f"over the time budget of {options.max_seconds:g} s")
                if which == RESUMABLE:
                    seconds, upload_id = resumable_upload(site, source, options)
                    verify_resumable(site, upload_id, source_sha256)
                else:
                    name = f"run-{run}"
                    seconds, answer = plain_put(site, source, name, options)
                    verify_plain_put(site, name, answer, options.size, source_sha256)
                rates[which].append(_mb_per_s(options.size, seconds))
                log(f"run {run + 1}/{options.runs} {which}: {rates[which][-1]:.1f} MB/s")
        source.unlink()
        if time.monotonic() > deadline:
            raise BenchError(f"over the time budget of {options.max_seconds:g} s")
        video = video_bench(site.root, options, log)
        server_pid, temp_dir = site.server_pid, str(site.root)
    return build_report(
        options,
        rates=rates,
        orders=orders,
        video=video,
        server_pid=server_pid,
        temp_dir=temp_dir,
        elapsed_s=time.monotonic() - began,
    )


def build_report(
    options: UploadBenchOptions,
    *,
    rates: dict[str, list[float]],
    orders: list[list[str]],
    video: dict[str, Any],
    server_pid: int,
    temp_dir: str,
    elapsed_s: float,
) -> dict[str, Any]:
    resumable = statistics.median(rates[RESUMABLE])
    put = statistics.median(rates[PLAIN_PUT])
    ratio = resumable / put
    met = {
        "ratio": ratio >= TARGET_RATIO_MIN,
        "probe_ms": video["probe_ms"] <= TARGET_PROBE_MS_MAX,
        "poster_ms": video["poster_ms"] <= TARGET_POSTER_MS_MAX,
    }
    return {
        "benchmark": "upload",
        "resumable_mb_per_s": round(resumable, 2),
        "plain_put_mb_per_s": round(put, 2),
        "ratio": round(ratio, 3),
        "chunk_mb": options.chunk_mb,
        "size_mb": options.size_mb,
        "runs": options.runs,
        "probe_ms": video["probe_ms"],
        "poster_ms": video["poster_ms"],
        "targets": {
            "ratio_min": TARGET_RATIO_MIN,
            "probe_ms_max": TARGET_PROBE_MS_MAX,
            "poster_ms_max": TARGET_POSTER_MS_MAX,
        },
        "targets_met": {**met, "all": all(met.values())},
        "resumable_runs_mb_per_s": [round(r, 2) for r in rates[RESUMABLE]],
        "plain_put_runs_mb_per_s": [round(r, 2) for r in rates[PLAIN_PUT]],
        "paired_ratios": [
            round(r / p, 3) for r, p in zip(rates[RESUMABLE], rates[PLAIN_PUT], strict=True)
        ],
        "orders": orders,
        "video": {
            "clip_seconds": video["clip_seconds"],
            "width": video["width"],
            "height": video["height"],
            "duration_s": video["duration_s"],
            "size_bytes": video["size_bytes"],
            "runs": video["runs"],
            "probe_ms_max": video["probe_ms_max"],
            "poster_ms_max": video["poster_ms_max"],
            "cold_start_excluded": True,
            # how fast clips are made (the tests' default one, and the 720p one above)
            "synth_test_clip_s": video.get("synth_test_clip_s"),
            "synth_test_clip_bytes": video.get("synth_test_clip_bytes"),
            "synth_bench_clip_s": video.get("synth_bench_clip_s"),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server_pid": server_pid,
        "sandbox_pid": video["sandbox_pid"],
        "temp_dir": temp_dir,
        "elapsed_s": round(elapsed_s, 1),
    }


def _synth_line(video: dict[str, Any]) -> list[str]:
    if video.get("synth_test_clip_s") is None:
        return []
    line = f"clips made: 121 s 160x120 test clip in {video['synth_test_clip_s']:.2f} s"
    if video.get("synth_bench_clip_s") is not None:
        line += f", {video['clip_seconds']:g} s 720p clip in {video['synth_bench_clip_s']:.1f} s"
    return [line]


def format_table(report: dict[str, Any]) -> str:
    """The report as the table a person reads."""
    targets, met, video = report["targets"], report["targets_met"], report["video"]

    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    rows = [
        ("resumable (tus) MB/s", f"{report['resumable_mb_per_s']:.1f}", "", ""),
        ("plain PUT MB/s", f"{report['plain_put_mb_per_s']:.1f}", "", ""),
        (
            "resumable / plain PUT",
            f"{report['ratio']:.2f}",
            f">= {targets['ratio_min']:.2f}",
            yes(met["ratio"]),
        ),
        (
            "warm probe ms",
            f"{report['probe_ms']:.1f}",
            f"<= {targets['probe_ms_max']:g}",
            yes(met["probe_ms"]),
        ),
        (
            "warm poster ms",
            f"{report['poster_ms']:.1f}",
            f"<= {targets['poster_ms_max']:g}",
            yes(met["poster_ms"]),
        ),
    ]
    header = ("measure", "median", "target", "met")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(cells: tuple[str, str, str, str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    def runs(key: str) -> str:
        return ", ".join(f"{r:.1f}" for r in report[key])

    machine = report["machine"]
    return "\n".join(
        [
            f"saidao bench upload: {report['size_mb']:g} MB file, {report['chunk_mb']:g} MB "
            f"chunks, {report['runs']} run(s) each way, alternating; 127.0.0.1; "
            f"{machine['cpus']} CPUs, Python {machine['python']}",
            "",
            line(header),
            line(tuple("-" * w for w in widths)),  # type: ignore[arg-type]
            *(line(r) for r in rows),
            "",
            f"runs, MB/s: resumable {runs('resumable_runs_mb_per_s')}; "
            f"plain PUT {runs('plain_put_runs_mb_per_s')}; "
            f"paired ratios {', '.join(f'{r:.2f}' for r in report['paired_ratios'])}",
            f"video: {video['clip_seconds']:g} s {video['width']}x{video['height']} H.264 clip "
            f"({video['size_bytes']} bytes), median of {video['runs']} warm calls each "
            f"(max probe {video['probe_ms_max']:.1f} ms, max poster {video['poster_ms_max']:.1f} "
            "ms); the sandbox child is pre-forked and its cold start is excluded",
            *_synth_line(video),
            f"MB = 2^20 bytes; all targets met: {yes(met['all'])}; took {report['elapsed_s']:g} s",
        ]
    )
