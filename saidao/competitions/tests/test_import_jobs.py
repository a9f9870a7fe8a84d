"""A large file of reports is imported by a background job, with the same result or the same
errors as in the request."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from saidao.accounts.tests.factories import api_token, bearer
from saidao.competitions.models import Report
from saidao.competitions.tests.factories import PLANTS, capacity_world, reports_xlsx
from saidao.competitions.tests.test_import import plant_rows
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.core.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(settings: Settings) -> None:
    settings.SAIDAO_IMPORT_BACKGROUND_BYTES = 0
    settings.SAIDAO_TASK_RUNNER = "manual"
    tasks.clear_pending()


def test_the_import_page_runs_a_large_file_as_a_job(
    client: Client, tree: Tree, background: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The page redirects to the job; once run, the job page shows what the request shows."""
    w = capacity_world(tree)
    client.force_login(w.officer)
    codes = [c for _n, c, *_r in PLANTS]
    url = reverse("competitions:import", args=[w.competition.pk])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(url, {"file": reports_xlsx(plant_rows(codes)), "submit": "on"})
    job = ImportJob.objects.get()
    assert resp["Location"] == f"/imports/{job.pk}/"
    assert job.organization == w.competition.program.organization
    assert not Report.objects.exists()
    assert tasks.run_pending() == 1
    html = client.get(resp["Location"]).content.decode()
    assert "已导入 5 份填报、15 个数值。" in html
    assert set(Report.objects.values_list("state", flat=True)) == {Report.State.SUBMITTED}


def test_the_api_answers_202_and_a_bad_file_fails_whole(
    client: Client, tree: Tree, background: None, django_capture_on_commit_callbacks: Any
) -> None:
    """202 with the job; a row naming an unknown participant fails the job with that row's
    error, and no report of the good rows is saved."""
    w = capacity_world(tree)
    token = api_token(client, w.officer)
    rows = [*plant_rows(["DX"]), ["NOPE", "新井数", "2024-Q2", 3, "口", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            f"/api/v1/competitions/{w.competition.pk}/reports/import",
            {"file": reports_xlsx(rows)},
            headers=bearer(token),
        )
    assert resp.status_code == 202, resp.content
    tasks.run_pending()
    body = client.get(resp.json()["url"], headers=bearer(token)).json()
    assert body["status"] == "failed" and body["result"]["code"] == "import_invalid"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(5, "A（参赛单位编码）")]
    assert not Report.objects.exists()
