"""`saidao bench scoring` end to end, tiny: exactly the four keys on stdout, a real hash, and
the temporary directory gone."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def test_tiny_json_run_prints_exactly_the_four_figures() -> None:
    """Two competitions × 30 participants × 20 indicators: stdout is one JSON object with
    exactly seconds, naive_seconds, snapshot_hash and values (1,200); the two computing
    processes agreed on the hash (else the run fails); nothing is left in the temp dir."""
    pattern = str(Path(tempfile.gettempdir()) / "saidao-bench-scoring-*")
    before = set(glob.glob(pattern))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "saidao.cli", "bench", "scoring"),
            *("--scoring-competitions", "2", "--scoring-participants", "30"),
            *("--scoring-naive-sample", "5", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1, done.stdout
    report: dict[str, Any] = json.loads(done.stdout)
    assert set(report) == {"seconds", "naive_seconds", "snapshot_hash", "values"}
    assert report["values"] == 2 * 30 * 20
    assert report["seconds"] > 0 and report["naive_seconds"] > 0
    assert len(report["snapshot_hash"]) == 64
    assert "same snapshot hash from two processes" in done.stderr
    assert set(glob.glob(pattern)) == before
