"""Background tasks of accounts: a large roster import (see ``saidao.core.imports``)."""

from __future__ import annotations

from typing import IO, Any

from saidao.core.imports import ImportProgress, import_job_run
from saidao.core.models import ImportJob
from saidao.core.tasks import task

ROSTER_IMPORT_TASK = "accounts.roster_import"


def _roster_run(job: ImportJob, file: IO[bytes], progress: ImportProgress) -> dict[str, Any]:
    from .models import User
    from .services import roster_import

    officer = User.objects.get(pk=job.created_by_id)
    result = roster_import(
        officer=officer, organization=job.organization, file=file, progress=progress
    )
    return {
        "created": len(result.created),
        "invited": result.invited,
        "unchanged": result.unchanged,
        # Shown to the officer once, then dropped from the job (import_job_result_take).
        "once": {
            "activation_codes": [
                {"phone": u.phone, "real_name": u.real_name, "code": c} for u, c in result.created
            ]
        },
    }


@task(name=ROSTER_IMPORT_TASK, retries=0)
def roster_import_job(*, job_id: int) -> None:
    import_job_run(job_id=job_id, run=_roster_run)
