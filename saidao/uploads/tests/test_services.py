"""The upload services and the purpose registry, without HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from saidao.core import clock
from saidao.core.errors import InvalidInput
from saidao.uploads import services
from saidao.uploads.errors import (
    UploadBeyondLength,
    UploadGone,
    UploadOffsetMismatch,
    UploadPurposeUnknown,
    UploadTooLarge,
    UploadTypeNotAllowed,
)
from saidao.uploads.models import Upload
from saidao.uploads.purposes import (
    UPLOAD_DEFAULT_MAX_SIZE,
    upload_max_size,
    upload_purpose_get,
    upload_purpose_register,
    upload_purpose_unregister,
)

from .conftest import CAP, PURPOSE, Recorder, Worker

Capture = Callable[..., Any]


def _new(worker: Worker, size: int, **kwargs: Any) -> Upload:
    return services.upload_create(
        owner=worker.user, purpose=PURPOSE, declared_size=size, filename="a.bin", **kwargs
    )


def _append(upload: Upload, offset: int, data: bytes, length: int | None = -1) -> Upload:
    return services.upload_append(
        upload=Upload.objects.get(pk=upload.pk),
        offset=offset,
        stream=io.BytesIO(data),
        length=len(data) if length == -1 else length,
    )


# --- the registry -------------------------------------------------------------------------


def test_a_purpose_registers_once_and_conflicting_registrations_fail() -> None:
    """Registering again with the same arguments is harmless; with others it is an error."""

    def handler(upload: Upload) -> None:
        pass

    try:
        entry = upload_purpose_register("avatar", on_complete=handler)
        assert entry.max_size == UPLOAD_DEFAULT_MAX_SIZE == 500 * 1024 * 1024
        assert upload_purpose_register("avatar", on_complete=handler) == entry
        with pytest.raises(ImproperlyConfigured):
            upload_purpose_register("avatar", on_complete=handler, max_size=1)
        assert upload_purpose_get("avatar") is entry
        assert upload_max_size() >= UPLOAD_DEFAULT_MAX_SIZE
    finally:
        upload_purpose_unregister("avatar")
    with pytest.raises(UploadPurposeUnknown):
        upload_purpose_get("avatar")


def test_content_types_restrict_what_a_purpose_accepts(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """ "video/" admits the family, an exact type itself; others are refused before storing."""
    upload_purpose_register(
        "clip",
        on_complete=completed,
        max_size=100,
        content_types=("video/", "application/pdf"),
    )
    try:
        entry = upload_purpose_get("clip")
        assert entry.allows_type("video/mp4")
        assert entry.allows_type("Application/PDF; charset=binary")
        assert not entry.allows_type("image/png")
        assert not entry.allows_type("")
        with pytest.raises(UploadTypeNotAllowed):
            services.upload_create(
                owner=worker.user, purpose="clip", declared_size=10, content_type="image/png"
            )
        assert not Upload.objects.exists()
    finally:
        upload_purpose_unregister("clip")


# --- creating and appending ---------------------------------------------------------------


def test_a_negative_or_too_large_declared_size_is_refused(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """Negative sizes are invalid; sizes above the cap are too large; neither stores anything."""
    with pytest.raises(InvalidInput):
        _new(worker, -1)
    with pytest.raises(UploadTooLarge) as exc:
        _new(worker, CAP + 1)
    assert exc.value.status == 413
    assert not Upload.objects.exists()
    assert list(media.rglob("*")) == []


def test_a_body_of_unknown_length_past_the_declared_size_is_cut_back(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """Without Content-Length the body is read only up to the declared size; if more follows,
    413 and the file is as before."""
    upload = _new(worker, 10)
    _append(upload, 0, b"abc")
    with pytest.raises(UploadBeyondLength):
        _append(upload, 3, b"defghijklmnop", length=None)
    upload.refresh_from_db()
    assert upload.offset == 3
    assert (media / upload.storage_key).read_bytes() == b"abc"
    assert _append(upload, 3, b"defghij", length=None).offset == 10


def test_a_dropped_connection_keeps_what_arrived(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """A body shorter than its Content-Length (the client went away) is kept as far as it got."""
    upload = _new(worker, 10)
    after = _append(upload, 0, b"abcd", length=8)
    assert after.offset == 4
    assert (media / upload.storage_key).read_bytes() == b"abcd"


def test_stray_bytes_past_the_offset_are_overwritten(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """Bytes on disk beyond the stored offset (an append that crashed before committing) are
    dropped by the next append, not kept in front of it."""
    upload = _new(worker, 6)
    _append(upload, 0, b"abc")
    with (media / upload.storage_key).open("ab") as fh:
        fh.write(b"XYZ")
    done = _append(upload, 3, b"def")
    assert done.status == Upload.Status.COMPLETE
    assert (media / done.storage_key).read_bytes() == b"abcdef"
    assert done.sha256 == hashlib.sha256(b"abcdef").hexdigest()


def test_a_file_shorter_than_its_offset_resumes_from_what_is_on_disk(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """If bytes were lost (a crash), the offset falls back to the file's size (409 tells the
    client) instead of padding the hole with zeros."""
    upload = _new(worker, 10)
    _append(upload, 0, b"abcdef")
    with (media / upload.storage_key).open("r+b") as fh:
        fh.truncate(2)
    with pytest.raises(UploadOffsetMismatch) as exc:
        _append(upload, 6, b"ghij")
    assert exc.value.detail == {"offset": 2}
    assert Upload.objects.get(pk=upload.pk).offset == 2
    done = _append(upload, 2, b"cdefghij")
    assert done.status == Upload.Status.COMPLETE
    assert done.sha256 == hashlib.sha256(b"abcdefghij").hexdigest()


def test_completion_goes_on_with_the_digest_of_earlier_pieces_while_it_holds(
    worker: Worker, media: Path, completed: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SHA-256 is computed as pieces arrive and kept between them, so completing does not
    read the file back; but once the row was changed by anyone else (here: its updated_at,
    as another process's append would), the kept digest is dropped and the file is hashed."""
    reads: list[int] = []
    real = services._sha256_fd

    def counted(fd: int) -> str:
        reads.append(fd)
        return real(fd)

    monkeypatch.setattr(services, "_sha256_fd", counted)
    first = _new(worker, 9)
    for offset, piece in ((0, b"abc"), (3, b"def"), (6, b"ghi")):
        done = _append(first, offset, piece)
    assert done.sha256 == hashlib.sha256(b"abcdefghi").hexdigest()
    assert reads == []

    second = _new(worker, 6)
    _append(second, 0, b"abc")
    Upload.objects.filter(pk=second.pk).update(updated_at=clock.now() + dt.timedelta(seconds=1))
    done = _append(second, 3, b"xyz")
    assert done.sha256 == hashlib.sha256(b"abcxyz").hexdigest()
    assert len(reads) == 1


