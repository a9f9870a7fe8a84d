from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db.models import Count

from saidao.campaigns.models import Campaign
from saidao.demo.seed import DEMO_LOGINS, demo_is_seeded, demo_seed


class Command(BaseCommand):
    help = "Migrate, load regions, seed the demo data if the database is empty, and serve."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=settings.SAIDAO_PORT)
        parser.add_argument("--members", type=int, default=3000)
        parser.add_argument(
            "--entries",
            type=int,
            default=None,
            help="Entries in the live campaign (default: a tenth of the members, at least 60).",
        )
        parser.add_argument("--no-serve", action="store_true", help="Prepare the data and stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("regions", "load", stdout=self.stdout)
        if demo_is_seeded():
            self.stdout.write("demo: database already has data, not seeding")
        else:
            started = time.monotonic()
            demo_seed(members=options["members"], entries=options["entries"])
            self.stdout.write(f"demo: seeded with {options['members']} members")
            for campaign in Campaign.objects.order_by("id"):
                counts = dict(
                    campaign.entries.values_list("status").annotate(n=Count("id")).order_by()
                )
                summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no entries"
                self.stdout.write(f"demo: campaign {campaign.slug}: {summary}")
            self.stdout.write(f"demo: seeding took {time.monotonic() - started:.1f} s")
        for login in DEMO_LOGINS:
            self.stdout.write(f"demo-login: {login.role} {login.phone} {login.password}")
        self.stdout.flush()
        if not options["no_serve"]:
            call_command("serve", port=options["port"], workers=1)
