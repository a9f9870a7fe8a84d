from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "saidao.demo"
    label = "demo"
    verbose_name = "Demo data"
