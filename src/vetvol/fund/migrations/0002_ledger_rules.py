from django.db import migrations

from vetvol.fund.ledger_sql import migration_operation

GENESIS = "0" * 64


def make_heads(apps, schema_editor):
    """All 64 possible ledger chain heads, so that postings never race to create one."""
    Head = apps.get_model("fund", "LedgerHead")
    have = set(Head.objects.values_list("id", flat=True))
    Head.objects.bulk_create(
        [Head(id=i, last_hash=GENESIS, last_seq=0) for i in range(1, 65) if i not in have]
    )


class Migration(migrations.Migration):
    dependencies = [("fund", "0001_initial")]

    operations = [
        migration_operation(),
        migrations.RunPython(make_heads, migrations.RunPython.noop),
    ]
