"""Video operations, run inside the sandbox child (see ``child``), never in the web process.

Each operation takes JSON-able arguments and returns a JSON-able dict (a ``types`` dataclass on
the wire), or raises ``OpFailure`` with a code the parent turns into a typed error. This module
must stay free of Django: the child imports only the standard library, PyAV and ``types``.

Untrusted input: the demuxers are restricted to the containers phones and browsers write
(``format_whitelist``) and to plain files (``protocol_whitelist``), so a playlist or concat file
renamed ``.mp4`` cannot make FFmpeg read other files or the network.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any, cast

import av
import av.error
import av.filter
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from saidao.video.types import DurationSource, NormalizeResult, PosterResult, ProbeResult

# FFmpeg demuxer names; "mov" covers mp4, mov, m4a, 3gp, and "matroska" covers webm.
ALLOWED_DEMUXERS = "mov,matroska,avi,mpegts,flv,ogg"
INPUT_OPTIONS = {"format_whitelist": ALLOWED_DEMUXERS, "protocol_whitelist": "file"}

# How many frames "decodable" decodes at the start, and how many packets it may feed to get them.
START_FRAMES = 3
DECODE_PACKET_BUDGET = 60
# Packets ending this much before the header's length mean the file was cut short.
TRUNCATION_SLACK_S = 1.0
TRUNCATION_SLACK_RATIO = 0.02
# The end check seeks this far before the end, then decodes and demuxes to the end.
END_WINDOW_S = 1.5

POSTER_MAX_SIDE = 720
JPEG_QUALITY = 3  # mjpeg qscale: 2 (best) .. 31
FF_QP2LAMBDA = 118

# Transcode settings: fast on two cores, good enough for phones.
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "profile": "high"}
MAX_LONG_SIDE = 1920
MAX_SHORT_SIDE = 1080
AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
MAX_BAD_PACKETS = 25


class OpFailure(Exception):
    """An operation refused the input; ``code`` matches ``saidao.video.errors``."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


