"""Demo service hours: the year of service before the demo's today, so volunteers' records, the model
volunteer candidates ranking and the portal show real figures.

Each demo project (see `vetvol.demo.activities`) held a shift about every eight weeks over the past year. A
core of regulars came to most of them, others now and then; the demo logins living in the district are
regulars. A shift in the past cannot be signed up for or checked in to any more, so what they served was
signed on the paper sheet and is entered by staff (`enter_hours`, the product's path for service without a
check-in) and approved by a second person, the province admin (`approve_hours`): then it counts. Every
record names its shift, and the bulk entry shows on the anomaly report's volumes list as any other would.
Deterministic from the seed; skipped when the database already holds hours entered by staff.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from vetvol.accounts.models import User
from vetvol.activities import actions
from vetvol.activities.models import Activity, HourRecord, HourSource, Project
from vetvol.regions.models import Region
from vetvol.registry.models import Volunteer, VolunteerStatus

APPROVER = "gd_admin"  # the demo's province admin: a second person, never the one who entered the hours
# Each approved record costs the seed about 10 ms (two actions, each audited), so the numbers are kept to
# about 1,000 records for the 30 projects: some 18 people a project, 500 of the 65,000 volunteers.
EVERY_DAYS = 56
REGULARS = 3  # per project, besides the demo logins of the district: they come three times in four
OCCASIONAL = 40  # per project: two or three of them at each shift, most only once
REASON = "活动现场使用纸质签到表，由服务中心工作人员按签到表录入"


def _shift_days(rng: random.Random, today: date) -> list[date]:
    """About every eight weeks over the past year, the last one a few days ago, oldest first."""
    days, day = [], today - timedelta(days=rng.randint(2, 8))
    while day > today - timedelta(days=365):
        days.append(day)
        day -= timedelta(days=EVERY_DAYS + rng.randint(-5, 5))
    return days[::-1]


def _people(county: str, rng: random.Random) -> tuple[list[Volunteer], list[Volunteer]]:
    """The project's regulars (the district's demo logins first) and occasional volunteers."""
    active = Volunteer.objects.within(county).filter(status=VolunteerStatus.ACTIVE)
    logins = list(active.filter(user__isnull=False).order_by("pk"))
    ids = list(active.filter(user__isnull=True).order_by("pk").values_list("pk", flat=True))
    chosen = rng.sample(ids, min(len(ids), REGULARS + OCCASIONAL))
    by_id = Volunteer.objects.in_bulk(chosen)
    people = [by_id[pk] for pk in chosen]
    return logins + people[:REGULARS], people[REGULARS:]


def _past_shift(actor: Any, project: Project, template: Activity, day: date, hours: int) -> Activity:
    starts_at = timezone.make_aware(datetime.combine(day, time(9, 0)))
    return actions.create_activity(
        actor,
        project,
        title=template.title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        place_name=template.place_name,
        lat=template.lat,
        lng=template.lng,
        geofence_m=template.geofence_m,
        capacity=template.capacity,
        signup_opens_at=starts_at - timedelta(days=14),
        signup_closes_at=starts_at - timedelta(days=1),
    )


def _serve(actor: Any, approver: User, project: Project, rng: random.Random, today: date) -> list[int]:
    """One project's past shifts and the hours served at them; the volunteers' ids, once per record."""
    template = project.activities.order_by("starts_at", "pk").first()
    if template is None:
        return []
    region = Region.objects.get(code=project.region_code)
    regulars, occasional = _people(project.region_code, rng)
    served: list[int] = []
    for day in _shift_days(rng, today):
        hours = rng.choice([3, 4])
        activity = _past_shift(actor, project, template, day, hours)
        came = [v for v in regulars if rng.random() < 0.75]
        came += rng.sample(occasional, min(len(occasional), rng.randint(2, 3)))
        for volunteer in came:
            minutes = hours * 60 - (30 if rng.random() < 0.15 else 0)  # some leave early
            record = actions.enter_hours(
                actor,
                volunteer,
                region=region,
                day=day,
                minutes=minutes,
                content=activity.title,
                reason=REASON,
                activity=activity,
            )
            actions.approve_hours(approver, record, note="与纸质签到表核对无误")
            served.append(volunteer.pk)
    return served


def build(actor: Any, *, seed: int, cities: list[str] | None = None) -> tuple[int, int]:
    """Past shifts and counted hours for the demo projects (of `cities`, if given); returns the records
    written and the volunteers they are of."""
    if HourRecord.objects.filter(source=HourSource.STAFF).exists():
        return 0, 0
    approver = User.objects.filter(username=APPROVER).first()
    if approver is None or approver.pk == actor.pk:
        return 0, 0
    rng = random.Random(f"hours-{seed}")
    today = timezone.localdate()
    projects = Project.objects.filter(owner_centre__isnull=False).order_by("pk")
    served: list[int] = []
    for project in projects:
        if cities and project.region_code[:4] not in cities:
            continue
        with transaction.atomic():  # one commit per project: the seed's time is mostly commits otherwise
            served += _serve(actor, approver, project, rng, today)
    return len(served), len(set(served))
