"""Deterministic synthetic video clips for tests, benchmarks and demo data.

Every frame is a dark grey field with a bright block in the top-left corner (so a test can tell
which way up a picture is) and a mid-grey block that crosses the picture once a second. The
``fps`` distinct frames are built once and reused, the encoders run at their fastest settings,
and audio is a quiet 440 Hz tone, so a two-minute 160x120 clip takes a fraction of a second.

Runs in the test process (not the sandbox): these are our own files, not untrusted input.
"""

from __future__ import annotations

import array
import math
import os
import random
from fractions import Fraction
from pathlib import Path
from typing import Literal, TypeVar

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

Container = Literal["mp4", "webm", "mkv"]
VideoCodec = Literal["h264", "vp8", "vp9", "mpeg4"]

ENCODERS: dict[str, str] = {
    "h264": "libx264",
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
    "mpeg4": "mpeg4",
}
MUXERS: dict[str, str] = {"mp4": "mp4", "webm": "webm", "mkv": "matroska"}
ALLOWED_VIDEO: dict[str, set[str]] = {
    "mp4": {"h264", "mpeg4"},
    "webm": {"vp8", "vp9"},
    "mkv": {"h264", "vp8", "vp9", "mpeg4"},
}
BACKGROUND, MARKER, MOVER = 40, 235, 150


