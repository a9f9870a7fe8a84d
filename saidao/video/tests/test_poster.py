"""Poster frames: JPEG, upright as displayed, at most 720 px on the long side."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from saidao.video import synth
from saidao.video.errors import NotAVideo
from saidao.video.sandbox import VideoSandbox
from saidao.video.tests.conftest import luma_corners


def _is_jpeg(path: Path) -> bool:
    data = path.read_bytes()
    return data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"


def test_landscape_poster_is_a_jpeg_of_the_frame_at_one_second(
    sandbox: VideoSandbox, landscape_mp4: Path, tmp_path: Path
) -> None:
    """The poster of a 160x120 clip is a 160x120 JPEG taken at 1.0 s, with the clip's bright
    marker in the top-left corner."""
    out = tmp_path / "poster.jpg"
    result = sandbox.poster(landscape_mp4, out)
    assert (result.width, result.height, result.at_s) == (160, 120, 1.0)
    assert result.size_bytes == out.stat().st_size
    assert _is_jpeg(out)
    corners = luma_corners(out)
    assert corners["top_left"] > 200
    assert max(corners["top_right"], corners["bottom_left"], corners["bottom_right"]) < 60


def test_portrait_video_gives_a_portrait_poster_turned_clockwise(
    sandbox: VideoSandbox, portrait_mp4: Path, tmp_path: Path
) -> None:
    """A clip stored 160x120 with a 90 degree display rotation gives a 120x160 poster; the
    marker stored top-left shows top-right, as a phone displays it."""
    out = tmp_path / "portrait.jpg"
    result = sandbox.poster(portrait_mp4, out)
    assert (result.width, result.height) == (120, 160)
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0))
        assert (frame.width, frame.height) == (120, 160)
    corners = luma_corners(out)
    assert corners["top_right"] > 200
    assert max(corners["top_left"], corners["bottom_left"], corners["bottom_right"]) < 60


def test_poster_long_side_is_at_most_720(
    sandbox: VideoSandbox, clip_dir: Path, tmp_path: Path
) -> None:
    """A 1280x720 clip gives a 720x404 poster (scaled down, even sizes, aspect kept)."""
    hd = synth.make_clip(
        clip_dir / "hd.mp4", seconds=2, width=1280, height=720, fps=25, audio=False
    )
    result = sandbox.poster(hd, tmp_path / "hd.jpg")
    assert (result.width, result.height) == (720, 404)


def test_poster_past_the_end_falls_back_to_the_middle(
    sandbox: VideoSandbox, landscape_mp4: Path, tmp_path: Path
) -> None:
    """Asking for 10 s of a 3 s clip gives the frame at 1.5 s rather than failing."""
    result = sandbox.poster(landscape_mp4, tmp_path / "late.jpg", at_s=10)
    assert result.at_s == 1.5


def test_poster_of_a_recorder_webm_without_duration(
    sandbox: VideoSandbox, recorder_webm: Path, tmp_path: Path
) -> None:
    """A MediaRecorder-style WebM (no header duration) still yields the poster at 2 s."""
    result = sandbox.poster(recorder_webm, tmp_path / "rec.jpg", at_s=2.0)
    assert (result.width, result.height, result.at_s) == (160, 120, 2.0)
    assert _is_jpeg(tmp_path / "rec.jpg")


def test_poster_of_a_non_video_leaves_no_file(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """A text file raises NotAVideo and no poster file is left behind."""
    out = tmp_path / "none.jpg"
    with pytest.raises(NotAVideo):
        sandbox.poster(synth.make_text_file(tmp_path / "x.mp4"), out)
    assert not out.exists()
