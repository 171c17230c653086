"""What the public reads of the special fund: totals by purpose and month, consented donors, the money
that left the fund and for what, and the memorial plaques. No personal data of unconsented donors is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.utils import timezone

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
from vetvol.regions.models import Region, RegionLevel

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
