"""Fund endpoints under /api/fund/: accounts and balances, donations (record, reverse), disbursements
(request with evidence, decide, pay, report). Thin: parse, look up through the scoped queries, call the
action, present. Outside a `view_fund` grant every object answers 404."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.core.scoping import Action
from vetvol.fund import actions, queries
from vetvol.fund.models import Disbursement, Donation


def _fund_only(func: Callable[..., Any]) -> Callable[..., Any]:
    """Every endpoint is a 404 to anyone without a fund grant (after authentication)."""

    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        queries.fund_user(request.user)
        return func(request, *args, **kwargs)

    return wrapper


router = Router(tags=["fund"])
router.add_decorator(_fund_only)

Short = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
Amount = Annotated[str, StringConstraints(max_length=20)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")]


class Page(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class AccountOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    purpose: str
    region_code: str
    balance_fen: int


class DonationIn(Schema):
    donor_id: int
    form: str = "money"
    amount: Amount = Field(description="yuan, at most two decimals")
    purpose: str
    region_code: RegionCode = "44"
    received_on: date
    goods_description: Short = ""
    goods_receipt: Annotated[str, StringConstraints(max_length=50)] = ""
    note: Short = ""


class DonationOut(Schema):
    id: int
    number: str
    donor_id: int
    form: str
    amount_fen: int
    purpose: str
    region_code: str
    received_on: date
    reversed: bool


class ReasonIn(Schema):
    reason: Short


class EvidenceIn(Schema):
    name: Annotated[str, StringConstraints(max_length=120)]
    content_base64: Annotated[str, StringConstraints(max_length=14_000_000)]


class DisbursementIn(Schema):
    region_code: RegionCode
    purpose: str
    account_id: int
    amount: Amount
    recipient_org: Short
    title: Short
    description: Text
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=10)


class DisbursementOut(Schema):
    id: int
    number: str
    title: str
    purpose: str
    region_code: str
    account_id: int
    amount_fen: int
    recipient_org: str
    status: str
    tier: str
    decided_at: datetime | None
    paid_at: datetime | None
    payment_reference: str
    reported_at: datetime | None


class DecisionIn(Schema):
    approve: bool
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class PaymentIn(Schema):
    reference: Annotated[str, StringConstraints(max_length=60)]


class ReportIn(Schema):
    report: Text
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=10)


def _donation_out(d: Donation) -> dict[str, Any]:
    return {
        "id": d.pk,
        "number": d.number,
        "donor_id": d.donor_id,
        "form": d.form,
        "amount_fen": d.amount,
        "purpose": d.purpose,
        "region_code": d.region_code,
        "received_on": d.received_on,
        "reversed": d.is_reversed,
    }


def _disbursement_out(d: Disbursement) -> dict[str, Any]:
    fields = (
        "id",
        "number",
        "title",
        "purpose",
        "region_code",
        "account_id",
        "recipient_org",
        "status",
        "tier",
    )
    out = {f: getattr(d, f) for f in fields}
    out.update(
        amount_fen=d.amount,
        decided_at=d.decided_at,
        paid_at=d.paid_at,
        payment_reference=d.payment_reference,
        reported_at=d.reported_at,
    )
    return out


def _uploads(items: list[EvidenceIn]) -> list[actions.Upload]:
    out = []
    for item in items:
        try:
            out.append(actions.Upload(item.name, base64.b64decode(item.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise ValidationError({"evidence": [f"{item.name}：内容不是有效的 base64"]}) from None
    return out


@router.get("/accounts", response=list[AccountOut], summary="Accounts and balances in my regions")
def account_list(request: HttpRequest, params: Query[Page]) -> list[dict]:
    rows = queries.accounts(request.user)[params.offset : params.offset + params.limit]
    return [
        {
            "id": a.pk,
            "code": a.code,
            "name": a.name,
            "kind": a.kind,
            "purpose": a.purpose,
            "region_code": a.region_code,
            "balance_fen": a.balance,
        }
        for a in rows
    ]


@router.get("/donations", response=list[DonationOut], summary="Donations in my regions")
def donation_list(request: HttpRequest, params: Query[Page]) -> list[dict]:
    rows = queries.donations(request.user).order_by("-received_on", "-id")
    return [_donation_out(d) for d in rows[params.offset : params.offset + params.limit]]


@router.post("/donations", response={201: DonationOut}, summary="Record a donation (money or goods)")
def donation_create(request: HttpRequest, payload: DonationIn):  # type: ignore[no-untyped-def]
    donor = queries.get_donor_for_user(request.user, payload.donor_id, Action.CHANGE)
    data = payload.dict(exclude={"donor_id"})
    return Status(201, _donation_out(actions.record_donation(request.user, donor, **data)))


@router.post(
    "/donations/{donation_id}/reverse", response=DonationOut, summary="Reverse a donation booked wrongly"
)
def donation_reverse(request: HttpRequest, donation_id: int, payload: ReasonIn) -> dict:
    donation = queries.get_donation_for_user(request.user, donation_id, Action.CHANGE)
    actions.reverse_donation(request.user, donation, payload.reason)
    return _donation_out(queries.get_donation_for_user(request.user, donation_id))


@router.get("/disbursements", response=list[DisbursementOut], summary="Disbursements in my regions")
def disbursement_list(request: HttpRequest, params: Query[Page], status: str = "") -> list[dict]:
    rows = queries.disbursements(request.user, status).order_by("-created_at", "-id")
    return [_disbursement_out(d) for d in rows[params.offset : params.offset + params.limit]]


@router.get("/disbursements/{disbursement_id}", response=DisbursementOut, summary="One disbursement")
def disbursement_detail(request: HttpRequest, disbursement_id: int) -> dict:
    return _disbursement_out(queries.get_disbursement_for_user(request.user, disbursement_id))


@router.post("/disbursements", response={201: DisbursementOut}, summary="Request a disbursement")
def disbursement_create(request: HttpRequest, payload: DisbursementIn):  # type: ignore[no-untyped-def]
    d = actions.request_disbursement(
        request.user,
        region_code=payload.region_code,
        purpose=payload.purpose,
        account=payload.account_id,
        amount=payload.amount,
        recipient_org=payload.recipient_org,
        title=payload.title,
        description=payload.description,
        evidence=_uploads(payload.evidence),
    )
    return Status(201, _disbursement_out(d))


def _for_change(request: HttpRequest, disbursement_id: int) -> Disbursement:
    return queries.get_disbursement_for_user(request.user, disbursement_id, Action.CHANGE)


@router.post(
    "/disbursements/{disbursement_id}/decision", response=DisbursementOut, summary="Approve or reject"
)
def disbursement_decide(request: HttpRequest, disbursement_id: int, payload: DecisionIn) -> dict:
    d = _for_change(request, disbursement_id)
    return _disbursement_out(
        actions.decide_disbursement(request.user, d, approve=payload.approve, note=payload.note)
    )


@router.post(
    "/disbursements/{disbursement_id}/payment", response=DisbursementOut, summary="Record the payment"
)
def disbursement_pay(request: HttpRequest, disbursement_id: int, payload: PaymentIn) -> dict:
    d = _for_change(request, disbursement_id)
    return _disbursement_out(actions.pay_disbursement(request.user, d, reference=payload.reference))


@router.post("/disbursements/{disbursement_id}/report", response=DisbursementOut, summary="Report the use")
def disbursement_report(request: HttpRequest, disbursement_id: int, payload: ReportIn) -> dict:
    d = _for_change(request, disbursement_id)
    return _disbursement_out(
        actions.report_use(request.user, d, report=payload.report, evidence=_uploads(payload.evidence))
    )


@router.post(
    "/disbursements/{disbursement_id}/withdraw", response=DisbursementOut, summary="Withdraw a request"
)
def disbursement_withdraw(request: HttpRequest, disbursement_id: int, payload: ReasonIn) -> dict:
    d = _for_change(request, disbursement_id)
    return _disbursement_out(actions.withdraw_disbursement(request.user, d, payload.reason))
