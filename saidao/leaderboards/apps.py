from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaderboardsConfig(AppConfig):
    name = "saidao.leaderboards"
    label = "leaderboards"
    verbose_name = _("参与排行")
