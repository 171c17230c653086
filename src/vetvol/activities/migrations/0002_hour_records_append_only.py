from django.db import migrations

from vetvol.core.append_only import migration_operation


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]

    operations = [
        migration_operation("activities_hourrecord"),
        migration_operation("activities_hourapproval"),
    ]
