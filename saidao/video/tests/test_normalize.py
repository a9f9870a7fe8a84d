"""Normalizing uploads to an MP4 phones play: remux when possible, transcode otherwise."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from saidao.video import synth
from saidao.video.errors import NoVideoStream, VideoOutputTooBig, VideoTruncated
from saidao.video.sandbox import SandboxLimits, VideoSandbox
from saidao.video.tests.conftest import display_rotation


def _atom_offsets(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return data.find(b"moov"), data.find(b"mdat")


def _video_packets(path: Path, count: int) -> list[bytes]:
    with av.open(str(path)) as c:
        packets = []
        for packet in c.demux(video=0):
            if packet.size:
                packets.append(bytes(packet))
            if len(packets) == count:
                break
        return packets


def test_h264_aac_is_remuxed_byte_for_byte_with_moov_first(
    sandbox: VideoSandbox, landscape_mp4: Path, tmp_path: Path
) -> None:
    """An H.264/AAC MP4 with moov at the end is stream-copied (mode "remux": the video
    packets are the same bytes) into an MP4 whose moov atom comes before mdat."""
    moov, mdat = _atom_offsets(landscape_mp4)
    assert moov > mdat  # the input is not faststart
    out = tmp_path / "out.mp4"
    result = sandbox.normalize(landscape_mp4, out)
    assert (result.mode, result.video_codec, result.audio_codec) == ("remux", "h264", "aac")
    assert result.duration_s == 3.0
    assert result.size_bytes == out.stat().st_size
    moov, mdat = _atom_offsets(out)
    assert 0 < moov < mdat
    assert _video_packets(out, 10) == _video_packets(landscape_mp4, 10)


def test_h264_without_audio_is_remuxed(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """A silent H.264 MP4 is stream-copied too, and stays without audio."""
    silent = synth.make_clip(tmp_path / "silent.mp4", seconds=2, audio=False)
    result = sandbox.normalize(silent, tmp_path / "out.mp4")
    assert (result.mode, result.video_codec, result.audio_codec) == ("remux", "h264", None)


def test_vp8_webm_is_transcoded_to_h264_aac(
    sandbox: VideoSandbox, vp8_webm: Path, tmp_path: Path
) -> None:
    """A VP8/Opus WebM becomes an H.264/AAC MP4 (mode "transcode") of the same length and size,
    with moov before mdat, and it decodes."""
    out = tmp_path / "out.mp4"
    result = sandbox.normalize(vp8_webm, out)
    assert (result.mode, result.video_codec, result.audio_codec) == ("transcode", "h264", "aac")
    assert (result.width, result.height) == (160, 120)
    assert result.duration_s == pytest.approx(3.0, abs=0.1)
    moov, mdat = _atom_offsets(out)
    assert 0 < moov < mdat
    probe = sandbox.probe(out)
    assert probe.decodable
    assert probe.container.startswith("mov,mp4")


def test_recorder_webm_without_duration_is_transcoded_with_its_length(
    sandbox: VideoSandbox, recorder_webm: Path, tmp_path: Path
) -> None:
    """The MediaRecorder-style WebM comes out as an MP4 whose header now states its 7.5 s."""
    out = tmp_path / "out.mp4"
    result = sandbox.normalize(recorder_webm, out)
    assert result.mode == "transcode"
    assert result.duration_s == pytest.approx(7.5, abs=0.1)
    assert sandbox.probe(out).duration_source == "header"


def test_h264_in_matroska_is_transcoded(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """H.264 in Matroska (lacking decode timestamps on its first packets) is transcoded."""
    mkv = synth.make_clip(tmp_path / "in.mkv", seconds=2, container="mkv")
    result = sandbox.normalize(mkv, tmp_path / "out.mp4")
    assert (result.mode, result.video_codec, result.audio_codec) == ("transcode", "h264", "aac")


def test_portrait_is_kept_through_remux(
    sandbox: VideoSandbox, portrait_mp4: Path, tmp_path: Path
) -> None:
    """Remuxing a portrait phone clip keeps its display matrix: the output displays portrait,
    and its poster is portrait."""
    out = tmp_path / "out.mp4"
    result = sandbox.normalize(portrait_mp4, out)
    assert result.mode == "remux"
    assert result.rotation == 90
    assert display_rotation(out) == 90
    assert sandbox.probe(out).is_portrait
    poster = sandbox.poster(out, tmp_path / "p.jpg")
    assert poster.height > poster.width


def test_portrait_is_kept_through_transcode(sandbox: VideoSandbox, tmp_path: Path) -> None:
    """Transcoding a portrait MPEG-4 clip keeps the rotation as metadata on the H.264 output,
    so it still displays portrait (and its poster is portrait)."""
    src = synth.make_clip(tmp_path / "in.mp4", seconds=2, video_codec="mpeg4", rotation=90)
    out = tmp_path / "out.mp4"
    result = sandbox.normalize(src, out)
    assert (result.mode, result.video_codec, result.rotation) == ("transcode", "h264", 90)
    assert display_rotation(out) == 90
    probe = sandbox.probe(out)
    assert (probe.display_width, probe.display_height) == (120, 160)
    poster = sandbox.poster(out, tmp_path / "p.jpg")
    assert (poster.width, poster.height) == (120, 160)


def test_audio_only_and_truncated_inputs_are_refused_without_output(
    sandbox: VideoSandbox, audio_only_m4a: Path, landscape_mp4: Path, tmp_path: Path
) -> None:
    """normalize raises NoVideoStream for an audio file and VideoTruncated for a cut file,
    leaving no output behind."""
    out = tmp_path / "out.mp4"
    with pytest.raises(NoVideoStream):
        sandbox.normalize(audio_only_m4a, out)
    assert not out.exists()
    cut = synth.make_truncated(landscape_mp4, tmp_path / "cut.mp4")
    with pytest.raises(VideoTruncated):
        sandbox.normalize(cut, out)
    assert not out.exists()


def test_output_larger_than_the_file_size_limit_is_refused(vp8_webm: Path, tmp_path: Path) -> None:
    """With RLIMIT_FSIZE at 8 KiB a transcode that writes more raises VideoOutputTooBig, and the
    partial output is removed."""
    box = VideoSandbox(SandboxLimits(output_bytes=8 * 1024))
    out = tmp_path / "out.mp4"
    try:
        with pytest.raises(VideoOutputTooBig):
            box.normalize(vp8_webm, out)
    finally:
        box.close()
    assert not out.exists()
