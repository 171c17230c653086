"""Public reads: what anyone may see, whoever asks — never through a user's grants.

Public means:
- teams: active teams (`is_active`) and their public fields (name, brand, specialty, region, parent and
  sub-teams, liaison point, civil-affairs registration, founding date, description);
- volunteers: counts only (active volunteers, by home region), and names only of active volunteers who
  gave `publicity_consent` and are current members of an active team, on that team's page. No volunteer
  number, ID number, phone, address or age is ever read here;
- the special fund: the monthly totals by purpose and region as booked, the restricted funds' balances,
  donations that stand (not reversed) summed per donor, the names only of donors who agreed to be named
  (`publish_consent`, never an anonymous one; everyone else counts in 爱心人士 / 爱心单位), memorial plaques,
  and disbursements paid or reported (number, title, purpose, region, recipient organisation, amount, date
  paid, whether use was reported). No donor phone, requester, approver, description or report is read.

Squads (班, specialty `squad`) are groups inside a team: they appear on their team's page as sub-teams but
are not counted or listed as teams of their own.

Every function costs a fixed number of queries whatever the size of the province: counts per area are one
grouped query per table on a prefix of the region code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404

from vetvol.activities.models import Activity
from vetvol.activities.queries import open_activities
from vetvol.core.scoping import subtree_q
from vetvol.regions.models import LiaisonPoint, Region, RegionLevel
from vetvol.registry.models import CivilStatus, Membership, Team, TeamSpecialty, Volunteer, VolunteerStatus

PAGE_SIZE = 50
# Region pages exist for cities, county-level divisions and streets/towns (Dongguan's and Zhongshan's towns
# hang directly under the city).
PUBLIC_LEVELS = (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP)
PUBLIC_CODE_RE = re.compile(r"^(?:\d{4}|\d{6}|\d{9})$", re.ASCII)
TEAM_ID_RE = re.compile(r"^[1-9]\d{0,18}$", re.ASCII)
MAX_ID = 2**63 - 1  # BigAutoField; larger numbers would overflow the database driver
BRAND_MAX_LENGTH = Team._meta.get_field("brand").max_length or 30
# Specialties a visitor may filter by (squads are not listed as teams).
PUBLIC_SPECIALTIES = [(v, label) for v, label in TeamSpecialty.choices if v != TeamSpecialty.SQUAD]


def public_teams() -> QuerySet[Team]:
    """Active teams, squads included (a team page lists its squads)."""
    return Team.objects.filter(is_active=True)


def listed_teams() -> QuerySet[Team]:
    """Active teams that count and are listed as teams: squads excluded."""
    return public_teams().exclude(specialty=TeamSpecialty.SQUAD)


def active_volunteers() -> QuerySet[Volunteer]:
    return Volunteer.objects.filter(status=VolunteerStatus.ACTIVE)


def current_members(team_ref: Any) -> QuerySet[Membership]:
    """Open memberships of active volunteers: the people serving in a team now."""
    return Membership.objects.filter(team=team_ref, left_on=None, volunteer__status=VolunteerStatus.ACTIVE)


def with_member_counts(teams: QuerySet[Team]) -> QuerySet[Team]:
    """Teams for a list: region joined, current member count as one correlated subquery per row."""
    members = current_members(OuterRef("pk")).order_by().values("team").annotate(n=Count("pk")).values("n")
    return teams.select_related("region").annotate(
        member_count=Coalesce(Subquery(members, output_field=IntegerField()), Value(0))
    )


def _grouped(queryset: QuerySet[Any], length: int, **aggregates: Any) -> dict[str, dict[str, int]]:
    """Aggregates per region-code prefix of `length` characters, in one query."""
    rows = (
        queryset.order_by()
        .annotate(head=Substr("region_code", 1, length))
        .values("head")
        .annotate(**aggregates)
    )
    return {row.pop("head"): row for row in rows}


def _sum(groups: dict[str, dict[str, int]], key: str) -> int:
    return sum(row[key] for row in groups.values())


@dataclass
class AreaRow:
    """One area (a city, a district, or the node itself) with its counts."""

    region: Region
    teams: int
    volunteers: int
    linked: bool = True


@dataclass
class Overview:
    province: Region | None
    teams: int
    registered: int
    filed: int
    volunteers: int
    party_members: int
    brands: list[tuple[str, int]]  # (brand, teams), most teams first
    unbranded: int
    cities: list[AreaRow]


def overview() -> Overview:
    """Province totals, teams per brand and the cities with their counts: four queries."""
    regions = list(Region.objects.filter(level__in=[RegionLevel.PROVINCE, RegionLevel.CITY]).order_by("code"))
    teams = _grouped(
        listed_teams(),
        4,
        n=Count("pk"),
        registered=Count("pk", filter=Q(civil_status=CivilStatus.REGISTERED)),
        filed=Count("pk", filter=Q(civil_status=CivilStatus.FILED)),
    )
    people = _grouped(
        active_volunteers(), 4, n=Count("pk"), party=Count("pk", filter=Q(is_party_member=True))
    )
    per_brand = list(listed_teams().order_by().values_list("brand").annotate(n=Count("pk")))
    brands = sorted(((b, n) for b, n in per_brand if b), key=lambda item: (-item[1], item[0]))
    return Overview(
        province=next((r for r in regions if r.level == RegionLevel.PROVINCE), None),
        teams=_sum(teams, "n"),
        registered=_sum(teams, "registered"),
        filed=_sum(teams, "filed"),
        volunteers=_sum(people, "n"),
        party_members=_sum(people, "party"),
        brands=brands,
        unbranded=sum(n for b, n in per_brand if not b),
        cities=[
            AreaRow(r, teams.get(r.code, {}).get("n", 0), people.get(r.code, {}).get("n", 0))
            for r in regions
            if r.level == RegionLevel.CITY
        ],
    )


def get_public_region(code: str) -> Region:
    """A city, county-level or street/town node; 404 for anything else, malformed codes included."""
    if not PUBLIC_CODE_RE.match(code):
        raise Http404("no such region")
    region = Region.objects.filter(code=code, level__in=PUBLIC_LEVELS).first()
    if region is None:
        raise Http404("no such region")
    return region


RECRUITING_PAGE_SIZE = 30


def recruiting(region: Region | None = None) -> QuerySet[Activity]:
    """Activities open for sign-up now, for everyone (team-only shifts are not advertised), soonest first,
    in the region's subtree if one is given."""
    return open_activities(region.code if region else "").filter(team_only=False)


