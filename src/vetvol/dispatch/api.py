"""Dispatch endpoints under /api/dispatch/: incidents, run cards (admins), my invitations, accept/decline
(idempotent with an Idempotency-Key header), assignment status and live position, team invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Header, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.core import idempotency
from vetvol.core.scoping import Action, get_for_user, subtree_q
from vetvol.dispatch import actions, board, queries
from vetvol.dispatch.models import Incident, Need, RunCard
from vetvol.regions.models import Region
from vetvol.registry.models import Team

router = Router(tags=["dispatch"])


class RoleIn(Schema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    skill_code: str = ""
    certificate_code: str = ""
    count: int = Field(ge=1, le=500)


class IncidentIn(Schema):
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{2,12}$")]
    type: str
    level: int = Field(ge=1, le=4)
    title: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    risky: bool = False
    roles: list[RoleIn] | None = None


class IncidentPatch(Schema):
    level: int | None = Field(None, ge=1, le=4)
    title: str | None = None
    address: str | None = None
    risky: bool | None = None
    status: str | None = None


class CloseIn(Schema):
    people_rescued: int = Field(0, ge=0)
    bodies_recovered: int = Field(0, ge=0)
    people_served: int = Field(0, ge=0)
    summary: Annotated[str, StringConstraints(max_length=5000)] = ""


class RunCardIn(Schema):
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{2,12}$")] = "44"
    incident_type: str
    level: int = Field(ge=1, le=4)
    note: str = ""
    roles: list[RoleIn]


class AnswerIn(Schema):
    accept: bool


class StatusIn(Schema):
    status: str


class PositionIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    at: datetime | None = None


class TeamInviteIn(Schema):
    need_id: int
    team_id: int


class MembersIn(Schema):
    volunteer_ids: list[int]


class RevealIn(Schema):
    field: Literal["reporter_phone"]


class RevealOut(Schema):
    field: str
    value: str


def _region(user: Any, code: str) -> Region:
    return get_for_user(Region.objects.all(), user, Action.VIEW, code=code)


@router.get("/incidents", summary="Incidents in my regions")
def incident_list(request: HttpRequest, status: str = "", region: str = "") -> list[dict]:
    qs = Incident.objects.restrict(request.user, Action.VIEW)
    if status:
        qs = qs.filter(status=status)
    if region.isdigit():
        qs = qs.filter(subtree_q("region_code", [region]))
    return [queries.incident_row(i) for i in qs[:500]]


@router.post("/incidents", response={201: dict}, summary="Open an incident and start inviting")
def incident_create(request: HttpRequest, payload: IncidentIn):  # type: ignore[no-untyped-def]
    region = _region(request.user, payload.region_code)
    data = payload.dict()
    roles = data.pop("roles")
    incident = actions.create_incident(
        request.user, region=region, roles=roles, **{k: v for k, v in data.items() if k != "region_code"}
    )
    return Status(201, queries.incident_detail(incident, request.user))


@router.get("/incidents/{incident_id}", summary="Incident with needs, shortfalls, invitations, assignments")
def incident_get(request: HttpRequest, incident_id: int) -> dict:
    return queries.incident_detail(queries.get_incident_for_user(request.user, incident_id), request.user)


@router.post(
    "/incidents/{incident_id}/reveal",
    response=RevealOut,
    summary="The full value of one masked field (audited)",
)
def incident_reveal(request: HttpRequest, incident_id: int, payload: RevealIn) -> dict:
    incident = queries.get_incident_for_user(request.user, incident_id)
    return {"field": payload.field, "value": actions.reveal(request.user, incident, payload.field)}


@router.get("/incidents/{incident_id}/timeline", summary="What happened at an incident, oldest first")
def incident_timeline(request: HttpRequest, incident_id: int) -> list[dict]:
    incident = queries.get_incident_for_user(request.user, incident_id)
    board.watchable(request.user, incident.region_code)  # the timeline names responders: people access
    return board.timeline(incident)


@router.get("/board", summary="The live board's state for a region node (then follow /ws/board/)")
def board_state(request: HttpRequest, region: str = "") -> dict:
    node = board.watchable(request.user, region) if region else board.home_region(request.user)
    if node is None:
        raise PermissionDenied("no region to watch")
    return board.state(request.user, node)


@router.patch("/incidents/{incident_id}", summary="Change an incident")
def incident_patch(request: HttpRequest, incident_id: int, payload: IncidentPatch) -> dict:
    incident = queries.get_incident_for_user(request.user, incident_id, Action.CHANGE)
    fields = {k: v for k, v in payload.dict().items() if v is not None}
    actions.update_incident(request.user, incident, **fields)
    return queries.incident_detail(incident, request.user)


@router.post("/incidents/{incident_id}/close", summary="Close with the outcome; records hours")
def incident_close(request: HttpRequest, incident_id: int, payload: CloseIn) -> dict:
    incident = queries.get_incident_for_user(request.user, incident_id, Action.CHANGE)
    actions.close_incident(request.user, incident, **payload.dict())
    return queries.incident_detail(incident, request.user)


@router.post("/incidents/{incident_id}/team-invitations", response={201: dict}, summary="Invite a team")
def team_invite(request: HttpRequest, incident_id: int, payload: TeamInviteIn):  # type: ignore[no-untyped-def]
    incident = queries.get_incident_for_user(request.user, incident_id, Action.CHANGE)
    need = get_object_or_404(Need, pk=payload.need_id, incident=incident)
    team = get_for_user(Team.objects.all(), request.user, Action.VIEW, pk=payload.team_id)
    ti = actions.invite_team(request.user, incident, need, team)
    return Status(201, {"id": ti.pk, "team_id": team.pk, "need_id": need.pk})


@router.get("/team-invitations/{ti_id}/eligible", summary="Leader: members who could take the role")
def team_eligible(request: HttpRequest, ti_id: int) -> list[dict]:
    ti = queries.get_team_invitation_for_user(request.user, ti_id)
    return [{"id": v.pk, "number": v.number, "name": v.name} for v in queries.eligible_team_members(ti)]


@router.post("/team-invitations/{ti_id}/members", summary="Leader: invite chosen members")
def team_members(request: HttpRequest, ti_id: int, payload: MembersIn) -> list[dict]:
    ti = queries.get_team_invitation_for_user(request.user, ti_id)
    sent = actions.assign_team_members(request.user, ti, payload.volunteer_ids)
    return [{"id": i.pk, "volunteer_id": i.volunteer_id} for i in sent]


@router.get("/team-totals", summary="Outcomes summed by the teams of assigned volunteers")
def team_totals(request: HttpRequest) -> list[dict]:
    teams = list(Team.objects.restrict(request.user, Action.VIEW).values_list("pk", flat=True))
    return queries.team_totals(teams)


# -- run cards -------------------------------------------------------------------------------------------
def _card_out(card: RunCard) -> dict:
    return {
        "id": card.pk,
        "incident_type": card.incident_type,
        "level": card.level,
        "region_code": card.region_code,
        "note": card.note,
        "roles": [
            {
                "name": r.name,
                "skill_code": r.skill_code,
                "certificate_code": r.certificate_code,
                "count": r.count,
            }
            for r in card.roles.all()
        ],
    }


@router.get("/run-cards", summary="Run cards visible to me")
def run_card_list(request: HttpRequest) -> list[dict]:
    return [
        _card_out(c) for c in RunCard.objects.restrict(request.user, Action.VIEW).prefetch_related("roles")
    ]


@router.post("/run-cards", response={201: dict}, summary="Create or replace a run card (admins)")
def run_card_save(request: HttpRequest, payload: RunCardIn):  # type: ignore[no-untyped-def]
    region = _region(request.user, payload.region_code)
    card = actions.save_run_card(
        request.user,
        region=region,
        incident_type=payload.incident_type,
        level=payload.level,
        roles=[r.dict() for r in payload.roles],
        note=payload.note,
    )
    return Status(201, _card_out(card))


@router.get("/run-cards/{card_id}", summary="One run card")
def run_card_get(request: HttpRequest, card_id: int) -> dict:
    return _card_out(queries.get_run_card_for_user(request.user, card_id))


@router.delete("/run-cards/{card_id}", response={204: None}, summary="Delete a run card (admins)")
def run_card_delete(request: HttpRequest, card_id: int):  # type: ignore[no-untyped-def]
    card = queries.get_run_card_for_user(request.user, card_id)
    actions.delete_run_card(request.user, card)
    return Status(204, None)


# -- the volunteer's side --------------------------------------------------------------------------------
@router.get("/my/invitations", summary="My pending invitations")
def my_invitations(request: HttpRequest) -> list[dict]:
    return [
        {
            "id": i.pk,
            "incident_id": i.incident_id,
            "incident": i.incident.title,
            "type": i.incident.type,
            "role": i.need.name,
            "lat": i.incident.lat,
            "lng": i.incident.lng,
            "address": i.incident.address,
            "distance_km": i.distance_km,
            "expires_at": i.expires_at,
        }
        for i in queries.my_invitations(request.user)
    ]


def _idempotent(request: HttpRequest, scope: str, key: str | None, body: dict, handler: Any) -> Any:
    try:
        status, response = idempotency.run(request.user, scope, key or "", body, handler)
    except idempotency.BadKey as exc:
        raise ValidationError(
            {"Idempotency-Key": ["请求须带 8–80 位的 Idempotency-Key（由客户端生成）"]}
        ) from exc
    return Status(status, response)


@router.post(
    "/invitations/{invitation_id}/answer",
    response={200: dict},
    summary="Accept or decline (idempotent: send an Idempotency-Key header)",
)
def answer(
    request: HttpRequest,
    invitation_id: int,
    payload: AnswerIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):  # type: ignore[no-untyped-def]
    invitation = queries.own_invitation(request.user, invitation_id)

    def handler() -> tuple[int, dict]:
        inv = actions.answer_invitation(request.user, invitation, payload.accept)
        asg = getattr(inv, "assignment", None) if inv.status == "accepted" else None
        return 200, {"id": inv.pk, "status": inv.status, "assignment_id": asg.pk if asg else None}

    return _idempotent(request, f"dispatch_answer:{invitation.pk}", idempotency_key, payload.dict(), handler)


@router.post("/assignments/{assignment_id}/status", summary="En route, on scene, done")
def assignment_status(request: HttpRequest, assignment_id: int, payload: StatusIn) -> dict:
    asg = queries.own_assignment(request.user, assignment_id)
    actions.set_assignment_status(request.user, asg, payload.status)
    return {"id": asg.pk, "status": asg.status}


@router.post("/assignments/{assignment_id}/position", summary="Share my live position while on duty")
def position(request: HttpRequest, assignment_id: int, payload: PositionIn) -> dict:
    asg = queries.own_assignment(request.user, assignment_id)
    stored = actions.report_position(request.user, asg, payload.lat, payload.lng, at=payload.at)
    return {"stored": stored}
