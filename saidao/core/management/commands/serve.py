from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve Saidao with uvicorn (ASGI). Several workers need scaled mode."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.SAIDAO_HOST)
        parser.add_argument("--port", type=int, default=settings.SAIDAO_PORT)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        workers: int = options["workers"]
        if workers < 1:
            raise CommandError(_("--workers 至少为 1。"))
        if workers > 1 and not settings.SCALED:
            raise CommandError(
                _(
                    "嵌入模式（SQLite、进程内任务）只能运行一个进程。多个工作进程需要扩展模式："
                    "请设置 DATABASE_URL（PostgreSQL）和 REDIS_URL 后再用 --workers %(n)d。"
                )
                % {"n": workers}
            )
        import uvicorn

        self.stdout.write(
            f"serving on http://{options['host']}:{options['port']} ({workers} worker(s))"
        )
        self.stdout.flush()
        uvicorn.run(
            "saidao.config.asgi:application",
            host=options["host"],
            port=options["port"],
            workers=workers,
            log_level="info",
            access_log=settings.SAIDAO_ACCESS_LOG,
            lifespan="off",
        )
