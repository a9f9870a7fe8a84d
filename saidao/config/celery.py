"""The Celery application for scaled mode: `celery -A saidao.config.celery worker`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saidao.config.settings")

app = Celery("saidao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
