"""Fixtures for the video tests: synthetic clips (made once per session) and sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from saidao.video import synth
from saidao.video.sandbox import SandboxLimits, VideoSandbox


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[VideoSandbox]:
    """A sandbox with the production defaults, shared by the tests that behave."""
    box = VideoSandbox()
    yield box
    box.close()


@pytest.fixture
def rogue() -> Iterator[VideoSandbox]:
    """A sandbox that accepts the test-only operations (sleep, alloc, spin, crash, write)."""
    box = VideoSandbox(SandboxLimits(cpu_s=1, output_bytes=64 * 1024), allow_test_ops=True)
    yield box
    box.close()


@pytest.fixture(scope="session")
def landscape_mp4(clip_dir: Path) -> Path:
    """3 s of 160x120 H.264 + AAC in an MP4 with the moov atom at the end, as phones write."""
    return synth.make_clip(clip_dir / "landscape.mp4", seconds=3)


@pytest.fixture(scope="session")
def portrait_mp4(clip_dir: Path) -> Path:
    """A phone held upright: 160x120 stored, display matrix says turn 90 degrees clockwise."""
    return synth.make_clip(clip_dir / "portrait.mp4", seconds=3, rotation=90)


@pytest.fixture(scope="session")
def vp8_webm(clip_dir: Path) -> Path:
    return synth.make_clip(clip_dir / "vp8.webm", seconds=3, container="webm", video_codec="vp8")


@pytest.fixture(scope="session")
def recorder_webm(clip_dir: Path) -> Path:
    """Like Chrome's MediaRecorder: VP8 + Opus WebM whose header holds no duration."""
    return synth.make_clip(
        clip_dir / "recorder.webm", seconds=7.5, container="webm", video_codec="vp8", live=True
    )


@pytest.fixture(scope="session")
def audio_only_m4a(clip_dir: Path) -> Path:
    return synth.make_clip(clip_dir / "voice.mp4", seconds=3, audio_only=True)


def display_rotation(path: Path) -> int:
    """Clockwise display rotation of a file's first video frame, read with PyAV directly."""
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return (-frame.rotation) % 360


def luma_corners(jpeg: Path) -> dict[str, float]:
    """Mean brightness of the four corner eighths of a decoded image."""
    with av.open(str(jpeg)) as c:
        frame = next(c.decode(video=0))
    plane = frame.planes[0]
    data = bytes(plane)
    stride, w, h = plane.line_size, frame.width, frame.height
    cw, ch = max(1, w // 8), max(1, h // 8)

    def mean(x0: int, y0: int) -> float:
        values = [data[y * stride + x] for y in range(y0, y0 + ch) for x in range(x0, x0 + cw)]
        return sum(values) / len(values)

    return {
        "top_left": mean(0, 0),
        "top_right": mean(w - cw, 0),
        "bottom_left": mean(0, h - ch),
        "bottom_right": mean(w - cw, h - ch),
    }
