"""What the backup drill compares between the original and the restored database, computed the same way on
both sides (the restored side runs it in a `vetvol shell` on the copy)."""

from __future__ import annotations

import json
from typing import Any


def snapshot() -> dict[str, Any]:
    """Row counts of every table, counted service minutes per volunteer, and the append-only tables."""
    from django.db import connection
    from django.db.models import Sum

    from vetvol.activities.models import HourRecord
    from vetvol.activities.queries import counting_q

    with connection.cursor() as cur:
        tables = sorted(connection.introspection.table_names(cur))
        counts = {}
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cur.fetchone()[0]
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_update'")
            guarded = sorted(row[0].removesuffix("_no_update") for row in cur.fetchall())
        else:
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%\\_append\\_only'")
            guarded = sorted(row[0].removesuffix("_append_only") for row in cur.fetchall())
    minutes = HourRecord.objects.filter(counting_q()).values("volunteer__number").annotate(m=Sum("minutes"))
    return {
        "counts": counts,
        "counted_minutes": {row["volunteer__number"]: row["m"] for row in minutes},
        "append_only": guarded,
    }


def main() -> None:
    print(json.dumps(snapshot(), sort_keys=True))
