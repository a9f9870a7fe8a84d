"""Validation of uploaded videos: what is refused, with which code and message, and what passes."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from saidao.video import synth
from saidao.video.errors import (
    NotAVideo,
    NoVideoStream,
    VideoCorrupt,
    VideoEmpty,
    VideoInvalid,
    VideoTooLong,
    VideoTruncated,
)
from saidao.video.sandbox import VideoSandbox, validate
from saidao.video.types import ProbeResult
from saidao.video.validate import DURATION_TOLERANCE_S, check_duration, check_probe

LIMIT = 120.0


def _probe_result(**changes: object) -> ProbeResult:
    base = ProbeResult(
        has_video=True,
        has_audio=True,
        duration_s=10.0,
        duration_source="header",
        width=160,
        height=120,
        rotation=0,
        video_codec="h264",
        audio_codec="aac",
        container="mov,mp4,m4a,3gp,3g2,mj2",
        decodable=True,
        truncated=False,
        size_bytes=1000,
    )
    return ProbeResult.from_wire({**base.to_wire(), **changes})


def test_zero_byte_file_is_refused_as_empty(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """A zero-byte upload raises VideoEmpty (code empty_file) with a Chinese message."""
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoEmpty) as caught:
        sandbox.validate(empty, max_duration_s=LIMIT)
    assert caught.value.code == "empty_file"
    assert "空的" in str(caught.value.message)


def test_text_file_renamed_mp4_is_not_a_video(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """A text file named .mp4 raises NotAVideo (not_a_video), and so does a JPEG."""
    with pytest.raises(NotAVideo) as caught:
        sandbox.validate(synth.make_text_file(tmp_path / "notes.mp4"), max_duration_s=LIMIT)
    assert caught.value.code == "not_a_video"
    jpeg = tmp_path / "photo.mp4"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2000))
    with pytest.raises(NotAVideo):
        sandbox.validate(jpeg, max_duration_s=LIMIT)


def test_playlist_renamed_mp4_cannot_pull_in_other_files(
    sandbox: VideoSandbox, tmp_path: Path, landscape_mp4: Path
) -> None:
    """An HLS playlist pointing at a local file is refused (not_a_video): only real video
    containers are demuxed, so an upload cannot make FFmpeg read files it names."""
    playlist = tmp_path / "evil.mp4"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n{landscape_mp4}\n#EXT-X-ENDLIST\n"
    )
    with pytest.raises(NotAVideo):
        sandbox.probe(playlist)


def test_121_seconds_is_refused_with_the_measured_length(
    sandbox: VideoSandbox, clip_dir: Path
) -> None:
    """A 121 s clip against a 120 s limit raises VideoTooLong; the message names 121.0 s and
    the limit, the detail carries the measured seconds and the limit."""
    clip = synth.make_clip(clip_dir / "s121.mp4", seconds=121, audio=False)
    with pytest.raises(VideoTooLong) as caught:
        sandbox.validate(clip, max_duration_s=LIMIT)
    err = caught.value
    assert err.code == "too_long"
    assert str(err.message) == "视频时长 121.0 秒，超过了 120 秒的上限，请剪短后再上传。"
    assert err.detail == {
        "duration_s": 121.0,
        "max_duration_s": LIMIT,
        "tolerance_s": DURATION_TOLERANCE_S,
    }
    assert err.as_dict()["code"] == "too_long"


@pytest.mark.parametrize("seconds", [119.9, 120.0])
def test_up_to_the_limit_is_accepted(sandbox: VideoSandbox, clip_dir: Path, seconds: float) -> None:
    """119.9 s and 120.0 s clips (with AAC audio, whose padding overshoots a little) pass a
    120 s limit, and the probe reports their length."""
    clip = synth.make_clip(clip_dir / f"s{seconds}.mp4", seconds=seconds)
    result = sandbox.validate(clip, max_duration_s=LIMIT)
    assert result.duration_s == pytest.approx(seconds, abs=0.07)
    assert result.decodable


def test_tolerance_is_half_a_second() -> None:
    """check_duration accepts up to limit + 0.5 s and refuses anything beyond, showing the
    measured length to one decimal (so it never shows the limit itself)."""
    check_duration(120.5, max_duration_s=LIMIT)
    check_duration(120.0, max_duration_s=LIMIT)
    with pytest.raises(VideoTooLong) as caught:
        check_duration(120.51, max_duration_s=LIMIT)
    assert "120.5 秒" in str(caught.value.message)
    with pytest.raises(VideoTooLong) as caught:
        check_duration(95.3, max_duration_s=90.5)
    assert str(caught.value.message).startswith("视频时长 95.3 秒，超过了 90.5 秒的上限")


def test_check_probe_reports_the_first_actionable_problem() -> None:
    """No picture beats cut short beats unreadable beats too long; a good probe passes."""
    check_probe(_probe_result(), max_duration_s=LIMIT)
    with pytest.raises(NoVideoStream):
        check_probe(_probe_result(has_video=False, truncated=True), max_duration_s=LIMIT)
    with pytest.raises(VideoTruncated):
        check_probe(_probe_result(truncated=True, decodable=False), max_duration_s=LIMIT)
    with pytest.raises(VideoCorrupt):
        check_probe(_probe_result(decodable=False, duration_s=500.0), max_duration_s=LIMIT)
    with pytest.raises(VideoCorrupt):
        check_probe(_probe_result(duration_s=None), max_duration_s=LIMIT)
    with pytest.raises(VideoTooLong):
        check_probe(_probe_result(duration_s=500.0), max_duration_s=LIMIT)


@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_corrupt_header_is_refused_as_corrupt(
    sandbox: VideoSandbox, clip_dir: Path, tmp_path: Path, container: str
) -> None:
    """A file that starts like a video but whose stream descriptions are garbage raises
    VideoCorrupt (code corrupt)."""
    if container == "mp4":
        good = synth.make_clip(clip_dir / "for-corrupt.mp4", seconds=3)
    else:
        good = synth.make_clip(
            clip_dir / "for-corrupt.webm", seconds=3, container="webm", video_codec="vp9"
        )
    bad = synth.make_corrupt_header(good, tmp_path / f"bad.{container}")
    with pytest.raises(VideoCorrupt) as caught:
        sandbox.validate(bad, max_duration_s=LIMIT)
    assert caught.value.code == "corrupt"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("moov-last.mp4", {}),
        ("faststart.mp4", {"faststart": True}),
        ("sized.webm", {"container": "webm", "video_codec": "vp8"}),
    ],
)
def test_truncated_file_is_refused_as_truncated(
    sandbox: VideoSandbox, clip_dir: Path, tmp_path: Path, name: str, kwargs: dict[str, object]
) -> None:
    """The first 60 % of an MP4 (moov at the end or at the front) or of a WebM raises
    VideoTruncated (code truncated)."""
    good = synth.make_clip(clip_dir / name, seconds=4, **kwargs)  # type: ignore[arg-type]
    cut = synth.make_truncated(good, tmp_path / name, keep=0.6)
    with pytest.raises(VideoTruncated) as caught:
        sandbox.validate(cut, max_duration_s=LIMIT)
    assert caught.value.code == "truncated"


def _unknown_segment_size(path: Path) -> None:
    """Rewrite a WebM's Segment size as "unknown", as recorders do, keeping its header duration."""
    data = bytearray(path.read_bytes())
    at = data.index(bytes.fromhex("18538067")) + 4
    assert data[at] == 0x01  # ffmpeg writes the Segment size as an 8-byte vint
    data[at : at + 8] = bytes.fromhex("01ffffffffffffff")
    path.write_bytes(bytes(data))


