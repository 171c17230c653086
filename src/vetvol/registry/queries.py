"""Registry reads, always through the scoping primitive, with a fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from vetvol.core.scoping import Action, get_for_user, subtree_q
from vetvol.regions.models import LiaisonPoint
from vetvol.registry.models import (
    Certificate,
    Membership,
    Team,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)


def get_volunteer_for_user(user: Any, pk: int, action: str = Action.VIEW) -> Volunteer:
    return get_for_user(Volunteer.objects.select_related("home_region"), user, action, pk=pk)


def get_team_for_user(user: Any, pk: int, action: str = Action.VIEW) -> Team:
    return get_for_user(Team.objects.select_related("region", "parent", "liaison_point"), user, action, pk=pk)


@dataclass
class TalentFilter:
    """The talent-pool search (人才库): every field optional, all given ones must hold."""

    region: str = ""  # region subtree code
    skills: list[str] = field(default_factory=list)  # skill codes, all required
    min_level: int = 1
    certificate: str = ""  # certificate type code
    valid_on: date | None = None  # certificate valid on this day
    available: int = 0  # availability bitmask: any of these slots
    party_member: bool | None = None
    veteran: bool | None = None
    team: int | None = None  # current member of this team
    age_min: int | None = None
    age_max: int | None = None
    discharge_from: int | None = None
    discharge_to: int | None = None
    name: str = ""
    status: str = VolunteerStatus.ACTIVE
    today: date | None = None


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def talent_search(user: Any, f: TalentFilter) -> QuerySet[Volunteer]:
    """Volunteers the user may see that match the filter, newest registrations last (by number).

    Skill and certificate conditions are EXISTS subqueries on tables that carry the volunteer's region
    code, so the (skill, region) and (certificate type, region, expiry) indexes answer them without
    scanning volunteers outside the subtree."""
    qs = Volunteer.objects.restrict(user, Action.VIEW)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.region:
        qs = qs.filter(subtree_q("region_code", [f.region]))
    for code in f.skills:
        sub = VolunteerSkill.objects.filter(
            volunteer=OuterRef("pk"), skill__code=code, level__gte=f.min_level
        )
        if f.region:
            sub = sub.filter(subtree_q("region_code", [f.region]))
        qs = qs.filter(Exists(sub))
    if f.certificate or f.valid_on:
        day = f.valid_on or f.today or date.today()
        certs = Certificate.objects.filter(volunteer=OuterRef("pk")).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
            Q(issued_on__isnull=True) | Q(issued_on__lte=day),
        )
        if f.certificate:
            certs = certs.filter(type__code=f.certificate)
        if f.region:
            certs = certs.filter(subtree_q("region_code", [f.region]))
        qs = qs.filter(Exists(certs))
    if f.available:
        qs = qs.alias(slots=F("availability").bitand(f.available)).filter(slots__gt=0)
    if f.party_member is not None:
        qs = qs.filter(is_party_member=f.party_member)
    if f.veteran is not None:
        qs = qs.filter(is_veteran=f.veteran)
    if f.team:
        qs = qs.filter(
            Exists(Membership.objects.filter(volunteer=OuterRef("pk"), team_id=f.team, left_on=None))
        )
    today = f.today or date.today()
    if f.age_min is not None:
        qs = qs.filter(birth_date__lte=_years_ago(today, f.age_min))
    if f.age_max is not None:
        qs = qs.filter(birth_date__gt=_years_ago(today, f.age_max + 1))
    if f.discharge_from is not None:
        qs = qs.filter(discharge_year__gte=f.discharge_from)
    if f.discharge_to is not None:
        qs = qs.filter(discharge_year__lte=f.discharge_to)
    if f.name:
        qs = qs.filter(Q(name__startswith=f.name) | Q(number=f.name))
    return (
        qs.select_related("home_region")
        .prefetch_related(Prefetch("skills", queryset=VolunteerSkill.objects.select_related("skill")))
        .order_by("number")
    )


def teams_for_user(
    user: Any, *, region: str = "", brand: str = "", specialty: str = "", text: str = ""
) -> QuerySet[Team]:
    qs = Team.objects.restrict(user, Action.VIEW).filter(is_active=True)
    if region:
        qs = qs.filter(subtree_q("region_code", [region]))
    if brand:
        qs = qs.filter(brand=brand)
    if specialty:
        qs = qs.filter(specialty=specialty)
    if text:
        qs = qs.filter(name__contains=text)
    return (
        qs.select_related("region", "parent")
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_on=None)))
        .order_by("path")
    )


def team_members(team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team, left_on=None)
        .select_related("volunteer")
        .order_by("-role", "volunteer__number")
    )


def free_liaison_points(user: Any, team: Team) -> list[LiaisonPoint]:
    """Active liaison points in the team's region subtree that no other team holds, for the user to pick."""
    return list(
        LiaisonPoint.objects.restrict(user, Action.CHANGE)
        .filter(subtree_q("region_code", [team.region_code]), is_active=True)
        .filter(Q(team__isnull=True) | Q(team=team))
        .select_related("service_centre")
        .order_by("region_code", "name")[:500]
    )