def _frames(
    width: int, height: int, count: int, tint: tuple[int, int] = (128, 128)
) -> list[VideoFrame]:
    frames = []
    mark_w, mark_h = max(2, width // 4), max(2, height // 4)
    box_w, box_h = max(2, width // 8), max(2, height // 8)
    for k in range(count):
        frame = VideoFrame(width, height, "yuv420p")
        luma = frame.planes[0]
        stride = luma.line_size
        y = bytearray([BACKGROUND]) * luma.buffer_size
        for row in range(mark_h):
            y[row * stride : row * stride + mark_w] = bytes([MARKER]) * mark_w
        x0 = (k * (width - box_w)) // max(count - 1, 1)
        y0 = height // 2
        for row in range(y0, min(height, y0 + box_h)):
            y[row * stride + x0 : row * stride + x0 + box_w] = bytes([MOVER]) * box_w
        luma.update(bytes(y))
        for plane, value in zip(frame.planes[1:], tint, strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frames.append(frame)
    return frames


def _video_options(codec: str, bitrate: int, preset: str) -> dict[str, str]:
    if codec == "h264":
        return {"crf": "30", "preset": preset}
    if codec in ("vp8", "vp9"):
        options = {"deadline": "realtime", "cpu-used": "8", "b": str(bitrate)}
        if codec == "vp9":
            options["row-mt"] = "1"
        return options
    return {"b": str(bitrate)}


def make_clip(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    width: int = 160,
    height: int = 120,
    fps: int = 10,
    container: Container = "mp4",
    video_codec: VideoCodec = "h264",
    audio: bool = True,
    rotation: int = 0,
    audio_only: bool = False,
    live: bool = False,
    faststart: bool = False,
    sample_rate: int = 16000,
    preset: str = "veryfast",
    bitrate: int = 200_000,
    gop_s: float = 1.0,
    threads: int = 1,
    tint: tuple[int, int] = (128, 128),
) -> Path:
    """Write a clip of ``round(seconds * fps)`` frames and return its path.

    ``rotation`` is the clockwise display rotation written to the display matrix (90 is what a
    phone held upright writes). ``live`` writes a WebM/Matroska whose header carries no length,
    as Chrome's MediaRecorder does. ``faststart`` puts an MP4's moov atom first. Audio is AAC
    in MP4 and in Matroska with H.264/MPEG-4, Opus otherwise. With the default single encoder
    thread the bytes are reproducible; ``threads=0`` lets FFmpeg choose (faster, not
    reproducible).
    """
    if container not in MUXERS:
        raise ValueError(f"unknown container {container!r}")
    if not audio_only and video_codec not in ALLOWED_VIDEO[container]:
        raise ValueError(f"{video_codec} does not go in {container}")
    if live and container == "mp4":
        raise ValueError("live applies to webm/mkv")
    out = Path(path)
    # bitexact: no random track UIDs or library versions, so a clip's bytes are reproducible.
    options: dict[str, str] = {"fflags": "+bitexact"}
    if live:
        options["live"] = "1"
    if faststart:
        options["movflags"] = "+faststart"
    opus = container == "webm" or video_codec in ("vp8", "vp9")
    with av.open(str(out), "w", format=MUXERS[container], options=options) as c:
        vstream: VideoStream | None = None
        if not audio_only:
            vstream = _add_stream(
                c,
                VideoStream,
                ENCODERS[video_codec],
                fps,
                _video_options(video_codec, bitrate, preset),
            )
            vstream.width = width
            vstream.height = height
            vstream.pix_fmt = "yuv420p"
            vstream.gop_size = max(1, round(fps * gop_s))
            vstream.thread_count = threads
            if video_codec == "mpeg4":
                vstream.bit_rate = bitrate
            if rotation % 360:
                vstream.set_display_rotation(-(rotation % 360))
        astream: AudioStream | None = None
        if audio or audio_only:
            astream = _add_stream(c, AudioStream, "libopus" if opus else "aac", sample_rate, {})
            astream.layout = "mono"
            astream.bit_rate = 32_000
        if vstream is not None:
            frames = _frames(width, height, fps, tint)
            time_base = Fraction(1, fps)
            for i in range(round(seconds * fps)):
                frame = frames[i % fps]
                frame.pts = i
                frame.time_base = time_base
                c.mux(vstream.encode(frame))
            c.mux(vstream.encode(None))
        if astream is not None:
            _write_tone(c, astream, seconds, sample_rate)
    return out


_S = TypeVar("_S", VideoStream, AudioStream)


def _add_stream(
    c: OutputContainer, kind: type[_S], codec: str, rate: int, options: dict[str, str]
) -> _S:
    stream = c.add_stream(codec, rate=rate, options=options)
    if not isinstance(stream, kind):
        raise TypeError(f"{codec} is not a {kind.__name__} encoder")
    return stream


def _write_tone(c: OutputContainer, stream: AudioStream, seconds: float, rate: int) -> None:
    one_second = array.array(
        "f", (0.2 * math.sin(2 * math.pi * 440 * i / rate) for i in range(rate))
    ).tobytes()
    total = round(seconds * rate)
    time_base = Fraction(1, rate)
    pts = 0
    while pts < total:
        count = min(rate, total - pts)
        frame = AudioFrame(format="flt", layout="mono", samples=count)
        plane = frame.planes[0]
        data = one_second[: count * 4]
        plane.update(data + bytes(plane.buffer_size - len(data)))
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = time_base
        c.mux(stream.encode(frame))
        pts += count
    c.mux(stream.encode(None))


def _mp4_box(data: bytes, name: bytes) -> tuple[int, int] | None:
    """(offset, size) of a top-level MP4 box."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            return None
        if data[pos + 4 : pos + 8] == name:
            return pos, size
        pos += size
    return None


def make_corrupt_header(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Copy ``src`` with its header scrambled: the magic bytes and the file's length are kept
    (it still looks like a whole video) but the stream descriptions are garbage."""
    data = bytearray(Path(src).read_bytes())
    box = _mp4_box(bytes(data), b"moov")
    if box is not None:  # MP4: keep the moov box header, scramble its contents
        start, end = box[0] + 8, min(box[0] + box[1], box[0] + 8 + 4096)
    else:  # Matroska and others: keep the first 48 bytes (EBML header), scramble what follows
        start, end = 48, min(len(data), 4096)
    junk = random.Random(20240813).randbytes(end - start)  # noqa: S311 - deterministic junk
    data[start:end] = junk
    out = Path(dst)
    out.write_bytes(bytes(data))
    return out


def make_truncated(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], keep: float = 0.6
) -> Path:
    """Copy the first ``keep`` fraction of ``src``'s bytes, like an upload cut off midway."""
    out = Path(dst)
    with open(src, "rb") as fin, open(out, "wb") as fout:
        size = os.fstat(fin.fileno()).st_size
        fout.write(fin.read(int(size * keep)))
    return out


def make_text_file(path: str | os.PathLike[str]) -> Path:
    """A text file (to be named ``.mp4`` by a test, as a confused upload would be)."""
    out = Path(path)
    out.write_text("这不是视频。This is not a video.\n" * 50, encoding="utf-8")
    return out
