"""Background work of contests (and large question imports); imported by QuizzesConfig.ready
and Celery's autodiscovery.

Attempts whose deadline plus grace has passed are handed in with what was saved by
``quizzes.attempts_expire``. It runs periodically: from Celery beat when scaled (the schedule
is added in QuizzesConfig.ready), from a sweeper thread of the web process when embedded
(started by the first attempt, ticking while attempts are open). Any read of an expired attempt
by its worker also closes it, so nothing waits on the sweep to be correct. Each tick of the
embedded sweeper also writes the questions' draw counts that no start has carried yet.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import IO, Any

from django.conf import settings
from django.db import close_old_connections, connection

from saidao.core.imports import ImportProgress, import_job_run
from saidao.core.models import ImportJob
from saidao.core.tasks import task

from .models import Attempt
from .services import attempts_expire, question_usage_write, questions_import

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 15.0

_sweeper: threading.Thread | None = None
_lock = threading.Lock()


@task(name="quizzes.attempts_expire", retries=2, backoff_s=5.0)
def attempts_expire_task() -> int:
    return attempts_expire()


QUESTIONS_IMPORT_TASK = "quizzes.questions_import"


def _questions_run(job: ImportJob, file: IO[bytes], progress: ImportProgress) -> dict[str, Any]:
    questions = questions_import(
        actor=job.created_by,
        organization=job.organization,
        file=file,
        filename=job.params.get("filename", ""),
        progress=progress,
    )
    return {"imported": len(questions)}


@task(name=QUESTIONS_IMPORT_TASK, retries=0)
def questions_import_job(*, job_id: int) -> None:
    """A large question file, imported by a background job (see ``saidao.core.imports``)."""
    import_job_run(job_id=job_id, run=_questions_run)


def _sweep_forever() -> None:
    global _sweeper
    while True:
        time.sleep(SWEEP_EVERY_S)
        close_old_connections()
        try:
            question_usage_write()  # the draw counts no start has carried yet
            attempts_expire()
            if not Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS).exists():
                with _lock:
                    _sweeper = None  # the next attempt starts a new sweeper
                return
        except Exception:
            log.exception("quiz attempt sweep failed; retrying")
        finally:
            connection.close()  # asleep for SWEEP_EVERY_S: no session held meanwhile


def ensure_sweeper() -> None:
    """Start the embedded sweeper thread if it is not running (the thread runner only)."""
    global _sweeper
    if settings.SAIDAO_TASK_RUNNER != "thread":
        return
    with _lock:
        if _sweeper is None or not _sweeper.is_alive():
            _sweeper = threading.Thread(
                target=_sweep_forever, name="saidao-quiz-sweeper", daemon=True
            )
            _sweeper.start()
