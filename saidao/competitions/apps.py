from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionsConfig(AppConfig):
    name = "saidao.competitions"
    label = "competitions"
    verbose_name = _("劳动竞赛")

    def ready(self) -> None:
        from saidao.core.activities import activity_provider

        from .views import competition_activities

        activity_provider(competition_activities)
