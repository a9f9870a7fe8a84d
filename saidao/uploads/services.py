"""Writes of uploads: create, append (tus), S3 multipart, finish once, terminate, expire.

Completion is a status change from ``uploading`` to ``complete`` made under a row lock; only
that change schedules the purpose's ``on_complete`` (after commit), so finishing twice
processes once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import logging
import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.errors import InvalidInput

from .errors import (
    UploadAlreadyComplete,
    UploadBeyondLength,
    UploadGone,
    UploadIncomplete,
    UploadOffsetMismatch,
    UploadWrongBackend,
)
from .models import Upload
from .purposes import upload_purpose_check, upload_purpose_get
from .s3 import (
    PRESIGNED_URL_SECONDS,
    BotoCoreError,
    ClientError,
    s3_bucket,
    s3_call,
    s3_client,
    s3_enabled,
    s3_error_code,
    s3_object_key,
    s3_part_count,
    s3_part_length,
    s3_part_size,
)
from .selectors import upload_check_alive, upload_s3_parts

logger = logging.getLogger(__name__)

UPLOAD_TTL = dt.timedelta(hours=24)  # an upload not completed within this is expired
PIECE = 64 * 1024  # bytes read from the request and written to disk at a time
HASH_PIECE = 1024 * 1024
MAX_PARTS_PER_REQUEST = 100
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


# --- helpers ----------------------------------------------------------------------------------


def _extension(filename: str) -> str:
    m = _EXTENSION.search(filename)
    return m.group(0).lower() if m else ""


def _local_path(storage_key: str) -> Path:
    return Path(default_storage.path(storage_key))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while piece := fh.read(HASH_PIECE):
            digest.update(piece)
    return digest.hexdigest()


def _check_new(
    *,
    owner: Any,
    purpose: str,
    declared_size: int,
    content_type: str,
    metadata: dict[str, Any] | None,
) -> int:
    """Refuse before anything is stored; returns the cap that applies."""
    if declared_size < 0:
        raise InvalidInput.for_field("declared_size", _("文件大小不能为负数。"))
    return upload_purpose_check(
        purpose=purpose,
        declared_size=declared_size,
        content_type=content_type,
        owner=owner,
        metadata=metadata,
    )


def _run_on_complete(pk: uuid.UUID) -> None:
    upload = Upload.objects.get(pk=pk)
    try:
        purpose = upload_purpose_get(upload.purpose)
    except InvalidInput:
        logger.warning("upload %s completed for unregistered purpose %r", pk, upload.purpose)
        return
    purpose.on_complete(upload)


def _finish(upload: Upload, *, sha256: str, storage_key: str) -> Upload:
    """Mark a locked, still uploading row complete and schedule its handler after commit.

    The caller holds the row lock and has checked the status: this is the one place a
    completion is processed.
    """
    assert upload.status == Upload.Status.UPLOADING
    upload.status = Upload.Status.COMPLETE
    upload.offset = upload.declared_size
    upload.sha256 = sha256
    upload.storage_key = storage_key
    upload.completed_at = clock.now()
    upload.save(
        update_fields=["status", "offset", "sha256", "storage_key", "completed_at", "updated_at"]
    )
    pk = upload.pk

    def upload_on_complete() -> None:  # a named function: Django logs a failure by its name
        _run_on_complete(pk)

    transaction.on_commit(upload_on_complete, robust=True)
    return upload


def _finish_local(upload: Upload, *, sha256: str | None = None) -> Upload:
    """Complete a tus upload whose bytes are all on disk: hash, drop ``.part``, finish."""
    part = _local_path(upload.storage_key)
    digest = sha256 if sha256 is not None else _sha256_file(part)
    final_key = upload.storage_key.removesuffix(".part")
    final = _local_path(final_key)
    os.replace(part, final)
    try:
        return _finish(upload, sha256=digest, storage_key=final_key)
    except BaseException:
        os.replace(final, part)
        raise


def _lock(pk: uuid.UUID) -> Upload:
    return Upload.objects.select_for_update().get(pk=pk)


def _discard_storage(upload: Upload) -> None:
    """Free what an unfinished upload holds: its part file, or its S3 multipart upload."""
    if upload.backend == Upload.Backend.LOCAL:
        try:
            _local_path(upload.storage_key).unlink(missing_ok=True)
        except OSError:
            logger.exception("could not delete %s", upload.storage_key)
        return
    if not upload.s3_upload_id or not s3_enabled():
        return
    try:
        s3_client().abort_multipart_upload(
            Bucket=s3_bucket(),
            Key=s3_object_key(upload.storage_key),
            UploadId=upload.s3_upload_id,
        )
    except ClientError as e:
        if s3_error_code(e) != "NoSuchUpload":
            logger.exception("could not abort multipart upload of %s", upload.pk)
    except BotoCoreError:
        logger.exception("could not abort multipart upload of %s", upload.pk)


def _new(
    *,
    owner: Any,
    purpose: str,
    declared_size: int,
    max_size: int,
    filename: str,
    content_type: str,
    metadata: dict[str, Any] | None,
    backend: str,
) -> Upload:
    pk = uuid.uuid4()
    key = f"uploads/{pk}{_extension(filename)}"
    return Upload(
        id=pk,
        owner=owner,
        purpose=purpose,
        filename=filename[:255],
        content_type=content_type[:255],
        declared_size=declared_size,
        max_size=max_size,
        metadata=metadata or {},
        storage_key=f"{key}.part" if backend == Upload.Backend.LOCAL else key,
        backend=backend,
        expires_at=clock.now() + UPLOAD_TTL,
    )


# --- tus (local disk) -------------------------------------------------------------------------


@transaction.atomic
def upload_create(
    *,
    owner: Any,
    purpose: str,
    declared_size: int,
    filename: str = "",
    content_type: str = "",
    metadata: dict[str, Any] | None = None,
) -> Upload:
    """Start a tus upload on local disk; the declared size is checked against the purpose's
    cap before anything is stored. A zero-byte upload completes at once."""
    max_size = _check_new(
        owner=owner,
        purpose=purpose,
        declared_size=declared_size,
        content_type=content_type,
        metadata=metadata,
    )
    if s3_enabled():
        raise UploadWrongBackend(_("本站使用对象存储，请使用分片上传接口。"))
    upload = _new(
        owner=owner,
        purpose=purpose,
        declared_size=declared_size,
        max_size=max_size,
        filename=filename,
        content_type=content_type,
        metadata=metadata,
        backend=Upload.Backend.LOCAL,
    )
    upload.save(force_insert=True)
    path = _local_path(upload.storage_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.open("xb").close()
    if declared_size == 0:
        _finish_local(upload, sha256=hashlib.sha256(b"").hexdigest())
    return upload


def _check_patch(upload: Upload, *, offset: int, length: int | None) -> None:
    if upload.backend != Upload.Backend.LOCAL:
        raise UploadWrongBackend(_("该上传是对象存储分片上传。"))
    upload_check_alive(upload)
    if offset != upload.offset:
        raise UploadOffsetMismatch(detail={"offset": upload.offset})
    remaining = upload.declared_size - upload.offset
    if length is not None and length > remaining:
        raise UploadBeyondLength(
            detail={"offset": upload.offset, "declared_size": upload.declared_size}
        )


class _Running:
    """The SHA-256 of an upload's first ``offset`` bytes, as this process streamed them."""

    __slots__ = ("digest", "offset", "updated_at")

    def __init__(self, digest: Any, offset: int, updated_at: dt.datetime) -> None:
        self.digest, self.offset, self.updated_at = digest, offset, updated_at


