"""The live stream: a flush reaches a listening screen, bursts are coalesced, listeners are
dropped when they go, and scaled mode carries the change over Redis.

Waits are on the condition with generous bounds (WAIT_S): how fast an update arrives depends on
the machine's load, so no verdict here rests on it."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse

from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.leaderboards import live
from saidao.leaderboards.runner import run_once
from saidao.leaderboards.tests.recount import member_takes_part

WAIT_S = 30.0  # how long any one wait may take before the test gives up


@pytest.fixture(autouse=True)
def _fresh_live_state() -> None:
    """Ids start again in each test: no snapshot memoized by an earlier one may answer."""
    live.reset()


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    """A national 云讲述 whose collection is open now."""
    return make_campaign(actor=tree.national_officer, organizer=tree.national, phases=live_phases())


# Committed data (the stream reads on its own connection); ids from 1, so that the aggregator's
# watermark, fresh after the previous test's flush, sees no gap below the first event.
committed = pytest.mark.django_db(transaction=True, reset_sequences=True)


def run_async(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario`` on an event loop of its own thread, as a server would: the test thread
    may already hold one (Playwright's), and the ORM calls it makes through sync_to_async then
    run in that thread, on its own connection to the test database."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            async_to_sync(scenario)()
        except BaseException as e:  # handed to the test thread
            failure.append(e)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="stream-test")
    thread.start()
    thread.join(timeout=4 * WAIT_S)
    assert not thread.is_alive(), "the stream scenario hung"
    if failure:
        raise failure[0]


class Reader:
    """Reads a stream in a task, as Django's ASGI handler does; ``close`` cancels that task,
    which is what a client going away does to the stream."""

    def __init__(self, response: Any) -> None:
        self.chunks: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._read(response))

    async def _read(self, response: Any) -> None:
        async for chunk in response.streaming_content:
            await self.chunks.put(chunk.decode())

    async def raw(self, timeout: float = WAIT_S) -> str:
        return await asyncio.wait_for(self.chunks.get(), timeout=timeout)

    async def snapshot(self, timeout: float = WAIT_S) -> dict[str, Any]:
        """The next `snapshot` event's data, skipping `retry:` and heartbeat comments."""
        deadline = time.monotonic() + timeout
        while True:
            text = await self.raw(max(0.0, deadline - time.monotonic()))
            if "event: snapshot" in text:
                data = next(line for line in text.splitlines() if line.startswith("data: "))
                parsed: dict[str, Any] = json.loads(data.removeprefix("data: "))
                return parsed

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def open_stream(campaign: Campaign, tree: Tree) -> Reader:
    client = AsyncClient()
    await client.aforce_login(tree.national_officer)
    response = await client.get(reverse("leaderboards:stream", args=[campaign.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["X-Accel-Buffering"] == "no"
    return Reader(response)


@committed
def test_a_flush_reaches_the_stream(campaign: Campaign, tree: Tree) -> None:
    """The stream opens with `retry:` and the current snapshot; one participation and one flush
    later a new snapshot with the new total arrives (no polling: the flush wakes the stream);
    closing it unsubscribes."""

    async def scenario() -> None:
        stream = await open_stream(campaign, tree)
        assert (await stream.raw()).startswith("retry: ")
        first = await stream.snapshot()
        assert first["total"] == 0
        assert live.hub.listeners(campaign.pk) == 1
        await sync_to_async(member_takes_part)(campaign, tree.courier, "one")
        await sync_to_async(run_once)()
        update = await stream.snapshot()
        assert update["total"] == 1 and update["entries"] == 1
        assert update["top_count"][0]["name"] == "甘肃省总工会"
        assert update["provinces"] == [{"c": "620000", "name": "甘肃省", "n": 1}]
        await stream.close()
        assert live.hub.listeners(campaign.pk) == 0

    run_async(scenario)


@committed
def test_a_burst_of_flushes_is_coalesced(campaign: Campaign, tree: Tree) -> None:
    """100 participations, each flushed on its own, reach a listener as a few messages, at
    least half a second apart; the last one carries all 100."""

    async def scenario() -> None:
        stream = await open_stream(campaign, tree)
        await stream.snapshot()
        received: list[tuple[float, int]] = []

        async def listen() -> None:
            while True:
                snap = await stream.snapshot(timeout=60)
                received.append((time.monotonic(), snap["total"]))

        listener = asyncio.ensure_future(listen())
        started = time.monotonic()
        for i in range(100):
            await sync_to_async(member_takes_part)(campaign, tree.courier, f"burst-{i}")
            await sync_to_async(run_once)()
        burst = time.monotonic() - started
        deadline = time.monotonic() + WAIT_S
        while (not received or received[-1][1] < 100) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await stream.close()
        assert received[-1][1] == 100
        # at most one message per MIN_INTERVAL_S of the burst, however long a loaded machine
        # took over it: far fewer than the 100 flushes
        assert len(received) <= burst / live.MIN_INTERVAL_S + 2
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(received)]
        assert all(g >= live.MIN_INTERVAL_S - 0.05 for g in gaps)

    run_async(scenario)


@committed
def test_scaled_mode_carries_the_change_over_redis(
    campaign: Campaign, tree: Tree, settings: Any
) -> None:
    """With REDIS_URL the flush is published on `saidao:leaderboard:<id>` and the process's
    relay (redis.asyncio) hands it to the stream."""
    from saidao.core.tests.services import redis_server

    with redis_server() as url:
        settings.REDIS_URL = url

        async def scenario() -> None:
            stream = await open_stream(campaign, tree)
            await stream.snapshot()
            probe: Any = redis.Redis.from_url(url)
            deadline = time.monotonic() + WAIT_S
            while probe.execute_command("PUBSUB", "NUMPAT") < 1:  # the relay has subscribed
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            seen = probe.pubsub()
            seen.subscribe(f"{live.CHANNEL_PREFIX}{campaign.pk}")
            await sync_to_async(member_takes_part)(campaign, tree.courier, "scaled")
            await sync_to_async(run_once)()
            update = await stream.snapshot()
            assert update["total"] == 1
            deadline = time.monotonic() + WAIT_S
            message = None
            while message is None and time.monotonic() < deadline:
                m = seen.get_message(timeout=1.0)
                message = m if m and m["type"] == "message" else None
            assert message is not None
            seen.close()
            probe.close()
            await stream.close()
            await live.relay_stop()

        run_async(scenario)


@committed
def test_the_heartbeat_keeps_a_quiet_stream_open(
    campaign: Campaign, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing to say, the stream sends a comment line every HEARTBEAT_S (15 s in
    production; shortened here)."""
    monkeypatch.setattr(live, "HEARTBEAT_S", 0.2)

    async def scenario() -> None:
        stream = await open_stream(campaign, tree)
        await stream.snapshot()
        assert await stream.raw() == ": heartbeat\n\n"
        await stream.close()

    run_async(scenario)


def test_a_screen_out_of_scope_has_no_stream(campaign: Campaign, tree: Tree, client: Any) -> None:
    """Anonymous visitors, and an officer of 东营 asking for 定西's view, get 404."""
    url = reverse("leaderboards:stream", args=[campaign.pk])
    assert client.get(url).status_code == 404
    client.force_login(tree.other_officer)
    assert client.get(url, {"org": tree.dingxi.pk}).status_code == 404
