"""The boto3 client for the bucket of scaled mode, built from the django-storages settings."""

from __future__ import annotations

import contextlib
import functools
import posixpath
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError as BotoCoreError,
)
from botocore.exceptions import ClientError as ClientError
from django.conf import settings

from .errors import StorageNotConfigured, StorageUnavailable

MB = 1024 * 1024
S3_MIN_PART_SIZE = 5 * MB  # S3's floor for every part but the last
S3_MAX_PARTS = 10_000
PRESIGNED_URL_SECONDS = 3600


def s3_enabled() -> bool:
    """Scaled mode keeps media in a bucket: uploads go there by S3 multipart, not tus."""
    return bool(settings.AWS_STORAGE_BUCKET_NAME)


def s3_bucket() -> str:
    if not settings.AWS_STORAGE_BUCKET_NAME:
        raise StorageNotConfigured
    return str(settings.AWS_STORAGE_BUCKET_NAME)


def s3_object_key(storage_key: str) -> str:
    """The object's key: the storage path under django-storages' AWS_LOCATION prefix, so that
    ``default_storage.open(upload.storage_key)`` finds the object."""
    location = str(getattr(settings, "AWS_LOCATION", "") or "").strip("/")
    return posixpath.join(location, storage_key) if location else storage_key


def s3_part_size(declared_size: int) -> int:
    """Every part but the last has this size: 5 MB, or more for files above 50 GB so that
    10,000 parts suffice (rounded up to whole MB)."""
    needed = -(-declared_size // S3_MAX_PARTS)
    return max(S3_MIN_PART_SIZE, -(-needed // MB) * MB)


def s3_part_count(declared_size: int) -> int:
    return -(-declared_size // s3_part_size(declared_size))


def s3_part_length(declared_size: int, part_number: int) -> int:
    size = s3_part_size(declared_size)
    return min(size, declared_size - (part_number - 1) * size)


@functools.lru_cache(maxsize=4)
def _client(
    endpoint: str | None, key: str | None, secret: str | None, region: str, style: str
) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}),
    )


def s3_client() -> Any:
    """A (thread-safe, cached) boto3 S3 client for the configured endpoint and credentials."""
    endpoint = settings.AWS_S3_ENDPOINT_URL or None
    style = getattr(settings, "AWS_S3_ADDRESSING_STYLE", None) or ("path" if endpoint else "auto")
    region = getattr(settings, "AWS_S3_REGION_NAME", None) or "us-east-1"
    return _client(
        endpoint,
        settings.AWS_ACCESS_KEY_ID,
        settings.AWS_SECRET_ACCESS_KEY,
        str(region),
        str(style),
    )


def s3_error_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ("NoSuchUpload", "InvalidPart"...), or ""."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


@contextlib.contextmanager
def s3_call() -> Iterator[None]:
    """Turn a failure of the storage service into StorageUnavailable (502)."""
    try:
        yield
    except ClientError as e:
        raise StorageUnavailable(detail={"s3": s3_error_code(e)}) from e
    except BotoCoreError as e:
        raise StorageUnavailable from e
