from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

EXPIRE_EVERY_S = 30.0


class QuizzesConfig(AppConfig):
    name = "saidao.quizzes"
    label = "quizzes"
    verbose_name = _("知识竞赛")

    def ready(self) -> None:
        from saidao.core.activities import activity_provider

        from . import tasks  # noqa: F401  (registers the expiry task)
        from .page_selectors import contest_cards

        activity_provider(contest_cards)

        from saidao.campaigns.selectors import campaign_contest_source

        from .selectors import contest_id_of_campaign

        campaign_contest_source(contest_id_of_campaign)

        from saidao.core.asgi import single_lane

        # A contest's hot requests: start (or resume), read the paper, save, hand in.
        single_lane(r"^/api/v1/quiz/(contests/\d+/attempts|attempts/\d+(/answers/\d+|/submit)?)$")

        if settings.SAIDAO_TASK_RUNNER == "celery":
            from saidao.config.celery import app

            # Run by `celery -A saidao.config.celery beat` next to the workers.
            app.conf.beat_schedule = {
                **(app.conf.beat_schedule or {}),
                "quizzes.attempts_expire": {
                    "task": "quizzes.attempts_expire",
                    "schedule": EXPIRE_EVERY_S,
                },
            }