# --- opening untrusted files ---------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The container family the first bytes announce, or None when they look like no video."""
    if len(head) >= 8 and head[4:8] in {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"}:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"FLV"):
        return "flv"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpegts"
    return None


def _mov_truncated(f: IO[bytes], size: int) -> bool:
    """Whether a top-level ISO BMFF box (moov, mdat, ...) runs past the end of the file."""
    pos = 0
    for _ in range(100_000):
        if pos == size:
            return False
        if pos + 8 > size:
            return True
        f.seek(pos)
        header = f.read(16)
        box_size = int.from_bytes(header[:4], "big")
        if box_size == 1:
            if len(header) < 16:
                return True
            box_size = int.from_bytes(header[8:16], "big")
        elif box_size == 0:  # runs to the end of the file by definition
            return False
        if box_size < 8:  # nonsense; the demuxer will call it corrupt
            return False
        if pos + box_size > size:
            return True
        pos += box_size
    return False


def _ebml_vint(buf: bytes, i: int, *, keep_marker: bool) -> tuple[int, int, bool] | None:
    """An EBML variable-size integer at ``buf[i]``: (value, length, all value bits set)."""
    if i >= len(buf) or buf[i] == 0:
        return None
    first = buf[i]
    length = 9 - first.bit_length()
    if i + length > len(buf):
        return None
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for b in buf[i + 1 : i + length]:
        value = (value << 8) | b
    all_ones = value == (1 << (7 * length)) - 1
    return value, length, all_ones


def _matroska_truncated(f: IO[bytes], size: int) -> bool:
    """Whether the Segment element declares more bytes than the file holds.

    Browser recorders write a Segment of unknown size; those cannot be checked this way.
    """
    f.seek(0)
    buf = f.read(4096)
    pos = 0
    for expected_id in (0x1A45DFA3, 0x18538067):  # EBML header, then Segment
        ident = _ebml_vint(buf, pos, keep_marker=True)
        if ident is None or ident[0] != expected_id:
            return False
        length = _ebml_vint(buf, pos + ident[1], keep_marker=False)
        if length is None:
            return False
        data_start = pos + ident[1] + length[1]
        if expected_id == 0x18538067:
            return not length[2] and data_start + length[0] > size
        pos = data_start + length[0]
    return False


@dataclass
class _Opened:
    container: InputContainer
    video: VideoStream | None
    audio: AudioStream | None
    size: int
    kind: str | None
    truncated: bool


@contextmanager
def open_input(path: str) -> Iterator[_Opened]:
    """Open an untrusted file, classifying the ways it can fail before any stream is read."""
    path = os.path.abspath(path)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise OpFailure("missing_file") from None
    if size == 0:
        raise OpFailure("empty_file")
    with open(path, "rb") as f:
        head = f.read(512)
        kind = sniff(head)
        if kind == "mov":
            truncated = _mov_truncated(f, size)
        elif kind == "matroska":
            truncated = _matroska_truncated(f, size)
        else:
            truncated = False
    try:
        container = av.open(path, "r", options=INPUT_OPTIONS)
    except MemoryError:
        raise
    except av.error.FFmpegError:
        if kind is None:
            raise OpFailure("not_a_video") from None
        raise OpFailure("truncated" if truncated else "corrupt", stage="open") from None
    with container:
        video = next(
            (s for s in container.streams.video if not s.disposition & Disposition.attached_pic),
            None,
        )
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            if kind is None:
                raise OpFailure("not_a_video")
            raise OpFailure("truncated" if truncated else "corrupt", stage="streams")
        if video is not None and getattr(video, "codec_context", None) is None:
            raise OpFailure("corrupt", stage="no_decoder")
        if audio is not None and getattr(audio, "codec_context", None) is None:
            audio = None  # an audio track we cannot decode does not stop the picture
        yield _Opened(container, video, audio, size, kind, truncated)


def _header_duration(c: InputContainer, video: VideoStream | None) -> float | None:
    if c.duration is not None and c.duration > 0:
        return c.duration / av.time_base
    if video is not None and video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return None


def _start_s(c: InputContainer) -> float:
    return c.start_time / av.time_base if c.start_time is not None and c.start_time > 0 else 0.0


def cw_rotation(frame: VideoFrame) -> int:
    """Clockwise display rotation in {0, 90, 180, 270} from the frame's display matrix.

    FFmpeg's ``av_display_rotation_get`` (``frame.rotation``) is counter-clockwise; a phone in
    portrait writes -90 there, which players show as a 90 degree clockwise turn.
    """
    return (round(-frame.rotation / 90) * 90) % 360


# --- probe ---------------------------------------------------------------------------------


def _decode_start(c: InputContainer, video: VideoStream) -> tuple[bool, VideoFrame | None]:
    """Decode the first few frames. Returns (ok, first frame)."""
    first: VideoFrame | None = None
    count = 0
    try:
        for n, packet in enumerate(c.demux(video)):
            if n >= DECODE_PACKET_BUDGET:
                break
            for frame in video.decode(packet if packet.size else None):
                first = first or frame
                count += 1
            if count >= START_FRAMES:
                break
    except MemoryError:
        raise
    except av.error.FFmpegError:
        return False, first
    return first is not None, first


def _scan_packets(c: InputContainer, video: VideoStream) -> float | None:
    """Length from the video packets: max(pts + duration) - min(pts), demuxing only."""
    tb = video.time_base
    if tb is None:
        return None
    lo: int | None = None
    hi: int | None = None
    try:
        for packet in c.demux(video):
            pts = packet.pts
            if pts is None:
                continue
            end = pts + (packet.duration or 0)
            lo = pts if lo is None or pts < lo else lo
            hi = end if hi is None or end > hi else hi
    except MemoryError:
        raise
    except av.error.FFmpegError:
        pass  # keep what was read; a cut-off tail shows up in the end check
    if lo is None or hi is None:
        return None
    return float((hi - lo) * tb)


def _check_end(
    c: InputContainer, video: VideoStream, audio: AudioStream | None, duration_s: float
) -> tuple[bool, float | None]:
    """Seek near the end, decode a frame there and demux to the end.

    Returns (a frame decoded near the end, end of the last packet relative to the start).
    """
    tb = video.time_base
    if tb is None:
        return False, None
    start_s = _start_s(c)
    target = start_s + max(0.0, duration_s - END_WINDOW_S)
    streams: list[VideoStream | AudioStream] = [video] if audio is None else [video, audio]
    decoded = False
    end_s: float | None = None
    fed = 0
    try:
        c.seek(int(target / tb), stream=video, backward=True)
        video.codec_context.flush_buffers()
        for packet in c.demux(*streams):
            if packet.pts is not None and packet.stream.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.stream.time_base)
                end_s = end if end_s is None or end > end_s else end_s
            if decoded or packet.stream is not video or fed >= DECODE_PACKET_BUDGET:
                continue
            fed += 1
            if video.decode(packet if packet.size else None):
                decoded = True
    except MemoryError:
        raise
    except av.error.FFmpegError:
        return False, None if end_s is None else end_s - start_s
    return decoded, None if end_s is None else end_s - start_s


