from __future__ import annotations

import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from saidao.leaderboards.aggregator import BATCH, MAX_BATCH
from saidao.leaderboards.ranks import rank_index
from saidao.leaderboards.runner import run_forever


class Command(BaseCommand):
    help = "Run the leaderboard aggregator (scaled mode's own process) until SIGTERM or SIGINT."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=BATCH, help="events per batch when keeping up"
        )
        parser.add_argument(
            "--max-batch", type=int, default=MAX_BATCH, help="events per batch at most when behind"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        # A process killed between a commit and its Redis update leaves ranks behind: start
        # from the tallies.
        rank_index().rebuild()
        self.stdout.write(
            f"aggregator: running, batches of {options['batch']} (up to {options['max_batch']})"
        )
        self.stdout.flush()
        run_forever(batch=options["batch"], max_batch=options["max_batch"], stop=stop)
        self.stdout.write("aggregator: stopped")