# Kept between the PATCHes of an upload, so that its completion need not read the whole file
# back. Trusted only while the row is as this process left it (same offset and updated_at: no
# other process, no crash recovery wrote to it since); otherwise the file is hashed again.
_running: OrderedDict[uuid.UUID, _Running] = OrderedDict()
_running_lock = threading.Lock()
RUNNING_DIGESTS_MAX = 512


def _running_take(row: Upload) -> Any:
    """The digest to go on with for an append at ``row.offset``: fresh at 0, the kept one if
    it still holds, else None (the file will be hashed at the end)."""
    with _running_lock:
        kept = _running.pop(row.pk, None)
    if row.offset == 0:
        return hashlib.sha256()
    if kept is not None and (kept.offset, kept.updated_at) == (row.offset, row.updated_at):
        return kept.digest
    return None


def _running_keep(row: Upload, digest: Any) -> None:
    with _running_lock:
        _running[row.pk] = _Running(digest, row.offset, row.updated_at)
        while len(_running) > RUNNING_DIGESTS_MAX:
            _running.popitem(last=False)


class UploadBusy(Exception):
    """Another append to the same upload holds its file lock (asked not to wait)."""


@dataclass(eq=False)
class Appending:
    """An append in progress: the part file open at the offset and locked, the offset checked.

    ``write`` takes the body as it arrives and never stores a byte past the declared size: what
    would go beyond is dropped and ``overflow`` set (``upload_append_end`` then answers 413 and
    cuts the file back). ``fh`` is None when the upload was already complete (an empty final
    PATCH sent again). The file lock is released by ``upload_append_end`` or ``close``.
    """

    upload: Upload
    offset: int
    length: int | None
    limit: int  # the most bytes this append may store
    fh: io.FileIO | None
    digest: Any = None  # of the file up to offset + written, when known
    written: int = 0
    overflow: bool = False
    # Given what was written, in order, instead of hashing it here (the streamed PATCH hashes on
    # a thread of its own while the next piece arrives); it must have updated ``digest`` with
    # all of it before ``seal`` or ``upload_append_end``.
    feed: Callable[[bytes], None] | None = None

    def write(self, data: bytes) -> None:
        room = self.limit - self.written
        if len(data) > room:
            self.overflow = True
            data = data[:room]
        if not data:
            return
        assert self.fh is not None  # limit is 0 without a file
        view = memoryview(data)
        while view:  # a raw file may take less than asked
            view = view[self.fh.write(view) :]
        if self.feed is not None:
            self.feed(data)
        elif self.digest is not None:
            self.digest.update(data)
        self.written += len(data)

    @property
    def completes(self) -> bool:
        """Whether what was written is the upload's last byte."""
        return (
            self.fh is not None
            and not self.overflow
            and self.offset + self.written == self.upload.declared_size
        )

    def seal(self) -> str:
        """Sync the complete file to disk and return its SHA-256 (no database work: callers
        may run it on another thread before ``upload_append_end``)."""
        assert self.fh is not None and self.completes
        fd = self.fh.fileno()
        os.fsync(fd)
        return self.digest.hexdigest() if self.digest is not None else _sha256_fd(fd)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()  # releases the lock; closing again is harmless


