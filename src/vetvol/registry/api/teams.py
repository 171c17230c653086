"""Team endpoints: list and read teams in scope, create and change them, memberships, squads."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.core.scoping import Action
from vetvol.regions.queries import get_liaison_point_for_user, get_region_for_user
from vetvol.registry import actions, queries, squads
from vetvol.registry.models import CivilStatus, Membership, Team, TeamSpecialty, Volunteer

router = Router(tags=["teams"])
Code = Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")]


class TeamOut(Schema):
    id: int
    name: str
    brand: str
    specialty: str
    parent_id: int | None
    region_code: str
    founded_on: date | None
    civil_status: str
    civil_number: str
    civil_date: date | None
    liaison_point_id: int | None
    description: str
    is_active: bool
    member_count: int = 0


class TeamIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region: Code
    parent_id: int | None = None
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    specialty: TeamSpecialty = TeamSpecialty.GENERAL
    founded_on: date | None = None
    civil_status: CivilStatus = CivilStatus.NONE
    civil_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    civil_date: date | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class TeamPatch(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    specialty: TeamSpecialty | None = None
    founded_on: date | None = None
    civil_status: CivilStatus | None = None
    civil_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    civil_date: date | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    is_active: bool | None = None


class MemberIn(Schema):
    volunteer_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    role: Annotated[str, StringConstraints(pattern=r"^(leader|deputy|member)$")] = "member"


class MemberOut(Schema):
    id: int
    volunteer_id: int
    volunteer_number: str
    name: str
    role: str
    joined_on: date


class LeaveIn(Schema):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SquadOut(Schema):
    name: str
    year_from: int | None
    year_to: int | None
    volunteer_ids: list[int]


class ListParams(Schema):
    region: Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")] = ""
    brand: str = ""
    specialty: str = ""
    q: Annotated[str, StringConstraints(max_length=50)] = ""
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


def _member_out(m: Membership) -> dict:
    return {
        "id": m.pk,
        "volunteer_id": m.volunteer_id,
        "volunteer_number": m.volunteer.number,
        "name": m.volunteer.name,
        "role": m.role,
        "joined_on": m.joined_on,
    }


@router.get("/", response=list[TeamOut], summary="Teams the caller may see")
def list_teams(request: HttpRequest, params: Query[ListParams]) -> list[Team]:
    qs = queries.teams_for_user(
        request.user, region=params.region, brand=params.brand, specialty=params.specialty, text=params.q
    )
    return list(qs[params.offset : params.offset + params.limit])


@router.post("/", response={201: TeamOut}, summary="Create a team or sub-team")
def create(request: HttpRequest, payload: TeamIn):  # type: ignore[no-untyped-def]
    region = get_region_for_user(request.user, payload.region)
    parent = queries.get_team_for_user(request.user, payload.parent_id) if payload.parent_id else None
    fields = payload.dict(exclude={"region", "parent_id"})
    return Status(201, actions.create_team(request.user, region=region, parent=parent, **fields))


@router.get("/{team_id}", response=TeamOut, summary="One team")
def detail(request: HttpRequest, team_id: int) -> Team:
    return queries.get_team_for_user(request.user, team_id)


@router.patch("/{team_id}", response=TeamOut, summary="Change a team")
def update(request: HttpRequest, team_id: int, payload: TeamPatch) -> Team:
    team = queries.get_team_for_user(request.user, team_id, Action.CHANGE)
    return actions.update_team(request.user, team, **payload.dict(exclude_unset=True))


class LiaisonIn(Schema):
    liaison_point_id: int | None


@router.put(
    "/{team_id}/liaison-point", response=TeamOut, summary="Assign (or clear) the team's liaison point"
)
def put_liaison_point(request: HttpRequest, team_id: int, payload: LiaisonIn) -> Team:
    team = queries.get_team_for_user(request.user, team_id, Action.CHANGE)
    point = None
    if payload.liaison_point_id is not None:
        point = get_liaison_point_for_user(request.user, payload.liaison_point_id, Action.CHANGE)
    return actions.assign_liaison_point(request.user, team, point)


@router.get("/{team_id}/members", response=list[MemberOut], summary="Current members")
def members(request: HttpRequest, team_id: int) -> list[dict]:
    team = queries.get_team_for_user(request.user, team_id)
    return [_member_out(m) for m in queries.team_members(team)]


@router.post("/{team_id}/members", response={201: MemberOut}, summary="Add a member by volunteer number")
def add_member(request: HttpRequest, team_id: int, payload: MemberIn):  # type: ignore[no-untyped-def]
    team = queries.get_team_for_user(request.user, team_id, Action.CHANGE)
    volunteer = Volunteer.objects.filter(number=payload.volunteer_number).first()
    if volunteer is None:
        raise ValidationError({"volunteer_number": ["没有这个志愿者编号"]})
    membership = actions.add_member(request.user, team, volunteer, payload.role)
    return Status(201, _member_out(membership))


@router.post("/{team_id}/members/{membership_id}/leave", response=MemberOut, summary="End a membership")
def leave(request: HttpRequest, team_id: int, membership_id: int, payload: LeaveIn) -> dict:
    team = queries.get_team_for_user(request.user, team_id, Action.CHANGE)
    membership = _membership(team, membership_id)
    return _member_out(actions.remove_member(request.user, membership, payload.reason))


def _membership(team: Team, membership_id: int) -> Membership:
    """A membership of a team the caller already reached through the scoping accessor."""
    membership = (
        Membership.objects.select_related("volunteer", "team").filter(team=team, pk=membership_id).first()
    )
    if membership is None:
        raise Http404
    return membership


@router.get("/{team_id}/squads/proposal", response=list[SquadOut], summary="Propose squads by discharge year")
def squad_proposal(request: HttpRequest, team_id: int, size: int = 18) -> list[squads.SquadProposal]:
    if not 2 <= size <= 100:
        raise ValidationError({"size": ["每班人数应在 2 到 100 之间"]})
    team = queries.get_team_for_user(request.user, team_id, Action.CHANGE)
    rows = list(queries.team_members(team).values_list("volunteer_id", "volunteer__discharge_year"))
    return squads.propose(rows, size)
