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
from datetime import date, datetime
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from vetvol.activities.models import Activity
from vetvol.activities.queries import open_activities
from vetvol.core.scoping import subtree_q
from vetvol.fund.models import (
    Account,
    AccountKind,
    Disbursement,
    DisbursementStatus,
    Donation,
    Donor,
    DonorKind,
    MonthlyTotal,
    Purpose,
)
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


# The special fund ---------------------------------------------------------------------------------------

FUND_PAGE_SIZE = 50
HONOUR_PAGE_SIZE = 100
TOP_DONORS = 20
# Disbursements the public sees: money that has left the fund (requests, approvals and rejections do not).
DISCLOSED = (DisbursementStatus.PAID, DisbursementStatus.REPORTED)
_PURPOSE_ORDER = {p: i for i, p in enumerate(Purpose.values)}
RESTRICTED_FUND = "3101"  # money, by purpose (fund.actions.CHART)
GOODS_FUND = "3102"  # donated goods, at their valuation


def fund_cities() -> list[Region]:
    """The cities a visitor may narrow the fund's figures to (one query)."""
    return list(Region.objects.filter(level=RegionLevel.CITY).order_by("code"))


def _within(region: Region | None, field: str = "region_code") -> Q:
    return subtree_q(field, [region.code]) if region is not None else Q()


def standing_donations(region: Region | None = None) -> QuerySet[Donation]:
    """Donations not reversed (their receipts stand), province-wide or restricted to one city."""
    return Donation.objects.filter(transaction__reversed_by__isnull=True).filter(_within(region))


NAMED = Q(donor__publish_consent=True, donor__anonymous=False)  # donors who agreed to be named


@dataclass
class PurposeRow:
    purpose: str
    label: str
    income: int
    spending: int
    balance: int  # the money the restricted fund of this purpose holds now (accounts 3101-*)


@dataclass
class MonthRow:
    label: str
    income: int
    spending: int


@dataclass
class MonthGroup:
    month: date
    rows: list[MonthRow]
    income: int
    spending: int


@dataclass
class DonorRow:
    """A named donor, or (`name` empty) all the others of one kind: 爱心人士 or 爱心单位."""

    name: str
    kind: str
    total: int
    donations: int
    donors: int = 1
    first: date | None = None
    last: date | None = None


@dataclass
class FundDisclosure:
    region: Region | None
    income: int
    spending: int
    balance: int  # money in the restricted funds (3101-*)
    goods: int  # donated goods held, at their valuation (3102-*): no cash payment draws on them
    purposes: list[PurposeRow]
    months: list[MonthGroup]
    donors: list[DonorRow]  # the largest named donors
    others: list[DonorRow]  # everyone else, by kind, never by name


def _purpose_label(value: str) -> str:
    try:
        return str(Purpose(value).label)
    except ValueError:
        return value


def donor_rows(rows: Any) -> list[DonorRow]:
    return [
        DonorRow(
            name=row["donor__name"],
            kind=row["donor__kind"],
            total=row["total"],
            donations=row["n"],
            first=row.get("first"),
            last=row.get("last"),
        )
        for row in rows
    ]


def named_donors(region: Region | None = None) -> QuerySet[Donation, dict[str, Any]]:
    """Named donors with what they gave (donations that stand), largest first."""
    return (
        standing_donations(region)
        .filter(NAMED)
        .order_by()
        .values("donor_id", "donor__name", "donor__kind")
        .annotate(total=Sum("amount"), n=Count("pk"), first=Min("received_on"), last=Max("received_on"))
        .order_by("-total", "donor__name", "donor_id")
    )


