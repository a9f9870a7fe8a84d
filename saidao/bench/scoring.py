"""``saidao bench scoring``: scoring one period of a labor competition program (issue 6).

The command calls three functions of this module: ``add_arguments(parser)`` adds its options
(prefixed, so they do not clash with the other benchmarks'), ``run(options, log)`` returns the
report as a dict (the ``--json`` object) and ``format_table(report)`` renders it for a person.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from saidao.bench.site import BenchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(options: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    raise BenchError("saidao bench scoring is not built yet")


def format_table(report: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in report.items())
