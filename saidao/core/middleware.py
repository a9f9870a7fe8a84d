from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import SaidaoError


class DomainErrorMiddleware:
    """A domain error that escapes a page becomes a page with its status and message.

    Views show expected errors on their forms; this is the safety net, so an object outside the
    viewer's scope is a 404 or 403 page, never a server error. The API has its own handlers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SaidaoError):
            return None
        return render(
            request,
            "core/error.html",
            {"message": exception.message, "code": exception.code},
            status=exception.status,
        )