def test_completion_runs_the_handler_once_after_commit(
    worker: Worker,
    media: Path,
    completed: Recorder,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """The handler is scheduled on commit, with the completed upload; finishing again (an
    empty append at the end) schedules nothing."""
    upload = _new(worker, 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _append(upload, 0, b"abc")
        assert completed.calls == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert completed.calls == [upload.pk]
    with django_capture_on_commit_callbacks(execute=True) as again:
        _append(upload, 3, b"")
    assert again == []
    assert completed.calls == [upload.pk]


def test_a_failing_handler_does_not_undo_the_completion(
    worker: Worker,
    media: Path,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    """A handler that raises is logged; the upload stays complete (the bytes are safe)."""

    def broken(upload: Upload) -> None:
        raise RuntimeError("boom")

    upload_purpose_register("fragile", on_complete=broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            upload = services.upload_create(owner=worker.user, purpose="fragile", declared_size=0)
    finally:
        upload_purpose_unregister("fragile")
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.COMPLETE


# --- expiry -------------------------------------------------------------------------------


def test_expiry_deletes_the_files_of_unfinished_uploads_only(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """After 24 h, `uploads_expire` deletes unfinished uploads' files and marks them expired;
    complete and younger uploads are left alone; then the upload is gone (410)."""
    stale = _new(worker, 10)
    _append(stale, 0, b"abc")
    done = _new(worker, 3)
    done = _append(done, 0, b"abc")
    Upload.objects.filter(pk__in=[stale.pk, done.pk]).update(
        expires_at=clock.now() - dt.timedelta(minutes=1)
    )
    young = _new(worker, 10)
    stale_file = media / stale.storage_key
    assert stale_file.exists()

    assert services.uploads_expire() == 1
    assert not stale_file.exists()
    assert Upload.objects.get(pk=stale.pk).status == Upload.Status.EXPIRED
    assert Upload.objects.get(pk=done.pk).status == Upload.Status.COMPLETE
    assert (media / done.storage_key).read_bytes() == b"abc"
    assert Upload.objects.get(pk=young.pk).status == Upload.Status.UPLOADING
    assert (media / young.storage_key).exists()
    with pytest.raises(UploadGone):
        _append(stale, 3, b"def")
    assert services.uploads_expire() == 0


def test_expiry_uses_the_given_time_and_a_24_hour_deadline(
    worker: Worker, media: Path, completed: Recorder
) -> None:
    """An upload created now expires at now + 24 h, not a second before."""
    upload = _new(worker, 10)
    assert dt.timedelta(hours=24) == services.UPLOAD_TTL
    assert services.uploads_expire(now=upload.created_at + dt.timedelta(hours=23)) == 0
    assert services.uploads_expire(now=upload.expires_at) == 1
    assert not (media / upload.storage_key).exists()


def test_the_expire_command(
    worker: Worker, media: Path, completed: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    """`saidao uploads expire` expires what is due and says how many."""
    upload = _new(worker, 10)
    Upload.objects.filter(pk=upload.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    call_command("uploads", "expire")
    assert "uploads: 1 expired" in capsys.readouterr().out
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.EXPIRED
