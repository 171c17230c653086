"""Dirty marks, written by `core.events.record_with` inside the transaction of each change that moves a
figure: the mark commits with the change or not at all. Writers only insert (a small read where the
event's payload lacks the leaf code or the year); the compactor does the counting.

Each function below names the marks of one event; they are installed as batch writers, so the events of a
change made in bulk (a batch of check-ins, `core.events.emit_many`) write their distinct marks in one
insert."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from vetvol.core import events, rawsql
from vetvol.stats.models import DirtyMark, Family

Mark = tuple[str, str, str]  # (leaf region code, family, year or "" for every year)


def mark(marks: Iterable[Mark]) -> None:
    rows = [{"region_code": c, "family": f, "year": y} for c, f, y in set(marks) if c]
    rawsql.insert_many(DirtyMark, rows)  # hand-written: every check-in batch writes one


def _year(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value:%Y}"


def _volunteer_codes(ids: Iterable[int]) -> set[str]:
    from vetvol.registry.models import Volunteer

    return set(Volunteer.objects.filter(pk__in=list(ids)).values_list("region_code", flat=True).distinct())


def on_volunteer(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    codes = {p["region_code"]} if p.get("region_code") else _volunteer_codes([p["id"]])
    marks = [(c, Family.VOLUNTEERS, "") for c in codes]
    old = p.get("previous_region_code")
    if old and old not in codes:  # a move: the volunteer's figures leave the old leaf in every year
        marks += [(c, family, "") for c in (old, *codes) for family in (Family.VOLUNTEERS, Family.HOURS)]
    yield from marks


def on_volunteers_imported(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    yield from ((c, Family.VOLUNTEERS, "") for c in _volunteer_codes(p.get("ids") or []))


def on_star(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    yield from ((c, Family.VOLUNTEERS, "") for c in _volunteer_codes([p["volunteer_id"]]))


def on_team(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    yield from [(p["region_code"], Family.TEAMS, "")]


def on_hours(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    from vetvol.activities.models import HourRecord

    row = HourRecord.objects.filter(pk=p["id"]).values_list("volunteer__region_code", "service_date").first()
    if row:
        yield from [(row[0], Family.HOURS, _year(row[1]))]


def on_project(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    yield from [(p["region_code"], Family.ACTIVITIES, _year(timezone.now()))]


def on_activity(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    from vetvol.activities.models import Activity

    row = (
        Activity.objects.filter(pk=p.get("activity_id") or p["id"])
        .values_list("region_code", "starts_at")
        .first()
    )
    if row:
        yield from [(row[0], Family.ACTIVITIES, _year(row[1]))]


def on_checked_in(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    # The check-in path is hot and its payload has the code but not the activity's start: recount every
    # year of that leaf's activities (a handful of rows) rather than read the activity here.
    yield from [(p["region_code"], Family.ACTIVITIES, "")]


def on_incident(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    from vetvol.dispatch.models import Incident

    opened = Incident.objects.filter(pk=p["id"]).values_list("opened_at", flat=True).first()
    yield from [(p["region_code"], Family.DISPATCH, _year(opened))]


def on_case(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    from vetvol.care.models import Case

    row = Case.objects.filter(pk=p["id"]).values_list("region_code", "opened_at", "closed_at").first()
    if row:
        yield from [
            (row[0], Family.CARE, _year(row[1])),
            (row[0], Family.CARE, _year(row[2]) or _year(row[1])),
        ]


def on_visit(name: str, p: dict[str, Any]) -> Iterator[Mark]:
    from vetvol.care.models import Visit

    row = Visit.objects.filter(pk=p["id"]).values_list("region_code", "visited_on").first()
    if row:
        yield from [(row[0], Family.CARE, _year(row[1]))]


WRITERS: dict[str, Callable[[str, dict[str, Any]], Iterable[Mark]]] = {
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


def _batch_writer(marks_of: Callable[[str, dict[str, Any]], Iterable[Mark]]) -> events.BatchWriter:
    def write(name: str, payloads: list[dict[str, Any]]) -> None:
        mark(m for p in payloads for m in marks_of(name, p))

    return write


_INSTALLED = {name: _batch_writer(marks_of) for name, marks_of in WRITERS.items()}


def install() -> None:
    for name, writer in _INSTALLED.items():
        events.record_with(name, writer, batch=True)
