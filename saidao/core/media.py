"""Media files served by the app itself in embedded mode, with HTTP range requests.

Phones' video players ask for byte ranges (iOS Safari insists on them) and expect
``206 Partial Content``; Django's static file view answers every request whole.

Nothing is served by default: an app registers the folders it serves from, each with a check
of who may read a file there (``media_access``). An entry's video is public only once approved;
uploads, certificates and evidence have views of their own and are never served from here.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.http import require_safe

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024

MediaCheck = Callable[[HttpRequest, str], bool]
_access: dict[str, MediaCheck] = {}


def media_access(prefix: str, check: MediaCheck) -> None:
    """Serve files under ``prefix`` (e.g. ``"entries/"``) to requests that ``check`` allows;
    it gets the request and the file's name in storage."""
    _access[prefix] = check


def media_allowed(request: HttpRequest, name: str) -> bool:
    """The check of the longest registered prefix of ``name``; unregistered folders: no."""
    prefixes = [prefix for prefix in _access if name.startswith(prefix)]
    if not prefixes:
        return False
    return _access[max(prefixes, key=len)](request, name)


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        while length > 0:
            data = fh.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


@require_safe
def serve_media(request: HttpRequest, path: str) -> HttpResponseBase:
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception:
        raise Http404 from None
    if not full.is_file() or full.name.endswith(".part"):
        raise Http404
    name = full.relative_to(os.path.abspath(settings.MEDIA_ROOT)).as_posix()  # as safe_join made it
    if not media_allowed(request, name):
        raise Http404
    stat = full.stat()
    size = stat.st_size
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    header = request.headers.get("Range", "")
    match = RANGE.match(header.strip()) if header else None
    if match is None:
        response: HttpResponseBase = FileResponse(full.open("rb"), content_type=content_type)
    else:
        first, last = match.groups()
        if first == "" and last == "":
            return _unsatisfiable(size)
        if first == "":  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start >= size or start > end:
            return _unsatisfiable(size)
        length = end - start + 1
        response = StreamingHttpResponse(
            _read(full, start, length), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _unsatisfiable(size: int) -> HttpResponse:
    response = HttpResponse(status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response
