from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .activities import activities_for
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
