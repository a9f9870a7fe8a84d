"""People in individual competitions get opaque codes (P00001, ...) instead of their phone
numbers; every snapshot row first keeps the code its snapshot was hashed with, so snapshots
made before stay verifiable."""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def keep_hashed_codes_and_rekey_people(apps: Any, schema_editor: Any) -> None:
    Participant = apps.get_model("competitions", "Participant")
    SnapshotRow = apps.get_model("competitions", "SnapshotRow")
    SnapshotRow.objects.update(
        code=Subquery(Participant.objects.filter(pk=OuterRef("participant_id")).values("code")[:1])
    )
    people = list(
        Participant.objects.filter(user__isnull=False)
        .order_by("competition_id", "id")
        .only("id", "competition_id", "code")
    )
    # First out of the way (a code given by hand could be one of the new ones), then numbered
    # in the order people joined each competition.
    for p in people:
        p.code = f"~{p.pk}"
    Participant.objects.bulk_update(people, ["code"], batch_size=1000)
    numbers: dict[int, int] = {}
    for p in people:
        numbers[p.competition_id] = numbers.get(p.competition_id, 0) + 1
        p.code = f"P{numbers[p.competition_id]:05d}"
    Participant.objects.bulk_update(people, ["code"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("competitions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="snapshotrow",
            name="code",
            field=models.CharField(blank=True, max_length=40, verbose_name="计算时的参赛编码"),
        ),
        # Backwards the codes stay opaque (the old schema takes them as they are).
        migrations.RunPython(keep_hashed_codes_and_rekey_people, migrations.RunPython.noop),
    ]
