"""Reads of uploads: only ever the caller's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from saidao.core import clock

from .errors import UploadGone, UploadNotFound, UploadWrongBackend
from .models import Upload
from .s3 import s3_bucket, s3_call, s3_client, s3_enabled, s3_object_key


def upload_backend() -> str:
    """Where new uploads go: the bucket when one is configured (scaled mode), else local disk."""
    return Upload.Backend.S3 if s3_enabled() else Upload.Backend.LOCAL


def upload_get_for_owner(*, user: Any, pk: uuid.UUID | str) -> Upload:
    """The caller's upload; anyone else's, or none, is a 404 (never a 403: ids are not hints)."""
    if user is None or not user.is_authenticated:
        raise UploadNotFound
    try:
        return Upload.objects.get(pk=pk, owner=user)
    except (Upload.DoesNotExist, ValueError):
        raise UploadNotFound from None


def upload_is_gone(upload: Upload) -> bool:
    """Terminated, expired, or past its deadline without having completed."""
    if upload.status in (Upload.Status.ABORTED, Upload.Status.EXPIRED):
        return True
    return upload.status == Upload.Status.UPLOADING and upload.expires_at <= clock.now()


def upload_check_alive(upload: Upload) -> None:
    if upload_is_gone(upload):
        raise UploadGone(detail={"status": upload.status})


@dataclass(frozen=True)
class S3Part:
    part_number: int
    etag: str
    size: int


def upload_s3_parts(*, upload: Upload) -> list[S3Part]:
    """The parts the bucket holds for an S3 upload in progress, in order (ListParts).

    A client resuming after a reload asks for these to know which parts are still missing.
    """
    if upload.backend != Upload.Backend.S3:
        raise UploadWrongBackend(_("该上传不是对象存储分片上传。"))
    upload_check_alive(upload)
    if upload.status != Upload.Status.UPLOADING:
        return []
    client = s3_client()
    parts: list[S3Part] = []
    marker = 0
    while True:
        with s3_call():
            resp = client.list_parts(
                Bucket=s3_bucket(),
                Key=s3_object_key(upload.storage_key),
                UploadId=upload.s3_upload_id,
                PartNumberMarker=marker,
                MaxParts=1000,
            )
        for p in resp.get("Parts", []):
            parts.append(
                S3Part(part_number=int(p["PartNumber"]), etag=str(p["ETag"]), size=int(p["Size"]))
            )
        if not resp.get("IsTruncated"):
            break
        marker = int(resp["NextPartNumberMarker"])
    return sorted(parts, key=lambda p: p.part_number)
