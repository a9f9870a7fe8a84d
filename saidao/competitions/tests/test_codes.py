"""People in individual competitions: opaque participant codes, phone numbers masked for
everyone but the officers in scope (and the person), imports by phone or code, and snapshots
that verify against their hashes."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from saidao.accounts.phones import mask_phone
from saidao.accounts.tests.factories import MembershipFactory, UserFactory, login_headers
from saidao.competitions import selectors, services
from saidao.competitions.models import Participant, ProgramRole, Snapshot, SnapshotRow
from saidao.competitions.tests.factories import (
    World,
    capacity_world,
    plant_values,
    report_verified,
    reports_xlsx,
    watercut_world,
)
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput
from saidao.orgs.models import Role

pytestmark = pytest.mark.django_db
API = "/api/v1"


def published(w: World) -> Snapshot:
    """Each worker reports and submits their own values (吴昊 with a self score), the assessor
    verifies, the officer computes and publishes."""
    for name, values in w.extra["values"].items():
        worker = w.reporters[name]
        report = services.report_save(
            actor=worker,
            participant=w.participants[name],
            period=w.period,
            values=values,
            self_score="92.5" if name == "吴昊" else None,
        )
        report = services.report_submit(actor=worker, report=report)
        services.report_verify(actor=w.assessor, report=report)
    snap = services.period_compute(actor=w.officer, period=w.period)
    return services.snapshot_publish(actor=w.officer, snapshot=snap)


def phones(w: World) -> dict[str, str]:
    return {name: u.phone for name, u in w.reporters.items()}


def xlsx_text(content: bytes) -> str:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for row in ws.iter_rows(values_only=True)
    )


def others_hidden(text: str, w: World, me: str) -> None:
    """Nobody's full number but mine in ``text``; the others' masked ones are there."""
    for name, phone in phones(w).items():
        if name == me:
            continue
        assert phone not in text, name
        assert mask_phone(phone) in text, name


# --- codes -------------------------------------------------------------------------------------


def test_people_get_opaque_codes_in_joining_order(tree: Tree) -> None:
    """A person's code is P00001, P00002, ... in the order they joined: never their phone."""
    w = watercut_world(tree)
    codes = {name: p.code for name, p in w.participants.items()}
    assert codes == {"吴昊": "P00001", "李强": "P00002", "王磊": "P00003"}
    for name, phone in phones(w).items():
        assert phone[-4:] not in codes[name]


