"""Absolute links for QR codes, share links and upload locations."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def absolute_url(request: HttpRequest, path: str) -> str:
    """``path`` on the public address (SAIDAO_PUBLIC_URL) when set, else on the request's host.

    Behind a proxy the request may carry an internal host name; printed QR codes and shared
    links must carry the address workers can reach.
    """
    public: str = settings.SAIDAO_PUBLIC_URL
    return public.rstrip("/") + path if public else request.build_absolute_uri(path)
