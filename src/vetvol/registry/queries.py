"""Registry reads, always through the scoping primitive, with a fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Value

from vetvol.core.scoping import Action, get_for_user, subtree_q
from vetvol.regions.models import LiaisonPoint
from vetvol.registry.models import (
    Certificate,
    CertificateType,
    Membership,
    Skill,
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


def _taxonomy_ids(skills: list[str], certificate: str) -> tuple[dict[str, int], int | None]:
    """Skill and certificate-type codes to ids, in one small query. With `skill_id = 21` in the search the
    planner knows from its statistics how common that skill is; a join on the code gives it the average."""
    if not skills and not certificate:
        return {}, None
    found = (
        Skill.objects.filter(code__in=skills)
        .order_by()
        .annotate(kind=Value("skill"))
        .values_list("kind", "code", "pk")
    )
    if certificate:
        types = CertificateType.objects.filter(code=certificate).order_by().annotate(kind=Value("type"))
        found = found.union(types.values_list("kind", "code", "pk"), all=True)
    rows = list(found)
    type_id = next((pk for kind, _code, pk in rows if kind == "type"), None)
    return {code: pk for kind, code, pk in rows if kind == "skill"}, type_id


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
    skill_ids, type_id = _taxonomy_ids(f.skills, f.certificate)
    for code in f.skills:
        if code not in skill_ids:
            return qs.none()
        sub = VolunteerSkill.objects.filter(
            volunteer=OuterRef("pk"), skill_id=skill_ids[code], level__gte=f.min_level
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
            if type_id is None:
                return qs.none()
            certs = certs.filter(type_id=type_id)
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


COUNT_CAP = 1000


@dataclass
class Page:
    """One page of a list: its rows, whether a next page exists, and the number of matches, exact up to
    COUNT_CAP ("1,000+" beyond: `count_capped`)."""

    rows: list[Any]
    number: int
    size: int
    has_next: bool
    count: int
    count_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_of(qs: QuerySet[Any], page: int = 1, size: int = 50, cap: int = 0) -> Page:
    """Page `page` of an ordered queryset, without an exact COUNT over a large result.

    The page's ids come first, from a narrow query (ids only, `size + 1` of them: the extra one says whether
    there is a next page) that the database can answer from covering indexes; then the full rows of those
    ids alone, with the queryset's joins and prefetches. There is no COUNT by default: `count` is the rows up
    to this page and `count_capped` says there are more ("50+", exact on the last page). With `cap` (e.g.
    COUNT_CAP), matches are counted up to `cap + 1` in a LIMITed subquery ("1,000+"). On a million
    volunteers (bench/talent_search.py) the capped count adds about 5 ms at the median and 20 ms at p95 to a
    talent-pool page, and an exact COUNT grows with the result (90 ms at 15,000 matches)."""
    page = max(1, page)
    offset = (page - 1) * size
    ids = list(qs.prefetch_related(None).values_list("pk", flat=True)[offset : offset + size + 1])
    has_next = len(ids) > size
    ids = ids[:size]
    rows: list[Any] = []
    if ids:
        full = qs.model._default_manager.filter(pk__in=ids).order_by()
        full.query.select_related = qs.query.select_related
        lookups = qs._prefetch_related_lookups  # type: ignore[attr-defined]
        by_pk = {row.pk: row for row in full.prefetch_related(*lookups)}
        rows = [by_pk[pk] for pk in ids if pk in by_pk]
    if not has_next and (ids or page == 1):
        return Page(rows, page, size, False, offset + len(rows), False)
    if cap <= 0 and ids:
        return Page(rows, page, size, has_next, offset + len(rows), has_next)
    limit = max(cap, offset)  # a page past the end counts what there is, up to where it starts
    found = qs.prefetch_related(None).order_by().values("pk")[: limit + 1].count()
    return Page(rows, page, size, has_next, min(found, limit), found > limit)
