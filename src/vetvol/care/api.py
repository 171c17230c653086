"""Care endpoints under /api/care/: recipients (masked, reveals audited), life events and cases, party-member
pairing, campaigns, help requests and complaints. Thin: parse, look up through the scoped queries, call the
action, present. Every change goes through `vetvol.care.actions`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.activities.queries import volunteer_of
from vetvol.care import actions, queries
from vetvol.care.actions.recipients import may_reveal
from vetvol.care.models import (
    Campaign,
    CampaignTask,
    Case,
    CaseEntry,
    CaseTask,
    Complaint,
    HelpInvitation,
    HelpRequest,
    Pairing,
    Recipient,
    Referral,
    Visit,
)
from vetvol.care.models.recipients import MASK_KIND
from vetvol.core.masking import mask
from vetvol.core.scoping import Action
from vetvol.registry.models import Skill, Volunteer
from vetvol.registry.queries import get_volunteer_for_user

router = Router(tags=["care"])

Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")]
MaskedField = Literal[
    "id_number", "phone", "address", "contact_phone", "health_notes", "hardship_notes", "family_notes"
]


# -- schemas ---------------------------------------------------------------------------------------------
class Page(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


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


class VisitIn(Schema):
    visited_on: date
    mode: str = "home"
    summary: Text = ""
    minutes: int = Field(0, ge=0, le=12 * 60)


class CaseVisitIn(VisitIn):
    volunteer_id: int | None = None  # a volunteer of the case team; omitted: staff visited


class VisitOut(Schema):
    id: int
    recipient_id: int
    volunteer_id: int | None
    visited_on: date
    mode: str
    minutes: int


class ReferralIn(Schema):
    department: str
    reason: ShortText


class CloseIn(Schema):
    outcome: str
    note: ShortText = ""


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


class ReasonIn(Schema):
    reason: ShortText = ""


class CampaignIn(Schema):
    name: str
    kind: str
    region_code: RegionCode
    categories: list[str]
    starts_on: date
    ends_on: date
    delivery: str = ""
    max_visits_per_volunteer: int = 5
    plaque_due_only: bool = False


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    delivery: str
    categories: list[str]
    region_code: str
    starts_on: date
    ends_on: date
    status: str
    max_visits_per_volunteer: int


class ProgressOut(Schema):
    part: str
    total: int
    assigned: int
    done: int
    unassigned: int


class AssignOut(Schema):
    """The assignment plan's figures (only the two counts when there was nothing to assign)."""

    assigned: int
    unassigned: int
    total_km: float | None = None
    mean_km: float | None = None
    continuity_share: float | None = None
    max_load: int | None = None
    median_load: float | None = None
    max_wait_days: int | None = None
    median_wait_days: float | None = None
    seconds: float | None = None


class CampaignTaskOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    recipient_id: int
    recipient_name: str
    status: str
    planned_on: date | None
    distance_km: float | None


class CampaignVisitIn(VisitIn):
    plaque_hung: bool = False


class HelpRequestIn(Schema):
    recipient_id: int
    category: str
    description: Text
    wanted_from: datetime
    wanted_until: datetime
    place: ShortText = ""
    skill_code: str = ""


class HelpRequestOut(Schema):
    id: int
    number: str
    recipient_id: int
    category: str
    status: str
    wanted_from: datetime
    wanted_until: datetime
    volunteer_id: int | None
    minutes: int | None
    rating: int | None


class VerifyIn(Schema):
    approved: bool
    note: ShortText = ""


class InviteIn(Schema):
    volunteer_ids: list[int] | None = None  # omitted: the volunteers the matching proposes


class InvitationOut(Schema):
    id: int
    request_id: int
    request_number: str
    category: str
    status: str
    distance_km: float | None
    served_before: bool
    wanted_from: datetime
    wanted_until: datetime


class CompleteHelpIn(Schema):
    minutes: int
    summary: Text = ""


class RateIn(Schema):
    rating: int
    comment: ShortText = ""


class ComplaintIn(Schema):
    region_code: RegionCode = ""
    channel: str
    complainant: str
    content: Text
    recipient_id: int | None = None
    help_request_id: int | None = None


class ResolveIn(Schema):
    response: Annotated[str, StringConstraints(max_length=1000)]


class ComplaintOut(Schema):
    id: int
    number: str
    region_code: str
    channel: str
    status: str
    recipient_id: int | None
    help_request_id: int | None
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None


# -- presenters ------------------------------------------------------------------------------------------
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


def _entry_out(e: CaseEntry) -> dict[str, Any]:
    return {"id": e.pk, "kind": e.kind, "at": e.at, "author": str(e.author or ""), "text": e.text}


def _referral_out(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "department": r.department,
        "reason": r.reason,
        "referred_at": r.referred_at,
        "response": r.response,
        "responded_at": r.responded_at,
    }


def _case_out(c: Case) -> dict[str, Any]:
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
        "timeline": [_entry_out(e) for e in c.entries.select_related("author").order_by("at", "id")],
        "referrals": [_referral_out(r) for r in c.referrals.order_by("referred_at", "id")],
    }


