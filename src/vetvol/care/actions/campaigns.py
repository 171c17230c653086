"""Campaigns: target a region's recipients by category, generate one visit task each, assign them to
volunteers near each recipient in one batch (continuity and fairness through `matching.visits`), log the
visits."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vetvol.care.actions.visits import clean_visit, write_visit
from vetvol.care.models import (
    Campaign,
    CampaignKind,
    CampaignTask,
    Delivery,
    Recipient,
    RecipientCategory,
    TaskState,
    Visit,
)
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require, require_object, subtree_q
from vetvol.matching.visits import VisitPolicy, assign_visits
from vetvol.registry.models import Volunteer


def create_campaign(
    actor: Any,
    *,
    name: str,
    kind: str,
    region_code: str,
    categories: list[str],
    starts_on: date,
    ends_on: date,
    delivery: str = "",
    max_visits_per_volunteer: int = 5,
    plaque_due_only: bool = False,
) -> Campaign:
    """Create a campaign and one task per targeted recipient (honour-plaque campaigns: households without
    a plaque only)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["请填写活动名称（最多 100 字）"]
    if kind not in CampaignKind.values:
        errors["kind"] = ["请选择活动类型"]
    if kind == CampaignKind.SIX_DELIVERIES and delivery not in Delivery.values:
        errors["delivery"] = ["“六送”活动请选择送什么"]
    bad = [c for c in categories if c not in RecipientCategory.values]
    if not categories or bad:
        errors["categories"] = ["请选择服务对象类别"]
    if starts_on is None or ends_on is None or ends_on < starts_on:
        errors["ends_on"] = ["结束日期不能早于开始日期"]
    if not 1 <= int(max_visits_per_volunteer or 0) <= 30:
        errors["max_visits_per_volunteer"] = ["每名志愿者走访户数应在 1 到 30 之间"]
    if errors:
        raise ValidationError(errors)
    require(actor, Action.CHANGE_PEOPLE, region_code, what="care.campaign.create")
    targets = Recipient.objects.filter(
        subtree_q("region_code", [region_code]), status="active", category__in=categories
    )
    if kind == CampaignKind.HONOUR_PLAQUE or plaque_due_only:
        targets = targets.filter(has_honour_plaque=False)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name,
            kind=kind,
            delivery=delivery if kind == CampaignKind.SIX_DELIVERIES else "",
            categories=sorted(set(categories)),
            region_code=region_code,
            starts_on=starts_on,
            ends_on=ends_on,
            max_visits_per_volunteer=max_visits_per_volunteer,
            created_by=actor,
        )
        tasks = [
            CampaignTask(campaign=campaign, recipient_id=rid, region_code=code)
            for rid, code in targets.values_list("id", "region_code").iterator(chunk_size=5000)
        ]
        CampaignTask.objects.bulk_create(tasks, batch_size=2000)
        audit.record("care.campaign.create", actor=actor, obj=campaign, detail={"tasks": len(tasks)})
        events.emit("care.campaign.created", id=campaign.pk, region_code=region_code)
    return campaign


def previous_volunteers(recipient_ids: list[int]) -> dict[int, int]:
    """Each recipient's most recent visitor (any campaign, pairing or case), their active pairing first."""
    last: dict[int, int] = {}
    rows = (
        Visit.objects.filter(recipient_id__in=recipient_ids, volunteer__isnull=False)
        .order_by("recipient_id", "visited_on", "id")
        .values_list("recipient_id", "volunteer_id")
    )
    for rid, vid in rows.iterator(chunk_size=5000):
        last[rid] = vid
    from vetvol.care.models import Pairing

    for rid, vid in Pairing.objects.filter(recipient_id__in=recipient_ids, status="active").values_list(
        "recipient_id", "volunteer_id"
    ):
        last[rid] = vid
    return last


