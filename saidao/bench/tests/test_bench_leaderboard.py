"""`saidao bench leaderboard` end to end, tiny: the JSON shape, and nothing left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from saidao.bench.leaderboard import scaled_available

KEYS = (
    "naive_events_per_s",
    "events_per_s",
    "freshness_p99_s",
    "top50_p95_ms",
    "rank_p95_ms",
    "orgs",
    "events",
)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_tiny_json_run_has_the_figures_and_stops_its_servers() -> None:
    """A tiny run prints exactly one JSON object with the embedded figures (and the scaled ones
    when PostgreSQL and Redis can be started, else null), all positive; the servers it started
    are gone and its directory removed."""
    orgs, events = 60, 600
    done = subprocess.run(
        [
            *(sys.executable, "-m", "saidao.cli", "bench", "leaderboard"),
            *("--orgs", str(orgs), "--events", str(events)),
            *("--naive-seconds", "0.5", "--reads", "50", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1, done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    sides = ["embedded"] if scaled_available() else ["embedded", "scaled"]
    if scaled_available():
        assert report["scaled"] is None
    for side in sides:
        figures = report[side]
        for key in KEYS:
            assert isinstance(figures[key], int | float) and figures[key] > 0, (side, key)
        assert (figures["orgs"], figures["events"]) == (orgs, events)
    for pid in report["server_pids"]:
        assert _gone(pid)
    assert len(report["server_pids"]) == (2 if "scaled" in sides else 0)
    assert not Path(report["temp_dir"]).exists()
