"""On PostgreSQL the aggregator wakes on the NOTIFY a participation's commit sends, instead of
looking every 0.2 s."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from saidao.campaigns.tests.factories import make_campaign
from saidao.conftest import Tree
from saidao.leaderboards import runner
from saidao.leaderboards.models import OrgTally
from saidao.leaderboards.services import participation_record
from saidao.regions.models import Region


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_commit_wakes_the_aggregator_by_notify_or_in_process(
    tree: Tree, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """With the aggregator's own looks 60 s apart, a committed participation is counted within
    seconds because something wakes the loop: on PostgreSQL its transaction's NOTIFY reaching
    the aggregator's LISTEN; on SQLite (embedded, no LISTEN) the commit's in-process wake."""
    postgres = connection.vendor == "postgresql"
    monkeypatch.setattr(runner, "IDLE_SLEEP_S", 60.0)
    monkeypatch.setattr(runner, "LISTEN_IDLE_S", 60.0)
    woken: list[float] = []
    real_wake = runner.wake

    def wake() -> None:
        woken.append(time.monotonic())
        real_wake()

    monkeypatch.setattr(runner, "wake", wake)
    campaign = make_campaign(actor=tree.national_officer, organizer=tree.national)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, kwargs={"stop": stop}, daemon=True)
    if not postgres:
        # Embedded mode: the commit wakes the process's aggregator thread, which is this one.
        settings.SAIDAO_AGGREGATOR = "thread"
        monkeypatch.setattr(runner, "_thread", thread)
    thread.start()
    try:
        if postgres:
            assert runner.listening.wait(10), "the aggregator did not LISTEN"
        else:
            assert not runner.listening.wait(0.5), "SQLite has no LISTEN"
        time.sleep(0.3)  # drained: the loop now waits for a wake
        participation_record(
            campaign=campaign,
            worker=tree.anding_member.user,
            kind="entry",
            key="notified",
            organization=tree.anding,
            zone_city=Region.objects.get(code="621100"),
        )
        deadline = time.monotonic() + 10.0
        while not OrgTally.objects.filter(
            campaign=campaign, organization=tree.national, subtree=1
        ).exists():
            assert time.monotonic() < deadline, "not counted soon after the commit"
            time.sleep(0.02)
        assert woken  # by the NOTIFY or the commit, not by the loop's own look
    finally:
        stop.set()
        real_wake()
        thread.join(timeout=10)
    assert not thread.is_alive()