def upload_append_begin(
    *, upload: Upload, offset: int, length: int | None, wait: bool = True
) -> Appending:
    """Open an append at ``offset`` (tus PATCH), before a byte of the body is read.

    Refused at once: a gone upload (410), an offset other than the stored one (409, with the
    stored offset), a declared ``length`` past the declared size (413). Then the part file is
    opened and locked (``wait=False``: ``UploadBusy`` when another append holds it), the row
    is read again under that lock and checked, and bytes past the offset, left by an append
    that never committed, are cut off. A file shorter than the stored offset (bytes lost in a
    crash) pulls the offset back to the file's length (409 tells the client).
    """
    _check_patch(upload, offset=offset, length=length)  # fail fast, before the file lock
    if upload.status == Upload.Status.COMPLETE:
        return Appending(upload=upload, offset=offset, length=length, limit=0, fh=None)
    try:
        fh = _local_path(upload.storage_key).open("r+b", buffering=0)
    except FileNotFoundError:
        upload.refresh_from_db()  # finished, terminated or expired meanwhile
        _check_patch(upload, offset=offset, length=length)
        raise UploadGone(detail={"status": upload.status}) from None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy(upload.pk) from None
        # Appends change the offset only while holding the file lock: this read is current.
        row = Upload.objects.get(pk=upload.pk)
        _check_patch(row, offset=offset, length=length)
        if row.status == Upload.Status.COMPLETE:
            fh.close()
            return Appending(upload=row, offset=offset, length=length, limit=0, fh=None)
        on_disk = os.fstat(fh.fileno()).st_size
        if on_disk < row.offset:  # bytes were lost (a crash): resume from what is on disk
            Upload.objects.filter(
                pk=row.pk, status=Upload.Status.UPLOADING, offset=row.offset
            ).update(offset=on_disk, updated_at=clock.now())
            raise UploadOffsetMismatch(detail={"offset": on_disk})
        if on_disk > offset:  # bytes past the offset: an append that did not commit
            os.ftruncate(fh.fileno(), offset)
        fh.seek(offset)
    except BaseException:
        fh.close()
        raise
    return Appending(
        upload=row,
        offset=offset,
        length=length,
        limit=row.declared_size - offset,
        fh=fh,
        digest=_running_take(row),
    )


