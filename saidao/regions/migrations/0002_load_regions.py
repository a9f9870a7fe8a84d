"""Load the shipped GB/T 2260 regions, so every database has them after `migrate`."""

from django.db import migrations


def load(apps, schema_editor):
    from saidao.regions.services import regions_data, regions_load_into

    regions_load_into(apps.get_model("regions", "Region"), regions_data())


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