def _visit_out(v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "recipient_id": v.recipient_id,
        "volunteer_id": v.volunteer_id,
        "visited_on": v.visited_on,
        "mode": v.mode,
        "minutes": v.minutes,
    }


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


def _campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        f: getattr(c, f)
        for f in (
            "id",
            "name",
            "kind",
            "delivery",
            "categories",
            "region_code",
            "starts_on",
            "ends_on",
            "status",
            "max_visits_per_volunteer",
        )
    }


def _campaign_task_out(t: CampaignTask) -> dict[str, Any]:
    return {
        "id": t.pk,
        "campaign_id": t.campaign_id,
        "campaign": t.campaign.name,
        "recipient_id": t.recipient_id,
        "recipient_name": t.recipient.name,
        "status": t.status,
        "planned_on": t.planned_on,
        "distance_km": t.distance_km,
    }


def _help_out(h: HelpRequest) -> dict[str, Any]:
    return {
        f: getattr(h, f)
        for f in (
            "id",
            "number",
            "recipient_id",
            "category",
            "status",
            "wanted_from",
            "wanted_until",
            "volunteer_id",
            "minutes",
            "rating",
        )
    }


def _invitation_out(i: HelpInvitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "request_id": i.request_id,
        "request_number": i.request.number,
        "category": i.request.category,
        "status": i.status,
        "distance_km": i.distance_km,
        "served_before": i.served_before,
        "wanted_from": i.request.wanted_from,
        "wanted_until": i.request.wanted_until,
    }


def _complaint_out(c: Complaint) -> dict[str, Any]:
    return {
        f: getattr(c, f)
        for f in (
            "id",
            "number",
            "region_code",
            "channel",
            "status",
            "recipient_id",
            "help_request_id",
            "filed_at",
            "due_at",
            "resolved_at",
        )
    }


def _page(rows: list[Any], limit: int, present: Any) -> dict[str, Any]:
    return {"results": [present(r) for r in rows[:limit]], "has_more": len(rows) > limit}


def _my_volunteer(request: HttpRequest) -> Volunteer | None:
    return volunteer_of(request.user)


def _volunteer(request: HttpRequest, volunteer_id: int) -> Volunteer:
    return get_volunteer_for_user(request.user, volunteer_id)


# -- recipients ------------------------------------------------------------------------------------------
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
    return Status(201, _case_out(queries.get_case_for_user(request.user, case.pk)))


# -- cases -----------------------------------------------------------------------------------------------
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
    return _case_out(queries.get_case_for_user(request.user, case_id))


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
    return _case_out(queries.get_case_for_user(request.user, case_id))


# -- pairing ---------------------------------------------------------------------------------------------
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


# -- campaigns -------------------------------------------------------------------------------------------
@router.get("/campaigns", response=list[CampaignOut], summary="Campaigns in my regions")
def campaign_list(request: HttpRequest, params: Query[Page]) -> list[dict]:
    qs = Campaign.objects.restrict(request.user, Action.VIEW).order_by("-starts_on", "-id")
    return [_campaign_out(c) for c in qs[params.offset : params.offset + params.limit]]


@router.post("/campaigns", response={201: CampaignOut}, summary="Create a campaign and its visit tasks")
def campaign_create(request: HttpRequest, payload: CampaignIn):  # type: ignore[no-untyped-def]
    return Status(201, _campaign_out(actions.create_campaign(request.user, **payload.dict())))


@router.post(
    "/campaigns/{campaign_id}/assign", response=AssignOut, summary="Assign the open tasks to volunteers"
)
def campaign_assign(request: HttpRequest, campaign_id: int) -> dict:
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    return actions.assign_campaign(request.user, campaign)


@router.get(
    "/campaigns/{campaign_id}/progress",
    response=list[ProgressOut],
    summary="Tasks by state per region (level 4 cities, 6 districts, 9 streets)",
)
def campaign_progress(request: HttpRequest, campaign_id: int, level: int = 6) -> list[dict]:
    if level not in (4, 6, 9, 12):
        raise ValidationError({"level": ["层级应为 4（市）、6（区县）、9（街道）或 12（社区）"]})
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    return queries.campaign_progress(request.user, campaign, level)


@router.get("/me/visits", response=list[CampaignTaskOut], summary="My assigned campaign visits")
def my_visits(request: HttpRequest) -> list[dict]:
    volunteer = _my_volunteer(request)
    if volunteer is None:
        return []
    return [_campaign_task_out(t) for t in queries.my_campaign_tasks(volunteer)[:500]]


@router.post("/campaign-tasks/{task_id}/visit", response={201: VisitOut}, summary="Log a campaign visit")
def campaign_visit(request: HttpRequest, task_id: int, payload: CampaignVisitIn):  # type: ignore[no-untyped-def]
    task = queries.get_campaign_task_for_user(request.user, task_id)
    return Status(201, _visit_out(actions.log_campaign_visit(request.user, task, **payload.dict())))