def test_a_phone_is_refused_as_a_persons_code(tree: Tree) -> None:
    """An officer cannot give a person their phone as code (the service says so, and the
    database refuses it too); a code of the opaque form is taken."""
    w = watercut_world(tree)
    area = w.units["area"]
    newcomer = UserFactory.create(real_name="赵敏")
    MembershipFactory.create(user=newcomer, organization=area)
    with pytest.raises(InvalidInput) as exc:
        services.participant_add(
            actor=w.officer, competition=w.competition, user=newcomer, code=newcomer.phone
        )
    assert "code" in exc.value.detail["fields"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.filter(pk=w.participants["吴昊"].pk).update(code=newcomer.phone)
    p = services.participant_add(
        actor=w.officer, competition=w.competition, user=newcomer, code="P00042"
    )
    assert p.code == "P00042"
    other = UserFactory.create(real_name="钱多")
    MembershipFactory.create(user=other, organization=area)
    after = services.participant_add(actor=w.officer, competition=w.competition, user=other)
    assert after.code == "P00043"


# --- masking -----------------------------------------------------------------------------------


def test_a_worker_sees_no_other_participants_phone_in_the_api(client: Client, tree: Tree) -> None:
    """李强, a worker taking part, lists the participants and the published ranking's rows: his
    own number in full, everybody else's masked; the schema says what ``phone`` is."""
    w = watercut_world(tree)
    snap = published(w)
    h = login_headers(client, w.reporters["李强"])
    listing = client.get(f"{API}/competitions/{w.competition.pk}/participants", headers=h)
    assert listing.status_code == 200
    others_hidden(listing.content.decode(), w, me="李强")
    by_name = {p["name"]: p for p in listing.json()}
    assert by_name["李强"]["phone"] == w.reporters["李强"].phone
    assert by_name["王磊"]["code"] == "P00003"
    rows = client.get(f"{API}/competition-snapshots/{snap.pk}/rows", headers=h)
    assert rows.status_code == 200
    others_hidden(rows.content.decode(), w, me="李强")
    assert {r["code"] for r in rows.json()} == {"P00001", "P00002", "P00003"}
    schema = client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    assert "masked" in schema["ParticipantOut"]["properties"]["phone"]["description"]
    assert "masked" in schema["RowOut"]["properties"]["phone"]["description"]


def test_a_worker_gets_masked_phones_in_ranking_xlsx(client: Client, tree: Tree) -> None:
    """The ranking export, from the API and from the board page, holds the code and the masked
    number of everyone but the worker downloading it."""
    w = watercut_world(tree)
    snap = published(w)
    h = login_headers(client, w.reporters["王磊"])
    api = client.get(f"{API}/competition-snapshots/{snap.pk}/ranking.xlsx", headers=h)
    assert api.status_code == 200
    text = xlsx_text(api.content)
    others_hidden(text, w, me="王磊")
    assert "P00001" in text and "手机号" in text
    client.force_login(w.reporters["王磊"])
    page = client.get(reverse("competitions:board_xlsx", args=[w.competition.pk, w.period.pk]))
    assert page.status_code == 200
    others_hidden(xlsx_text(page.content), w, me="王磊")


def test_the_board_page_masks_other_participants_phones(client: Client, tree: Tree) -> None:
    """The ranking board shows each person's code and number: masked for a worker taking
    part (but their own), in full for the program's officer."""
    w = watercut_world(tree)
    published(w)
    url = reverse("competitions:board", args=[w.competition.pk, w.period.pk])
    client.force_login(w.reporters["吴昊"])
    html = client.get(url).content.decode()
    others_hidden(html, w, me="吴昊")
    assert w.reporters["吴昊"].phone in html and "P00002" in html
    client.force_login(w.officer)
    html = client.get(url).content.decode()
    assert all(phone in html for phone in phones(w).values())


def test_officers_in_scope_see_full_phones(client: Client, tree: Tree) -> None:
    """The program's officer sees every number in full in the API and the export; an officer
    of the workers' plant, a reporter of the program, sees those of the plant's people."""
    w = watercut_world(tree)
    snap = published(w)
    h = login_headers(client, w.officer)
    listing = client.get(f"{API}/competitions/{w.competition.pk}/participants", headers=h)
    rows = client.get(f"{API}/competition-snapshots/{snap.pk}/rows", headers=h)
    export = client.get(f"{API}/competition-snapshots/{snap.pk}/ranking.xlsx", headers=h)
    for text in (listing.content.decode(), rows.content.decode(), xlsx_text(export.content)):
        assert all(phone in text for phone in phones(w).values())
    plant_officer = UserFactory.create(real_name="采油厂干部")
    Role.objects.create(organization=w.units["plant"], user=plant_officer, kind=Role.Kind.OFFICER)
    ProgramRole.objects.create(
        program=w.program,
        user=plant_officer,
        kind=ProgramRole.Kind.REPORTER,
        organization=w.units["plant"],
    )
    ph = login_headers(client, plant_officer)
    seen = client.get(f"{API}/competitions/{w.competition.pk}/participants", headers=ph)
    assert {p["phone"] for p in seen.json()} == set(phones(w).values())


def test_phone_lens_masks_for_strangers_and_anonymous(tree: Tree) -> None:
    """The lens of someone outside the program's scope, or of nobody, masks every number."""
    w = watercut_world(tree)
    p = selectors.participant_get(pk=w.participants["吴昊"].pk)
    phone = w.reporters["吴昊"].phone
    assert selectors.phone_lens(viewer=None, program=w.program).phone(p) == mask_phone(phone)
    stranger = selectors.phone_lens(viewer=tree.city_officer, program=w.program)
    assert stranger.phone(p) == mask_phone(phone)
    assert selectors.phone_lens(viewer=w.officer, program=w.program).phone(p) == phone


# --- import ------------------------------------------------------------------------------------

HEADER = ("参赛人手机号", "指标", "期间", "数值", "单位", "备注")


def test_import_by_phone_maps_the_number_to_the_participant(tree: Tree) -> None:
    """A file naming a worker by phone (spaces, +86) still imports as that worker's report."""
    w = watercut_world(tree)
    wu = w.reporters["吴昊"]
    rows = [
        [
            f"+86 {wu.phone[:3]} {wu.phone[3:7]} {wu.phone[7:]}",
            "含水下降",
            "2024-Q2",
            12,
            "百分点",
            "",
        ],
        [wu.phone, "日增油", "2024-Q2", 4.5, "吨/日", ""],
    ]
    result = services.reports_import(
        actor=wu, competition=w.competition, file=reports_xlsx(rows, header=HEADER)
    )
    assert [r.participant.code for r in result.reports] == ["P00001"]
    assert result.values == 2


def test_the_template_gives_code_and_masked_phone_and_imports_back(tree: Tree) -> None:
    """An individual competition's template has the code and the masked phone; filled in, it
    imports by the code (the masked number is left alone)."""
    w = watercut_world(tree)
    data = services.import_template(competition=w.competition, period=w.period)
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0][:3] == ["参赛人编码", "参赛人手机号", "指标"]
    wu = w.reporters["吴昊"]
    assert rows[1][:2] == ["P00001", mask_phone(wu.phone)]
    assert wu.phone not in json.dumps(rows, ensure_ascii=False)
    filled = [[*r[:4], {"含水下降": "12", "日增油": "4.5"}[r[2]], *r[5:]] for r in rows[1:]]
    result = services.reports_import(
        actor=wu, competition=w.competition, file=reports_xlsx(filled, header=rows[0])
    )
    assert [r.participant.name for r in result.reports] == ["吴昊"]


