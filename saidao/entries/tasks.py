"""Background tasks of entries; imported by EntriesConfig.ready and by Celery's autodiscovery."""

from __future__ import annotations

from saidao.core.tasks import task

from .services import entry_process


@task(name="entries.process", retries=3, backoff_s=5.0)
def entry_process_task(*, entry_id: int) -> None:
    entry_process(entry_id=entry_id)
