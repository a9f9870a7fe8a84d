"""Faults: the aggregator killed with SIGKILL mid-batch, again and again, while events pour in.

The aggregator is the real ``saidao aggregator`` process on the test database; the test inserts
the events from its own connection, as the web processes do.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from saidao.bench.leaderboard import EventMaker, build_tree, make_campaign, make_workers
from saidao.core.tests.services import database_url
from saidao.leaderboards.aggregator import WATERMARK
from saidao.leaderboards.models import OrgTally, Participant, ParticipationEvent, Watermark
from saidao.leaderboards.reconcile import reconcile

EVENTS = 100_000
CHUNK = 2_000
VOIDS_PER_CHUNK = 5
ORGS = 300
WORKERS = 3_000
KILLS = 6
CATCH_UP_S = 90.0


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "saidao.cli", "aggregator"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def _watermark() -> int:
    wm = Watermark.objects.filter(name=WATERMARK).first()
    return wm.last_id if wm else 0


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_batch_repeatedly_counts_every_event_exactly_once(
    regions: None, tmp_path: Path
) -> None:
    """100,000 events (3,000 workers over a 300-organization tree, so most events repeat a
    counted worker, with some voids) are inserted in chunks while a real ``saidao aggregator``
    folds them; it is SIGKILLed every 0.3-1 s, at least six times while it has work in hand,
    and restarted. Once it has caught up with the last event the tallies equal the recount
    exactly (``reconcile().ok``), on SQLite and on PostgreSQL alike."""
    tree = build_tree(ORGS, depth=6)
    workers = make_workers(WORKERS)
    campaign = make_campaign(tree.by_depth[0][0])
    maker = EventMaker(campaign.pk, workers, tree.ids[1:], seed=11)
    rng = random.Random(5)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SAIDAO_VAR_DIR": str(tmp_path / "var"),
        "SAIDAO_AGGREGATOR": "process",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    log = tmp_path / "aggregator.log"
    proc = _start(env, log)
    kills_with_work = 0
    inserted = 0
    next_kill = time.monotonic() + rng.uniform(1.5, 2.5)  # the first start imports Django
    try:
        while inserted < EVENTS or kills_with_work < KILLS:
            if inserted < EVENTS:
                saved = ParticipationEvent.objects.bulk_create(maker.batch(CHUNK))
                ParticipationEvent.objects.bulk_create(
                    maker.voids(rng.sample(saved, VOIDS_PER_CHUNK))
                )
                inserted += CHUNK
            else:
                time.sleep(0.05)
            if time.monotonic() >= next_kill:
                last = ParticipationEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
                if _watermark() < last and proc.poll() is None:
                    kills_with_work += 1
                _kill(proc)
                assert proc.returncode == -signal.SIGKILL, log.read_text()
                proc = _start(env, log)
                next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
                if inserted >= EVENTS:
                    next_kill += 1.0  # let a fresh process get into its batches first
        last = ParticipationEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
        deadline = time.monotonic() + CATCH_UP_S
        while _watermark() < last:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"watermark {_watermark()} < {last}"
            time.sleep(0.2)
    finally:
        _kill(proc)
    assert kills_with_work >= KILLS
    report = reconcile()
    assert report.ok, report.differences[:10]
    assert report.events == ParticipationEvent.objects.count()
    root = OrgTally.objects.get(campaign=campaign, organization_id=tree.by_depth[0][0], kind="all")
    counted = Participant.objects.filter(campaign=campaign, kind="all", voided=False).count()
    assert root.subtree == counted > 0
