"""Timing of the warm sandbox on a phone-sized clip (for ``saidao bench upload``).

``make_bench_clip`` writes a two-minute 1280x720 25 fps H.264/AAC MP4 at a low bitrate (about
1.3 MB; ~6 s to generate on two cores); ``bench_probe_poster`` reports the median warm probe and
poster times in milliseconds; ``bench_synth`` times the making of the tests' default clip.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from saidao.video import synth
from saidao.video.sandbox import VideoSandbox, get_sandbox

BENCH_SECONDS = 120
BENCH_SIZE = (1280, 720)
BENCH_FPS = 25


def make_bench_clip(path: str | os.PathLike[str], *, seconds: float = BENCH_SECONDS) -> Path:
    """A 720p 25 fps H.264/AAC clip with two-second GOPs, like a phone's, at a low bitrate."""
    width, height = BENCH_SIZE
    return synth.make_clip(
        path,
        seconds=seconds,
        width=width,
        height=height,
        fps=BENCH_FPS,
        container="mp4",
        video_codec="h264",
        audio=True,
        sample_rate=48000,
        preset="ultrafast",
        gop_s=2.0,
        threads=0,
    )


def bench_synth(root: str | os.PathLike[str], *, seconds: float = 121) -> dict[str, Any]:
    """Seconds taken to make the test suite's default clip (160x120 10 fps with audio, the
    size the video tests and upload flows use) of ``seconds``, and its size. A figure for the
    benchmark, not a test's verdict: a loaded machine is slower."""
    path = Path(root) / "synth-test-clip.mp4"
    start = time.perf_counter()
    synth.make_clip(path, seconds=seconds)
    took = time.perf_counter() - start
    size = path.stat().st_size
    path.unlink()
    return {"synth_test_clip_s": round(took, 3), "synth_test_clip_bytes": size}


def bench_probe_poster(
    clip_path: str | os.PathLike[str],
    runs: int = 20,
    *,
    sandbox: VideoSandbox | None = None,
    at_s: float = 1.0,
) -> dict[str, Any]:
    """Median milliseconds of ``runs`` warm probes and posters of ``clip_path``.

    One probe and one poster run first, untimed, so the child is started and the file is in
    the page cache; the numbers are what a request pays on a warm sandbox, including the pipe.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    box = sandbox or get_sandbox()
    probe = box.probe(clip_path)
    probe_ms: list[float] = []
    poster_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="saidao-bench-") as tmp:
        out = Path(tmp) / "poster.jpg"
        box.poster(clip_path, out, at_s)
        for _ in range(runs):
            start = time.perf_counter()
            box.probe(clip_path)
            probe_ms.append((time.perf_counter() - start) * 1000)
        for _ in range(runs):
            start = time.perf_counter()
            poster = box.poster(clip_path, out, at_s)
            poster_ms.append((time.perf_counter() - start) * 1000)
    return {
        "clip": os.fspath(clip_path),
        "runs": runs,
        "duration_s": probe.duration_s,
        "width": probe.width,
        "height": probe.height,
        "size_bytes": probe.size_bytes,
        "probe_ms": round(statistics.median(probe_ms), 2),
        "poster_ms": round(statistics.median(poster_ms), 2),
        "probe_ms_max": round(max(probe_ms), 2),
        "poster_ms_max": round(max(poster_ms), 2),
        "poster_size": [poster.width, poster.height],
    }