def test_truncation_is_found_from_packets_when_the_structure_cannot_tell(
    sandbox: VideoSandbox, tmp_path: Path
) -> None:
    """A WebM whose Segment has unknown size but whose header says 6 s, cut to its first half,
    is truncated: its packets end seconds before the header's length."""
    good = synth.make_clip(tmp_path / "good.webm", seconds=6, container="webm", video_codec="vp8")
    _unknown_segment_size(good)
    assert sandbox.validate(good, max_duration_s=LIMIT).duration_s == pytest.approx(6.0, abs=0.05)
    cut = synth.make_truncated(good, tmp_path / "cut.webm", keep=0.5)
    result = sandbox.probe(cut)
    assert result.truncated
    assert result.duration_source == "header"
    with pytest.raises(VideoTruncated):
        sandbox.validate(cut, max_duration_s=LIMIT)


def test_audio_only_file_has_no_video_stream(sandbox: VideoSandbox, audio_only_m4a: Path) -> None:
    """An AAC-only MP4 probes as has_audio without video and validate raises NoVideoStream."""
    result = sandbox.probe(audio_only_m4a)
    assert (result.has_video, result.has_audio) == (False, True)
    with pytest.raises(NoVideoStream) as caught:
        sandbox.validate(audio_only_m4a, max_duration_s=LIMIT)
    assert caught.value.code == "no_video_stream"
    assert isinstance(caught.value, VideoInvalid)


def test_webm_without_duration_gets_its_length_from_packets(
    sandbox: VideoSandbox, recorder_webm: Path
) -> None:
    """A MediaRecorder-style WebM has no duration in its header (PyAV sees none); the probe
    measures 7.5 s from the packet timestamps and says so."""
    with av.open(str(recorder_webm)) as c:
        assert c.duration is None
        assert c.streams.video[0].duration is None
    result = sandbox.validate(recorder_webm, max_duration_s=LIMIT)
    assert result.duration_source == "packets"
    assert result.duration_s == pytest.approx(7.5, abs=0.01)
    assert (result.video_codec, result.audio_codec) == ("vp8", "opus")
    assert result.decodable


def test_webm_without_duration_is_still_held_to_the_limit(
    sandbox: VideoSandbox, recorder_webm: Path
) -> None:
    """The packet-derived length is what the limit is checked against: 7.5 s fails a 6 s limit."""
    with pytest.raises(VideoTooLong) as caught:
        sandbox.validate(recorder_webm, max_duration_s=6)
    assert caught.value.detail["duration_s"] == pytest.approx(7.5, abs=0.01)
    assert "视频时长 7.5 秒，超过了 6 秒的上限" in str(caught.value.message)


def test_probe_reports_streams_codecs_and_size(sandbox: VideoSandbox, landscape_mp4: Path) -> None:
    """The probe of a phone-like MP4 reports its streams, codecs, size, container and length."""
    result = sandbox.probe(landscape_mp4)
    assert result == ProbeResult(
        has_video=True,
        has_audio=True,
        duration_s=3.0,
        duration_source="header",
        width=160,
        height=120,
        rotation=0,
        video_codec="h264",
        audio_codec="aac",
        container="mov,mp4,m4a,3gp,3g2,mj2",
        decodable=True,
        truncated=False,
        size_bytes=landscape_mp4.stat().st_size,
    )


def test_module_level_validate_uses_the_shared_sandbox(landscape_mp4: Path) -> None:
    """saidao.video.sandbox.validate works without building a sandbox."""
    assert validate(landscape_mp4, max_duration_s=10).duration_s == 3.0
