from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .activities import activities_for
from .imports import import_job_get, import_job_result_take
from .models import ImportJob
from .privacy import privacy_notice


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the database's state; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as e:  # any driver error means "not healthy"
        return JsonResponse(
            {
                "status": "error",
                "database": {"vendor": connection.vendor, "ok": False, "error": str(e)},
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": {"vendor": connection.vendor, "ok": True}})


def home(request: HttpRequest) -> HttpResponse:
    """The home page: the activities a worker can take part in, from every provider."""
    return render(request, "core/home.html", {"activities": activities_for(request.user)})


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html", {"notice": privacy_notice()})


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """A background import of the viewer's own: a progress bar polled by htmx while it runs,
    then its result (once: activation codes are not shown again) or every row's errors."""
    job = import_job_get(user=request.user, pk=pk)
    result = import_job_result_take(job=job) if job.status == ImportJob.Status.DONE else job.result
    partial = bool(request.headers.get("HX-Request"))
    return render(
        request,
        "core/_import_job.html" if partial else "core/import_job.html",
        {
            "job": job,
            "result": result,
            "result_template": f"imports/{job.kind}.html",
            "percent": job.rows_done * 100 // job.rows_total if job.rows_total else None,
        },
    )
