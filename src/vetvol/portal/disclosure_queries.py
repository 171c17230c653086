"""Public reads of the disclosure of model volunteers (先进典型) and of projects (项目公开).

Model volunteers: only published entries (`activities.exemplars.published_q`: approved, the volunteer's
consent to this publication in force, their general consent to publish their name not withdrawn, still an
active volunteer). Of the volunteer only the name is read, shown as they agreed (full or surname only), and
the region of their home; never the number, ID number, phone, address or age. Hours are the volunteer's
service hours that count (`activities.queries.counting_q`).

Projects: published and closed projects (never drafts) with what they are (name, domain, description),
where (the region), who organises (the team or service centre), and their outcomes: activities held,
person-times (check-ins), volunteers who served and hours served that count. Nothing about any volunteer.

Each page is a fixed number of queries whatever the data: the rows of the page, then one grouped query per
figure for the page's rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from vetvol.activities.exemplars import public_name, published_q
from vetvol.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Exemplar,
    ExemplarCategory,
    ExemplarTier,
    HourRecord,
    Project,
    ProjectStatus,
    ServiceDomain,
)
from vetvol.activities.queries import counting_q, hours_label
from vetvol.core.scoping import subtree_q
from vetvol.regions.models import Region

EXEMPLAR_PAGE_SIZE = 30
PROJECT_PAGE_SIZE = 30


def _place_names(codes: set[str]) -> dict[str, str]:
    """Each code's place as "city district street" (the province left out), in one query for all."""
    wanted = {code[:n] for code in codes for n in (4, 6, 9, 12) if len(code) >= n}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    return {
        code: " ".join(names[code[:n]] for n in (4, 6, 9, 12) if len(code) >= n and code[:n] in names)
        for code in codes
    }


# Model volunteers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicExemplar:
    name: str
    place: str
    year: int
    tier: str
    category: str
    citation: str
    hours: str


def published_exemplars(region: Region | None = None, year: int | None = None) -> QuerySet[Any]:
    """Published entries (province-wide, or of volunteers living in the region's subtree), newest year
    first, as dicts of the public fields only."""
    qs = Exemplar.objects.filter(published_q(region.code if region else ""))
    if year:
        qs = qs.filter(year=year)
    return qs.values(
        "pk",
        "year",
        "tier",
        "category",
        "citation",
        "name_form",
        "region_code",
        "volunteer_id",
        "volunteer__name",
    ).order_by("-year", "-decided_at", "-pk")


def exemplar_years() -> list[int]:
    """The years with published entries, for the filter (one query)."""
    rows = Exemplar.objects.filter(published_q()).order_by("-year").values_list("year", flat=True).distinct()
    return list(rows)


def public_exemplars(rows: list[dict[str, Any]]) -> list[PublicExemplar]:
    """A page of entries as shown: two queries (the volunteers' counted hours, the place names)."""
    ids = {r["volunteer_id"] for r in rows}
    minutes = (
        dict(
            HourRecord.objects.filter(counting_q(), volunteer_id__in=ids)
            .order_by()
            .values("volunteer_id")
            .annotate(m=Sum("minutes"))
            .values_list("volunteer_id", "m")
        )
        if ids
        else {}
    )
    places = _place_names({r["region_code"] for r in rows}) if rows else {}
    return [
        PublicExemplar(
            name=public_name(r["volunteer__name"], r["name_form"]),
            place=places.get(r["region_code"], ""),
            year=r["year"],
            tier=ExemplarTier(r["tier"]).label,
            category=ExemplarCategory(r["category"]).label,
            citation=r["citation"],
            hours=hours_label(int(minutes.get(r["volunteer_id"]) or 0)),
        )
        for r in rows
    ]


# Projects ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicProject:
    name: str
    domain: str
    description: str
    place: str
    organiser: str
    organiser_team_id: int | None  # a link to the team's public page when it is active
    status: str
    activities_held: int
    person_times: int
    volunteers: int
    hours: str


def disclosed_projects(region: Region | None = None) -> QuerySet[Project]:
    """Published and closed projects (province-wide or in the region's subtree), newest first."""
    qs = Project.objects.filter(status__in=[ProjectStatus.PUBLISHED, ProjectStatus.CLOSED])
    if region is not None:
        qs = qs.filter(subtree_q("region_code", [region.code]))
    return qs.select_related("owner_team", "owner_centre").order_by("-created_at", "-pk")


def public_projects(projects: list[Project], now: datetime | None = None) -> list[PublicProject]:
    """A page of projects with their outcomes: four queries (activities held, check-ins, counted hours
    and volunteers, place names)."""
    if not projects:
        return []
    now = now or timezone.now()
    ids = [p.pk for p in projects]
    held = dict(
        Activity.objects.filter(project_id__in=ids, ends_at__lte=now)
        .exclude(status=ActivityStatus.CANCELLED)
        .order_by()
        .values("project_id")
        .annotate(n=Count("pk"))
        .values_list("project_id", "n")
    )
    visits = dict(
        Attendance.objects.filter(activity__project_id__in=ids)
        .order_by()
        .values("activity__project_id")
        .annotate(n=Count("pk"))
        .values_list("activity__project_id", "n")
    )
    served = {
        row["activity__project_id"]: row
        for row in HourRecord.objects.filter(counting_q(), activity__project_id__in=ids)
        .order_by()
        .values("activity__project_id")
        .annotate(m=Sum("minutes"), people=Count("volunteer_id", distinct=True))
    }
    places = _place_names({p.region_code for p in projects})
    rows = []
    for p in projects:
        team = p.owner_team
        organiser = team.name if team is not None else (p.owner_centre.name if p.owner_centre else "")
        figures = served.get(p.pk, {})
        rows.append(
            PublicProject(
                name=p.name,
                domain=ServiceDomain(p.domain).label,
                description=p.description,
                place=places.get(p.region_code, ""),
                organiser=organiser,
                organiser_team_id=team.pk if team is not None and team.is_active else None,
                status=ProjectStatus(p.status).label,
                activities_held=held.get(p.pk, 0),
                person_times=visits.get(p.pk, 0),
                volunteers=int(figures.get("people") or 0),
                hours=hours_label(int(figures.get("m") or 0)),
            )
        )
    return rows
