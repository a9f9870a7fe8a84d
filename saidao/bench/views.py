"""The peer paths a benchmark compares ours with; mounted only when ``settings.SAIDAO_BENCH``.

``PUT /bench/put/<name>`` is the plain upload a resumable one is measured against: the body is
streamed to ``MEDIA_ROOT/bench/<name>`` in 64 KiB pieces (the tus PATCH's piece size), hashed
on the way, flushed to disk once at the end, and answered with 201 ``{"bytes", "sha256"}``. It
authenticates with the same bearer token as the tus endpoint (one token lookup per request),
so both paths pay for the same kind of per-request work.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from saidao.accounts.services import api_token_user
from saidao.core.errors import InvalidInput, NotAuthenticated, SaidaoError

PIECE = 64 * 1024  # as saidao.uploads.services.PIECE: the same read size as a tus PATCH


def _error(exc: SaidaoError) -> JsonResponse:
    response = JsonResponse(
        exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False}
    )
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="saidao"'
    return response


def _bearer_token(request: HttpRequest) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bench_put_dir() -> Path:
    """Where the peer PUT stores its files."""
    return Path(settings.MEDIA_ROOT) / "bench"


@csrf_exempt
@require_http_methods(["PUT"])
def bench_put(request: HttpRequest, name: str) -> JsonResponse:
    """Store the request body as ``bench/<name>``; 201 with its byte count and SHA-256."""
    token = _bearer_token(request)
    if not token or api_token_user(key=token) is None:
        return _error(NotAuthenticated())
    declared = request.META.get("CONTENT_LENGTH") or ""
    folder = bench_put_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    part = folder / f"{name}.part"
    digest = hashlib.sha256()
    written = 0
    try:
        with part.open("wb") as fh:
            while piece := request.read(PIECE):
                fh.write(piece)
                digest.update(piece)
                written += len(piece)
            fh.flush()
            os.fsync(fh.fileno())
        if declared.isdigit() and int(declared) != written:
            raise InvalidInput(detail={"declared": int(declared), "received": written})
        os.replace(part, final)
    except InvalidInput as exc:
        part.unlink(missing_ok=True)
        return _error(exc)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return JsonResponse({"bytes": written, "sha256": digest.hexdigest()}, status=201)
