"""Uploads in the REST API: an upload's state, and S3 multipart for scaled mode.

In scaled mode the bytes go from the phone straight to the bucket: ``start`` opens a multipart
upload, ``part-urls`` presigns a PUT per part, ``parts`` lists what the bucket already holds (to
resume after a reload), ``complete`` assembles the parts and ``abort`` gives up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from saidao.core.api_types import MAX_BIGINT

from . import selectors, services
from .models import Upload
from .s3 import S3_MAX_PARTS, s3_part_count, s3_part_size

router = Router(tags=["uploads"])


# 0 reaches the service, which names the parts the file has.
PartNumber = Annotated[int, Field(ge=0, le=S3_MAX_PARTS)]


class UploadOut(Schema):
    id: uuid.UUID
    purpose: str
    filename: str
    content_type: str
    backend: str
    status: str
    offset: int
    declared_size: int
    sha256: str
    expires_at: dt.datetime
    completed_at: dt.datetime | None


class S3UploadOut(UploadOut):
    part_size: int
    part_count: int

    @staticmethod
    def resolve_part_size(obj: Upload) -> int:
        return s3_part_size(obj.declared_size)

    @staticmethod
    def resolve_part_count(obj: Upload) -> int:
        return s3_part_count(obj.declared_size)


class S3StartIn(Schema):
    purpose: str = Field(..., max_length=32)
    size: int = Field(..., ge=0, le=MAX_BIGINT, description="声明的文件大小（字节）")
    filename: str = Field("", max_length=255)
    content_type: str = Field("", max_length=255)
    metadata: dict[str, Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)


class PartNumbersIn(Schema):
    part_numbers: list[PartNumber] = Field(..., max_length=S3_MAX_PARTS)


class PartUrlOut(Schema):
    part_number: int
    url: str


class PartOut(Schema):
    part_number: int
    etag: str
    size: int


class PartIn(Schema):
    part_number: PartNumber
    etag: str = Field(..., max_length=200)


class CompleteIn(Schema):
    parts: list[PartIn] = Field(..., max_length=S3_MAX_PARTS)


@router.post("/uploads/s3/start", response={201: S3UploadOut}, url_name="uploads_s3_start")
def s3_start(request: HttpRequest, payload: S3StartIn) -> Status[Upload]:
    """Open an S3 multipart upload; a declared size above the purpose's cap is refused (413)."""
    upload = services.upload_s3_start(
        owner=request.user,
        purpose=payload.purpose,
        declared_size=payload.size,
        filename=payload.filename,
        content_type=payload.content_type,
        metadata={**payload.metadata, "purpose": payload.purpose},
    )
    return Status(201, upload)


@router.get("/uploads/s3/{upload_id}", response=S3UploadOut)
def s3_detail(request: HttpRequest, upload_id: uuid.UUID) -> Upload:
    """An S3 upload with its part size and count (the client slices the file by these)."""
    return selectors.upload_get_for_owner(user=request.user, pk=upload_id)


@router.post("/uploads/s3/{upload_id}/part-urls", response=list[PartUrlOut])
def s3_part_urls(
    request: HttpRequest, upload_id: uuid.UUID, payload: PartNumbersIn
) -> list[PartUrlOut]:
    """Presigned PUT URLs for the given part numbers (at most 100 at a time)."""
    upload = selectors.upload_get_for_owner(user=request.user, pk=upload_id)
    urls = services.upload_s3_part_urls(upload=upload, part_numbers=payload.part_numbers)
    return [PartUrlOut(part_number=n, url=u) for n, u in sorted(urls.items())]


@router.get("/uploads/s3/{upload_id}/parts", response=list[PartOut])
def s3_parts(request: HttpRequest, upload_id: uuid.UUID) -> Any:
    """The parts the bucket already holds, with their ETags: what a resumed upload can skip."""
    upload = selectors.upload_get_for_owner(user=request.user, pk=upload_id)
    return selectors.upload_s3_parts(upload=upload)


@router.post("/uploads/s3/{upload_id}/complete", response=UploadOut)
def s3_complete(request: HttpRequest, upload_id: uuid.UUID, payload: CompleteIn) -> Upload:
    """Assemble the parts; sizes are checked, the object hashed. Idempotent once complete."""
    upload = selectors.upload_get_for_owner(user=request.user, pk=upload_id)
    return services.upload_s3_complete(
        upload=upload, parts=[(p.part_number, p.etag) for p in payload.parts]
    )


@router.post("/uploads/s3/{upload_id}/abort", response={204: None})
def s3_abort(request: HttpRequest, upload_id: uuid.UUID) -> Status[None]:
    upload = selectors.upload_get_for_owner(user=request.user, pk=upload_id)
    services.upload_s3_abort(upload=upload)
    return Status(204, None)


@router.get("/uploads/{upload_id}", response=UploadOut)
def upload_detail(request: HttpRequest, upload_id: uuid.UUID) -> Upload:
    """The caller's upload: status, offset, declared size and, once complete, SHA-256."""
    return selectors.upload_get_for_owner(user=request.user, pk=upload_id)
