from django.db import migrations


def seed(apps, schema_editor):
    from vetvol.care.plans import default_plans

    CasePlan = apps.get_model("care", "CasePlan")
    for row in default_plans():
        CasePlan.objects.update_or_create(event_type=row["event_type"], level=row["level"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
