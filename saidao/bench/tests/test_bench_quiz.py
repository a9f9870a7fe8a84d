"""`saidao bench quiz` end to end at a tiny size: its JSON, and that it leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from saidao.bench import quiz

TINY = [
    *("--quiz-clients", "2", "--quiz-seconds", "0.5", "--quiz-rounds", "1"),
    *("--quiz-workers", "40", "--quiz-connections", "8"),
]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_json_run_prints_exactly_the_figures_and_stops_its_server() -> None:
    """A tiny run prints one JSON object with exactly the six figures (positive numbers), and
    its server is stopped and its temporary directory removed afterwards."""
    done = subprocess.run(
        [sys.executable, "-m", "saidao.cli", "bench", "quiz", *TINY, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1, done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    assert tuple(report) == quiz.REPORT_KEYS
    assert report["clients"] == 2 and report["surge_workers"] == 40
    for key in ("submissions_per_s", "hello_per_s", "surge_seconds", "start_p99_ms"):
        assert report[key] > 0, key
    started = re.findall(r"server pid (\d+) starting", done.stderr)
    stopped = re.findall(r"server pid (\d+) stopped", done.stderr)
    assert started and stopped == started[-1:]
    assert all(_gone(int(pid)) for pid in started)
    (root,) = re.findall(r"temporary site in (\S+)", done.stderr)
    assert not Path(root).exists()


def test_table_says_whether_the_targets_are_met() -> None:
    """The table shows each figure, the ratio and both targets."""
    table = quiz.format_table(
        {
            "submissions_per_s": 500.0,
            "hello_per_s": 1000.0,
            "clients": 16,
            "surge_workers": 10000,
            "surge_seconds": 40.0,
            "start_p99_ms": 900.0,
        }
    )
    assert "50% (target >= 40%: met)" in table
    assert "<= 30 s: NOT met" in table
