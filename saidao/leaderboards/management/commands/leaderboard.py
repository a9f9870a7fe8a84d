from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from saidao.leaderboards.ranks import RedisRankIndex, ranks_invalidate
from saidao.leaderboards.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "`saidao leaderboard reconcile [--repair]`: recount the tallies from the events. "
        "`saidao leaderboard rebuild-ranks [--campaign ID]`: reload the Redis rank index from the "
        "tallies (the in-memory index of the web process reloads on its next read)."
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
        # The epoch bump makes every process's index reload the campaign (or every campaign)
        # on its next read: the web process's in-memory index too, which this process cannot
        # reach. Redis is reloaded here, right away.
        started = time.monotonic()
        with transaction.atomic():
            ranks_invalidate(campaign_id=campaign_id, rebuild_here=False)
        which = f"campaign {campaign_id}" if campaign_id is not None else "every campaign"
        if not settings.REDIS_URL:
            self.stdout.write(
                f"rebuild-ranks: no REDIS_URL; the in-memory index reloads {which} from the "
                "tallies on its next read"
            )
            return
        RedisRankIndex(settings.REDIS_URL).rebuild(campaign_id)
        self.stdout.write(
            f"rebuild-ranks: {which} reloaded into Redis in {time.monotonic() - started:.1f} s"
        )
