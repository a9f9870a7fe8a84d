from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saidao.regions.services import regions_load


class Command(BaseCommand):
    help = "Manage China's administrative divisions: `saidao regions load`."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["load"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "load":
            raise CommandError("unknown action")
        n = regions_load()
        self.stdout.write(f"regions: {n} loaded")