def upload_append_end(append: Appending, *, sha256: str | None = None) -> Upload:
    """Commit what an append stored, and release its lock; completes the upload when its last
    byte landed (synced to disk, hashed, ``.part`` dropped, the purpose's handler scheduled).

    A body that went past the declared size is cut back to the offset (413, nothing kept). A
    body cut short (the client went away) keeps what arrived. If the upload was terminated,
    expired or appended to by someone else meanwhile, 410 or 409 and nothing is committed
    (the next append cuts the bytes off). ``sha256``: what ``append.seal()`` returned, if the
    caller already ran it.
    """
    try:
        offset, row = append.offset, append.upload
        if append.fh is None:  # already complete: only an empty body is fine
            if append.overflow:
                raise UploadBeyondLength(detail={"offset": row.offset})
            return row
        if append.overflow:
            os.ftruncate(append.fh.fileno(), offset)
            raise UploadBeyondLength(detail={"offset": offset, "declared_size": row.declared_size})
        new_offset = offset + append.written
        if new_offset < row.declared_size:
            now = clock.now()
            updated = Upload.objects.filter(
                pk=row.pk, status=Upload.Status.UPLOADING, offset=offset, expires_at__gt=now
            ).update(offset=new_offset, updated_at=now)
            if updated:
                row.offset, row.updated_at = new_offset, now
                if append.digest is not None:
                    _running_keep(row, append.digest)
                return row
            row.refresh_from_db()
            upload_check_alive(row)
            raise UploadOffsetMismatch(detail={"offset": row.offset})
        digest = sha256 if sha256 is not None else append.seal()
        with transaction.atomic():
            row = _lock(row.pk)
            upload_check_alive(row)
            if row.status != Upload.Status.UPLOADING or row.offset != offset:
                raise UploadOffsetMismatch(detail={"offset": row.offset})
            return _finish_local(row, sha256=digest)
    finally:
        append.close()


def _sha256_fd(fd: int) -> str:
    digest = hashlib.sha256()
    os.lseek(fd, 0, os.SEEK_SET)
    while piece := os.read(fd, HASH_PIECE):
        digest.update(piece)
    return digest.hexdigest()


def _copy(stream: Readable, append: Appending) -> None:
    """Copy up to the append's ``length`` (or, unknown, its limit) in pieces; notes whether a
    body of unknown length went on past the limit."""
    want = append.limit if append.length is None else append.length
    while append.written < want:
        piece = stream.read(min(PIECE, want - append.written))
        if not piece:
            break  # the client went away: keep what arrived
        append.write(piece)
    if append.length is None and append.written == append.limit and stream.read(1):
        append.overflow = True


def upload_append(*, upload: Upload, offset: int, stream: Readable, length: int | None) -> Upload:
    """Append a tus PATCH body read from ``stream`` at ``offset``: ``upload_append_begin``,
    the body copied in pieces, ``upload_append_end``.

    Appends to one upload are serialized by an exclusive lock on its part file, held from the
    offset check to the offset update. The database is not held while bytes arrive from a slow
    phone: under SQLite that would block every other writer. A body cut short by a dropped
    connection keeps what arrived. Bytes are synced to disk once, when the last one lands
    (then the upload is hashed and completed): after a crash, an offset ahead of the file is
    pulled back to the file's length, and the client resends from there.

    Under ``saidao serve`` a PATCH does not come here: ``saidao.uploads.asgi`` streams the body
    into the file as it arrives, between the same begin and end.
    """
    append = upload_append_begin(upload=upload, offset=offset, length=length)
    try:
        _copy(stream, append)
    except BaseException:
        append.close()
        raise
    return upload_append_end(append)


