"""The last accepted save's sequence number moves from the attempt to each item it wrote.

A save then writes one row in one statement; the attempt's number is the largest of its
items'. Answered items of existing attempts take their attempt's number, which keeps that
largest value, so a page open during the upgrade goes on saving.
"""

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Coalesce


def items_take_the_attempt_seq(apps, schema_editor):  # type: ignore[no-untyped-def]
    Attempt = apps.get_model("quizzes", "Attempt")
    AttemptItem = apps.get_model("quizzes", "AttemptItem")
    AttemptItem.objects.exclude(answered_at=None).update(
        seq=Subquery(Attempt.objects.filter(pk=OuterRef("attempt_id")).values("seq")[:1])
    )


def attempts_take_the_largest_item_seq(apps, schema_editor):  # type: ignore[no-untyped-def]
    Attempt = apps.get_model("quizzes", "Attempt")
    AttemptItem = apps.get_model("quizzes", "AttemptItem")
    largest = (
        AttemptItem.objects.filter(attempt_id=OuterRef("pk"))
        .values("attempt_id")
        .annotate(m=Max("seq"))
        .values("m")[:1]
    )
    Attempt.objects.update(seq=Coalesce(Subquery(largest), 0))


class Migration(migrations.Migration):
    dependencies = [("quizzes", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="attemptitem",
            name="seq",
            field=models.PositiveIntegerField(default=0, verbose_name="序号"),
        ),
        migrations.RunPython(items_take_the_attempt_seq, attempts_take_the_largest_item_seq),
        migrations.RemoveField(model_name="attempt", name="seq"),
    ]
