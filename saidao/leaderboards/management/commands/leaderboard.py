from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saidao.leaderboards.reconcile import reconcile


class Command(BaseCommand):
    help = "`saidao leaderboard reconcile [--repair]`: recount the tallies from the events."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["reconcile"])
        parser.add_argument("--repair", action="store_true", help="Rebuild what differs.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile(repair=options["repair"])
        for d in report.differences:
            self.stdout.write(f"differs: {d.what} {d.key} stored={d.stored} expected={d.expected}")
        self.stdout.write(
            f"reconcile: {report.events} events, {len(report.differences)} differences"
            + (", repaired" if report.repaired else "")
        )
        if report.differences and not report.repaired:
            raise CommandError("counters differ from the recount; run with --repair")
