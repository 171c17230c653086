"""Party-member pairing: create, log a visit (the paired volunteer), hand over, end; my pairings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Header, Schema, Status

from vetvol.care import actions, queries
from vetvol.care.api.common import (
    ReasonIn,
    ShortText,
    VisitIn,
    VisitOut,
    _my_volunteer,
    _visit_out,
    _volunteer,
    router,
)
from vetvol.care.models import (
    Pairing,
)
from vetvol.core.scoping import Action


class PairingIn(Schema):
    volunteer_id: int
    recipient_id: int
    frequency_days: int = 30
    started_on: date | None = None


class PairingOut(Schema):
    id: int
    volunteer_id: int
    volunteer_name: str
    recipient_id: int
    recipient_name: str
    frequency_days: int
    started_on: date
    next_visit_due: date
    last_visit_on: date | None
    status: str
    handed_over_from_id: int | None


class HandoverIn(Schema):
    volunteer_id: int
    reason: ShortText = ""


def _pairing_out(p: Pairing) -> dict[str, Any]:
    return {
        "id": p.pk,
        "volunteer_id": p.volunteer_id,
        "volunteer_name": p.volunteer.name,
        "recipient_id": p.recipient_id,
        "recipient_name": p.recipient.name,
        "frequency_days": p.frequency_days,
        "started_on": p.started_on,
        "next_visit_due": p.next_visit_due,
        "last_visit_on": p.last_visit_on,
        "status": p.status,
        "handed_over_from_id": p.handed_over_from_id,
    }


@router.post(
    "/pairings", response={201: PairingOut}, summary="Pair a party-member volunteer with a recipient"
)
def pairing_create(request: HttpRequest, payload: PairingIn):  # type: ignore[no-untyped-def]
    recipient = queries.get_recipient_for_user(request.user, payload.recipient_id, Action.CHANGE)
    volunteer = _volunteer(request, payload.volunteer_id)
    pairing = actions.create_pairing(
        request.user,
        volunteer,
        recipient,
        frequency_days=payload.frequency_days,
        started_on=payload.started_on,
    )
    return Status(201, _pairing_out(queries.get_pairing_for_user(request.user, pairing.pk)))


@router.post(
    "/pairings/{pairing_id}/visits",
    response={201: VisitOut},
    summary="Log a pairing visit (the paired volunteer, or staff); Idempotency-Key makes retries safe",
)
def pairing_visit(
    request: HttpRequest,
    pairing_id: int,
    payload: VisitIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):  # type: ignore[no-untyped-def]
    pairing = queries.get_pairing_for_user(request.user, pairing_id)
    visit = actions.log_pairing_visit(
        request.user, pairing, idempotency_key=(idempotency_key or "")[:64], **payload.dict()
    )
    return Status(201, _visit_out(visit))


@router.post(
    "/pairings/{pairing_id}/handover", response={201: PairingOut}, summary="Hand over to another volunteer"
)
def pairing_handover(request: HttpRequest, pairing_id: int, payload: HandoverIn):  # type: ignore[no-untyped-def]
    pairing = queries.get_pairing_for_user(request.user, pairing_id)
    to = _volunteer(request, payload.volunteer_id)
    new = actions.hand_over_pairing(request.user, pairing, to, payload.reason)
    return Status(201, _pairing_out(queries.get_pairing_for_user(request.user, new.pk)))


@router.post("/pairings/{pairing_id}/end", response=PairingOut, summary="End a pairing")
def pairing_end(request: HttpRequest, pairing_id: int, payload: ReasonIn) -> dict:
    pairing = queries.get_pairing_for_user(request.user, pairing_id)
    return _pairing_out(actions.end_pairing(request.user, pairing, payload.reason))


@router.get("/me/pairings", response=list[PairingOut], summary="My active pairings (volunteer)")
def my_pairings(request: HttpRequest) -> list[dict]:
    volunteer = _my_volunteer(request)
    if volunteer is None:
        return []
    return [_pairing_out(p) for p in queries.my_pairings(volunteer).select_related("volunteer")[:500]]
