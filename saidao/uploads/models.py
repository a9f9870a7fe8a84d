"""One resumable upload: its declared size, how far it got, where its bytes are."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel


class Upload(TimeStampedModel):
    """A file arriving in pieces, by tus (embedded mode) or S3 multipart (scaled mode).

    ``offset`` counts the bytes stored so far (tus); an S3 upload keeps it at 0 until it
    completes, its parts living in the bucket. ``storage_key`` is a path under the default
    storage: ``uploads/<id><ext>.part`` while a tus upload is in progress, ``uploads/<id><ext>``
    once complete (and from the start for S3, whose parts only become the object at the end).
    """

    class Backend(models.TextChoices):
        LOCAL = "local", _("本地磁盘")
        S3 = "s3", _("对象存储")

    class Status(models.TextChoices):
        UPLOADING = "uploading", _("上传中")
        COMPLETE = "complete", _("已完成")
        ABORTED = "aborted", _("已取消")
        EXPIRED = "expired", _("已过期")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.CASCADE,
        related_name="uploads",
    )
    purpose = models.CharField(_("用途"), max_length=32)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=255, blank=True)
    declared_size = models.BigIntegerField(_("声明大小（字节）"))
    offset = models.BigIntegerField(_("已接收（字节）"), default=0)
    max_size = models.BigIntegerField(_("大小上限（字节）"))
    metadata = models.JSONField(_("元数据"), default=dict, blank=True)
    storage_key = models.CharField(_("存储路径"), max_length=255)
    backend = models.CharField(
        _("存储后端"), max_length=8, choices=Backend.choices, default=Backend.LOCAL
    )
    s3_upload_id = models.CharField(_("分片上传编号"), max_length=1024, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.UPLOADING
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("过期时间"))
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("上传")
        verbose_name_plural = _("上传")
        indexes = [models.Index(fields=["status", "expires_at"], name="upload_status_expires")]
        constraints = [
            models.CheckConstraint(
                condition=Q(declared_size__gte=0), name="upload_declared_size_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(offset__gte=0) & Q(offset__lte=F("declared_size")),
                name="upload_offset_within_declared_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.pk} {self.filename} ({self.status})"

    @property
    def is_uploading(self) -> bool:
        return self.status == self.Status.UPLOADING