def probe(path: str) -> dict[str, Any]:
    with open_input(path) as o:
        c = o.container
        container = c.format.name
        header = _header_duration(c, o.video)
        audio_codec = o.audio.codec_context.name if o.audio is not None else None
        if o.video is None:
            return ProbeResult(
                has_video=False,
                has_audio=True,
                duration_s=None if header is None else round(header, 3),
                duration_source="none" if header is None else "header",
                width=0,
                height=0,
                rotation=0,
                video_codec=None,
                audio_codec=audio_codec,
                container=container,
                decodable=False,
                truncated=o.truncated,
                size_bytes=o.size,
            ).to_wire()
        video = o.video
        video.thread_type = "SLICE"  # frame threads would delay the first frame
        start_ok, first = _decode_start(c, video)
        duration = header
        source: DurationSource = "header"
        if duration is None:
            c.seek(0, stream=video, backward=True)
            duration = _scan_packets(c, video)
            source = "packets" if duration is not None else "none"
        end_ok = False
        truncated = o.truncated
        if duration is not None:
            end_ok, packets_end = _check_end(c, video, o.audio, duration)
            if header is not None:
                slack = max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_RATIO * header)
                if packets_end is None or packets_end < header - slack:
                    truncated = True
        return ProbeResult(
            has_video=True,
            has_audio=o.audio is not None,
            duration_s=None if duration is None else round(duration, 3),
            duration_source=source,
            width=video.codec_context.width or (first.width if first else 0),
            height=video.codec_context.height or (first.height if first else 0),
            rotation=cw_rotation(first) if first is not None else 0,
            video_codec=video.codec_context.name,
            audio_codec=audio_codec,
            container=container,
            decodable=start_ok and end_ok,
            truncated=truncated,
            size_bytes=o.size,
        ).to_wire()


# --- poster --------------------------------------------------------------------------------


