from django.db import migrations

from vetvol.core.append_only import migration_operation


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migration_operation("core_auditentry")]
