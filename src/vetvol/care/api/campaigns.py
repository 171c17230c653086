"""Campaigns: list, create, assign at once, progress by region; my visits and logging one."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Schema, Status

from vetvol.care import actions, queries
from vetvol.care.api.common import (
    Page,
    RegionCode,
    VisitIn,
    VisitOut,
    _my_volunteer,
    _visit_out,
    router,
)
from vetvol.care.models import (
    Campaign,
    CampaignTask,
)
from vetvol.core.scoping import Action


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