# -- help requests ---------------------------------------------------------------------------------------
@router.post("/help-requests", response={201: HelpRequestOut}, summary="Place a help request for a recipient")
def help_submit(request: HttpRequest, payload: HelpRequestIn):  # type: ignore[no-untyped-def]
    recipient = queries.get_recipient_for_user(request.user, payload.recipient_id, Action.CHANGE)
    skill = None
    if payload.skill_code:
        skill = Skill.objects.filter(code=payload.skill_code, is_active=True).first()
        if skill is None:
            raise ValidationError({"skill_code": ["没有这项技能"]})
    help_request = actions.submit_help_request(
        request.user,
        recipient,
        category=payload.category,
        description=payload.description,
        wanted_from=payload.wanted_from,
        wanted_until=payload.wanted_until,
        place=payload.place,
        skill=skill,
    )
    return Status(201, _help_out(help_request))


@router.get("/help-requests/{request_id}", response=HelpRequestOut, summary="One help request")
def help_get(request: HttpRequest, request_id: int) -> dict:
    return _help_out(queries.get_help_request_for_user(request.user, request_id))


@router.post("/help-requests/{request_id}/verify", response=HelpRequestOut, summary="Verify or reject")
def help_verify(request: HttpRequest, request_id: int, payload: VerifyIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.verify_help_request(request.user, help_request, approved=payload.approved, note=payload.note)
    )


@router.post(
    "/help-requests/{request_id}/invite",
    response={201: list[InvitationOut]},
    summary="Invite volunteers (proposed by matching, or chosen)",
)
def help_invite(request: HttpRequest, request_id: int, payload: InviteIn):  # type: ignore[no-untyped-def]
    help_request = queries.get_help_request_for_user(request.user, request_id)
    volunteers = None
    if payload.volunteer_ids is not None:
        volunteers = [_volunteer(request, vid) for vid in payload.volunteer_ids]
    made = actions.invite_volunteers(request.user, help_request, volunteers)
    return Status(201, [_invitation_out(i) for i in made])


@router.get("/me/invitations", response=list[InvitationOut], summary="My pending help invitations")
def my_invitations(request: HttpRequest) -> list[dict]:
    volunteer = _my_volunteer(request)
    if volunteer is None:
        return []
    return [_invitation_out(i) for i in queries.my_invitations(volunteer)[:500]]


def _own_invitation(request: HttpRequest, invitation_id: int) -> HelpInvitation:
    """Only the invited volunteer reaches an invitation; anyone else gets the missing one's 404."""
    user: Any = request.user
    invitation = (
        HelpInvitation.objects.select_related("request", "volunteer")
        .filter(pk=invitation_id, volunteer__user_id=user.pk)
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation


@router.post("/invitations/{invitation_id}/accept", response=HelpRequestOut, summary="Accept an invitation")
def invitation_accept(request: HttpRequest, invitation_id: int) -> dict:
    return _help_out(actions.accept_help(request.user, _own_invitation(request, invitation_id)))


@router.post("/invitations/{invitation_id}/decline", response=InvitationOut, summary="Decline an invitation")
def invitation_decline(request: HttpRequest, invitation_id: int) -> dict:
    return _invitation_out(actions.decline_help(request.user, _own_invitation(request, invitation_id)))


@router.post(
    "/help-requests/{request_id}/complete", response=HelpRequestOut, summary="Record the service done"
)
def help_complete(request: HttpRequest, request_id: int, payload: CompleteHelpIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.complete_help(request.user, help_request, minutes=payload.minutes, summary=payload.summary)
    )


@router.post("/help-requests/{request_id}/rate", response=HelpRequestOut, summary="Rate the service, once")
def help_rate(request: HttpRequest, request_id: int, payload: RateIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.rate_help(request.user, help_request, rating=payload.rating, comment=payload.comment)
    )


@router.post("/help-requests/{request_id}/cancel", response=HelpRequestOut, summary="Cancel a help request")
def help_cancel(request: HttpRequest, request_id: int, payload: ReasonIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(actions.cancel_help_request(request.user, help_request, payload.reason))


# -- complaints ------------------------------------------------------------------------------------------
@router.post("/complaints", response={201: ComplaintOut}, summary="Take down a complaint")
def complaint_file(request: HttpRequest, payload: ComplaintIn):  # type: ignore[no-untyped-def]
    recipient: Recipient | None = None
    help_request: HelpRequest | None = None
    if payload.recipient_id is not None:
        recipient = queries.get_recipient_for_user(request.user, payload.recipient_id)
    if payload.help_request_id is not None:
        help_request = queries.get_help_request_for_user(request.user, payload.help_request_id)
    complaint = actions.file_complaint(
        request.user,
        region_code=payload.region_code,
        channel=payload.channel,
        complainant=payload.complainant,
        content=payload.content,
        recipient=recipient,
        help_request=help_request,
    )
    return Status(201, _complaint_out(complaint))


@router.post("/complaints/{complaint_id}/resolve", response=ComplaintOut, summary="Record the answer")
def complaint_resolve(request: HttpRequest, complaint_id: int, payload: ResolveIn) -> dict:
    complaint = queries.get_complaint_for_user(request.user, complaint_id)
    return _complaint_out(actions.resolve_complaint(request.user, complaint, payload.response))
