"""Recipients: list, register, read masked, reveal (audited), record a life event."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.care import actions, queries
from vetvol.care.actions.recipients import may_reveal
from vetvol.care.api.cases import CaseOut, _case_out
from vetvol.care.api.common import (
    MaskedField,
    Page,
    RegionCode,
    Text,
    _page,
    router,
)
from vetvol.care.models import (
    Recipient,
)
from vetvol.care.models.recipients import MASK_KIND
from vetvol.core.masking import mask
from vetvol.core.scoping import Action


class RecipientFilter(Page):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    category: str = ""
    region: RegionCode = ""


class RecipientIn(Schema):
    """Passed to the action as a raw dict: the action cleans and reports every field at fault."""

    name: str = ""
    id_number: str = ""
    category: str = ""
    region: str = ""
    phone: str = ""
    address: str = ""
    lng: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    household_size: int = 1
    lives_alone: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    needs: list[str] = Field(default_factory=list)
    health_notes: str = ""
    hardship_notes: str = ""
    family_notes: str = ""
    has_honour_plaque: bool = False
    service_consent: bool = False


class RecipientRow(Schema):
    id: int
    number: str
    name: str
    category: str
    region_code: str
    status: str
    has_honour_plaque: bool


class RecipientPage(Schema):
    results: list[RecipientRow]
    has_more: bool


class RecipientOut(RecipientRow):
    gender: str
    birth_year: int
    id_number: str
    phone: str
    address: str
    contact_name: str
    contact_phone: str
    household_size: int
    lives_alone: bool
    needs: list[str]
    health_notes: str
    hardship_notes: str
    family_notes: str
    plaque_hung_on: date | None
    can_reveal: bool


class RevealIn(Schema):
    field: MaskedField


class RevealOut(Schema):
    field: str
    value: str


class LifeEventIn(Schema):
    event_type: str
    level: int
    occurred_on: date
    description: Text = ""


def _recipient_row(r: Recipient) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "name": r.name,
        "category": r.category,
        "region_code": r.region_code,
        "status": r.status,
        "has_honour_plaque": r.has_honour_plaque,
    }


def _recipient_out(user: Any, r: Recipient) -> dict[str, Any]:
    """Identifiers and notes always masked (with the one masking pattern); the full value is one audited
    reveal away for those allowed."""
    return {
        **_recipient_row(r),
        **{f: mask(getattr(r, f), kind) for f, kind in MASK_KIND.items()},
        "gender": r.gender,
        "birth_year": r.birth_date.year,
        "contact_name": r.contact_name,
        "household_size": r.household_size,
        "lives_alone": r.lives_alone,
        "needs": list(r.needs),
        "plaque_hung_on": r.plaque_hung_on,
        "can_reveal": may_reveal(user, r),
    }


@router.get("/recipients", response=RecipientPage, summary="Recipients in my regions")
def recipient_list(request: HttpRequest, params: Query[RecipientFilter]) -> dict:
    qs = queries.recipients(request.user, q=params.q, category=params.category, region=params.region)
    rows = list(qs[params.offset : params.offset + params.limit + 1])
    return _page(rows, params.limit, _recipient_row)


@router.post(
    "/recipients", response={201: RecipientOut}, summary="Register a recipient (one person, one record)"
)
def recipient_register(request: HttpRequest, payload: RecipientIn):  # type: ignore[no-untyped-def]
    recipient = actions.register_recipient(request.user, payload.dict())
    return Status(201, _recipient_out(request.user, recipient))


@router.get("/recipients/{recipient_id}", response=RecipientOut, summary="One recipient, identifiers masked")
def recipient_get(request: HttpRequest, recipient_id: int) -> dict:
    return _recipient_out(request.user, queries.get_recipient_for_user(request.user, recipient_id))


@router.post(
    "/recipients/{recipient_id}/reveal", response=RevealOut, summary="The full value of one field (audited)"
)
def recipient_reveal(request: HttpRequest, recipient_id: int, payload: RevealIn) -> dict:
    recipient = queries.get_recipient_for_user(request.user, recipient_id)
    return {"field": payload.field, "value": actions.reveal(request.user, recipient, payload.field)}


@router.post(
    "/recipients/{recipient_id}/events",
    response={201: CaseOut},
    summary="Record a life event; opens its case from the plan",
)
def life_event(request: HttpRequest, recipient_id: int, payload: LifeEventIn):  # type: ignore[no-untyped-def]
    recipient = queries.get_recipient_for_user(request.user, recipient_id, Action.CHANGE)
    case = actions.record_life_event(request.user, recipient, **payload.dict())
    return Status(201, _case_out(request.user, queries.get_case_for_user(request.user, case.pk)))
