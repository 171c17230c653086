"""Dirty marks, written by `core.events.record_with` inside the transaction of each change that moves a
figure: the mark commits with the change or not at all. Writers only insert (a small read where the
event's payload lacks the leaf code or the year); the compactor does the counting."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from vetvol.core import events
from vetvol.stats.models import DirtyMark, Family


def mark(marks: Iterable[tuple[str, str, str]]) -> None:
    rows = [DirtyMark(region_code=c, family=f, year=y) for c, f, y in set(marks) if c]
    if rows:
        DirtyMark.objects.bulk_create(rows)


def _year(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value:%Y}"


def _volunteer_codes(ids: Iterable[int]) -> set[str]:
    from vetvol.registry.models import Volunteer

    return set(Volunteer.objects.filter(pk__in=list(ids)).values_list("region_code", flat=True).distinct())


def on_volunteer(name: str, p: dict[str, Any]) -> None:
    codes = {p["region_code"]} if p.get("region_code") else _volunteer_codes([p["id"]])
    marks = [(c, Family.VOLUNTEERS, "") for c in codes]
    old = p.get("previous_region_code")
    if old and old not in codes:  # a move: the volunteer's figures leave the old leaf in every year
        marks += [(c, family, "") for c in (old, *codes) for family in (Family.VOLUNTEERS, Family.HOURS)]
    mark(marks)


def on_volunteers_imported(name: str, p: dict[str, Any]) -> None:
    mark((c, Family.VOLUNTEERS, "") for c in _volunteer_codes(p.get("ids") or []))


def on_star(name: str, p: dict[str, Any]) -> None:
    mark((c, Family.VOLUNTEERS, "") for c in _volunteer_codes([p["volunteer_id"]]))


def on_team(name: str, p: dict[str, Any]) -> None:
    mark([(p["region_code"], Family.TEAMS, "")])


def on_hours(name: str, p: dict[str, Any]) -> None:
    from vetvol.activities.models import HourRecord

    row = HourRecord.objects.filter(pk=p["id"]).values_list("volunteer__region_code", "service_date").first()
    if row:
        mark([(row[0], Family.HOURS, _year(row[1]))])


def on_project(name: str, p: dict[str, Any]) -> None:
    mark([(p["region_code"], Family.ACTIVITIES, _year(timezone.now()))])


def on_activity(name: str, p: dict[str, Any]) -> None:
    from vetvol.activities.models import Activity

    row = (
        Activity.objects.filter(pk=p.get("activity_id") or p["id"])
        .values_list("region_code", "starts_at")
        .first()
    )
    if row:
        mark([(row[0], Family.ACTIVITIES, _year(row[1]))])


def on_checked_in(name: str, p: dict[str, Any]) -> None:
    # The check-in path is hot and its payload has the code but not the activity's start: recount every
    # year of that leaf's activities (a handful of rows) rather than read the activity here.
    mark([(p["region_code"], Family.ACTIVITIES, "")])


def on_incident(name: str, p: dict[str, Any]) -> None:
    from vetvol.dispatch.models import Incident

    opened = Incident.objects.filter(pk=p["id"]).values_list("opened_at", flat=True).first()
    mark([(p["region_code"], Family.DISPATCH, _year(opened))])


def on_case(name: str, p: dict[str, Any]) -> None:
    from vetvol.care.models import Case

    row = Case.objects.filter(pk=p["id"]).values_list("region_code", "opened_at", "closed_at").first()
    if row:
        mark([(row[0], Family.CARE, _year(row[1])), (row[0], Family.CARE, _year(row[2]) or _year(row[1]))])


def on_visit(name: str, p: dict[str, Any]) -> None:
    from vetvol.care.models import Visit

    row = Visit.objects.filter(pk=p["id"]).values_list("region_code", "visited_on").first()
    if row:
        mark([(row[0], Family.CARE, _year(row[1]))])


WRITERS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "registry.volunteer.registered": on_volunteer,
    "registry.volunteer.updated": on_volunteer,
    "registry.volunteer.status_changed": on_volunteer,
    "registry.volunteers.imported": on_volunteers_imported,
    "registry.team.created": on_team,
    "registry.team.updated": on_team,
    "activities.star.awarded": on_star,
    "activities.star.revoked": on_star,
    "activities.hours.recorded": on_hours,
    "activities.hours.decided": on_hours,
    "activities.project.created": on_project,
    "activities.activity.created": on_activity,
    "activities.activity.cancelled": on_activity,
    "activities.checked_in": on_checked_in,
    "dispatch.incident.opened": on_incident,
    "dispatch.incident.updated": on_incident,
    "dispatch.incident.closed": on_incident,
    "care.case.opened": on_case,
    "care.case.closed": on_case,
    "care.visit.logged": on_visit,
}


def install() -> None:
    for name, writer in WRITERS.items():
        events.record_with(name, writer)
