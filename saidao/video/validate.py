"""Turning a probe into an accept / reject decision.

Duration tolerance: a video is accepted up to ``max_duration_s + DURATION_TOLERANCE_S`` (0.5 s).
Containers and encoders overshoot a nominal length: AAC pads the last frame (up to 64 ms at
16 kHz), a container's duration is the longest track, browser recorders stamp frames with jitter
of a frame or so (67 ms at 15 fps), and phone editors show whole seconds, so a clip a worker
trimmed to "2:00" can measure 120.4 s. Half a second absorbs all of that while 121 s is still
refused; and since anything refused measures at least ``limit + 0.5``, the message never reads
"120.0 秒，超过了 120 秒的上限".
"""

from __future__ import annotations

from saidao.video.errors import (
    NoVideoStream,
    VideoCorrupt,
    VideoTooLong,
    VideoTruncated,
)
from saidao.video.types import ProbeResult

DURATION_TOLERANCE_S = 0.5


def check_duration(
    duration_s: float, *, max_duration_s: float, tolerance_s: float = DURATION_TOLERANCE_S
) -> None:
    """Raise ``VideoTooLong`` when ``duration_s`` exceeds the limit plus the tolerance."""
    if duration_s > max_duration_s + tolerance_s + 1e-9:
        raise VideoTooLong.measured(duration_s, max_duration_s, tolerance_s)


def check_probe(
    result: ProbeResult, *, max_duration_s: float, tolerance_s: float = DURATION_TOLERANCE_S
) -> None:
    """Raise the typed error for the first problem of a probed file, in the order a worker
    can act on: no picture, cut short, unreadable, too long."""
    if not result.has_video:
        raise NoVideoStream()
    if result.truncated:
        raise VideoTruncated()
    if not result.decodable or result.duration_s is None:
        raise VideoCorrupt()
    check_duration(result.duration_s, max_duration_s=max_duration_s, tolerance_s=tolerance_s)
