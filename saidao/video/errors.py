"""Typed errors for worker videos.

``VideoInvalid`` and its subclasses mean "this upload cannot be accepted": the message is
meant for the worker who uploaded it. ``VideoSandboxError`` means our side failed (the child
could not start, a file we were handed does not exist, a bug in an operation); it is not the
worker's fault and carries a generic message.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from saidao.core.errors import SaidaoError


class VideoInvalid(SaidaoError):
    code = "video_invalid"
    status = 400
    default_message: str | Promise = _("视频无法使用，请重新录制或导出后再上传。")


class VideoEmpty(VideoInvalid):
    code = "empty_file"
    default_message = _("上传的文件是空的（0 字节），请重新选择视频。")


class NotAVideo(VideoInvalid):
    code = "not_a_video"
    default_message = _("这个文件不是可识别的视频，请上传手机拍摄的视频（如 MP4、MOV、WebM）。")


class NoVideoStream(VideoInvalid):
    code = "no_video_stream"
    default_message = _("文件里只有声音、没有画面，请上传带画面的视频。")


class VideoTooLong(VideoInvalid):
    code = "too_long"
    default_message = _("视频太长了，请剪短后再上传。")

    @classmethod
    def measured(cls, duration_s: float, max_duration_s: float, tolerance_s: float) -> VideoTooLong:
        message = format_lazy(
            _("视频时长 {measured} 秒，超过了 {limit} 秒的上限，请剪短后再上传。"),
            measured=f"{duration_s:.1f}",
            limit=f"{max_duration_s:g}",
        )
        detail = {
            "duration_s": round(duration_s, 3),
            "max_duration_s": max_duration_s,
            "tolerance_s": tolerance_s,
        }
        return cls(message, detail=detail)


class VideoCorrupt(VideoInvalid):
    code = "corrupt"
    default_message = _("视频文件已损坏，无法读取，请重新导出或重新录制后上传。")


class VideoTruncated(VideoInvalid):
    code = "truncated"
    default_message = _("视频文件不完整，可能是上传中断了，请重新上传。")


class VideoTimeout(VideoInvalid):
    code = "timeout"
    default_message = _("视频处理超时，文件可能过大或已损坏，请压缩后重试。")


class VideoTooBigForMemory(VideoInvalid):
    code = "too_big_for_memory"
    default_message = _("视频的分辨率或体积过大，无法处理，请压缩后再上传。")


class VideoOutputTooBig(VideoInvalid):
    code = "output_too_big"
    default_message = _("处理后的视频文件过大，请压缩后再上传。")


class VideoCrashed(VideoInvalid):
    """The child died while working on the file (a decoder crash on a hostile or broken file)."""

    code = "crashed"
    default_message = _("视频处理失败，文件可能已损坏，请重新导出后再上传。")


class VideoSandboxError(SaidaoError):
    code = "video_unavailable"
    status = 500
    default_message = _("视频处理服务暂时不可用，请稍后重试。")


INVALID_BY_CODE: dict[str, type[VideoInvalid]] = {
    cls.code: cls
    for cls in (
        VideoEmpty,
        NotAVideo,
        NoVideoStream,
        VideoTooLong,
        VideoCorrupt,
        VideoTruncated,
        VideoTimeout,
        VideoTooBigForMemory,
        VideoOutputTooBig,
        VideoCrashed,
    )
}


def error_from_code(code: str, detail: dict[str, Any] | None = None) -> SaidaoError:
    """The typed error for a code answered by the child; unknown codes are our own failure."""
    cls = INVALID_BY_CODE.get(code)
    if cls is None:
        return VideoSandboxError(detail={"reason": code, **(detail or {})})
    return cls(detail=detail)