@transaction.atomic
def upload_terminate(*, upload: Upload) -> Upload:
    """Cancel an unfinished upload (tus termination, S3 abort) and free its storage.

    A complete upload belongs to its purpose now and cannot be cancelled (409).
    """
    row = _lock(upload.pk)
    upload_check_alive(row)
    if row.status == Upload.Status.COMPLETE:
        raise UploadAlreadyComplete
    row.status = Upload.Status.ABORTED
    row.save(update_fields=["status", "updated_at"])
    _discard_storage(row)
    return row


def uploads_expire(*, now: dt.datetime | None = None) -> int:
    """Expire the uploads still unfinished at their deadline: mark them, then free their
    storage. Returns how many expired. Safe to run from several processes at once."""
    now = now or clock.now()
    due = Upload.objects.filter(status=Upload.Status.UPLOADING, expires_at__lte=now)
    count = 0
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            row = (
                Upload.objects.select_for_update()
                .filter(pk=pk, status=Upload.Status.UPLOADING, expires_at__lte=now)
                .first()
            )
            if row is None:
                continue
            row.status = Upload.Status.EXPIRED
            row.save(update_fields=["status", "updated_at"])
        _discard_storage(row)
        count += 1
    return count


# --- S3 multipart (scaled mode) ---------------------------------------------------------------


@transaction.atomic
def upload_s3_start(
    *,
    owner: Any,
    purpose: str,
    declared_size: int,
    filename: str = "",
    content_type: str = "",
    metadata: dict[str, Any] | None = None,
) -> Upload:
    """Start an S3 multipart upload straight to the bucket, after checking the declared size
    against the purpose's cap (413). A zero-byte file is stored and completed at once."""
    max_size = _check_new(
        owner=owner,
        purpose=purpose,
        declared_size=declared_size,
        content_type=content_type,
        metadata=metadata,
    )
    bucket = s3_bucket()
    upload = _new(
        owner=owner,
        purpose=purpose,
        declared_size=declared_size,
        max_size=max_size,
        filename=filename,
        content_type=content_type,
        metadata=metadata,
        backend=Upload.Backend.S3,
    )
    client = s3_client()
    key = s3_object_key(upload.storage_key)
    object_type = content_type or "application/octet-stream"
    if declared_size == 0:
        with s3_call():
            client.put_object(Bucket=bucket, Key=key, Body=b"", ContentType=object_type)
        upload.save(force_insert=True)
        return _finish(
            upload, sha256=hashlib.sha256(b"").hexdigest(), storage_key=upload.storage_key
        )
    with s3_call():
        resp = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType=object_type)
    upload.s3_upload_id = str(resp["UploadId"])
    upload.save(force_insert=True)
    return upload


def upload_s3_part_urls(*, upload: Upload, part_numbers: Iterable[int]) -> dict[int, str]:
    """Presigned PUT URLs for the given parts (1-based). Each URL is signed for the part's
    exact length: ``s3_part_size`` bytes (at least 5 MB) for every part but the last."""
    if upload.backend != Upload.Backend.S3:
        raise UploadWrongBackend(_("该上传不是对象存储分片上传。"))
    upload_check_alive(upload)
    if upload.status == Upload.Status.COMPLETE:
        raise UploadAlreadyComplete(_("该上传已经完成。"))
    numbers = sorted(set(part_numbers))
    count = s3_part_count(upload.declared_size)
    if not numbers or len(numbers) > MAX_PARTS_PER_REQUEST:
        raise InvalidInput.for_field(
            "part_numbers", _("一次请提供 1 到 %(n)d 个分片编号。") % {"n": MAX_PARTS_PER_REQUEST}
        )
    bad = [n for n in numbers if not 1 <= n <= count]
    if bad:
        raise InvalidInput(
            _("分片编号应在 1 到 %(n)d 之间。") % {"n": count},
            detail={"fields": {"part_numbers": [str(n) for n in bad]}, "part_count": count},
        )
    client = s3_client()
    bucket, key = s3_bucket(), s3_object_key(upload.storage_key)
    urls: dict[int, str] = {}
    with s3_call():
        for n in numbers:
            urls[n] = client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": bucket,
                    "Key": key,
                    "UploadId": upload.s3_upload_id,
                    "PartNumber": n,
                    "ContentLength": s3_part_length(upload.declared_size, n),
                },
                ExpiresIn=PRESIGNED_URL_SECONDS,
            )
    return urls


