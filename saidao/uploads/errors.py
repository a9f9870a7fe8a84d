"""The ways an upload can be refused; each maps to the HTTP status tus (or the API) expects."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput, NotFound, SaidaoError


class UploadNotFound(NotFound):
    code = "upload_not_found"
    default_message = _("找不到该上传，或您无权查看。")


class UploadPurposeUnknown(InvalidInput):
    code = "upload_purpose_unknown"
    default_message = _("不支持这种用途的上传。")


class UploadTypeNotAllowed(InvalidInput):
    code = "upload_type_not_allowed"
    default_message = _("不支持这种文件类型。")


class UploadTooLarge(SaidaoError):
    """The declared size is above the purpose's cap, or a piece would go past the declared size."""

    code = "upload_too_large"
    status = 413
    default_message = _("文件太大，超过了允许的上限。")


class UploadBeyondLength(UploadTooLarge):
    code = "upload_beyond_length"
    default_message = _("上传的数据超过了声明的文件大小。")


class UploadOffsetMismatch(Conflict):
    """The client's offset is not the server's; ``detail["offset"]`` holds the server's."""

    code = "upload_offset_mismatch"
    default_message = _("上传进度与服务器不一致，请从服务器记录的位置继续。")


class UploadGone(SaidaoError):
    code = "upload_gone"
    status = 410
    default_message = _("该上传已过期或已取消，请重新上传。")


class UploadAlreadyComplete(Conflict):
    code = "upload_already_complete"
    default_message = _("该上传已经完成，不能再取消。")


class UploadWrongBackend(InvalidInput):
    code = "upload_wrong_backend"
    default_message = _("该上传不是以这种方式进行的。")


class UploadIncomplete(InvalidInput):
    """The parts sent to object storage do not add up to the declared file."""

    code = "upload_incomplete"
    default_message = _("分片不完整或大小不符，请补传后再完成上传。")


class StorageNotConfigured(SaidaoError):
    code = "storage_not_configured"
    status = 404
    default_message = _("本站未启用对象存储上传。")


class StorageUnavailable(SaidaoError):
    code = "storage_unavailable"
    status = 502
    default_message = _("存储服务暂时不可用，请稍后重试。")
