"""A large question file (.xlsx or CSV) is imported by a background job."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from saidao.accounts.tests.factories import api_token, bearer
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.core.models import ImportJob
from saidao.quizzes import importing
from saidao.quizzes.models import Question

from .factories import row

pytestmark = pytest.mark.django_db


def test_a_large_csv_goes_to_a_job_through_the_api_and_the_page(
    client: Client, tree: Tree, settings: Settings, django_capture_on_commit_callbacks: Any
) -> None:
    """The API answers 202 and the job imports every question; the page redirects to its job,
    whose page, once run, says how many were imported."""
    settings.SAIDAO_IMPORT_BACKGROUND_BYTES = 0
    settings.SAIDAO_TASK_RUNNER = "manual"
    tasks.clear_pending()
    body = importing.rows_csv([row(stem=f"第{i}题") for i in range(30)])
    token = api_token(client, tree.city_officer)
    file = io.BytesIO(body)
    file.name = "q.csv"
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/api/v1/quiz/questions/import",
            {"file": file, "organization": tree.dingxi.pk},
            headers=bearer(token),
        )
    assert resp.status_code == 202, resp.content
    assert tasks.run_pending() == 1
    done = client.get(resp.json()["url"], headers=bearer(token)).json()
    assert (done["status"], done["result"]) == ("done", {"imported": 30})
    assert Question.objects.filter(organization=tree.dingxi).count() == 30

    client.force_login(tree.city_officer)
    again = io.BytesIO(body)
    again.name = "q.csv"
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("quizzes:bank_import", args=[tree.dingxi.pk]), {"file": again})
    job = ImportJob.objects.latest("id")
    assert page["Location"] == f"/imports/{job.pk}/"
    tasks.run_pending()
    html = client.get(page["Location"]).content.decode()
    assert 'data-status="failed"' in html and "题库中已有相同的题目。" in html
