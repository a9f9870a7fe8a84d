from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from saidao.accounts.services import account_records_purge


class Command(BaseCommand):
    help = (
        "Account housekeeping: `saidao accounts purge` forgets stale records of failed log-ins, "
        "SMS codes older than a day, ended browser sessions and expired API tokens. Run it "
        "daily, after Django's `saidao clearsessions`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["purge"])

    def handle(self, *args: Any, **options: Any) -> None:
        counts = account_records_purge()
        self.stdout.write(
            "accounts: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + " purged"
        )
