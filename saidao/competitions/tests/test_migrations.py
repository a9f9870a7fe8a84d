"""The migration to opaque person codes, applied to a database holding a participant keyed by
phone number and a snapshot published with that code in its hash."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from saidao.accounts.tests.factories import UserFactory
from saidao.competitions import selectors
from saidao.competitions.models import Participant, Snapshot, SnapshotRow
from saidao.competitions.scoring import Entrant, compute, rules_build
from saidao.orgs.tests.factories import make_org

BEFORE = [("competitions", "0001_initial")]
AFTER = [("competitions", "0003_person_code_check")]


@pytest.mark.django_db(transaction=True)
def test_people_are_rekeyed_and_an_old_snapshot_still_verifies(regions: None) -> None:
    """Before: two workers keyed by their phones, and a published snapshot (a veto reached, a
    self score) hashed with those codes. After the migration: the workers are P00001 and
    P00002, the snapshot's rows keep the phones they were hashed with (never shown), and the
    snapshot verifies; hashed with the new codes it would not."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    org = make_org(None, "胜利油田工会", region="370500")
    wu, li = UserFactory.create(real_name="吴昊"), UserFactory.create(real_name="李强")
    Program = old.get_model("competitions", "Program")
    Category = old.get_model("competitions", "Category")
    Competition = old.get_model("competitions", "Competition")
    Indicator = old.get_model("competitions", "Indicator")
    Period = old.get_model("competitions", "Period")
    OldParticipant = old.get_model("competitions", "Participant")
    OldSnapshot = old.get_model("competitions", "Snapshot")
    OldRow = old.get_model("competitions", "SnapshotRow")
    program = Program.objects.create(organization_id=org.pk, name="2024 劳动竞赛")
    category = Category.objects.create(program=program, name="效益开发")
    comp = Competition.objects.create(
        program=program,
        category=category,
        name="降含水增油竞赛",
        participant_kind="individual",
        period_kind="quarter",
    )
    indicators = [
        Indicator.objects.create(
            competition=comp,
            position=1,
            code="oil_gain",
            name="日增油",
            rule="attainment",
            weight=Decimal(100),
            target=Decimal(3),
        ),
        Indicator.objects.create(
            competition=comp,
            position=2,
            code="accident",
            name="安全事故",
            rule="veto",
            required=False,
        ),
    ]
    period = Period.objects.create(
        competition=comp,
        key="2024-Q2",
        label="2024年第二季度",
        starts_on=dt.date(2024, 4, 1),
        ends_on=dt.date(2024, 6, 30),
        state="locked",
    )
    people = [
        OldParticipant.objects.create(
            competition=comp, code=u.phone, name=u.real_name, user_id=u.pk, home_id=org.pk
        )
        for u in (wu, li)
    ]
    # Hashed as the engine did then: the phone numbers were the codes.
    rules = rules_build(competition_id=comp.pk, total_weight=Decimal(100), indicators=indicators)
    entrants = [
        Entrant(people[0].pk, people[0].code, None, (0, 0), Decimal("92.5000")),
        Entrant(people[1].pk, people[1].code, None, (0, 0), None),
    ]
    values = {
        people[0].pk: {"oil_gain": "4.5"},
        people[1].pk: {"oil_gain": "6", "accident": "1"},
    }
    result = compute(rules=rules, entrants=entrants, values=values, period_key=period.key)
    now = dt.datetime(2024, 7, 5, tzinfo=dt.UTC)
    snap = OldSnapshot.objects.create(
        period=period,
        number=1,
        rules_hash=rules.hash,
        content_hash=result.content_hash,
        rules=rules.canonical,
        computed_at=now,
        published_at=now,
        row_count=len(result.rows),
    )
    for r in result.rows:
        OldRow.objects.create(
            snapshot=snap,
            participant_id=r.entrant.id,
            position=r.position,
            rank=r.rank,
            total=r.total_s,
            bonus=r.bonus_s,
            penalty=r.penalty_s,
            vetoed=bool(r.vetoes),
            self_score=r.entrant.self_score,
            values=json.loads(r.values_json),
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    codes = dict(Participant.objects.order_by("pk").values_list("user_id", "code"))
    assert codes == {wu.pk: "P00001", li.pk: "P00002"}
    stored = Snapshot.objects.select_related("period").get(pk=snap.pk)
    hashed = dict(SnapshotRow.objects.values_list("participant__user_id", "code"))
    assert hashed == {wu.pk: wu.phone, li.pk: li.phone}
    assert SnapshotRow.objects.get(participant__user=li).vetoed
    assert selectors.snapshot_verify(snapshot=stored)
    for row in SnapshotRow.objects.select_related("participant"):
        SnapshotRow.objects.filter(pk=row.pk).update(code=row.participant.code)
    assert not selectors.snapshot_verify(snapshot=stored)