def fund_disclosure(region: Region | None = None) -> FundDisclosure:
    """The fund's figures, province-wide or for one city: income and spending by month and purpose as
    booked (the monthly totals of the postings; goods at their valuation), the money in the restricted
    funds by purpose and the goods held, the largest named donors and the others by kind. Four queries."""
    monthly = list(
        MonthlyTotal.objects.filter(_within(region))
        .order_by()
        .values("month", "purpose")
        .annotate(income_sum=Sum("income"), spending_sum=Sum("spending"))
    )
    accounts = Account.objects.filter(kind=AccountKind.FUND).filter(
        Q(code__startswith=f"{RESTRICTED_FUND}-") | Q(code__startswith=f"{GOODS_FUND}-")
    )
    if region is not None:
        accounts = accounts.filter(region_code=region.code)  # the city's own fund, not the province's
    balances: dict[str, int] = {}
    goods = 0
    for head, purpose, total in (
        accounts.order_by()
        .annotate(head=Substr("code", 1, 4))
        .values_list("head", "purpose")
        .annotate(total=Sum("balance"))
        .values_list("head", "purpose", "total")
    ):
        if head == GOODS_FUND:
            goods += total or 0
        else:
            balances[purpose] = balances.get(purpose, 0) + (total or 0)
    months: dict[date, MonthGroup] = {}
    per_purpose: dict[str, list[int]] = {p: [0, 0] for p in Purpose.values}
    for row in sorted(monthly, key=lambda r: (r["month"], _PURPOSE_ORDER.get(r["purpose"], 99))):
        income, spending = row["income_sum"] or 0, row["spending_sum"] or 0
        if not income and not spending:
            continue  # a donation and its reversal in the same month
        group = months.setdefault(row["month"], MonthGroup(row["month"], [], 0, 0))
        group.rows.append(MonthRow(_purpose_label(row["purpose"]), income, spending))
        group.income += income
        group.spending += spending
        sums = per_purpose.setdefault(row["purpose"], [0, 0])
        sums[0] += income
        sums[1] += spending
    purposes = [
        PurposeRow(p, _purpose_label(p), income, spending, balances.get(p) or 0)
        for p, (income, spending) in per_purpose.items()
        if income or spending or balances.get(p)
    ]
    return FundDisclosure(
        region=region,
        income=sum(p.income for p in purposes),
        spending=sum(p.spending for p in purposes),
        balance=sum(p.balance for p in purposes),
        goods=goods,
        purposes=purposes,
        months=sorted(months.values(), key=lambda g: g.month, reverse=True),
        donors=donor_rows(named_donors(region)[:TOP_DONORS]),
        others=other_donors(region),
    )


def other_donors(region: Region | None = None) -> list[DonorRow]:
    """Donors not named (anonymous, or without consent), summed by kind: 爱心人士 and 爱心单位."""
    rows = (
        standing_donations(region)
        .exclude(NAMED)
        .order_by()
        .values("donor__kind")
        .annotate(total=Sum("amount"), n=Count("pk"), donors=Count("donor", distinct=True))
        .order_by("donor__kind")
    )
    return [
        DonorRow(
            name="", kind=row["donor__kind"], total=row["total"], donations=row["n"], donors=row["donors"]
        )
        for row in rows
        if row["donor__kind"] in DonorKind.values
    ]


@dataclass
class PublicDisbursement:
    number: str
    title: str
    purpose: str
    region: str
    recipient_org: str
    amount: int
    paid_on: date | None
    reported: bool
    reported_on: date | None


def disclosed_disbursements(region: Region | None = None) -> QuerySet[Disbursement, dict[str, Any]]:
    """Disbursements paid or reported, newest payment first: their public columns only."""
    return (
        Disbursement.objects.filter(status__in=DISCLOSED)
        .filter(_within(region))
        .order_by("-paid_at", "-id")
        .values(
            "number",
            "title",
            "purpose",
            "region_code",
            "recipient_org",
            "amount",
            "paid_at",
            "status",
            "reported_at",
        )
    )


def _local_date(value: datetime | None) -> date | None:
    return timezone.localdate(value) if value is not None else None


def public_disbursements(rows: list[dict[str, Any]]) -> list[PublicDisbursement]:
    """One page of `disclosed_disbursements`, with region names (one query): the city, then the place."""
    codes = {row["region_code"] for row in rows}
    wanted = codes | {c[:4] for c in codes}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))

    def place(code: str) -> str:
        own = names.get(code, code)
        city = names.get(code[:4], "") if len(code) > 4 else ""
        return f"{city} {own}" if city else own

    return [
        PublicDisbursement(
            number=row["number"],
            title=row["title"],
            purpose=_purpose_label(row["purpose"]),
            region=place(row["region_code"]),
            recipient_org=row["recipient_org"],
            amount=row["amount"],
            paid_on=_local_date(row["paid_at"]),
            reported=row["status"] == DisbursementStatus.REPORTED,
            reported_on=_local_date(row["reported_at"]),
        )
        for row in rows
    ]


@dataclass
class Plaque:
    name: str  # empty unless the donor agreed to be named
    kind: str
    text: str


def plaques() -> list[Plaque]:
    """Memorial plaques of donors whose donations stand; a donor's name is read only with their consent."""
    shown = Case(
        When(publish_consent=True, anonymous=False, then=F("name")),
        default=Value(""),
        output_field=CharField(),
    )
    rows = (
        Donor.objects.filter(plaque=True)
        .exclude(plaque_text="")
        .filter(pk__in=standing_donations().values("donor_id"))
        .annotate(shown=shown)
        .order_by("created_at", "pk")
        .values_list("shown", "kind", "plaque_text")
    )
    return [Plaque(name, kind, text) for name, kind, text in rows]
