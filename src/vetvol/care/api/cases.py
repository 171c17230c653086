"""Cases: list (open, overdue), read with tasks and timeline (visit summaries masked for those who do not
work the case, revealed one at a time, audited), tasks, notes, visits, referral, closing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Schema, Status

from vetvol.care import actions, queries
from vetvol.care.actions.visits import PLAIN
from vetvol.care.api.common import (
    Page,
    ShortText,
    Text,
    VisitIn,
    VisitOut,
    _page,
    _visit_out,
    router,
)
from vetvol.care.models import (
    Case,
    CaseEntry,
    CaseTask,
    Referral,
    Visit,
)
from vetvol.core.masking import mask
from vetvol.core.scoping import Action
from vetvol.registry.models import Volunteer


class CaseFilter(Page):
    open: bool = False
    overdue: bool = False


class CaseRow(Schema):
    id: int
    number: str
    recipient_id: int
    recipient_name: str
    level: int
    status: str
    owner: str
    opened_at: datetime
    first_contact_due: datetime
    first_contact_at: datetime | None
    deadline: datetime
    visits_required: int
    visits_done: int
    region_code: str


class CasePage(Schema):
    results: list[CaseRow]
    has_more: bool


class TaskOut(Schema):
    id: int
    title: str
    due_at: datetime
    status: str
    assignee_id: int | None
    done_at: datetime | None


class EntryOut(Schema):
    id: int
    kind: str
    at: datetime
    author: str
    text: str
    visit_id: int | None  # a visit's entry: its text is the visit's summary (masked unless yours to read)


class ReferralOut(Schema):
    id: int
    department: str
    reason: str
    referred_at: datetime
    response: str
    responded_at: datetime | None


class CaseOut(CaseRow):
    event_type: str
    plan: str
    closed_at: datetime | None
    outcome: str
    outcome_note: str
    tasks: list[TaskOut]
    timeline: list[EntryOut]
    referrals: list[ReferralOut]


class NoteIn(Schema):
    text: Text


class CaseVisitIn(VisitIn):
    volunteer_id: int | None = None  # a volunteer of the case team; omitted: staff visited


class ReferralIn(Schema):
    department: str
    reason: ShortText


class CloseIn(Schema):
    outcome: str
    note: ShortText = ""


class VisitRevealIn(Schema):
    visit_id: int
    field: Literal["summary"]


class RevealOut(Schema):
    field: str
    value: str


def _case_row(c: Case) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "recipient_id": c.recipient_id,
        "recipient_name": c.recipient.name,
        "level": c.level,
        "status": c.status,
        "owner": str(c.owner),
        "opened_at": c.opened_at,
        "first_contact_due": c.first_contact_due,
        "first_contact_at": c.first_contact_at,
        "deadline": c.deadline,
        "visits_required": c.visits_required,
        "visits_done": c.visits_done,
        "region_code": c.region_code,
    }


def _entry_out(e: CaseEntry, access: str = PLAIN) -> dict[str, Any]:
    text = e.text if access == PLAIN else mask(e.text, "text")
    return {
        "id": e.pk,
        "kind": e.kind,
        "at": e.at,
        "author": str(e.author or ""),
        "text": text,
        "visit_id": e.visit_id,
    }


def _referral_out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "department": r.department,
        "reason": r.reason,
        "referred_at": r.referred_at,
        "response": r.response,
        "responded_at": r.responded_at,
    }


def _case_out(user: Any, c: Case) -> dict[str, Any]:
    return {
        **_case_row(c),
        "event_type": c.event.event_type,
        "plan": str(c.plan),
        "closed_at": c.closed_at,
        "outcome": c.outcome,
        "outcome_note": c.outcome_note,
        "tasks": list(
            c.tasks.order_by("due_at", "id").values(
                "id", "title", "due_at", "status", "assignee_id", "done_at"
            )
        ),
        "timeline": [_entry_out(e, access) for e, access in queries.case_timeline(user, c)],
        "referrals": [_referral_out(r) for r in c.referrals.order_by("referred_at", "id")],
    }


@router.get("/cases", response=CasePage, summary="Cases in my regions (open only, or overdue only)")
def case_list(request: HttpRequest, params: Query[CaseFilter]) -> dict:
    if params.overdue:
        qs = queries.overdue_cases(request.user)
    else:
        qs = Case.objects.restrict(request.user, Action.VIEW).select_related("recipient", "owner")
        if params.open:
            qs = qs.filter(status__in=["open", "active"])
        qs = qs.order_by("-opened_at", "-id")
    rows = list(qs[params.offset : params.offset + params.limit + 1])
    return _page(rows, params.limit, _case_row)


@router.get("/cases/{case_id}", response=CaseOut, summary="A case with its tasks, timeline and referrals")
def case_get(request: HttpRequest, case_id: int) -> dict:
    return _case_out(request.user, queries.get_case_for_user(request.user, case_id))


@router.post("/cases/{case_id}/reveal", response=RevealOut, summary="The full summary of one visit (audited)")
def case_reveal(request: HttpRequest, case_id: int, payload: VisitRevealIn) -> dict:
    case = queries.get_case_for_user(request.user, case_id)
    visit = get_object_or_404(Visit.objects.select_related("recipient"), pk=payload.visit_id, case=case)
    return {"field": payload.field, "value": actions.reveal_visit(request.user, visit, payload.field)}


@router.post("/cases/{case_id}/tasks/{task_id}/complete", response=TaskOut, summary="Mark a case task done")
def case_task_complete(request: HttpRequest, case_id: int, task_id: int) -> dict:
    case = queries.get_case_for_user(request.user, case_id)
    task = get_object_or_404(CaseTask.objects.select_related("case"), pk=task_id, case=case)
    task = actions.complete_task(request.user, task)
    return {
        "id": task.pk,
        "title": task.title,
        "due_at": task.due_at,
        "status": task.status,
        "assignee_id": task.assignee_id,
        "done_at": task.done_at,
    }


@router.post("/cases/{case_id}/notes", response={201: EntryOut}, summary="Add a note to the timeline")
def case_note(request: HttpRequest, case_id: int, payload: NoteIn):  # type: ignore[no-untyped-def]
    case = queries.get_case_for_user(request.user, case_id)
    return Status(201, _entry_out(actions.add_case_note(request.user, case, payload.text)))


@router.post("/cases/{case_id}/visits", response={201: VisitOut}, summary="Log a visit for the case")
def case_visit(request: HttpRequest, case_id: int, payload: CaseVisitIn):  # type: ignore[no-untyped-def]
    case = queries.get_case_for_user(request.user, case_id)
    data = payload.dict()
    volunteer_id = data.pop("volunteer_id")
    volunteer = None
    if volunteer_id is not None:
        volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
        if volunteer is None:
            raise ValidationError({"volunteer_id": ["该志愿者不在本案件团队中"]})
    visit = actions.log_case_visit(request.user, case, volunteer=volunteer, **data)
    return Status(201, _visit_out(visit))


@router.post("/cases/{case_id}/referral", response={201: ReferralOut}, summary="Refer to another department")
def case_referral(request: HttpRequest, case_id: int, payload: ReferralIn):  # type: ignore[no-untyped-def]
    case = queries.get_case_for_user(request.user, case_id)
    referral = actions.refer_case(request.user, case, department=payload.department, reason=payload.reason)
    return Status(201, _referral_out(referral))


@router.post("/cases/{case_id}/close", response=CaseOut, summary="Close the case with an outcome, once")
def case_close(request: HttpRequest, case_id: int, payload: CloseIn) -> dict:
    case = queries.get_case_for_user(request.user, case_id)
    actions.close_case(request.user, case, outcome=payload.outcome, note=payload.note)
    return _case_out(request.user, queries.get_case_for_user(request.user, case_id))