def _fit(
    width: float, height: float, long_side: int, short_side: int | None = None
) -> tuple[int, int]:
    """Scale (width, height) down to fit, never up, to even sizes."""
    scale = min(1.0, long_side / max(width, height))
    if short_side is not None:
        scale = min(scale, short_side / min(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def upright(
    frame: VideoFrame, max_side: int, pix_fmt: str, sar: Fraction | None = None
) -> VideoFrame:
    """The frame turned as it is displayed (display matrix and pixel aspect), scaled to fit."""
    rotation = cw_rotation(frame)
    width = frame.width * float(sar) if sar else float(frame.width)
    height = float(frame.height)
    if rotation in (90, 270):
        width, height = height, width
    out_w, out_h = _fit(width, height, max_side)
    graph = av.filter.Graph()
    nodes = [
        graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format,
            time_base=frame.time_base or Fraction(1, 25),
        )
    ]
    if rotation == 90:
        nodes.append(graph.add("transpose", "clock"))
    elif rotation == 270:
        nodes.append(graph.add("transpose", "cclock"))
    elif rotation == 180:
        nodes += [graph.add("hflip"), graph.add("vflip")]
    nodes += [
        graph.add("scale", f"{out_w}:{out_h}"),
        graph.add("format", pix_fmt),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*nodes).configure()
    graph.vpush(frame)
    return graph.vpull()


def _encode_jpeg(frame: VideoFrame) -> bytes:
    cc = av.CodecContext.create("mjpeg", "w")
    cc.width = frame.width
    cc.height = frame.height
    cc.pix_fmt = "yuvj420p"
    cc.time_base = Fraction(1, 25)
    cc.qscale = True
    cc.global_quality = JPEG_QUALITY * FF_QP2LAMBDA
    frame.pts = 0
    frame.time_base = cc.time_base
    packets = cc.encode(frame) + cc.encode(None)
    return b"".join(bytes(p) for p in packets)


def _frame_at(c: InputContainer, video: VideoStream, at_s: float) -> VideoFrame | None:
    """The first frame shown at or after ``at_s`` (the last one before it at the end)."""
    tb = video.time_base
    start_s = _start_s(c)
    target = start_s + at_s
    half_frame = 0.5 / float(video.average_rate) if video.average_rate else 0.02
    chosen: VideoFrame | None = None
    if at_s > 0 and tb is not None:
        c.seek(int(target / tb), stream=video, backward=True)
        video.codec_context.flush_buffers()
    try:
        for frame in c.decode(video):
            chosen = frame
            if frame.time is None or frame.time >= target - half_frame:
                break
    except MemoryError:
        raise
    except av.error.FFmpegError:
        if chosen is None:
            raise OpFailure("corrupt", stage="poster") from None
    return chosen


def poster(
    path: str, out_path: str, at_s: float = 1.0, max_side: int = POSTER_MAX_SIDE
) -> dict[str, Any]:
    with open_input(path) as o:
        if o.video is None:
            raise OpFailure("no_video_stream")
        video = o.video
        video.thread_type = "AUTO"
        duration = _header_duration(o.container, video)
        at = max(0.0, at_s)
        if duration is not None and at > max(0.0, duration - 0.1):
            at = duration / 2
        frame = _frame_at(o.container, video, at)
        if frame is None and at > 0:
            o.container.seek(0, stream=video, backward=True)
            frame = _frame_at(o.container, video, 0.0)
        if frame is None:
            raise OpFailure("corrupt", stage="poster")
        chosen_at = max(0.0, (frame.time or 0.0) - _start_s(o.container))
        image = upright(frame, max_side, "yuvj420p", video.sample_aspect_ratio)
    data = _encode_jpeg(image)
    with _cleanup_on_error(out_path), open(out_path, "wb") as f:
        f.write(data)
    return PosterResult(
        width=image.width, height=image.height, at_s=round(chosen_at, 3), size_bytes=len(data)
    ).to_wire()


# --- normalize -----------------------------------------------------------------------------


@contextmanager
def _cleanup_on_error(out_path: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        with suppress(OSError):
            os.unlink(out_path)
        raise


def _is_efbig(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EFBIG


def _can_remux(o: _Opened) -> bool:
    """Stream copy is safe for H.264 (8-bit 4:2:0) with AAC or no audio, from an MP4/MOV.

    Matroska/WebM H.264 (Chrome's MediaRecorder) lacks decode timestamps on its first packets,
    which the MP4 muxer needs, so it is transcoded.
    """
    video = o.video
    if video is None or o.kind != "mov":
        return False
    if video.codec_context.name != "h264":
        return False
    if video.codec_context.pix_fmt not in ("yuv420p", "yuvj420p"):
        return False
    return o.audio is None or o.audio.codec_context.name == "aac"


def _output(out_path: str) -> OutputContainer:
    return av.open(out_path, "w", format="mp4", options={"movflags": "+faststart"})


def _remux(o: _Opened, out_path: str) -> None:
    assert o.video is not None
    with _output(out_path) as out:
        mapping: dict[int, Any] = {o.video.index: out.add_stream_from_template(o.video)}
        streams: list[Any] = [o.video]
        if o.audio is not None:
            mapping[o.audio.index] = out.add_stream_from_template(o.audio)
            streams.append(o.audio)
        for packet in o.container.demux(*streams):
            if packet.dts is None:  # the demuxer's empty flush packets
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)


def _first_rotation(path: str) -> int:
    with open_input(path) as o:
        if o.video is None:
            return 0
        _, first = _decode_start(o.container, o.video)
        return cw_rotation(first) if first is not None else 0


def _transcode(o: _Opened, out_path: str, rotation: int) -> None:
    assert o.video is not None
    video = o.video
    video.thread_type = "AUTO"
    cc = video.codec_context
    width, height = _fit(float(cc.width), float(cc.height), MAX_LONG_SIDE, MAX_SHORT_SIDE)
    rate = video.average_rate or video.guessed_rate or Fraction(30)
    if not 1 <= rate <= 120:
        rate = Fraction(30)
    with _output(out_path) as out:
        ov = out.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
        ov.width = width
        ov.height = height
        ov.pix_fmt = "yuv420p"
        if video.time_base is not None:
            ov.codec_context.time_base = video.time_base
        if rotation:
            # Keep the pixels as stored and the display matrix, like the phone did.
            ov.set_display_rotation(-rotation)
        oa: AudioStream | None = None
        streams: list[Any] = [video]
        if o.audio is not None:
            ac = o.audio.codec_context
            sample_rate = ac.sample_rate if ac.sample_rate in AAC_RATES else 48000
            mono = ac.channels == 1
            oa = out.add_stream("aac", rate=sample_rate)
            oa.layout = "mono" if mono else "stereo"
            oa.bit_rate = 64_000 if mono else 128_000
            streams.append(o.audio)
        last_pts: int | None = None
        frames_out = 0
        bad = 0
        for packet in o.container.demux(*streams):
            try:
                frames = packet.decode()
            except MemoryError:
                raise
            except av.error.InvalidDataError:
                bad += 1
                if bad > MAX_BAD_PACKETS:
                    raise OpFailure("corrupt", stage="transcode") from None
                continue
            for frame in frames:
                if isinstance(frame, VideoFrame):
                    if frame.pts is None or (last_pts is not None and frame.pts <= last_pts):
                        continue
                    last_pts = frame.pts
                    out.mux(ov.encode(frame.reformat(width=width, height=height, format="yuv420p")))
                    frames_out += 1
                elif oa is not None:
                    out.mux(oa.encode(frame))
        out.mux(ov.encode(None))
        if oa is not None:
            out.mux(oa.encode(None))
        if frames_out == 0:
            raise OpFailure("corrupt", stage="transcode")


def _describe_output(out_path: str, mode: str) -> dict[str, Any]:
    result = ProbeResult.from_wire(probe(out_path))
    return NormalizeResult(
        mode=cast(Any, mode),
        video_codec=result.video_codec or "",
        audio_codec=result.audio_codec,
        width=result.width,
        height=result.height,
        rotation=result.rotation,
        duration_s=result.duration_s,
        size_bytes=result.size_bytes,
    ).to_wire()


def normalize(path: str, out_path: str) -> dict[str, Any]:
    """Write an MP4 (moov first) that phones play: stream copy when possible, else H.264/AAC."""
    with _cleanup_on_error(out_path):
        with open_input(path) as o:
            if o.video is None:
                raise OpFailure("no_video_stream")
            if o.truncated:
                raise OpFailure("truncated", stage="normalize")
            if _can_remux(o):
                try:
                    _remux(o, out_path)
                    return _describe_output(out_path, "remux")
                except av.error.FFmpegError as exc:
                    if isinstance(exc, MemoryError) or _is_efbig(exc):
                        raise
                    # Odd timestamps the muxer refuses: fall through to a transcode.
        rotation = _first_rotation(path)
        with open_input(path) as o:
            _transcode(o, out_path, rotation)
        return _describe_output(out_path, "transcode")
