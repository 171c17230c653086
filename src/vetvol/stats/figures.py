"""What each figure counts, by leaf code and period, through the domain querysets.

One function per family counts either one leaf (the compactor, the live recount of marked leaves) or every
leaf at once (the full rebuild, the tests' and the bench's brute-force check): the same query either way,
so incremental and full counts cannot drift apart. Service hours are counted through
`activities.queries.counting_q` only.

Periods: "" (a snapshot: now), "2025" (a year), "2025-03" (a month). Volunteer-linked figures (registered,
stars, hours, active volunteers) belong to the volunteer's current home code, so they sum exactly up the
tree; activities, incidents and care cases belong to their own region code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone

from vetvol.stats.models import Family

Counts = dict[tuple[str, str, str], int]  # (leaf code, period, figure name) -> value

# Figure names by family, in display order; the labels are the dashboard's.
FIGURES: dict[str, list[str]] = {
    Family.VOLUNTEERS: ["volunteers", "veteran_volunteers", "pending_volunteers", "star_volunteers"],
    Family.TEAMS: ["teams", "civil_teams"],
    Family.HOURS: ["minutes", "active_volunteers"],
    Family.ACTIVITIES: ["projects", "activities", "participants"],
    Family.DISPATCH: ["missions", "closed_missions", "rescued", "recovered", "served"],
    Family.CARE: ["cases_opened", "cases_closed", "visits"],
}
SNAPSHOT_FAMILIES = {Family.VOLUNTEERS, Family.TEAMS}
FAMILY_OF = {name: family for family, names in FIGURES.items() for name in names}


def month_key(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value:%Y-%m}"


def _year_bounds(year: str, *, datetimes: bool) -> tuple[Any, Any]:
    y = int(year)
    if not datetimes:
        return date(y, 1, 1), date(y + 1, 1, 1)
    tz = timezone.get_current_timezone()
    return datetime(y, 1, 1, tzinfo=tz), datetime(y + 1, 1, 1, tzinfo=tz)


def _scope(qs: QuerySet[Any], code_field: str, leaf: str | None) -> QuerySet[Any]:
    return qs if leaf is None else qs.filter(**{code_field: leaf})


def _in_year(qs: QuerySet[Any], field: str, year: str, *, datetimes: bool) -> QuerySet[Any]:
    if not year:
        return qs
    start, end = _year_bounds(year, datetimes=datetimes)
    return qs.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def _monthly(
    out: Counts,
    qs: QuerySet[Any],
    code_field: str,
    when: str,
    values: dict[str, Any],
) -> None:
    """Add per-month and per-year sums of `values` (aggregates) grouped by leaf code and month of `when`."""
    rows = (
        qs.annotate(leaf=F(code_field), m=TruncMonth(when)).values("leaf", "m").annotate(**values).order_by()
    )
    for row in rows:
        if row["m"] is None:
            continue
        month = month_key(row["m"])
        for name in values:
            value = int(row[name] or 0)
            if value:
                out[(row["leaf"], month, name)] = out.get((row["leaf"], month, name), 0) + value
                out[(row["leaf"], month[:4], name)] = out.get((row["leaf"], month[:4], name), 0) + value


def count_volunteers(leaf: str | None, year: str) -> Counts:
    from vetvol.activities.models import StarAward
    from vetvol.registry.models import Volunteer, VolunteerStatus

    active = Q(status=VolunteerStatus.ACTIVE)
    starred = Exists(StarAward.objects.filter(volunteer=OuterRef("pk"), revocation__isnull=True))
    rows = (
        _scope(Volunteer.objects.all(), "region_code", leaf)
        .annotate(starred=starred)
        .values("region_code")
        .annotate(
            volunteers=Count("id", filter=active),
            veteran_volunteers=Count("id", filter=active & Q(is_veteran=True)),
            pending_volunteers=Count("id", filter=Q(status=VolunteerStatus.PENDING)),
            star_volunteers=Count("id", filter=active & Q(starred=True)),
        )
        .order_by()
    )
    return _flat(rows, "region_code", FIGURES[Family.VOLUNTEERS])


def count_teams(leaf: str | None, year: str) -> Counts:
    from vetvol.registry.models import Team
    from vetvol.registry.models.teams import CivilStatus

    on = Q(is_active=True)
    rows = (
        _scope(Team.objects.all(), "region_code", leaf)
        .values("region_code")
        .annotate(
            teams=Count("id", filter=on),
            civil_teams=Count("id", filter=on & ~Q(civil_status=CivilStatus.NONE)),
        )
        .order_by()
    )
    return _flat(rows, "region_code", FIGURES[Family.TEAMS])


def _flat(rows: Any, code_field: str, names: list[str]) -> Counts:
    out: Counts = {}
    for row in rows:
        for name in names:
            if row[name]:
                out[(row[code_field], "", name)] = int(row[name])
    return out


def count_hours(leaf: str | None, year: str) -> Counts:
    from vetvol.activities.models import HourRecord
    from vetvol.activities.queries import counting_q

    qs = _scope(HourRecord.objects.filter(counting_q()), "volunteer__region_code", leaf)
    qs = _in_year(qs, "service_date", year, datetimes=False)
    out: Counts = {}
    for trunc, key in ((TruncMonth, month_key), (TruncYear, lambda d: f"{d:%Y}")):
        rows = (
            qs.annotate(leaf=F("volunteer__region_code"), p=trunc("service_date"))
            .values("leaf", "p")
            .annotate(minutes=Sum("minutes"), active_volunteers=Count("volunteer_id", distinct=True))
            .order_by()
        )
        for row in rows:
            period = key(row["p"])
            for name in ("minutes", "active_volunteers"):
                if row[name]:
                    out[(row["leaf"], period, name)] = int(row[name])
    return out


def count_activities(leaf: str | None, year: str) -> Counts:
    from vetvol.activities.models import Activity, ActivityStatus, Attendance, Project

    out: Counts = {}
    projects = _in_year(
        _scope(Project.objects.all(), "region_code", leaf), "created_at", year, datetimes=True
    )
    _monthly(out, projects, "region_code", "created_at", {"projects": Count("id")})
    held: QuerySet[Any] = Activity.objects.exclude(status=ActivityStatus.CANCELLED)
    held = _in_year(_scope(held, "region_code", leaf), "starts_at", year, datetimes=True)
    _monthly(out, held, "region_code", "starts_at", {"activities": Count("id")})
    came = Attendance.objects.exclude(activity__status=ActivityStatus.CANCELLED)
    came = _in_year(_scope(came, "activity__region_code", leaf), "activity__starts_at", year, datetimes=True)
    _monthly(out, came, "activity__region_code", "activity__starts_at", {"participants": Count("id")})
    return out


def count_dispatch(leaf: str | None, year: str) -> Counts:
    from vetvol.dispatch.models import Incident, IncidentStatus

    out: Counts = {}
    qs = _in_year(_scope(Incident.objects.all(), "region_code", leaf), "opened_at", year, datetimes=True)
    closed = Q(status=IncidentStatus.CLOSED)
    _monthly(
        out,
        qs,
        "region_code",
        "opened_at",
        {
            "missions": Count("id"),
            "closed_missions": Count("id", filter=closed),
            "rescued": Sum("people_rescued", filter=closed),
            "recovered": Sum("bodies_recovered", filter=closed),
            "served": Sum("people_served", filter=closed),
        },
    )
    return out


def count_care(leaf: str | None, year: str) -> Counts:
    from vetvol.care.models import Case, Visit

    out: Counts = {}
    opened = _in_year(_scope(Case.objects.all(), "region_code", leaf), "opened_at", year, datetimes=True)
    _monthly(out, opened, "region_code", "opened_at", {"cases_opened": Count("id")})
    closed = _scope(Case.objects.filter(closed_at__isnull=False), "region_code", leaf)
    _monthly(
        out,
        _in_year(closed, "closed_at", year, datetimes=True),
        "region_code",
        "closed_at",
        {"cases_closed": Count("id")},
    )
    visits = _in_year(_scope(Visit.objects.all(), "region_code", leaf), "visited_on", year, datetimes=False)
    _monthly(out, visits, "region_code", "visited_on", {"visits": Count("id")})
    return out


COUNTERS: dict[str, Callable[[str | None, str], Counts]] = {
    Family.VOLUNTEERS: count_volunteers,
    Family.TEAMS: count_teams,
    Family.HOURS: count_hours,
    Family.ACTIVITIES: count_activities,
    Family.DISPATCH: count_dispatch,
    Family.CARE: count_care,
}


def count(family: str, leaf: str | None, year: str = "") -> Counts:
    """The family's figures of one leaf (or of all leaves) in `year` (all years when empty)."""
    return COUNTERS[family](leaf, "" if family in SNAPSHOT_FAMILIES else year)


def in_year(period: str, year: str) -> bool:
    """Whether a stored period belongs to what a recount of `year` covers ("" covers everything)."""
    return not year or period[:4] == year


def by_period(counts: Counts) -> dict[tuple[str, str], int]:
    """Counts without their leaf code, summed: {(period, name): value}."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (_leaf, period, name), value in counts.items():
        out[(period, name)] += value
    return dict(out)
