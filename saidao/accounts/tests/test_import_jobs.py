"""A large roster is imported by a background job: the page shows a progress bar polled by htmx
and the API answers 202 with the job, then both give the same result or the same row-and-column
errors as an import in the request; nothing is half-saved; nobody else sees the job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.test import Client
from pytest_django.fixtures import Settings

from saidao.accounts.models import Membership, User
from saidao.accounts.roster import roster_parse
from saidao.accounts.tests.factories import api_token, bearer, roster_xlsx
from saidao.conftest import Tree
from saidao.core import tasks
from saidao.core.imports import ImportProgress
from saidao.core.models import ImportJob

pytestmark = pytest.mark.django_db

ROWS = [[f"张{i}", f"1391234{i:04d}", "顺丰", "快递员"] for i in range(45)]


@pytest.fixture
def background(settings: Settings) -> Iterator[None]:
    """Every upload counts as large; tasks wait for ``run_pending``; progress every 10 rows."""
    settings.SAIDAO_IMPORT_BACKGROUND_BYTES = 0
    settings.SAIDAO_IMPORT_PROGRESS_EVERY = 10
    settings.SAIDAO_TASK_RUNNER = "manual"
    tasks.clear_pending()
    yield
    tasks.clear_pending()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Every progress report a job publishes, in order."""
    seen: list[tuple[str, int, int]] = []
    original = ImportProgress._publish

    def record(self: ImportProgress, status: str, done: int, total: int) -> None:
        seen.append((status, done, total))
        original(self, status, done, total)

    monkeypatch.setattr(ImportProgress, "_publish", record)
    return seen


def _start_on_page(client: Client, tree: Tree, rows: list[list[Any]], capture: Any) -> ImportJob:
    client.force_login(tree.city_officer)
    with capture(execute=True):
        resp = client.post(f"/officer/orgs/{tree.courier.pk}/roster/", {"file": roster_xlsx(rows)})
    job = ImportJob.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/imports/{job.pk}/"
    return job


