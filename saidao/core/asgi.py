"""Django's ASGI handler, with everything a request needs from a thread in one hop.

Django's own handler runs a sync middleware chain by hopping from the event loop to a thread,
back to the loop for the view's async wrapper, and to a thread again for a sync view; it hops
again for the request_started receivers and to close the response (request_finished), starts a
thread per request for those, and watches for a disconnect with two tasks a request. Here the
receivers, the chain, the view and the close of a response already in memory run together in one
call to a pool of ``SAIDAO_HTTP_THREADS`` threads, which keep their database connections
between requests (``CONN_MAX_AGE``); only a streaming response is watched for a disconnect.

Measured: /healthz with 16 keep-alive clients went from about 210 to 635 requests/s with the
first hop merged; with uvicorn's C parser and libuv loop (httptools, uvloop), the rest of the
hops merged, the request's reference cycles broken and start-up objects frozen out of the
garbage collector (``saidao.config.asgi``), a quiz start's server CPU went from 5.3 ms to
the figures in docs/benchmarks.md.

Async views (the leaderboards' live stream) still work: Django calls them from the sync chain
and they return at once with a response whose body the loop streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response

_lane_patterns: list[re.Pattern[str]] = []


def single_lane(pattern: str) -> None:
    """Requests whose path matches ``pattern`` run one after another on one thread of their own
    (when ``SAIDAO_SINGLE_LANE``, the embedded default), beside the pool that serves the rest.

    For short requests that thousands of people send at once and that all end at SQLite's one
    writer (a contest's starts and answer saves). Spread over the pool, their threads took turns
    at the GIL at every statement and at the writer's lock, and each thread's connection reread
    the pages another's commit had changed: measured, a start cost 2.5-2.8 ms of server CPU on
    four threads and 2.2 ms on one, an answer save 1.2-1.3 ms against 1.1. A slow request on
    the lane would hold up the others, so only such short ones belong there.
    """
    _lane_patterns.append(re.compile(pattern))


def in_single_lane(path: str) -> bool:
    return bool(settings.SAIDAO_SINGLE_LANE) and any(p.match(path) for p in _lane_patterns)


class SaidaoASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # A pool of our own, sized for the GIL (SAIDAO_HTTP_THREADS), not the loop's default.
        self._serve = sync_to_async(
            self._serve_sync,
            thread_sensitive=False,
            executor=ThreadPoolExecutor(
                max_workers=settings.SAIDAO_HTTP_THREADS, thread_name_prefix="saidao-http"
            ),
        )
        self._serve_in_lane = sync_to_async(
            self._serve_sync,
            thread_sensitive=False,
            executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="saidao-lane"),
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Django wraps each request in a ThreadSensitiveContext, which starts a thread for the
        # request's few thread-sensitive calls. Here there are none (see ``handle``).
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    def _serve_sync(self, request: ASGIRequest) -> HttpResponseBase:
        """Everything Django does around a view that needs a thread, in one: the request_started
        receivers (``close_old_connections`` among them, so in the thread whose connection it
        is), the middleware chain and view, the error log, and for a response already in memory
        its close (request_finished: the connection again)."""
        signals.request_started.send(sender=self.__class__, scope=request.scope)
        set_urlconf(settings.ROOT_URLCONF)
        chain: Callable[[HttpRequest], HttpResponseBase] = getattr(self, "_middleware_chain")  # noqa: B009
        try:
            response = chain(request)
        except BaseException:
            close_old_connections()
            raise
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if response.status_code >= 400:
            log_response(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=cast(HttpResponse, response),
                request=request,
            )
        if response.streaming:
            # Closed by ``handle`` once streamed; this thread's connection is not needed for it.
            close_old_connections()
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        else:
            response.close()
            # The request is in reference cycles (its session, messages and htmx details point
            # back at it), so it and all it holds would wait for the garbage collector: on a
            # start surge, collections were a tenth of the server's CPU. Nothing reads it now.
            request.__dict__.clear()
        return response

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ``ASGIHandler.handle`` with one thread hop a request instead of three.

        A response whose body is in memory is built and closed in the thread, then sent. A
        streaming one (the leaderboards' live stream, files) is sent as Django does, watching
        for the client's disconnect, and closed afterwards.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # create_request returns one or the other
            body_file.close()
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return
        serve = self._serve_in_lane if in_single_lane(request.path) else self._serve
        try:
            response = await serve(request)
        except BaseException:
            body_file.close()
            raise
        if not response.streaming:
            with contextlib.suppress(asyncio.CancelledError):
                await self.send_response(response, send)
            body_file.close()
            return
        await self._stream(response, receive, send)
        await sync_to_async(response.close, thread_sensitive=False)()
        body_file.close()

    async def _stream(self, response: HttpResponseBase, receive: Any, send: Any) -> None:
        """Send a streaming response until it ends or the client goes, as Django's handler."""
        sending = asyncio.create_task(self.send_response(response, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        await asyncio.wait([listening, sending], return_when=asyncio.FIRST_COMPLETED)
        for task in (listening, sending):
            if task.done():
                with contextlib.suppress(RequestAborted, asyncio.CancelledError):
                    task.result()
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                    await task
