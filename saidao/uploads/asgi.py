"""tus PATCH bodies streamed into the upload file as they arrive (under ``saidao serve``).

Django's ASGI handler reads a whole request body before any view runs (into memory, or a
temporary file past ``FILE_UPLOAD_MAX_MEMORY_SIZE``) and throws it away when the client goes
away: every 5 MB piece was copied once more than needed, and a piece cut short by a phone
losing its signal was lost whole. ``tus_streaming(django_app)`` wraps the ASGI application; a
``PATCH`` to ``/uploads/tus/<id>`` (or a ``POST`` with ``X-HTTP-Method-Override: PATCH``) goes:

1. **Django first, with an empty body.** The request runs through Django's own middleware and
   the tus view (host check, bearer token or session and CSRF, language, the tus headers, the
   owner, the offset), on the uploads thread. The view sees ``TusStream`` on the request and
   opens the append (``services.upload_append_begin``: the part file locked at the checked
   offset) instead of reading a body. A refusal (401, 404, 409, 412, 413, 415, ...) is sent as
   it is, before a byte of the body is read.
2. **The body straight into the file**, piece by piece as the connection delivers it, never a
   byte past the declared size.
3. **Commit** (``services.upload_append_end`` on the uploads thread). The last piece is synced
   to disk and hashed (the SHA-256 was computed on a thread of its own as the bytes arrived),
   completed, and only then answered. Any other piece is answered at once with its new offset,
   its commit queued first on the uploads thread, so the next PATCH's checks, which go to that
   thread too, find it done. A client that went away part-way gets no answer, but the bytes
   that arrived are kept, as tus intends.

A PATCH for an upload whose file another PATCH of this process still holds (a phone that
reconnected while the server has not yet noticed its old connection is dead) takes over: the
old one stops reading, commits what it got and lets go, and the new one is checked again (most
often a 409 with the offset to go on from). Held by another process, it is retried for a while,
then answered 409 so the client asks for the offset again.

The uploads thread is one thread that keeps its database connection between requests (up to
``KEEP_CONNECTION_S``): under ``CONN_MAX_AGE=0`` every request opens and closes a connection,
and with SQLite closing the last connection checkpoints the write-ahead log and syncs the disk,
a fixed cost on each of a 200 MB file's forty pieces. The thread runs only the short database
steps of these PATCHes; everything else in Django is as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core import signals
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix

from . import services, views

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
T = TypeVar("T")

KEEP_CONNECTION_S = 60.0  # the uploads thread reopens its database connection after this
BUSY_WAIT_S = 10.0  # how long a PATCH waits for another process's append to the same upload
BUSY_POLL_S = 0.05
HASH_BATCH = 1024 * 1024  # bytes handed to the hashing thread at a time
TAKEOVER_WAIT_S = 10.0  # how long a PATCH waits for this process's older append to let go
UPLOAD_VIEW = "uploads:tus-upload"


@dataclass(eq=False)
class _Active:
    """A streaming append of this process, by upload id: so that a newer PATCH can take over."""

    task: asyncio.Task[Any]
    released: asyncio.Event = field(default_factory=asyncio.Event)
    pumping: bool = False  # only then may it be stopped: later it is committing
    superseded: bool = False


class _Hasher:
    """Feeds an append's digest on the hashing thread, in order, in batches, while the event
    loop goes on reading the body (SHA-256 releases the GIL on large inputs)."""

    def __init__(self, digest: Any) -> None:
        self.digest = digest
        self.pending: list[bytes] = []
        self.size = 0
        self.last: Future[None] | None = None

    def feed(self, data: bytes) -> None:
        self.pending.append(data)
        self.size += len(data)
        if self.size >= HASH_BATCH:
            self.flush()

    def flush(self) -> Future[None] | None:
        """Hand on what is pending; the future of the last batch (done: every byte fed is in
        the digest)."""
        if self.pending:
            batch, self.pending, self.size = self.pending, [], 0
            self.last = _hashing.submit(_update, self.digest, batch)
        return self.last


def _update(digest: Any, batch: list[bytes]) -> None:
    for data in batch:
        digest.update(data)


# One thread (started on first use): the batches of an append are hashed in the order fed.
_hashing = ThreadPoolExecutor(1, thread_name_prefix="saidao-tus-hash")


class _UploadsThread:
    """One thread for the database work of streamed PATCHes, keeping its connection."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._kept: dict[str, int] = {}  # alias -> id() of the connection already given time

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="saidao-tus")
            return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.submit(fn, *args)

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue ``fn`` now (jobs run in the order queued); await the result later."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._call, fn, *args)
        return loop.run_in_executor(self.executor(), call)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        finally:
            self._keep()

    def _keep(self) -> None:
        """Give a connection opened by this thread ``KEEP_CONNECTION_S`` before Django's
        ``close_old_connections`` (run by request_started/finished) closes it as obsolete;
        errors and a changed autocommit still close it at once, as Django does."""
        for conn in connections.all(initialized_only=True):
            if conn.connection is None or conn.close_at is None:
                continue
            if self._kept.get(conn.alias) != id(conn.connection):
                self._kept[conn.alias] = id(conn.connection)
                conn.close_at = max(conn.close_at, time.monotonic() + KEEP_CONNECTION_S)

    def close(self) -> None:
        """Close the thread's connections and stop it (tests; a server shutting down)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(connections.close_all).result()
            executor.shutdown(wait=True)
        self._kept.clear()


_thread = _UploadsThread()


def tus_streaming_close() -> None:
    """Close the uploads thread's database connection and stop the thread."""
    _thread.close()


