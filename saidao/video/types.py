"""Results of the sandboxed video operations.

Plain dataclasses shared by the parent (``sandbox``) and the child (``ops``); they cross the
pipe as JSON objects. This module must stay free of Django so that the child starts fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, Self

DurationSource = Literal["header", "packets", "none"]
NormalizeMode = Literal["remux", "transcode"]


class _Wire:
    """JSON round trip: ``to_wire`` in the child, ``from_wire`` in the parent."""

    def to_wire(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ProbeResult(_Wire):
    """What a video file holds, as far as the demuxer and a few decoded frames tell.

    ``rotation`` is the clockwise rotation (0, 90, 180 or 270 degrees) a player applies before
    display, i.e. the old ``rotate`` tag; phones recording in portrait write 90. ``width`` and
    ``height`` are the coded (stored) size; ``display_width``/``display_height`` are the size
    as shown. ``truncated`` means the file is cut short (a box or element runs past the end of
    the file, or the packets stop well before the length the header announces).
    """

    has_video: bool
    has_audio: bool
    duration_s: float | None
    duration_source: DurationSource
    width: int
    height: int
    rotation: int
    video_codec: str | None
    audio_codec: str | None
    container: str
    decodable: bool
    truncated: bool
    size_bytes: int

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height

    @property
    def is_portrait(self) -> bool:
        return self.display_height > self.display_width


@dataclass(frozen=True)
class PosterResult(_Wire):
    """A JPEG poster frame written by ``poster``: its size as stored, already upright."""

    width: int
    height: int
    at_s: float
    size_bytes: int


@dataclass(frozen=True)
class NormalizeResult(_Wire):
    """The MP4 written by ``normalize``; ``mode`` says whether streams were copied or re-encoded."""

    mode: NormalizeMode
    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    rotation: int
    duration_s: float | None
    size_bytes: int
