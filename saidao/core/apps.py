from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "saidao.core"
    label = "core"

    def ready(self) -> None:
        from . import sms  # noqa: F401  (registers the background send task and its reset)