class TusStreaming:
    """The ASGI application: streamed tus PATCHes here, everything else to ``app``."""

    def __init__(self, app: ASGIHandler) -> None:
        self.app = app
        self.handler = BaseHandler()  # Django's middleware, run synchronously on our thread
        self.handler.load_middleware(is_async=False)
        self.active: dict[Any, _Active] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._is_patch(scope) and self._is_upload_url(scope):
            await self.patch(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    def _is_patch(scope: Scope) -> bool:
        method = scope["method"]
        if method == "PATCH":
            return True
        if method != "POST":
            return False
        for name, value in scope["headers"]:
            if name.lower() == b"x-http-method-override":
                return bool(value.strip().upper() == b"PATCH")
        return False

    @staticmethod
    def _is_upload_url(scope: Scope) -> bool:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        try:
            match = resolve(path or "/")
        except Resolver404:
            return False
        return match.view_name == UPLOAD_VIEW

    # --- the three steps ----------------------------------------------------------------------

    async def patch(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = views.TusStream()
        try:
            response = await self._open(scope, stream)
        except asyncio.CancelledError:
            # The job may still open the append on the thread: close it there, after the job.
            _thread.executor().submit(_close_append, stream)
            raise
        append = stream.append
        if append is None or not _goes_on(response, stream):
            if append is not None:  # a middleware changed the answer after the view opened
                append.close()
            await self.app.send_response(response, send)  # closed already
            return
        assert isinstance(response, HttpResponse)
        task = asyncio.current_task()
        assert task is not None
        key = append.upload.pk
        active = _Active(task=task)
        self.active[key] = active
        stopping = False
        hasher = None
        if append.digest is not None:
            hasher = _Hasher(append.digest)
            append.feed = hasher.feed
        try:
            active.pumping = True
            try:
                whole = await self._pump(receive, append)
            except asyncio.CancelledError:
                # A newer PATCH took over, or the server is stopping: keep what arrived.
                whole, stopping = False, not active.superseded
                task.uncancel()
            finally:
                active.pumping = False
            hashed = hasher.flush() if hasher is not None else None
            sha256 = None
            if whole and append.completes:
                if hashed is not None:
                    await asyncio.wrap_future(hashed)
                sha256 = await asyncio.get_running_loop().run_in_executor(None, append.seal)
            # A piece that is not the last is answered as soon as its bytes are in the file: the
            # commit is queued on the uploads thread first, so anything later for this upload
            # (the next PATCH's checks come to that thread too) finds it done; the file stays
            # locked until then. The bytes are not synced before the last piece either way (a
            # crash pulls the offset back to the file, and the client resends from there).
            early = whole and not append.overflow and not append.completes
            committing = _thread.submit(
                _end, hashed, stream, response, whole, active.superseded, sha256, early
            )
            if early:
                response["Upload-Offset"] = str(append.offset + append.written)
                await self.app.send_response(response, send)
            answer = await committing
        finally:
            append.close()  # already closed unless something went wrong
            if self.active.get(key) is active:
                del self.active[key]
            active.released.set()
        if answer is not None and not stopping and not early:
            await self.app.send_response(answer, send)
        if stopping:
            raise asyncio.CancelledError

    async def _open(self, scope: Scope, stream: views.TusStream) -> HttpResponseBase:
        """Django's middleware and the view, with no body; waits while the upload's file is
        held by another append."""
        deadline = time.monotonic() + BUSY_WAIT_S
        took_over = False
        while True:
            stream.busy = None
            response = await _thread.run(self._get_response, scope, stream)
            if stream.busy is None or time.monotonic() > deadline:
                return response
            active = self.active.get(stream.busy)
            if active is not None and not took_over:
                took_over = True
                if active.pumping:
                    active.superseded = True
                    active.task.cancel()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(active.released.wait(), TAKEOVER_WAIT_S)
            else:
                await asyncio.sleep(BUSY_POLL_S)

    def _get_response(self, scope: Scope, stream: views.TusStream) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error = self.app.create_request(scope, io.BytesIO())
        if request is None:
            assert error is not None
            error.close()
            return error
        setattr(request, views.TUS_STREAM_ATTR, stream)
        response = self.handler.get_response(request)
        stream.language = getattr(request, "LANGUAGE_CODE", "")
        if not _goes_on(response, stream):
            response.close()  # it is sent as it is (request_finished, as Django does)
        return response

    @staticmethod
    async def _pump(receive: Receive, append: services.Appending) -> bool:
        """Write the body into the file as it arrives; False if the client went away first."""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return False  # http.disconnect
            body = message.get("body", b"")
            if body:
                append.write(body)  # to the page cache: as Django's own body spool does
                if append.overflow:
                    return True  # 413; the rest is not read
            if not message.get("more_body", False):
                return True


def _end(
    hashed: Future[None] | None,
    stream: views.TusStream,
    response: HttpResponse,
    whole: bool,
    superseded: bool,
    sha256: str | None,
    sent: bool,
) -> HttpResponse | None:
    """On the uploads thread: wait for the hashing to catch up (no extra wake-up of the event
    loop), then commit."""
    if hashed is not None:
        hashed.result()
    return views.tus_stream_end(stream, response, whole, superseded, sha256, sent=sent)


def _close_append(stream: views.TusStream) -> None:
    if stream.append is not None:
        stream.append.close()


def _goes_on(response: HttpResponseBase, stream: views.TusStream) -> bool:
    """Whether the view opened the append and its 204 came through the middleware."""
    return (
        stream.append is not None
        and isinstance(response, HttpResponse)
        and response.status_code == 204
    )


def tus_streaming(app: ASGIHandler) -> TusStreaming:
    """Wrap Django's ASGI application (``saidao.config.asgi``)."""
    return TusStreaming(app)
