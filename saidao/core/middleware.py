from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers

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


class LanguageMiddleware:
    """Simplified Chinese unless the visitor chose another language with the switcher.

    Django's LocaleMiddleware follows the browser's Accept-Language; our users' phones are
    Chinese, and an officer's English browser should not turn the union's pages English
    uninvited. The choice is the language cookie that ``set_language`` writes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response


# Paths whose answers hold a person's data even to a request without a login (the tokens of
# /api/v1/auth, a certificate's holder) or that are a person's or an organization's own (me,
# members, rosters, exports): never stored, unless the view chose its caching itself.
PERSONAL_PATHS = re.compile(
    r"^/(?:accounts|officer|certificates)/"
    r"|^/api/v1/(?:auth|me|members|certificates)(?:/|$)"
    r"|^/api/v1/.+/(?:me|members|roster\.xlsx|export|results|results\.xlsx)$"
)
# Files that are the same for everyone whoever asks: a logged-in reader keeps their caching.
PUBLIC_PATHS = ("campaigns/covers/",)
PRIVATE_NO_STORE = "private, no-store"


def _authenticated(request: HttpRequest) -> bool:
    """Whether the request carried credentials: a bearer token (the API, tus) or a session
    whose user is logged in (also one that logged in during this request)."""
    if "Authorization" in request.headers:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _public_file(path: str) -> bool:
    static_url = settings.STATIC_URL or "/static/"
    if static_url.startswith("/") and path.startswith(static_url):
        return True
    media_url = settings.MEDIA_URL or "/media/"
    return media_url.startswith("/") and any(
        path.startswith(media_url + prefix) for prefix in PUBLIC_PATHS
    )


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every response that may carry personal data.

    The rule, in order:

    1. Static files are not touched (WhiteNoise answers them before this middleware runs), nor
       are the public files under ``PUBLIC_PATHS`` (campaign covers).
    2. A response that already says ``no-store`` is left as its view made it.
    3. A response to an authenticated request (bearer token or logged-in session) is
       ``private, no-store``, whatever its view set: a logged-in reader's page or API answer
       depends on who reads it (the leaderboards add members and rates for officers, a pending
       video is its author's), so neither a shared cache nor the browser's disk may keep it.
       Such a reader's leaderboard answers still carry their ETag for clients that send
       If-None-Match themselves.
    4. A response without Cache-Control to a personal path (``PERSONAL_PATHS``) is
       ``private, no-store`` for anyone; a view that set its own (a certificate image's short
       private caching) keeps it.
    5. Anything else to an anonymous reader keeps what its view set: the public leaderboard
       reads (``public, max-age=…`` with an ETag), gallery and campaign pages, the home page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path_info
        if _public_file(path):
            return response
        current = response.get("Cache-Control", "")
        if "no-store" in current.lower():
            return response
        if _authenticated(request) or (not current and PERSONAL_PATHS.match(path)):
            response["Cache-Control"] = PRIVATE_NO_STORE
            if "Expires" in response:
                del response["Expires"]
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def storage_origins() -> list[str]:
    """Where media and direct uploads live when they are not on this site: the S3 endpoint (or
    the bucket's own host), a custom media domain, an absolute MEDIA_URL."""
    origins: list[str] = []
    bucket = str(getattr(settings, "AWS_STORAGE_BUCKET_NAME", "") or "")
    if bucket:
        endpoint = str(getattr(settings, "AWS_S3_ENDPOINT_URL", "") or "")
        style = str(getattr(settings, "AWS_S3_ADDRESSING_STYLE", "") or "")
        if endpoint:
            origin = _origin(endpoint)
            if origin:
                origins.append(origin)
                if style == "virtual":
                    scheme, host = origin.split("://", 1)
                    origins.append(f"{scheme}://{bucket}.{host}")
        else:
            region = str(getattr(settings, "AWS_S3_REGION_NAME", "") or "")
            origins.append(f"https://{bucket}.s3.amazonaws.com")
            if region:
                origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
        custom = str(getattr(settings, "AWS_S3_CUSTOM_DOMAIN", "") or "")
        if custom:
            origins.append(_origin(custom if "://" in custom else f"https://{custom}"))
    media = _origin(str(settings.MEDIA_URL or ""))
    if media:
        origins.append(media)
    return [o for o in dict.fromkeys(origins) if o]


def content_security_policy(nonce: str) -> str:
    """The policy of an HTML page whose inline scripts and style elements carry ``nonce``.

    Style attributes (``style="flex:1"``) are allowed by ``style-src-attr 'unsafe-inline'``:
    they cannot run code, and templates use them for layout; style elements need the nonce.
    """
    stored = storage_origins()

    def sources(*fixed: str, extra: list[str]) -> str:
        return " ".join(dict.fromkeys([*fixed, *stored, *extra]))

    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src " + sources("'self'", "data:", "blob:", extra=settings.SAIDAO_CSP_IMG_SRC),
        "media-src " + sources("'self'", "blob:", extra=settings.SAIDAO_CSP_MEDIA_SRC),
        "connect-src " + sources("'self'", extra=settings.SAIDAO_CSP_CONNECT_SRC),
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if settings.SAIDAO_CSP_REPORT_URI:
        directives.append(f"report-uri {settings.SAIDAO_CSP_REPORT_URI}")
    return "; ".join(directives)


def permissions_policy() -> str:
    return ", ".join(
        f"{feature}={allow}" for feature, allow in settings.SAIDAO_PERMISSIONS_POLICY.items()
    )


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with a fresh nonce and a Permissions-Policy on every HTML page.

    The nonce is ``request.csp_nonce`` (and ``csp_nonce`` in templates, see
    ``saidao.core.context_processors``): an inline ``<script>`` or ``<style>`` runs only with
    ``nonce="{{ request.csp_nonce }}"``. Inline event handlers (``onclick=``) never run; pages
    use data attributes that ``saidao/saidao.js`` wires up instead. Django's own debug error
    pages (DEBUG only) have inline code of their own and go without the policy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        content_type = response.get("Content-Type", "").lower()
        if content_type.startswith("text/html"):
            # Only a page can use the browser's features; JSON and files go without the bytes.
            response.headers.setdefault("Permissions-Policy", permissions_policy())
            if settings.DEBUG and response.status_code >= 400:
                return response
            header = (
                "Content-Security-Policy-Report-Only"
                if settings.SAIDAO_CSP_REPORT_ONLY
                else "Content-Security-Policy"
            )
            response.headers.setdefault(header, content_security_policy(nonce))
        elif content_type.startswith("image/svg+xml"):
            # An SVG opened by itself is a document that could run script: none.
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            )
        return response
