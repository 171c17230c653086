"""The hours anomaly report: what fraud and mistakes look like in the records (a reviewer's starting point).

- impossible days: a volunteer with more than 24 hours on one day (superseded records left out);
- overlapping attendance: one volunteer present at two activities at the same time;
- unusual volumes: accounts that typed in (staff entry or back-fill) many records or many hours lately;
- no corroboration: manual records without evidence and not tied to any activity.
Every list is limited to the viewer's regions through the scoping primitive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from vetvol.activities.models import Attendance, HourRecord, HourSource
from vetvol.core.scoping import Action, allowed_prefixes, subtree_q

MANUAL = (HourSource.STAFF, HourSource.BACKFILL)
VOLUME_DAYS = 30
VOLUME_RECORDS = 100
VOLUME_MINUTES = 500 * 60


def _records(user: Any) -> Any:
    prefixes = allowed_prefixes(user, Action.VIEW)
    qs = HourRecord.objects.filter(corrections__isnull=True)
    return qs if prefixes is None else qs.filter(subtree_q("region_code", prefixes))


@dataclass
class Report:
    impossible_days: list[Any]
    overlaps: list[Any]
    volumes: list[Any]
    uncorroborated: list[HourRecord]


def report(user: Any, limit: int = 200) -> Report:
    records = _records(user)
    impossible = list(
        records.values("volunteer_id", "volunteer__number", "volunteer__name", "service_date")
        .annotate(total=Sum("minutes"))
        .filter(total__gt=24 * 60)
        .order_by("-total")[:limit]
    )
    prefixes = allowed_prefixes(user, Action.VIEW)
    attendances = Attendance.objects.all()
    if prefixes is not None:
        attendances = attendances.filter(subtree_q("activity__region_code", prefixes))
    overlaps = list(
        attendances.filter(
            volunteer__attendances__activity_id__lt=F("activity_id"),
            volunteer__attendances__checked_in_at__lt=F("checked_out_at"),
            volunteer__attendances__checked_out_at__gt=F("checked_in_at"),
        )
        .values(
            "volunteer__number",
            "volunteer__name",
            "activity__title",
            "checked_in_at",
            "checked_out_at",
            "volunteer__attendances__activity__title",
        )
        .order_by("-checked_in_at")[:limit]
    )
    since = timezone.localdate() - timedelta(days=VOLUME_DAYS)
    volumes = list(
        records.filter(source__in=MANUAL, created_at__date__gte=since, entered_by__isnull=False)
        .values("entered_by_id", "entered_by__username")
        .annotate(n=Count("id"), minutes=Sum("minutes"))
        .filter(Q(n__gte=VOLUME_RECORDS) | Q(minutes__gte=VOLUME_MINUTES))
        .order_by("-minutes")[:limit]
    )
    uncorroborated = list(
        records.filter(source__in=MANUAL, activity__isnull=True, evidence="")
        .select_related("volunteer", "entered_by")
        .order_by("-created_at")[:limit]
    )
    return Report(impossible, overlaps, volumes, uncorroborated)
