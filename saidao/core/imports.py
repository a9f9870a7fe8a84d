"""Imports too large to run in a request: the upload is stored, an ``ImportJob`` row is made, and
a background task (each room's own, see ``import_job_run``) reads and saves it all or nothing,
reporting its progress. The page polls the job with htmx, the API with ``GET
/api/v1/import-jobs/{id}``; either shows the same result or the same row-and-column errors as an
import run in the request.

Progress is written where a poller can see it: on the row while the job reads outside any
transaction, and in the cache while it saves inside the import's one transaction (a row updated
there stays invisible to other connections until the commit).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from typing import IO, Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from . import clock
from .errors import NotFound, SaidaoError
from .models import ImportJob
from .sheets import SheetRefused, sheet_limit, sheet_size

log = logging.getLogger(__name__)

# How long the cache keeps a job's live progress: well beyond any import.
_PROGRESS_TTL_S = 6 * 3600


def _progress_key(job_id: int) -> str:
    return f"saidao:import-job:{job_id}"


class ImportProgress:
    """Told, now and then, how far a running job is: ``reading(rows)`` while the file is read,
    ``saving(done, total)`` while rows are saved."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.every = max(sheet_limit("SAIDAO_IMPORT_PROGRESS_EVERY"), 1)

    def reading(self, rows: int) -> None:
        self._publish(ImportJob.Status.READING, rows, 0)

    def saving(self, done: int, total: int) -> None:
        """Called for every row saved; published every few rows and at the last."""
        if done % self.every == 0 or done == total:
            self._publish(ImportJob.Status.SAVING, done, total)

    def _publish(self, status: str, done: int, total: int) -> None:
        state = {"status": status, "rows_done": done, "rows_total": total}
        cache.set(_progress_key(self.job_id), state, _PROGRESS_TTL_S)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(**state)


def import_goes_background(file: IO[bytes], *, filename: str = "", csv_ok: bool = False) -> bool:
    """Whether an upload is large enough to be imported by a background job. A file that cannot
    be read is not: the import in the request refuses it with its own clear message."""
    try:
        size = sheet_size(file, filename=filename, csv_ok=csv_ok)
    except SheetRefused:
        return False
    return size > sheet_limit("SAIDAO_IMPORT_BACKGROUND_BYTES")


# What a room's task does with the stored file: import it (raising a ``SaidaoError`` with
# ``detail["errors"]`` when the file is wrong) and return the result as JSON-safe data.
ImportRun = Callable[[ImportJob, IO[bytes], ImportProgress], dict[str, Any]]


@transaction.atomic
def import_job_create(
    *,
    kind: str,
    organization: Any,
    actor: Any,
    file: UploadedFile[Any],
    params: dict[str, Any] | None = None,
) -> ImportJob:
    """Store the upload as a job waiting to run; the caller has checked the actor's right, and
    queues its room's task with the job's id."""
    name = os.path.basename(file.name or "")
    ext = os.path.splitext(name)[1].lower()
    job = ImportJob(
        kind=kind,
        organization=organization,
        created_by=actor,
        params={**(params or {}), "filename": name[:200], "language": translation.get_language()},
    )
    file.seek(0)
    # A name of our own: the person's file name is kept in params only, never as a path.
    job.file.save(f"{uuid.uuid4().hex}{ext if ext in ('.xlsx', '.csv') else ''}", file, save=False)
    job.save()
    return job


def import_job_run(*, job_id: int, run: ImportRun) -> None:
    """Run a queued job once: read and save its file with ``run``, record the result or the
    errors, then delete the file. A job already started (a task delivered twice) is left."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.READING
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    progress = ImportProgress(job.pk)
    with translation.override(job.params.get("language") or None):
        try:
            with job.file.open("rb") as f:
                result = run(job, f, progress)
        except SaidaoError as e:
            job.status = ImportJob.Status.FAILED
            job.errors = list(e.detail.get("errors") or [])
            job.result = {"code": e.code, "message": str(e.message)}
        except Exception:
            log.exception("import job %s failed", job_id)
            job.status = ImportJob.Status.FAILED
            job.result = {
                "code": "import_failed",
                "message": _("导入时出错，未导入任何数据。请稍后重试。"),
            }
        else:
            job.status = ImportJob.Status.DONE
            job.result = result
    state = cache.get(_progress_key(job.pk)) or {}
    job.rows_done = state.get("rows_done", 0)
    job.rows_total = state.get("rows_total", 0)
    if job.status == ImportJob.Status.DONE and job.rows_total:
        job.rows_done = job.rows_total
    job.finished_at = clock.now()
    stored = job.file.name
    job.file.name = ""
    job.save()
    cache.delete(_progress_key(job.pk))
    if stored:
        job.file.storage.delete(stored)


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """A job of ``user``'s own, with its live progress; anybody else's is not found."""
    job = ImportJob.objects.filter(pk=pk, created_by_id=getattr(user, "pk", None)).first()
    if job is None:
        raise NotFound()
    state = cache.get(_progress_key(job.pk)) if not job.is_over else None
    if state:
        job.status = state["status"]
        job.rows_done = state["rows_done"]
        job.rows_total = state["rows_total"]
    return job


def import_job_result_take(*, job: ImportJob) -> dict[str, Any]:
    """The job's result, including what may be shown only once (``result["once"]``: activation
    codes), which is removed from the row as it is handed over."""
    result = dict(job.result)
    if result.get("once"):
        kept = {k: v for k, v in result.items() if k != "once"}
        kept["once_shown"] = True
        ImportJob.objects.filter(pk=job.pk).update(result=kept)
        job.result = kept
    return result
