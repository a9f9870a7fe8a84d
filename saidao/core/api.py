"""Shared pieces of the REST API: the error body and authentication."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from .api_types import Id
from .imports import import_job_get, import_job_result_take
from .models import ImportJob
from .privacy import privacy_notice

router = Router(tags=["core"])


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any]


class PrivacySectionOut(Schema):
    heading: str
    text: str


class PrivacyNoticeOut(Schema):
    version: str
    title: str
    intro: str
    sections: list[PrivacySectionOut]


@router.get("/privacy-notice", response=PrivacyNoticeOut, auth=None)
def privacy_notice_get(request: HttpRequest) -> Any:
    """The current privacy notice and its version: send that version as `consent_version` when
    signing up, activating or recovering an account. Chinese, or English with the language
    cookie."""
    return privacy_notice()


class ImportErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportJobOut(Schema):
    """A background import: ``status`` pending → reading → saving → done or failed. While
    reading, ``rows_done`` counts the rows read and ``rows_total`` is 0; while saving, the rows
    saved of ``rows_total``. Done: ``result`` (a roster's activation codes, under
    ``result.once``, only in the first answer after it is done). Failed: ``result.code`` and
    ``result.message``, and ``errors`` with each row and column, as the import in the request
    answers; nothing was saved."""

    id: int
    kind: str
    status: str
    rows_done: int
    rows_total: int
    errors: list[ImportErrorOut]
    result: dict[str, Any]
    url: str


def import_job_out(job: ImportJob, *, result: dict[str, Any] | None = None) -> ImportJobOut:
    return ImportJobOut(
        id=job.pk,
        kind=job.kind,
        status=job.status,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        errors=[
            ImportErrorOut(
                row=int(e.get("row") or 0),
                column=str(e.get("column") or ""),
                message=str(e.get("message") or ""),
            )
            for e in job.errors
        ],
        result=job.result if result is None else result,
        url=f"/api/v1/import-jobs/{job.pk}",
    )


@router.get("/import-jobs/{job_id}", response=ImportJobOut)
def import_jobs_get(request: HttpRequest, job_id: Id) -> ImportJobOut:
    """A background import started by the caller (404 for anybody else's): poll it until
    ``status`` is done or failed."""
    job = import_job_get(user=request.user, pk=job_id)
    result = import_job_result_take(job=job) if job.status == ImportJob.Status.DONE else None
    return import_job_out(job, result=result)