def test_import_by_phone_does_not_tell_whose_number_it_is(tree: Tree) -> None:
    """A worker naming someone else by phone gets the answer a stranger's number gets (no
    name); a masked number alone is an error asking for the code or the full number."""
    from saidao.competitions.errors import ImportInvalid

    w = watercut_world(tree)
    li = w.reporters["李强"]
    rows = [
        [w.reporters["吴昊"].phone, "含水下降", "2024-Q2", 12, "百分点", ""],
        ["13999999999", "含水下降", "2024-Q2", 12, "百分点", ""],
        [mask_phone(li.phone), "含水下降", "2024-Q2", 6, "百分点", ""],
    ]
    with pytest.raises(ImportInvalid) as exc:
        services.reports_import(
            actor=li, competition=w.competition, file=reports_xlsx(rows, header=HEADER)
        )
    messages = [e["message"] for e in exc.value.detail["errors"]]
    assert "吴昊" not in " ".join(messages)
    assert messages[0] == messages[1].replace("13999999999", w.reporters["吴昊"].phone)
    assert "参赛人编码" in messages[2]


# --- verifying snapshots -----------------------------------------------------------------------


def test_a_published_snapshot_verifies_and_a_changed_one_does_not(
    client: Client, tree: Tree
) -> None:
    """The stored rules and rows give the snapshot's hashes again (self score included); a
    changed total, or a row's code changed, no longer does. The API says the same."""
    w = watercut_world(tree)
    snap = published(w)
    assert SnapshotRow.objects.filter(snapshot=snap, self_score=Decimal("92.5")).exists()
    assert selectors.snapshot_verify(snapshot=snap)
    h = login_headers(client, w.reporters["李强"])
    got = client.get(f"{API}/competition-snapshots/{snap.pk}/verify", headers=h).json()
    assert got == {"snapshot_id": snap.pk, "content_hash": snap.content_hash, "verified": True}
    row = snap.rows.get(participant=w.participants["李强"])
    SnapshotRow.objects.filter(pk=row.pk).update(total=row.total + 1)
    assert not selectors.snapshot_verify(snapshot=snap)
    SnapshotRow.objects.filter(pk=row.pk).update(total=row.total, code="P09999")
    assert not selectors.snapshot_verify(snapshot=snap)
    SnapshotRow.objects.filter(pk=row.pk).update(code=row.code)
    assert selectors.snapshot_verify(snapshot=snap)


def test_a_units_snapshot_with_a_veto_verifies(tree: Tree) -> None:
    """Vetoes, not stored as a count, are counted again from the values and the rules."""
    w = capacity_world(tree)
    for code in w.participants:
        extra = {"accident": "1"} if code == "GD" else {}
        report_verified(w, code, {**plant_values(code), **extra})
    snap = services.period_compute(actor=w.officer, period=w.period)
    assert snap.rows.get(participant=w.participants["GD"]).vetoed
    assert selectors.snapshot_verify(snapshot=snap)
