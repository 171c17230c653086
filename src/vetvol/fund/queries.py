"""Reads of the special fund, always through the scoping primitive (`view_fund` grants)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum
from django.http import Http404

from vetvol.core.scoping import Action, allowed_prefixes, get_for_user, subtree_q
from vetvol.fund.models import (
    Account,
    AccountKind,
    Disbursement,
    DisbursementStatus,
    Donation,
    Donor,
    Evidence,
    LedgerTransaction,
    MonthlyTotal,
)


def fund_user(user: Any) -> Any:
    """The user, if they hold a fund grant anywhere; to anyone else every fund page and endpoint is a 404,
    exactly like one that does not exist."""
    prefixes = allowed_prefixes(user, Action.VIEW_FUND)
    if prefixes is not None and not prefixes:
        raise Http404
    return user


def get_donor_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Donor:
    return get_for_user(Donor.objects.all(), user, action, pk=pk)


def get_donation_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Donation:
    return get_for_user(Donation.objects.select_related("donor", "transaction"), user, action, pk=pk)


def get_disbursement_for_user(user: Any, pk: Any, action: str = Action.VIEW) -> Disbursement:
    return get_for_user(
        Disbursement.objects.select_related(
            "account", "requested_by", "decided_by", "paid_by", "reported_by"
        ),
        user,
        action,
        pk=pk,
    )


def get_evidence_for_user(user: Any, pk: int) -> Evidence:
    """An attachment, visible where its disbursement is (a missing one and a hidden one: the same 404)."""
    evidence = Evidence.objects.filter(pk=pk).first()
    if evidence is None:
        raise Http404
    get_disbursement_for_user(user, evidence.disbursement_id)
    return evidence


def accounts(user: Any) -> QuerySet[Account]:
    return Account.objects.restrict(user, Action.VIEW).order_by("region_code", "code")


def donors(user: Any, q: str = "") -> QuerySet[Donor]:
    qs = Donor.objects.restrict(user, Action.VIEW)
    return qs.filter(name__icontains=q) if q else qs


def donations(user: Any, region: str = "") -> QuerySet[Donation]:
    qs = Donation.objects.restrict(user, Action.VIEW).select_related("donor", "transaction__reversed_by")
    return qs.filter(subtree_q("region_code", [region])) if region else qs


def disbursements(user: Any, status: str = "", region: str = "") -> QuerySet[Disbursement]:
    qs = Disbursement.objects.restrict(user, Action.VIEW).select_related("account", "requested_by")
    if status in DisbursementStatus.values:
        qs = qs.filter(status=status)
    return qs.filter(subtree_q("region_code", [region])) if region else qs


def transactions(user: Any) -> QuerySet[LedgerTransaction]:
    return (
        LedgerTransaction.objects.restrict(user, Action.VIEW).select_related("actor").order_by("-at", "-seq")
    )


def awaiting_decision(user: Any) -> list[Disbursement]:
    """Requests the user may decide (their tier, not their own), oldest first."""
    from vetvol.fund.actions import may_approve

    qs = Disbursement.objects.restrict(user, Action.CHANGE).filter(status=DisbursementStatus.REQUESTED)
    return [d for d in qs.select_related("account").order_by("created_at")[:200] if may_approve(user, d)]


def approvers(d: Disbursement) -> list[int]:
    """The users who may decide a request: a `change_fund` role granted at its tier or above over its
    region (see actions.may_approve), the requester left out."""
    from vetvol.accounts.models import RoleGrant
    from vetvol.accounts.roles import ROLE_ACTIONS
    from vetvol.fund.actions import TIER_PREFIX
    from vetvol.fund.models import Tier

    roles = [role for role, allowed in ROLE_ACTIONS.items() if Action.CHANGE_FUND in allowed]
    codes = [
        d.region_code[:n] for n in (2, 4, 6, 9, 12) if n <= min(TIER_PREFIX[Tier(d.tier)], len(d.region_code))
    ]
    grants = RoleGrant.objects.filter(role__in=roles, region_code__in=codes).exclude(
        user_id=d.requested_by_id
    )
    return sorted(set(grants.filter(user__is_active=True).values_list("user_id", flat=True)))


def fund_balances(user: Any) -> list[dict[str, Any]]:
    """The restricted funds' balances by holder and purpose."""
    rows = accounts(user).filter(kind=AccountKind.FUND).exclude(purpose="")
    return [{"account": a, "holder": a.region_code, "purpose": a.get_purpose_display()} for a in rows]


def monthly_report(region_prefix: str = "", since: date | None = None) -> list[dict[str, Any]]:
    """Income and spending by month and purpose (fen), from the totals kept with each posting: the public
    disclosure's table. `region_prefix` narrows it to a city's (or the province-wide) money."""
    qs = MonthlyTotal.objects.all()
    if region_prefix:
        qs = qs.filter(subtree_q("region_code", [region_prefix]))
    if since is not None:
        qs = qs.filter(month__gte=since)
    by_month: dict[date, dict[str, Any]] = defaultdict(lambda: {"income": 0, "spending": 0, "purposes": {}})
    for month, purpose, income, spending in (
        qs.values_list("month", "purpose")
        .annotate(i=Sum("income"), s=Sum("spending"))
        .order_by("month", "purpose")
        .values_list("month", "purpose", "i", "s")
    ):
        row = by_month[month]
        row["income"] += income
        row["spending"] += spending
        row["purposes"][purpose] = {"income": income, "spending": spending}
    return [{"month": m, **v} for m, v in sorted(by_month.items())]
