from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started
from django.utils.translation import gettext_lazy as _


def _start_aggregator(**_kwargs: Any) -> None:
    from .runner import ensure_embedded_aggregator

    ensure_embedded_aggregator()


class LeaderboardsConfig(AppConfig):
    name = "saidao.leaderboards"
    label = "leaderboards"
    verbose_name = _("参与排行")

    def ready(self) -> None:
        # Embedded mode folds events in a thread of the web process: started by the first
        # request, so management commands and tests never start it.
        request_started.connect(_start_aggregator, dispatch_uid="saidao-aggregator")
        # The live stream and the rank index listen to every flush, in the web process and in
        # `saidao aggregator`.
        from . import live, ranks  # noqa: F401
