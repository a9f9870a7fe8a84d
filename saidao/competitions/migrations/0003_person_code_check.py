# Apart from 0002: PostgreSQL can refuse to alter a table whose rows the same transaction
# updated (pending trigger events).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("competitions", "0002_person_codes"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="participant",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("user__isnull", True), ("code__regex", "^P[0-9]{5,9}$"), _connector="OR"
                ),
                name="comp_participant_person_code",
            ),
        ),
    ]
