"""The competitions API end to end: setup, reports and import, compute/publish, outcomes,
scorecard and trend; errors as {"code","message","detail"}."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from saidao.accounts.tests.factories import login_headers
from saidao.competitions.models import Report
from saidao.competitions.tests.factories import (
    all_verified,
    capacity_world,
    plant_values,
    reports_xlsx,
    watercut_world,
)
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db
API = "/api/v1"


def post(client: Client, url: str, headers: dict[str, str], data: Any = None) -> Any:
    return client.post(API + url, data or {}, content_type="application/json", headers=headers)


def test_setting_up_a_program_through_the_api(client: Client, tree: Tree) -> None:
    """An officer creates a program, a category, a competition, indicators, a participant and a
    period; weights not adding up show in the table and fail the check with the project's
    error shape."""
    h = login_headers(client, tree.other_officer)
    p = post(client, "/competition-programs", h, {"organization_id": tree.dongying.pk, "name": "P"})
    assert p.status_code == 201, p.content
    pid = p.json()["id"]
    c = post(client, f"/competition-programs/{pid}/categories", h, {"name": "安全环保"}).json()
    comp = post(
        client,
        f"/competition-categories/{c['id']}/competitions",
        h,
        {"name": "安全生产", "participant_kind": "unit", "period_kind": "month"},
    )
    assert comp.status_code == 201, comp.content
    cid = comp.json()["id"]
    ind = post(
        client,
        f"/competitions/{cid}/indicators",
        h,
        {
            "code": "hazards",
            "name": "隐患整改率",
            "unit": "%",
            "rule": "attainment",
            "weight": 60,
            "target": 100,
        },
    )
    assert ind.status_code == 201, ind.content
    assert ind.json()["weight"] == "60"
    table = client.get(f"{API}/competition-programs/{pid}/table", headers=h).json()
    assert table["categories"][0]["competitions"][0]["weights_ok"] is False
    bad = post(client, f"/competitions/{cid}/check", h)
    assert bad.status_code == 400
    assert bad.json()["code"] == "weights_invalid" and bad.json()["detail"]["sum"] == "60"
    outside = post(
        client, f"/competitions/{cid}/participants", h, {"organization_id": tree.dingxi.pk}
    )
    assert outside.status_code == 400 and outside.json()["code"] == "outside_program"
    per = post(client, f"/competitions/{cid}/periods", h, {"key": "2024-06"})
    assert per.status_code == 201 and per.json()["label"] == "2024年6月"
    xlsx = client.get(f"{API}/competition-programs/{pid}/table.xlsx", headers=h)
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert [c.value for c in ws[2]][:5] == ["安全环保", "安全生产", "单位", "月度", "隐患整改率"]
    other = login_headers(client, tree.city_officer)
    assert client.get(f"{API}/competition-programs/{pid}", headers=other).status_code == 404


def test_report_workflow_import_compute_publish_and_outcomes(client: Client, tree: Tree) -> None:
    """A reporter imports its values, an assessor verifies (their own unit's report is refused),
    the officer computes and publishes; the ranking, awards, help list, export, scorecard and
    trend read back."""
    w = capacity_world(tree)
    cid, per = w.competition.pk, w.period.pk
    # four plants by the service, 东辛 through the API import
    for code in ("GD", "HK", "XH", "ZX"):
        from saidao.competitions.tests.factories import report_verified

        report_verified(w, code)
    rh = login_headers(client, w.reporters["DX"])
    tpl = client.get(f"{API}/competitions/{cid}/reports/template.xlsx", headers=rh)
    assert tpl.status_code == 200 and tpl["Content-Type"].startswith("application/vnd.openxml")
    rows: list[list[Any]] = [
        ["DX", "新井数", "2024-Q2", 34, "口", ""],
        ["DX", "单井设计产量", "2024-Q2", 5.6, "吨/日", ""],
        ["DX", "单井实际产量", "2024-Q2", "八点六", "吨/日", ""],
    ]
    bad = client.post(
        f"{API}/competitions/{cid}/reports/import", {"file": reports_xlsx(rows)}, headers=rh
    )
    assert bad.status_code == 400 and bad.json()["code"] == "import_invalid"
    assert bad.json()["detail"]["errors"][0]["row"] == 4
    rows[2][3] = 8.6
    ok = client.post(
        f"{API}/competitions/{cid}/reports/import",
        {"file": reports_xlsx(rows), "submit": "true"},
        headers=rh,
    )
    assert ok.status_code == 201, ok.content
    assert ok.json() == {"reports": 1, "values": 3}
    report = Report.objects.get(participant=w.participants["DX"], is_current=True)
    assert report.state == Report.State.SUBMITTED
    ev = client.post(
        f"{API}/competition-reports/{report.pk}/evidence",
        {"file": io.BytesIO(b"x")},
        headers=rh,
    )
    assert ev.status_code == 409  # submitted: evidence goes with a draft
    ah = login_headers(client, w.assessor)
    listed = client.get(f"{API}/competition-periods/{per}/reports", headers=ah).json()
    assert len(listed) == 5
    v = post(client, f"/competition-reports/{report.pk}/verify", ah)
    assert v.status_code == 200 and v.json()["state"] == "verified"
    oh = login_headers(client, w.officer)
    snap = post(client, f"/competition-periods/{per}/compute", oh)
    assert snap.status_code == 201, snap.content
    sid = snap.json()["id"]
    again = post(client, f"/competition-periods/{per}/compute", oh)
    assert again.json()["id"] == sid
    # reporters do not see an unpublished ranking
    assert client.get(f"{API}/competition-snapshots/{sid}/rows", headers=rh).status_code == 404
    pub = post(client, f"/competition-snapshots/{sid}/publish", oh)
    assert pub.status_code == 200 and pub.json()["published_at"]
    rows_out = client.get(f"{API}/competition-snapshots/{sid}/rows", headers=rh).json()
    assert [(r["code"], r["rank"], r["total"]) for r in rows_out][:2] == [
        ("XH", 1, "144.3333"),
        ("DX", 2, "134.5000"),
    ]
    awards = client.get(f"{API}/competition-snapshots/{sid}/awards", headers=oh).json()
    assert [(a["code"], a["amount"]) for a in awards] == [
        ("XH", "50000.00"),
        ("DX", "30000.00"),
        ("ZX", "20000.00"),
    ]
    helps = client.get(f"{API}/competition-snapshots/{sid}/help", headers=oh).json()
    assert [h["code"] for h in helps] == ["GD"]
    upd = client.put(
        f"{API}/competition-help/{helps[0]['id']}",
        {"helper_organization_id": w.assessor_unit.pk, "action_plan": "手把手优化方案"},
        content_type="application/json",
        headers=oh,
    )
    assert upd.status_code == 200 and upd.json()["action_plan"] == "手把手优化方案"
    note = post(client, f"/competition-help/{helps[0]['id']}/notes", oh, {"text": "已走访"})
    assert note.status_code == 201
    xlsx = client.get(f"{API}/competition-snapshots/{sid}/ranking.xlsx", headers=oh)
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert [c.value for c in ws[3]][:3] == [2, "DX", "东辛采油厂"]
    card = client.get(
        f"{API}/competition-snapshots/{sid}/scorecard/{w.participants['DX'].pk}", headers=rh
    ).json()
    assert card["rank"] == 2 and card["gap"] == "9.8333"
    assert card["best_lever"] == "ratio"
    trend = client.get(
        f"{API}/competition-participants/{w.participants['DX'].pk}/trend", headers=rh
    ).json()
    assert [(t["period_key"], t["rank"], t["of"]) for t in trend] == [("2024-Q2", 2, 5)]


def test_own_unit_verification_and_closed_period_errors(client: Client, tree: Tree) -> None:
    """An assessor of 东辛 verifying 东辛's report gets 403 own_unit; a report for a closed
    period gets 409 period_not_open."""
    from saidao.accounts.tests.factories import UserFactory
    from saidao.competitions import services
    from saidao.competitions.models import ProgramRole

    w = capacity_world(tree)
    insider = UserFactory.create()
    services.program_role_grant(
        actor=w.officer,
        program=w.program,
        user=insider,
        kind=ProgramRole.Kind.ASSESSOR,
        organization=w.units["DX"],
    )
    rh = login_headers(client, w.reporters["DX"])
    saved = post(
        client,
        "/competition-reports",
        rh,
        {
            "participant_id": w.participants["DX"].pk,
            "period_id": w.period.pk,
            "values": plant_values("DX"),
            "units": {"actual": "吨/日"},
        },
    )
    assert saved.status_code == 201, saved.content
    rid = saved.json()["id"]
    assert post(client, f"/competition-reports/{rid}/submit", rh).status_code == 200
    ih = login_headers(client, insider)
    refused = post(client, f"/competition-reports/{rid}/verify", ih)
    assert refused.status_code == 403 and refused.json()["code"] == "own_unit"
    oh = login_headers(client, w.officer)
    post(client, f"/competition-periods/{w.period.pk}/state", oh, {"state": "closed"})
    late = post(
        client,
        "/competition-reports",
        login_headers(client, w.reporters["GD"]),
        {
            "participant_id": w.participants["GD"].pk,
            "period_id": w.period.pk,
            "values": plant_values("GD"),
        },
    )
    assert late.status_code == 409 and late.json()["code"] == "period_not_open"


def test_correction_diff_and_titles(client: Client, tree: Tree) -> None:
    """After publishing, a correction makes version 2; the new compute's diff shows the change;
    a title is nominated, approved and published with a certificate link."""
    w = capacity_world(tree)
    all_verified(w)
    oh = login_headers(client, w.officer)
    sid = post(client, f"/competition-periods/{w.period.pk}/compute", oh).json()["id"]
    post(client, f"/competition-snapshots/{sid}/publish", oh)
    rid = Report.objects.get(participant=w.participants["GD"], is_current=True).pk
    corr = post(
        client,
        f"/competition-reports/{rid}/correct",
        oh,
        {"values": {"actual": "9.9"}, "reason": "复核"},
    )
    assert corr.status_code == 201 and corr.json()["version"] == 2
    assert corr.json()["correction_reason"] == "复核"
    sid2 = post(client, f"/competition-periods/{w.period.pk}/compute", oh).json()["id"]
    diff = client.get(f"{API}/competition-snapshots/{sid2}/diff?against={sid}", headers=oh).json()
    gd = next(c for c in diff["changes"] if c["code"] == "GD")
    assert gd["values"]["actual"] == ["6.500000", "9.900000"] and gd["moved"] > 0
    assert diff["rules_changed"] is False

    ww = watercut_world(tree)
    from saidao.competitions import services

    for name, vals in ww.extra["values"].items():
        r = services.report_save(
            actor=ww.reporters[name],
            participant=ww.participants[name],
            period=ww.period,
            values=vals,
        )
        services.report_verify(
            actor=ww.assessor, report=services.report_submit(actor=ww.reporters[name], report=r)
        )
    s = post(client, f"/competition-periods/{ww.period.pk}/compute", oh).json()["id"]
    post(client, f"/competition-snapshots/{s}/publish", oh)
    t = post(
        client,
        f"/competition-snapshots/{s}/titles",
        oh,
        {"participant_id": ww.participants["吴昊"].pk},
    )
    assert t.status_code == 201 and t.json()["name"] == "2024年第二季度 最佳降含水标兵"
    tid = t.json()["id"]
    wh = login_headers(client, ww.reporters["吴昊"])
    assert post(client, f"/competition-titles/{tid}/approve", wh).status_code == 403
    assert post(client, f"/competition-titles/{tid}/approve", oh).json()["state"] == "approved"
    pub = post(client, f"/competition-titles/{tid}/publish", oh).json()
    assert pub["state"] == "published" and pub["certificate_code"]
    assert pub["certificate_url"] and pub["certificate_code"] in pub["certificate_url"]
    pdf = client.get(pub["certificate_url"], headers=wh)
    assert pdf.status_code in (200, 302)


def test_anonymous_is_refused(client: Client, tree: Tree) -> None:
    """Without a token the API answers 401 in the project's error shape."""
    resp = client.get(f"{API}/competition-programs")
    assert resp.status_code == 401 and resp.json()["code"] == "not_authenticated"


def test_period_reports_list_in_constant_queries(
    client: Client, tree: Tree, django_assert_max_num_queries: Any
) -> None:
    """Listing a period's reports costs the same few queries for five reports as for one."""
    w = capacity_world(tree)
    all_verified(w)
    h = login_headers(client, w.assessor)
    with django_assert_max_num_queries(9):
        resp = client.get(f"{API}/competition-periods/{w.period.pk}/reports", headers=h)
    assert resp.status_code == 200 and len(resp.json()) == 5
    assert resp.json()[0]["values"][0]["indicator"] == "wells"
