"""The report form keeps what the reporter typed whichever of its buttons is pressed: 上传
saves the typed values as the draft before it attaches the file, and 提交审核 then submits
those values, not an older draft."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from saidao.competitions.demo import DemoCompetitions
from saidao.competitions.models import Evidence, Participant, Period, Report
from saidao.competitions.tests.test_views import _period, _reporter, seed_demo
from saidao.conftest import Tree


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo(tree: Tree) -> DemoCompetitions:
    return seed_demo(tree)


def _target(demo: DemoCompetitions, code: str) -> tuple[Participant, Period, str]:
    q4 = _period(demo.capacity, "2024-Q4")
    participant = demo.capacity.participants.get(code=code)
    return participant, q4, reverse("competitions:report", args=[participant.pk, q4.pk])


def _ids(client: Client, url: str) -> dict[str, int]:
    form = client.get(url).context["form"]
    return {ind.code: ind.pk for ind, _v, _n in form.rows()}


def _typed(ids: dict[str, int], wells: str, designed: str, actual: str) -> dict[str, str]:
    return {
        f"v_{ids['wells']}": wells,
        f"v_{ids['designed']}": designed,
        f"v_{ids['actual']}": actual,
        f"v_{ids['accident']}": "0",
    }


def _pdf(name: str = "月报.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 test", content_type="application/pdf")


def _values(report: Report) -> dict[str, Decimal]:
    return {v.indicator.code: v.value for v in report.values.select_related("indicator")}


def test_upload_saves_the_typed_values_then_submit_sends_them(
    client: Client, demo: DemoCompetitions
) -> None:
    """胜利采油厂's draft holds 9 / 5.2 / 7; its reporter types 15 / 5.4 / 7.9 and presses 上传
    with a file: the draft now holds the typed values, the file is attached, the page shows
    15 / 5.4 / 7.9 again, and 提交审核 submits those numbers."""
    client.force_login(_reporter("shengli"))
    sl, q4, url = _target(demo, "SL")
    ids = _ids(client, url)
    typed = _typed(ids, "15", "5.4", "7.9")
    resp = client.post(url, {**typed, "action": "upload", "file": _pdf()})
    assert resp.status_code == 302
    report = Report.objects.get(participant=sl, period=q4)
    assert report.state == Report.State.DRAFT
    assert _values(report) == {
        "wells": Decimal("15"),
        "designed": Decimal("5.4"),
        "actual": Decimal("7.9"),
        "accident": Decimal("0"),
    }
    assert Evidence.objects.get(report=report).name == "月报.pdf"
    page = client.get(url)
    html = page.content.decode()
    for name, value in typed.items():
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', html), name
    assert "已上传：月报.pdf" in html and "草稿已保存" in html
    form = page.context["form"]
    assert client.post(url, {**form.initial, "action": "submit"}).status_code == 302
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED
    assert _values(report)["wells"] == Decimal("15")
    assert _values(report)["actual"] == Decimal("7.9")


def test_upload_before_any_draft_creates_it(client: Client, demo: DemoCompetitions) -> None:
    """滨南 has not reported 2024-Q4 yet: 上传 with values typed creates the draft with them and
    attaches the file (no need to save a draft first)."""
    client.force_login(_reporter("binnan"))
    bn, q4, url = _target(demo, "BN")
    assert not Report.objects.filter(participant=bn, period=q4).exists()
    ids = _ids(client, url)
    client.post(url, {**_typed(ids, "12", "5.5", "5.2"), "action": "upload", "file": _pdf()})
    report = Report.objects.get(participant=bn, period=q4)
    assert _values(report)["actual"] == Decimal("5.2")
    assert report.evidence.count() == 1


def test_a_file_chosen_before_submit_is_attached_then_submitted(
    client: Client, demo: DemoCompetitions
) -> None:
    """A reporter who chooses a file and presses 提交审核 (not 上传) has the file attached and
    the typed values submitted."""
    client.force_login(_reporter("shengli"))
    sl, q4, url = _target(demo, "SL")
    ids = _ids(client, url)
    client.post(url, {**_typed(ids, "15", "5.4", "7.9"), "action": "submit", "file": _pdf()})
    report = Report.objects.get(participant=sl, period=q4)
    assert report.state == Report.State.SUBMITTED
    assert _values(report)["wells"] == Decimal("15")
    assert report.evidence.count() == 1


def test_upload_with_a_bad_value_keeps_everything_typed(
    client: Client, demo: DemoCompetitions
) -> None:
    """A value that is not a number: nothing is saved or attached, the page comes back with
    every value as typed (the bad one too) and says the file must be chosen again."""
    client.force_login(_reporter("shengli"))
    sl, q4, url = _target(demo, "SL")
    ids = _ids(client, url)
    typed = _typed(ids, "15", "5.4", "七点九")
    resp = client.post(url, {**typed, "action": "upload", "file": _pdf()})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "不是数字" in html and "佐证材料未上传" in html
    for name, value in typed.items():
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', html), name
    report = Report.objects.get(participant=sl, period=q4)
    assert _values(report)["wells"] == Decimal("9")
    assert not report.evidence.exists()


def test_upload_without_a_file_still_saves_the_typed_values(
    client: Client, demo: DemoCompetitions
) -> None:
    """上传 pressed before choosing a file: the typed values are saved and the page asks for
    a file; nothing is submitted."""
    client.force_login(_reporter("shengli"))
    sl, q4, url = _target(demo, "SL")
    ids = _ids(client, url)
    resp = client.post(url, {**_typed(ids, "15", "5.4", "7.9"), "action": "upload"}, follow=True)
    assert "请先选择要上传的文件" in resp.content.decode()
    report = Report.objects.get(participant=sl, period=q4)
    assert report.state == Report.State.DRAFT
    assert _values(report)["wells"] == Decimal("15")


def test_refused_file_blocks_submission_but_keeps_the_values(
    client: Client, demo: DemoCompetitions, settings: Any
) -> None:
    """A file too large with 提交审核: the values are saved as the draft, the file is refused
    with its reason, and the report is not submitted without it."""
    client.force_login(_reporter("shengli"))
    sl, q4, url = _target(demo, "SL")
    ids = _ids(client, url)
    big = SimpleUploadedFile("大.pdf", b"0" * (20 * 1024 * 1024 + 1), "application/pdf")
    resp = client.post(
        url, {**_typed(ids, "15", "5.4", "7.9"), "action": "submit", "file": big}, follow=True
    )
    assert "文件不能超过 20 MB" in resp.content.decode()
    report = Report.objects.get(participant=sl, period=q4)
    assert report.state == Report.State.DRAFT
    assert _values(report)["wells"] == Decimal("15")
    assert not report.evidence.exists()


def test_every_button_of_the_page_submits_the_report_form(
    client: Client, demo: DemoCompetitions
) -> None:
    """The page has one form: the file input and 上传 belong to it, and it can carry files."""
    client.force_login(_reporter("shengli"))
    _sl, _q4, url = _target(demo, "SL")
    html = client.get(url).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert main.count("<form") == 1
    assert 'enctype="multipart/form-data"' in main
    assert re.search(r'<input type="file"[^>]*form="report-form"', main)
    assert re.search(r'<button[^>]*form="report-form"[^>]*value="upload"', main)
