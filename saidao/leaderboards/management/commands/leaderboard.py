from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from saidao.leaderboards.ranks import RedisRankIndex
from saidao.leaderboards.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "`saidao leaderboard reconcile [--repair]`: recount the tallies from the events. "
        "`saidao leaderboard rebuild-ranks [--campaign ID]`: reload the Redis rank index from the "
        "tallies."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["reconcile", "rebuild-ranks"])
        parser.add_argument("--repair", action="store_true", help="Rebuild what differs.")
        parser.add_argument(
            "--campaign", type=int, default=None, help="rebuild-ranks: only this campaign"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rebuild-ranks":
            self._rebuild_ranks(options["campaign"])
            return
        report = reconcile(repair=options["repair"])
        for d in report.differences:
            self.stdout.write(f"differs: {d.what} {d.key} stored={d.stored} expected={d.expected}")
        self.stdout.write(
            f"reconcile: {report.events} events, {len(report.differences)} differences"
            + (", repaired" if report.repaired else "")
        )
        if report.differences and not report.repaired:
            raise CommandError("counters differ from the recount; run with --repair")

    def _rebuild_ranks(self, campaign_id: int | None) -> None:
        # The in-memory index lives in the web process, which loads each campaign from the
        # tallies on its first read after a start: there is nothing for this process to rebuild.
        if not settings.REDIS_URL:
            self.stdout.write(
                "rebuild-ranks: no REDIS_URL; the in-memory index loads from the tallies "
                "when the web process starts reading"
            )
            return
        started = time.monotonic()
        RedisRankIndex(settings.REDIS_URL).rebuild(campaign_id)
        which = f"campaign {campaign_id}" if campaign_id is not None else "every campaign"
        self.stdout.write(
            f"rebuild-ranks: {which} reloaded into Redis in {time.monotonic() - started:.1f} s"
        )
