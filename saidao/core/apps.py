from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "saidao.core"
    label = "core"
