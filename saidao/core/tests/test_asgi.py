from __future__ import annotations

import asyncio
import gc
import threading
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator

from saidao.core.asgi import SaidaoASGIHandler

pytestmark = pytest.mark.usefixtures("connections_closed_after_each_request")


def _get(app: Any, path: str) -> tuple[int, bytes]:
    async def go() -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        comm = ApplicationCommunicator(app, scope)  # type: ignore[no-untyped-call]
        await comm.send_input(  # type: ignore[no-untyped-call]
            {"type": "http.request", "body": b"", "more_body": False}
        )
        start = await comm.receive_output(timeout=10)  # type: ignore[no-untyped-call]
        body = b""
        while True:
            message = await comm.receive_output(timeout=10)  # type: ignore[no-untyped-call]
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        return start["status"], body

    # In a thread of its own: after the browser tests the main thread has a running loop.
    result: list[tuple[int, bytes]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(go())))
    thread.start()
    thread.join(timeout=30)
    return result[0]


def test_the_middleware_chain_and_view_run_in_one_hop_to_the_thread_pool() -> None:
    """The whole sync chain is one call into the loop's thread pool, not Django's per-request
    thread with a bounce back to the loop before the view."""
    handler = SaidaoASGIHandler()
    serve = handler._serve
    assert isinstance(serve, SyncToAsync)
    assert serve._thread_sensitive is False


@pytest.mark.django_db(transaction=True)
def test_request_signals_run_in_the_thread_that_serves_the_request(settings: Any) -> None:
    """request_started and request_finished (which close the thread's stale database
    connection) run in the same pool thread as each other, not on the loop's thread nor on a
    thread of their own: one hop a request."""
    from django.core import signals

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    seen: dict[str, int] = {}

    def started(**_kw: Any) -> None:
        seen["started"] = threading.get_ident()

    def finished(**_kw: Any) -> None:
        seen["finished"] = threading.get_ident()

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        assert _get(SaidaoASGIHandler(), "/healthz")[0] == 200
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert seen["started"] == seen["finished"]
    assert seen["started"] != threading.get_ident()


@pytest.mark.django_db(transaction=True)
def test_pages_and_errors_are_served_through_the_handler(settings: Any) -> None:
    """A page that queries the database answers 200 (the ORM refuses to run on the event
    loop's thread, so the view ran in the pool), and an unknown path 404."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    app = SaidaoASGIHandler()
    status, body = _get(app, "/healthz")
    assert status == 200 and b'"ok": true' in body
    assert _get(app, "/no-such-page/")[0] == 404


@pytest.mark.django_db(transaction=True)
def test_a_request_answered_from_memory_leaves_nothing_for_the_garbage_collector(
    settings: Any,
) -> None:
    """A request is in reference cycles (its messages and htmx details point back at it); once
    its response is built the handler breaks them, so the request is freed at once instead of
    waiting for a collection (which cost a tenth of the server's CPU in a start surge).

    Only this test's requests are counted (they are of a class of its own): a request of an
    earlier test may still end meanwhile on another thread (a live server's event stream
    notices a browser gone only at its next heartbeat) and is no concern of this handler."""
    from django.core.handlers.asgi import ASGIRequest

    class ThisTestsRequest(ASGIRequest):
        pass

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    app = SaidaoASGIHandler()
    app.request_class = ThisTestsRequest
    assert _get(app, "/healthz")[0] == 200
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        assert _get(app, "/healthz")[0] == 200
        assert _get(app, "/no-such-page/")[0] == 404
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, ThisTestsRequest)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []


@pytest.mark.django_db(transaction=True)
def test_single_lane_requests_run_on_their_own_thread(settings: Any) -> None:
    """A path registered with single_lane is served on the one lane thread, other paths on the
    pool; with SAIDAO_SINGLE_LANE off (scaled mode's default) everything goes to the pool."""
    from django.core import signals

    from saidao.core import asgi

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    names: list[str] = []

    def started(**_kw: Any) -> None:
        names.append(threading.current_thread().name)

    signals.request_started.connect(started)
    asgi.single_lane(r"^/no-such-page/lane/\d+$")
    try:
        app = SaidaoASGIHandler()
        settings.SAIDAO_SINGLE_LANE = True
        assert _get(app, "/no-such-page/lane/1")[0] == 404
        assert _get(app, "/no-such-page/lane/2")[0] == 404
        assert _get(app, "/healthz")[0] == 200
        settings.SAIDAO_SINGLE_LANE = False
        assert _get(app, "/no-such-page/lane/3")[0] == 404
    finally:
        signals.request_started.disconnect(started)
        asgi._lane_patterns.pop()
    assert names[0].startswith("saidao-lane") and names[0] == names[1]
    assert names[2].startswith("saidao-http") and names[3].startswith("saidao-http")


def test_a_contests_hot_requests_are_in_the_single_lane(settings: Any) -> None:
    """Starting, reading, saving and handing in an attempt go to the lane; a contest's results
    export and the pages do not."""
    from saidao.core.asgi import in_single_lane

    settings.SAIDAO_SINGLE_LANE = True
    for path in (
        "/api/v1/quiz/contests/7/attempts",
        "/api/v1/quiz/attempts/12",
        "/api/v1/quiz/attempts/12/answers/3",
        "/api/v1/quiz/attempts/12/submit",
    ):
        assert in_single_lane(path), path
    for path in (
        "/api/v1/quiz/contests/7/results.xlsx",
        "/api/v1/quiz/attempts/12/result",
        "/quizzes/contests/7/",
        "/api/v1/orgs/5",
    ):
        assert not in_single_lane(path), path
