import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Throttles are counted per key (number, address, number from an address), not per number.

    What the old table held is a few minutes of failures: it is dropped, not carried over.
    """

    dependencies = [
        ("accounts", "0003_security"),
    ]

    operations = [
        migrations.DeleteModel(name="LoginThrottle"),
        migrations.CreateModel(
            name="LoginThrottle",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=120, unique=True)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("blocked_until", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"ordering": ["key"]},
        ),
    ]