def assign_campaign(actor: Any, campaign: Campaign, *, policy: VisitPolicy | None = None) -> dict[str, Any]:
    """Assign every unassigned task of the campaign at once among the active volunteers of its region,
    nearest first with continuity and fairness; the planned day is the start plus the place in the
    volunteer's list. Returns the plan's figures."""
    require(actor, Action.CHANGE_PEOPLE, campaign.region_code, what="care.campaign.assign")
    if campaign.status != "running":
        raise ValidationError({"campaign": ["活动已结束，不能再分派"]})
    with transaction.atomic():
        # One assignment of a campaign at a time: a second waits, then sees the tasks the first assigned.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        policy = policy or VisitPolicy(capacity=campaign.max_visits_per_volunteer)
        tasks = list(
            CampaignTask.objects.filter(campaign=campaign, status=TaskState.UNASSIGNED)
            .select_related("recipient")
            .order_by("id")
        )
        unplaced = sum(1 for t in tasks if t.recipient.lat is None)  # no home on the map: left for staff
        tasks = [t for t in tasks if t.recipient.lat is not None]
        vols = list(
            Volunteer.objects.filter(
                subtree_q("region_code", [campaign.region_code]), status="active", lat__isnull=False
            ).values_list("id", "lat", "lng")
        )
        if not tasks or not vols:
            return {"assigned": 0, "unassigned": len(tasks) + unplaced}
        vol_ids = np.array([v[0] for v in vols])
        row_of = {vid: i for i, vid in enumerate(vol_ids.tolist())}
        carried = dict.fromkeys(range(len(vols)), 0)
        for vid in CampaignTask.objects.filter(campaign=campaign, status=TaskState.ASSIGNED).values_list(
            "volunteer_id", flat=True
        ):
            if vid in row_of:
                carried[row_of[vid]] += 1
        capacity = np.array([policy.capacity - carried[i] for i in range(len(vols))])
        prev = previous_volunteers([t.recipient_id for t in tasks])
        plan = assign_visits(
            [t.recipient.lat for t in tasks],
            [t.recipient.lng for t in tasks],
            [v[1] for v in vols],
            [v[2] for v in vols],
            previous=[row_of.get(prev.get(t.recipient_id, -1), -1) for t in tasks],
            capacity=capacity,
            policy=policy,
        )
        now = timezone.now()
        span = max(0, (campaign.ends_on - campaign.starts_on).days)
        changed = []
        for i, task in enumerate(tasks):
            if plan.volunteer[i] < 0:
                continue
            task.volunteer_id = int(vol_ids[plan.volunteer[i]])
            task.status = TaskState.ASSIGNED
            task.distance_km = float(plan.km[i])
            place = int(plan.place[i]) + carried.get(int(plan.volunteer[i]), 0)
            task.planned_on = campaign.starts_on + timedelta(days=min(place, span))
            task.assigned_at = now
            changed.append(task)
        figures = plan.figures(len(vols), np.array([t.recipient_id in prev for t in tasks]))
        figures["unassigned"] += unplaced
        CampaignTask.objects.bulk_update(
            changed, ["volunteer", "status", "distance_km", "planned_on", "assigned_at"], batch_size=2000
        )
        audit.record("care.campaign.assign", actor=actor, obj=campaign, detail=figures)
        events.emit("care.campaign.assigned", id=campaign.pk, tasks=[t.pk for t in changed])
    return figures


def log_campaign_visit(
    actor: Any,
    task: CampaignTask,
    *,
    visited_on: date,
    mode: str,
    summary: str = "",
    minutes: int = 0,
    plaque_hung: bool = False,
) -> Visit:
    """The assigned volunteer (or staff) logs the campaign visit: once; an honour-plaque visit can record
    the plaque hung."""
    volunteer = task.volunteer
    is_own = volunteer is not None and volunteer.user_id is not None and volunteer.user_id == actor.pk
    if not is_own:
        require_object(actor, Action.CHANGE, task, what="care.campaign.visit")
    if task.status != TaskState.ASSIGNED:
        raise ValidationError({"task": ["该走访任务未分派或已完成"]})
    fields = clean_visit(visited_on, mode, summary, minutes)
    now = timezone.now()
    with transaction.atomic():
        if not CampaignTask.objects.filter(pk=task.pk, status=TaskState.ASSIGNED).update(
            status=TaskState.DONE, done_at=now, updated_at=now
        ):
            raise ValidationError({"task": ["该走访任务已经登记过了"]})
        visit = write_visit(
            actor, task.recipient, volunteer, fields, what=task.campaign.name, campaign_task=task
        )
        if plaque_hung or task.campaign.kind == CampaignKind.HONOUR_PLAQUE:
            Recipient.objects.filter(pk=task.recipient_id, has_honour_plaque=False).update(
                has_honour_plaque=True, plaque_hung_on=visited_on, updated_at=now
            )
    task.refresh_from_db()
    return visit
