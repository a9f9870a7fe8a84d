from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuizzesConfig(AppConfig):
    name = "saidao.quizzes"
    label = "quizzes"
    verbose_name = _("知识竞赛")
