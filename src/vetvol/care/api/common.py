"""What the care endpoints share: the router, field types, paging, visits, the caller's volunteer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StringConstraints

from vetvol.activities.queries import volunteer_of
from vetvol.care.models import (
    Visit,
)
from vetvol.registry.models import Volunteer
from vetvol.registry.queries import get_volunteer_for_user

router = Router(tags=["care"])

Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")]
MaskedField = Literal[
    "id_number", "phone", "address", "contact_phone", "health_notes", "hardship_notes", "family_notes"
]


class Page(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class VisitIn(Schema):
    visited_on: date
    mode: str = "home"
    summary: Text = ""
    minutes: int = Field(0, ge=0, le=12 * 60)


class VisitOut(Schema):
    id: int
    recipient_id: int
    volunteer_id: int | None
    visited_on: date
    mode: str
    minutes: int


class ReasonIn(Schema):
    reason: ShortText = ""


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "recipient_id": v.recipient_id,
        "volunteer_id": v.volunteer_id,
        "visited_on": v.visited_on,
        "mode": v.mode,
        "minutes": v.minutes,
    }


def _page(rows: list[Any], limit: int, present: Any) -> dict[str, Any]:
    return {"results": [present(r) for r in rows[:limit]], "has_more": len(rows) > limit}


def _my_volunteer(request: HttpRequest) -> Volunteer | None:
    return volunteer_of(request.user)


def _volunteer(request: HttpRequest, volunteer_id: int) -> Volunteer:
    return get_volunteer_for_user(request.user, volunteer_id)
