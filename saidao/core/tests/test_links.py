from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from saidao.core.links import absolute_url


def test_absolute_url_prefers_the_public_address(rf: RequestFactory, settings: Any) -> None:
    """With SAIDAO_PUBLIC_URL set, links carry it instead of the request's (internal) host."""
    request = rf.get("/", HTTP_HOST="127.0.0.1:8000")
    settings.SAIDAO_PUBLIC_URL = ""
    assert absolute_url(request, "/accounts/join/?code=AB") == (
        "http://127.0.0.1:8000/accounts/join/?code=AB"
    )
    settings.SAIDAO_PUBLIC_URL = "https://saidao.example.org/"
    assert absolute_url(request, "/accounts/join/?code=AB") == (
        "https://saidao.example.org/accounts/join/?code=AB"
    )
