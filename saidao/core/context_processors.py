"""Template context that the core middleware provides."""

from __future__ import annotations

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """``csp_nonce``: this request's Content-Security-Policy nonce, as Django 6 names it, which
    ``{% htmx_script %}`` puts on its script tags. Absent outside a request through the
    middleware (a template rendered by a command)."""
    nonce = getattr(request, "csp_nonce", None)
    return {"csp_nonce": nonce} if nonce else {}
