"""``saidao bench upload``: see ``saidao.bench.upload`` and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saidao.bench import quiz as quiz_bench
from saidao.bench import scoring as scoring_bench
from saidao.bench.leaderboard import LeaderboardBenchOptions, run_leaderboard_bench, run_phase
from saidao.bench.leaderboard import format_table as leaderboard_table
from saidao.bench.site import BenchError
from saidao.bench.upload import (
    TARGET_POSTER_MS_MAX,
    TARGET_PROBE_MS_MAX,
    TARGET_RATIO_MIN,
    UploadBenchOptions,
    format_table,
    run_upload_bench,
)

DEFAULTS = UploadBenchOptions()
# Benchmarks that bring their own options, run and table (see saidao.bench.quiz).
MODULES: dict[str, Any] = {"quiz": quiz_bench, "scoring": scoring_bench}
LB_DEFAULTS = LeaderboardBenchOptions()


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {raw!r}")
    return value


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {raw!r}")
    return value


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit, so the benchmark's cleanup runs as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Command(BaseCommand):
    help = (
        "Benchmarks on a throwaway site (temporary SQLite database, media and server on "
        "127.0.0.1, all removed afterwards). `saidao bench upload` measures the resumable (tus) "
        "upload beside a plain HTTP PUT of the same file in the same run, and the warm video "
        f"sandbox's probe and poster. Targets: resumable >= {TARGET_RATIO_MIN:.0%} of plain PUT, "
        f"probe <= {TARGET_PROBE_MS_MAX:g} ms, poster <= {TARGET_POSTER_MS_MAX:g} ms. Prints a "
        "table, or with --json exactly one JSON object on stdout; progress goes to stderr."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("benchmark", choices=["upload", "leaderboard", *MODULES])
        for module in MODULES.values():
            module.add_arguments(parser)
        parser.add_argument(
            "--orgs",
            type=_positive_int,
            default=LB_DEFAULTS.orgs,
            help="leaderboard: organizations in the synthetic tree (default %(default)d)",
        )
        parser.add_argument(
            "--events",
            type=_positive_int,
            default=LB_DEFAULTS.events,
            help="leaderboard: events folded by the aggregator (default %(default)d)",
        )
        parser.add_argument(
            "--naive-seconds",
            type=_positive_float,
            default=LB_DEFAULTS.naive_seconds,
            help="leaderboard: how long the naive path runs (default %(default)g)",
        )
        parser.add_argument(
            "--reads",
            type=_positive_int,
            default=LB_DEFAULTS.reads,
            help="leaderboard: top-50, rank and around reads timed (default %(default)d)",
        )
        parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument(
            "--size-mb",
            type=_positive_float,
            default=DEFAULTS.size_mb,
            help="size of the uploaded file, MB of 2^20 bytes (default %(default)g)",
        )
        parser.add_argument(
            "--chunk-mb",
            type=_positive_float,
            default=DEFAULTS.chunk_mb,
            help="size of a tus PATCH (default %(default)g)",
        )
        parser.add_argument(
            "--runs",
            type=_positive_int,
            default=DEFAULTS.runs,
            help="uploads each way, alternating which goes first; medians (default %(default)d)",
        )
        parser.add_argument(
            "--clip-seconds",
            type=_positive_float,
            default=DEFAULTS.clip_seconds,
            help="length of the 720p clip probed (default %(default)g)",
        )
        parser.add_argument(
            "--video-runs",
            type=_positive_int,
            default=DEFAULTS.video_runs,
            help="warm probes and posters timed; medians (default %(default)d)",
        )
        parser.add_argument(
            "--max-seconds",
            type=_positive_float,
            default=DEFAULTS.max_seconds,
            help="give up after this long (default %(default)g); each request times out "
            f"after {DEFAULTS.request_timeout_s:g} s",
        )
        parser.add_argument(
            "--json", action="store_true", help="print exactly one JSON object on stdout"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        module = MODULES.get(options["benchmark"])
        if module is not None:
            self._module(module, options)
            return
        if options["benchmark"] == "leaderboard":
            self._leaderboard(options)
            return
        bench_options = UploadBenchOptions(
            size_mb=options["size_mb"],
            chunk_mb=options["chunk_mb"],
            runs=options["runs"],
            clip_seconds=options["clip_seconds"],
            video_runs=options["video_runs"],
            max_seconds=options["max_seconds"],
        )

        def log(message: str) -> None:
            self.stderr.write(f"bench: {message}", style_func=lambda text: text)
            self.stderr.flush()

        try:
            with _terminate_as_exit():
                report = run_upload_bench(bench_options, log)
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(format_table(report))

    def _leaderboard(self, options: dict[str, Any]) -> None:
        lb = LeaderboardBenchOptions(
            orgs=options["orgs"],
            events=options["events"],
            naive_seconds=options["naive_seconds"],
            reads=options["reads"],
            max_seconds=options["max_seconds"]
            if options["max_seconds"] != DEFAULTS.max_seconds
            else LB_DEFAULTS.max_seconds,
        )

        def log(message: str) -> None:
            self.stderr.write(f"bench: {message}", style_func=lambda text: text)
            self.stderr.flush()

        try:
            with _terminate_as_exit():
                report = run_phase(lb, log) if options["phase"] else run_leaderboard_bench(lb, log)
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"] or options["phase"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(leaderboard_table(report))

    def _module(self, module: Any, options: dict[str, Any]) -> None:
        def log(message: str) -> None:
            self.stderr.write(f"bench: {message}", style_func=lambda text: text)
            self.stderr.flush()

        try:
            with _terminate_as_exit():
                report = module.run(options, log)
        except BenchError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(module.format_table(report))
