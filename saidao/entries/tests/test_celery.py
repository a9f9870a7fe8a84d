"""Scaled mode's task path for real: Redis as the broker and a Celery worker process."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.config.celery import app
from saidao.core.tests.services import celery_worker, redis_server
from saidao.entries.models import Entry
from saidao.entries.tests.conftest import stored_upload, submit
from saidao.leaderboards.models import ParticipationEvent
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import make_org

L = Organization.Level


@pytest.mark.django_db(transaction=True)
def test_celery_worker_processes_a_submitted_entry(
    regions: None, settings: Any, tmp_path: Path, clip: Callable[..., Path]
) -> None:
    """With the Celery runner, submitting an entry sends its processing to a real worker over
    Redis; the worker validates the clip in the sandbox and the entry waits for review."""
    national = make_org(None, "中华全国总工会", level=L.NATIONAL, region="110000")
    courier = make_org(national, "安定区快递行业工会联合会", region="621102")
    officer = UserFactory.create()
    Role.objects.create(organization=national, user=officer, kind=Role.Kind.OFFICER)
    worker = MembershipFactory.create(organization=courier).user
    campaign = make_campaign(actor=officer, organizer=national, slug="celery", phases=live_phases())
    upload = stored_upload(worker, clip(), settings)
    with redis_server() as url:
        previous = app.conf.broker_url
        app.conf.broker_url = url
        try:
            with celery_worker(
                redis_url=url, media_root=Path(settings.MEDIA_ROOT), log=tmp_path / "worker.log"
            ):
                settings.SAIDAO_TASK_RUNNER = "celery"
                entry = submit(campaign, worker, upload=upload)
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    entry.refresh_from_db()
                    if entry.status == Entry.Status.PENDING_REVIEW:
                        break
                    time.sleep(0.2)
                log = (tmp_path / "worker.log").read_text()
                assert entry.status == Entry.Status.PENDING_REVIEW, log
                assert "entries.process" in log
        finally:
            app.conf.broker_url = previous
            app.pool.force_close_all()
    assert ParticipationEvent.objects.filter(key=f"entry:{entry.pk}").count() == 1
