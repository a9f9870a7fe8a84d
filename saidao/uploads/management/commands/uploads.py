from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from saidao.uploads.services import UPLOAD_TTL, uploads_expire


class Command(BaseCommand):
    help = (
        "Manage resumable uploads: `saidao uploads expire` expires the uploads not completed "
        f"within {UPLOAD_TTL} and frees their storage. Run it periodically (e.g. hourly)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["expire"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "expire":
            raise CommandError("unknown action")
        n = uploads_expire()
        self.stdout.write(f"uploads: {n} expired")
