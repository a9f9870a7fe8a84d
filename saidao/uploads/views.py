"""tus 1.0.0 (core, creation, termination, expiration) over the upload services.

``/uploads/tus/`` takes POST (create) and OPTIONS; ``/uploads/tus/<id>`` takes HEAD, PATCH,
DELETE and OPTIONS. Callers are our own page script, signed in by session and sending the
``X-CSRFToken`` header, or API clients with ``Authorization: Bearer <token>`` (no CSRF: no
cookie is involved). Errors are ``{"code", "message", "detail"}`` with tus's status codes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils import translation
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from saidao.accounts.services import api_token_user
from saidao.core.errors import InvalidInput, NotAuthenticated, SaidaoError
from saidao.core.links import absolute_url

from . import services
from .errors import UploadOffsetMismatch
from .models import Upload
from .purposes import upload_max_size
from .selectors import upload_get_for_owner, upload_is_gone

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_LENGTH = 4096
FILENAME_KEYS = ("filename", "name")
FILETYPE_KEYS = ("filetype", "type", "contentType")

logger = logging.getLogger(__name__)

Handler = Callable[[HttpRequest, Any, "uuid.UUID | None"], HttpResponse]


# --- headers ----------------------------------------------------------------------------------


def metadata_parse(header: str) -> dict[str, str | None]:
    """Decode tus Upload-Metadata: comma-separated ``key base64value`` pairs (value optional)."""
    if len(header) > MAX_METADATA_LENGTH:
        raise InvalidInput(_("Upload-Metadata 太长。"))
    out: dict[str, str | None] = {}
    if not header.strip():
        return out
    for pair in header.split(","):
        parts = pair.split()
        if not parts or len(parts) > 2 or not parts[0].isascii() or parts[0] in out:
            raise InvalidInput(_("Upload-Metadata 格式不正确。"))
        value: str | None = None
        if len(parts) == 2:
            try:
                value = base64.b64decode(parts[1], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidInput(_("Upload-Metadata 的值不是有效的 Base64 编码。")) from None
        out[parts[0]] = value
    return out


def metadata_encode(metadata: dict[str, Any]) -> str:
    pairs = []
    for key, value in metadata.items():
        if value is None:
            pairs.append(key)
        else:
            pairs.append(f"{key} {base64.b64encode(str(value).encode()).decode('ascii')}")
    return ",".join(pairs)


def _nonnegative_int(request: HttpRequest, header: str) -> int:
    raw = request.headers.get(header)
    if raw is None or not raw.isdigit() or not raw.isascii():
        raise InvalidInput(_("请求头 %(header)s 缺失或不是非负整数。") % {"header": header})
    return int(raw)


def _content_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    return int(raw) if raw.isdigit() else None


def _first(metadata: dict[str, str | None], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = metadata.get(key)
        if value:
            return value
    return ""


def _location(request: HttpRequest, upload: Upload) -> str:
    return absolute_url(request, reverse("uploads:tus-upload", kwargs={"upload_id": upload.pk}))


def _tus_headers(response: HttpResponse, upload: Upload | None = None) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    if upload is not None and upload.status == Upload.Status.UPLOADING:
        response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    return response


def _error(exc: SaidaoError, *, head: bool = False) -> HttpResponse:
    response: HttpResponse
    if head:
        response = HttpResponse(status=exc.status)
    else:
        response = JsonResponse(
            exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False}
        )
    if isinstance(exc, UploadOffsetMismatch) and "offset" in exc.detail:
        response["Upload-Offset"] = str(exc.detail["offset"])
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="saidao"'
    return _tus_headers(response)


class _PreconditionFailed(SaidaoError):
    code = "tus_version_unsupported"
    status = 412


class _UnsupportedMediaType(SaidaoError):
    code = "unsupported_media_type"
    status = 415


class _CsrfFailed(SaidaoError):
    code = "csrf_failed"
    status = 403


class _MethodNotAllowed(SaidaoError):
    code = "method_not_allowed"
    status = 405


# --- authentication ---------------------------------------------------------------------------


def _csrf_protected(request: HttpRequest) -> HttpResponse:
    raise AssertionError("never called: only a CSRF check's stand-in view")


def _csrf_ok(request: HttpRequest) -> bool:
    """Run Django's CSRF check as the middleware would have (the views are exempt so that a
    bearer-token client, which has no cookie, is not asked for one)."""
    middleware = CsrfViewMiddleware(lambda r: HttpResponse())
    request.csrf_processing_done = False  # type: ignore[attr-defined]
    middleware.process_request(request)
    return middleware.process_view(request, _csrf_protected, (), {}) is None


def _authenticate(request: HttpRequest) -> Any:
    authorization = request.headers.get("Authorization", "")
    scheme, _sep, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        user = api_token_user(key=token.strip())
        if user is None:
            raise NotAuthenticated
        request.user = user
        return user
    if not request.user.is_authenticated:
        raise NotAuthenticated
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _csrf_ok(request):
        raise _CsrfFailed(_("安全校验失败，请刷新页面后重试。"))
    return request.user


# --- views ------------------------------------------------------------------------------------


def _options(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = TUS_EXTENSIONS
    response["Tus-Max-Size"] = str(upload_max_size())
    return _tus_headers(response)


def _create(request: HttpRequest, user: Any, upload_id: uuid.UUID | None) -> HttpResponse:
    if "Upload-Length" not in request.headers and "Upload-Defer-Length" in request.headers:
        raise InvalidInput(_("不支持延迟声明文件大小，请提供 Upload-Length。"))
    declared_size = _nonnegative_int(request, "Upload-Length")
    metadata = metadata_parse(request.headers.get("Upload-Metadata", ""))
    upload = services.upload_create(
        owner=user,
        purpose=metadata.get("purpose") or "",
        declared_size=declared_size,
        filename=_first(metadata, FILENAME_KEYS),
        content_type=_first(metadata, FILETYPE_KEYS),
        metadata=metadata,
    )
    response = HttpResponse(status=201)
    response["Location"] = _location(request, upload)
    response["Upload-Offset"] = str(upload.offset)
    return _tus_headers(response, upload)


def _head(request: HttpRequest, user: Any, upload_id: uuid.UUID | None) -> HttpResponse:
    upload = upload_get_for_owner(user=user, pk=str(upload_id))
    if upload_is_gone(upload):
        return _tus_headers(HttpResponse(status=410))
    response = HttpResponse(status=200)
    response["Upload-Offset"] = str(upload.offset)
    response["Upload-Length"] = str(upload.declared_size)
    if upload.metadata:
        response["Upload-Metadata"] = metadata_encode(upload.metadata)
    response["Cache-Control"] = "no-store"
    return _tus_headers(response, upload)


def _patch(request: HttpRequest, user: Any, upload_id: uuid.UUID | None) -> HttpResponse:
    content_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type != OFFSET_CONTENT_TYPE:
        raise _UnsupportedMediaType(
            _("分片的 Content-Type 必须是 %(type)s。") % {"type": OFFSET_CONTENT_TYPE}
        )
    offset = _nonnegative_int(request, "Upload-Offset")
    upload = upload_get_for_owner(user=user, pk=str(upload_id))
    stream: TusStream | None = getattr(request, TUS_STREAM_ATTR, None)
    if stream is not None:  # saidao.uploads.asgi streams the body itself, after this answer
        try:
            stream.append = services.upload_append_begin(
                upload=upload, offset=offset, length=_content_length(request), wait=False
            )
        except services.UploadBusy:
            stream.busy = upload.pk
            return _error(UploadOffsetMismatch(detail={"offset": upload.offset}))
        upload = stream.append.upload
    else:
        upload = services.upload_append(
            upload=upload, offset=offset, stream=request, length=_content_length(request)
        )
    response = HttpResponse(status=204)
    response["Upload-Offset"] = str(upload.offset)
    return _tus_headers(response, upload)


# --- streamed PATCH bodies (saidao.uploads.asgi) ----------------------------------------------

TUS_STREAM_ATTR = "saidao_tus_stream"


@dataclass(eq=False)
class TusStream:
    """Put on a PATCH's request by ``saidao.uploads.asgi``: the view opens the append into
    ``append`` instead of reading the body (which has not been read yet)."""

    append: services.Appending | None = None
    busy: uuid.UUID | None = None  # the upload whose file another append holds
    language: str = ""  # the request's, for an error found after the body


def tus_stream_end(
    stream: TusStream,
    response: HttpResponse,
    whole: bool,
    superseded: bool,
    sha256: str | None,
    *,
    sent: bool = False,
) -> HttpResponse | None:
    """Commit a streamed PATCH; the answer to send: the view's 204 with the new offset, an
    error, or None when the client went away (what arrived is kept all the same). ``sent``:
    the 204 went out already (a piece that is not the last); an error is then only logged,
    and the client learns of it from its next request."""
    assert stream.append is not None
    upload_pk = stream.append.upload.pk
    answer: HttpResponse | None = None
    with translation.override(stream.language or None):
        try:
            upload = services.upload_append_end(stream.append, sha256=sha256)
        except SaidaoError as exc:
            if sent:
                logger.warning("upload %s: piece answered, then refused: %r", upload_pk, exc)
            elif whole or superseded:
                answer = _error(exc)
        else:
            if sent:
                pass
            elif superseded:  # a newer PATCH took over: tell this one where the upload stands
                answer = _error(UploadOffsetMismatch(detail={"offset": upload.offset}))
            elif whole:
                answer = response
                response["Upload-Offset"] = str(upload.offset)
                if upload.status != Upload.Status.UPLOADING:
                    del response["Upload-Expires"]
    # Closed before it is sent (its content is all in memory): request_finished, as Django
    # sends it, without another trip to this thread.
    response.close()
    if answer is not None and answer is not response:
        answer.close()
    return answer


def _delete(request: HttpRequest, user: Any, upload_id: uuid.UUID | None) -> HttpResponse:
    upload = upload_get_for_owner(user=user, pk=str(upload_id))
    services.upload_terminate(upload=upload)
    return _tus_headers(HttpResponse(status=204))


def _dispatch(
    request: HttpRequest, handlers: dict[str, Handler], upload_id: uuid.UUID | None
) -> HttpResponse:
    # Some proxies and phones' browsers only pass GET and POST: tus lets POST stand in.
    method = request.method or "GET"
    if method == "POST" and "X-HTTP-Method-Override" in request.headers:
        method = request.headers["X-HTTP-Method-Override"].upper()
    head = method == "HEAD"
    if method == "OPTIONS":
        return _options(request)
    try:
        if method not in handlers:
            response = _error(_MethodNotAllowed(_("不支持该请求方法。")), head=head)
            response["Allow"] = ", ".join(sorted({*handlers, "OPTIONS"}))
            return response
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            response = _error(
                _PreconditionFailed(
                    _("不支持该 tus 协议版本，请使用 %(v)s。") % {"v": TUS_VERSION}
                ),
                head=head,
            )
            response["Tus-Version"] = TUS_VERSION
            return response
        user = _authenticate(request)
        return handlers[method](request, user, upload_id)
    except SaidaoError as exc:
        return _error(exc, head=head)


@csrf_exempt
def tus_collection(request: HttpRequest) -> HttpResponse:
    """POST creates an upload (Upload-Length, Upload-Metadata with ``purpose``); OPTIONS."""
    return _dispatch(request, {"POST": _create}, None)


@csrf_exempt
def tus_upload(request: HttpRequest, upload_id: uuid.UUID) -> HttpResponse:
    """HEAD reports the offset, PATCH appends, DELETE terminates; OPTIONS."""
    return _dispatch(request, {"HEAD": _head, "PATCH": _patch, "DELETE": _delete}, upload_id)