def _strip_etag(etag: str) -> str:
    return etag.strip().strip('"')


def upload_s3_complete(*, upload: Upload, parts: Iterable[tuple[int, str]]) -> Upload:
    """Assemble the parts ``[(part_number, etag)]`` into the object, check its size with a HEAD,
    hash it by streaming it back, and complete. Completing an already complete upload
    returns it unchanged: the purpose's handler runs once.

    Parts missing, of the wrong size or with a wrong ETag are refused (400) and the upload
    stays open for the client to send them again.
    """
    if upload.backend != Upload.Backend.S3:
        raise UploadWrongBackend(_("该上传不是对象存储分片上传。"))
    refused: Exception | None = None
    with transaction.atomic():
        row = _lock(upload.pk)
        if row.status == Upload.Status.COMPLETE:
            return row
        upload_check_alive(row)
        refused = _s3_assemble(row, dict(parts))
        if refused is None:
            return row
        if isinstance(refused, UploadGone):
            row.status = Upload.Status.ABORTED
            row.save(update_fields=["status", "updated_at"])
    raise refused  # after the transaction, so that an aborted status is kept


def _s3_assemble(row: Upload, parts: dict[int, str]) -> Exception | None:
    """Complete the multipart upload of a locked row; returns the error to raise, if any."""
    count = s3_part_count(row.declared_size)
    expected = set(range(1, count + 1))
    stored = {p.part_number: p for p in upload_s3_parts(upload=row)}
    missing = sorted(n for n in expected if n not in parts or n not in stored)
    unexpected = sorted(n for n in parts if n not in expected)
    wrong_size = sorted(
        n
        for n in expected
        if n in stored and stored[n].size != s3_part_length(row.declared_size, n)
    )
    wrong_etag = sorted(
        n
        for n in expected
        if n in stored and n in parts and _strip_etag(parts[n]) != _strip_etag(stored[n].etag)
    )
    if missing or unexpected or wrong_size or wrong_etag:
        return UploadIncomplete(
            detail={
                "part_count": count,
                "part_size": s3_part_size(row.declared_size),
                "missing": missing,
                "unexpected": unexpected,
                "wrong_size": wrong_size,
                "wrong_etag": wrong_etag,
            }
        )
    client = s3_client()
    bucket, key = s3_bucket(), s3_object_key(row.storage_key)
    with s3_call():
        try:
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=row.s3_upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": n, "ETag": parts[n]} for n in sorted(expected)]
                },
            )
        except ClientError as e:
            if s3_error_code(e) in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                return UploadIncomplete(detail={"s3": s3_error_code(e)})
            raise
        head = client.head_object(Bucket=bucket, Key=key)
        if int(head["ContentLength"]) != row.declared_size:
            client.delete_object(Bucket=bucket, Key=key)
            return UploadGone(
                _("文件大小与声明不符，请重新上传。"),
                detail={"size": int(head["ContentLength"]), "declared_size": row.declared_size},
            )
        digest = hashlib.sha256()
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        for piece in body.iter_chunks(HASH_PIECE):
            digest.update(piece)
    _finish(row, sha256=digest.hexdigest(), storage_key=row.storage_key)
    return None


def upload_s3_abort(*, upload: Upload) -> Upload:
    """Abort an S3 multipart upload: the bucket drops its parts."""
    if upload.backend != Upload.Backend.S3:
        raise UploadWrongBackend(_("该上传不是对象存储分片上传。"))
    return upload_terminate(upload=upload)