def brands_in(region: Region) -> list[str]:
    """The brands of the listed teams in a region's subtree, for the filter (one query)."""
    teams = listed_teams().filter(subtree_q("region_code", [region.code])).exclude(brand="")
    return list(teams.order_by("brand").values_list("brand", flat=True).distinct())


def region_teams(region: Region, *, brand: str = "", specialty: str = "") -> QuerySet[Team]:
    """The listed teams of a region's subtree, filtered, in tree order (not yet paginated)."""
    teams = listed_teams().filter(subtree_q("region_code", [region.code]))
    if brand:
        teams = teams.filter(brand=brand)
    if specialty:
        teams = teams.filter(specialty=specialty)
    return teams


@dataclass
class RegionOverview:
    region: Region
    ancestors: list[Region]
    teams: int
    volunteers: int
    areas: list[AreaRow] = field(default_factory=list)  # the node itself (if it has teams), then children


def region_overview(region: Region, teams: QuerySet[Team]) -> RegionOverview:
    """Ancestors, totals and counts per child region of the (filtered) `teams`: four queries."""
    ancestors = list(Region.objects.filter(code__in=region.ancestor_codes()).order_by("code"))
    children = list(region.children.order_by("code"))
    head = len(children[0].code) if children else len(region.code)
    team_counts = _grouped(teams, head, n=Count("pk"))
    people = _grouped(
        active_volunteers().filter(subtree_q("region_code", [region.code])), head, n=Count("pk")
    )
    areas = []
    # Rows at the node itself group under its own code (a city's corps, a district's team).
    own = team_counts.get(region.code, {}).get("n", 0)
    if own and children:
        areas.append(AreaRow(region, own, people.get(region.code, {}).get("n", 0), linked=False))
    areas += [
        AreaRow(
            c,
            team_counts.get(c.code, {}).get("n", 0),
            people.get(c.code, {}).get("n", 0),
            linked=c.level in PUBLIC_LEVELS,
        )
        for c in children
    ]
    return RegionOverview(
        region=region,
        ancestors=ancestors,
        teams=_sum(team_counts, "n"),
        volunteers=_sum(people, "n"),
        areas=areas,
    )


def valid_brand_text(brand: str) -> bool:
    return 0 < len(brand) <= BRAND_MAX_LENGTH and brand.isprintable() and brand == brand.strip()


@dataclass
class BrandOverview:
    brand: str
    teams: int
    cities: list[AreaRow]


def brand_overview(brand: str) -> BrandOverview:
    """A brand's listed teams per city; 404 for a malformed brand or one no active team carries."""
    if not valid_brand_text(brand):
        raise Http404("no such brand")
    counts = _grouped(listed_teams().filter(brand=brand), 4, n=Count("pk"))
    if not counts:
        raise Http404("no such brand")
    cities = Region.objects.filter(code__in=list(counts)).order_by("code")
    rows = [AreaRow(c, counts[c.code]["n"], 0, linked=c.level in PUBLIC_LEVELS) for c in cities]
    return BrandOverview(brand=brand, teams=_sum(counts, "n"), cities=rows)


def brand_teams(brand: str) -> QuerySet[Team]:
    return listed_teams().filter(brand=brand)


@dataclass
class TeamPage:
    team: Team
    region_path: list[Region]
    parent: Team | None
    sub_teams: list[Team]
    liaison_point: LiaisonPoint | None
    member_count: int
    public_names: list[str]


def get_public_team(raw_id: str) -> Team:
    """An active team by its id; 404 for inactive, missing and malformed ids alike."""
    if not TEAM_ID_RE.match(raw_id) or int(raw_id) > MAX_ID:
        raise Http404("no such team")
    team = (
        public_teams()
        .select_related("region", "parent", "liaison_point__service_centre")
        .filter(pk=int(raw_id))
        .first()
    )
    if team is None:
        raise Http404("no such team")
    return team


def team_page(team: Team) -> TeamPage:
    """Everything the public team page shows: four queries after the team itself."""
    region_path = [
        *Region.objects.filter(code__in=team.region.ancestor_codes()).order_by("code"),
        team.region,
    ]
    parent = team.parent if team.parent is not None and team.parent.is_active else None
    sub_teams = list(public_teams().filter(parent=team).order_by("path"))
    point = team.liaison_point if team.liaison_point and team.liaison_point.is_active else None
    members = current_members(team)
    member_count = members.count()
    # Only consenting volunteers' names are read at all; nothing else about them.
    names = list(
        members.filter(volunteer__publicity_consent=True)
        .order_by("joined_on", "pk")
        .values_list("volunteer__name", flat=True)
    )
    return TeamPage(
        team=team,
        region_path=region_path,
        parent=parent,
        sub_teams=sub_teams,
        liaison_point=point,
        member_count=member_count,
        public_names=names,
    )