def test_a_large_roster_is_imported_by_a_job_with_a_progress_bar(
    client: Client,
    tree: Tree,
    background: None,
    published: list[tuple[str, int, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The upload is stored and queued; the page polls a progress bar every second; the task
    imports every row (progress moving through reading, then saving), deletes the file, and
    the page then shows the counts and the activation codes, once, as the request would."""
    job = _start_on_page(client, tree, ROWS, django_capture_on_commit_callbacks)
    assert (job.kind, job.status, job.created_by, job.organization) == (
        ImportJob.Kind.ROSTER,
        ImportJob.Status.PENDING,
        tree.city_officer,
        tree.courier,
    )
    stored = job.file.name
    assert stored and default_storage.exists(stored)
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert not User.objects.filter(phone__startswith="1391234").exists()

    assert tasks.run_pending() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.rows_done, job.rows_total) == (45, 45)
    assert job.finished_at is not None and not job.file and not default_storage.exists(stored)
    assert published == [
        ("reading", 10, 0),
        ("reading", 20, 0),
        ("reading", 30, 0),
        ("reading", 40, 0),
        ("saving", 10, 45),
        ("saving", 20, 45),
        ("saving", 30, 45),
        ("saving", 40, 45),
        ("saving", 45, 45),
    ]
    assert Membership.objects.filter(organization=tree.courier, user__phone__startswith="1391234")
    assert User.objects.filter(phone__startswith="1391234").count() == 45

    done = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"})
    html = done.content.decode()
    assert "every 1s" not in html and 'data-status="done"' in html
    assert "新建账号 45 个" in html
    codes = done.context["result"]["once"]["activation_codes"]
    assert len(codes) == 45 and all(c["code"] in html for c in codes)
    again = client.get(f"/imports/{job.pk}/").content.decode()
    assert "新建账号 45 个" in again
    assert not any(c["code"] in again for c in codes)
    job.refresh_from_db()
    assert "once" not in job.result

    activate = {
        "phone": codes[0]["phone"],
        "code": codes[0]["code"],
        "password": "Xin-Mima-2026",
        "consent_version": django_settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
    resp = client.post("/api/v1/auth/activate", activate, content_type="application/json")
    assert resp.status_code == 200, resp.content


def test_a_bad_row_fails_the_job_with_the_same_errors_and_saves_nothing(
    client: Client, tree: Tree, background: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A job whose file has bad rows fails with exactly the errors the request would list,
    each with its row and column, shown on the page; no account or membership is made."""
    rows = [*ROWS[:3], ["", "123", "", ""], *ROWS[3:10]]
    job = _start_on_page(client, tree, rows, django_capture_on_commit_callbacks)
    tasks.run_pending()
    job.refresh_from_db()
    expected = roster_parse(roster_xlsx(rows)).errors
    assert expected and all(e["row"] == 5 and e["column"] for e in expected)
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == expected
    assert job.result["code"] == "roster_invalid"
    assert not User.objects.filter(phone__startswith="1391234").exists()
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-status="failed"' in html
    for e in expected:
        assert e["column"] in html and e["message"] in html


def test_a_failure_while_saving_leaves_nothing_half_saved(
    client: Client,
    tree: Tree,
    background: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The job parses and saves in one transaction: a failure at the 30th row undoes the 29
    accounts before it, and the job says that nothing was imported."""
    from saidao.accounts.services import codes, membership

    issued = 0
    original = codes.one_time_code_issue

    def failing(**kwargs: Any) -> str:
        nonlocal issued
        issued += 1
        if issued == 30:
            raise RuntimeError("the database went away")
        return original(**kwargs)

    monkeypatch.setattr(membership, "one_time_code_issue", failing)
    job = _start_on_page(client, tree, ROWS, django_capture_on_commit_callbacks)
    tasks.run_pending()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.result["code"] == "import_failed"
    assert issued == 30
    assert not User.objects.filter(phone__startswith="1391234").exists()
    assert not job.file


def test_the_api_answers_202_and_only_the_creator_sees_the_job(
    client: Client, tree: Tree, background: None, django_capture_on_commit_callbacks: Any
) -> None:
    """POST answers 202 with the job's URL; GET it as its creator gives status, progress and
    then the result (codes once); any other officer, even above, gets 404, anonymous 401."""
    token = api_token(client, tree.city_officer)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            f"/api/v1/orgs/{tree.courier.pk}/roster",
            {"file": roster_xlsx(ROWS[:12])},
            headers=bearer(token),
        )
    assert resp.status_code == 202, resp.content
    body = resp.json()
    url = f"/api/v1/import-jobs/{body['id']}"
    assert body["url"] == url
    assert (body["kind"], body["status"], body["errors"]) == ("roster", "pending", [])

    for other in (tree.other_officer, tree.national_officer):
        resp = client.get(url, headers=bearer(api_token(client, other)))
        assert resp.status_code == 404, resp.content
        client.force_login(other)
        assert client.get(f"/imports/{body['id']}/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 401

    assert client.get(url, headers=bearer(token)).json()["status"] == "pending"
    tasks.run_pending()
    done = client.get(url, headers=bearer(token)).json()
    assert (done["status"], done["rows_done"], done["rows_total"]) == ("done", 12, 12)
    assert (done["result"]["created"], done["result"]["invited"]) == (12, 0)
    assert len(done["result"]["once"]["activation_codes"]) == 12
    again = client.get(url, headers=bearer(token)).json()
    assert "once" not in again["result"] and again["result"]["created"] == 12


def test_the_api_gives_a_failed_jobs_errors_with_rows_and_columns(
    client: Client, tree: Tree, background: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A failed job's errors are the request's ``detail.errors``: row, column and message."""
    token = api_token(client, tree.city_officer)
    rows = [*ROWS[:2], ["王五", "1391234", "", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            f"/api/v1/orgs/{tree.courier.pk}/roster",
            {"file": roster_xlsx(rows)},
            headers=bearer(token),
        )
    tasks.run_pending()
    body = client.get(resp.json()["url"], headers=bearer(token)).json()
    assert body["status"] == "failed"
    assert body["result"]["code"] == "roster_invalid"
    assert body["errors"] == roster_parse(roster_xlsx(rows)).errors
    assert body["errors"][0]["row"] == 4 and body["errors"][0]["column"] == "B（手机号）"


def test_small_files_and_unreadable_files_stay_in_the_request(
    client: Client, tree: Tree, settings: Settings
) -> None:
    """Under the threshold the import runs in the request as before (201); a file that is not
    an .xlsx is refused there with its message, never stored as a job."""
    settings.SAIDAO_TASK_RUNNER = "manual"
    token = api_token(client, tree.city_officer)
    url = f"/api/v1/orgs/{tree.courier.pk}/roster"
    resp = client.post(url, {"file": roster_xlsx(ROWS[:2])}, headers=bearer(token))
    assert resp.status_code == 201, resp.content
    settings.SAIDAO_IMPORT_BACKGROUND_BYTES = 0
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("r.xlsx", b"not a zip at all")
    resp = client.post(url, {"file": bad}, headers=bearer(token))
    assert resp.status_code == 400
    assert not ImportJob.objects.exists()
