"""`vetvol verify_hours`: the service-hour records are as the rules leave them.

- the append-only triggers are in place on hour records, their approvals and certificates (without them a
  raw UPDATE could rewrite history unnoticed);
- every correction corrects a record of the same volunteer, and no record is corrected twice;
- every approval is of a record that needs one, at a level it may have, and nobody approved their own hours;
- every certificate is authentic: its signature holds and its columns say what it signed (its total the sum
  of the records it lists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F

from vetvol.activities import certificates
from vetvol.activities.models import HourApproval, HourRecord, ServiceCertificate

APPEND_ONLY = ("activities_hourrecord", "activities_hourapproval", "activities_servicecertificate")


@dataclass
class Result:
    records: int = 0
    certificates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _triggers(table: str) -> set[str]:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table]
            )
        else:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        return {row[0] for row in cur.fetchall()}


def _expected_triggers(table: str) -> set[str]:
    if connection.vendor == "postgresql":
        return {f"{table}_append_only"}
    return {f"{table}_no_update", f"{table}_no_delete"}


def verify(limit: int = 50) -> Result:
    result = Result(records=HourRecord.objects.count())
    problems = result.problems
    for table in APPEND_ONLY:
        missing = _expected_triggers(table) - _triggers(table)
        if missing:
            problems.append(f"{table}: append-only trigger missing ({', '.join(sorted(missing))})")
    for pk, target in (
        HourRecord.objects.filter(corrects__isnull=False)
        .exclude(volunteer_id=F("corrects__volunteer_id"))
        .values_list("pk", "corrects_id")[:limit]
    ):
        problems.append(f"hour record {pk} corrects record {target} of another volunteer")
    for target, n in (
        HourRecord.objects.filter(corrects__isnull=False)
        .values("corrects_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("corrects_id", "n")[:limit]
    ):
        problems.append(f"hour record {target} is corrected {n} times")
    for pk, record in HourApproval.objects.filter(record__required_level__isnull=True).values_list(
        "pk", "record_id"
    )[:limit]:
        problems.append(f"approval {pk} is of record {record}, which needs none")
    for pk, record in HourApproval.objects.filter(
        approver_id=F("record__volunteer__user_id"), record__volunteer__user__isnull=False
    ).values_list("pk", "record_id")[:limit]:
        problems.append(f"approval {pk}: the volunteer approved their own record {record}")
    for cert in ServiceCertificate.objects.order_by("pk").iterator(chunk_size=500):
        result.certificates += 1
        if not certificates.is_authentic(cert):  # the signature, and the columns (with the sum of records)
            problems.append(f"certificate {cert.number} fails verification (signature or columns)")
    return result
