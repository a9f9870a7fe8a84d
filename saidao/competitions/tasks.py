"""Background tasks of competitions: a large import of reports (see ``saidao.core.imports``)."""

from __future__ import annotations

from typing import IO, Any

from saidao.core.imports import ImportProgress, import_job_run
from saidao.core.models import ImportJob
from saidao.core.tasks import task

REPORTS_IMPORT_TASK = "competitions.reports_import"
# The reports listed on the finished job's page; the counts cover them all.
LISTED_REPORTS = 500


def _reports_run(job: ImportJob, file: IO[bytes], progress: ImportProgress) -> dict[str, Any]:
    from .models import Competition
    from .services import reports_import

    competition = Competition.objects.select_related("program__organization").get(
        pk=job.params["competition"]
    )
    result = reports_import(
        actor=job.created_by,
        competition=competition,
        file=file,
        submit=bool(job.params.get("submit")),
        progress=progress,
    )
    return {
        "reports": len(result.reports),
        "values": result.values,
        "listed": [
            {
                "participant": r.participant.name,
                "period": r.period.label,
                "state": str(r.get_state_display()),
            }
            for r in result.reports[:LISTED_REPORTS]
        ],
    }


@task(name=REPORTS_IMPORT_TASK, retries=0)
def reports_import_job(*, job_id: int) -> None:
    import_job_run(job_id=job_id, run=_reports_run)
