"""Star ratings: the volunteer (or staff for them) asks for the level they have earned; the staff of the
approving region level award it. Nobody approves their own stars, nor a request they made themselves."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.activities import stars as rules
from vetvol.activities.models import StarAward, StarRequest
from vetvol.activities.queries import effective_minutes, hours_label
from vetvol.core import audit, events
from vetvol.core.models import AuditOutcome
from vetvol.core.scoping import Action, require, require_object
from vetvol.registry.models import Volunteer, VolunteerStatus


def _not_yet(volunteer: Volunteer, today: date) -> str:
    """Why there is nothing to ask for yet, in the volunteer's terms."""
    status = rules.star_status(volunteer, today)
    if status.next_stars is None:
        return "已获评最高星级"
    needs = []
    if status.next_minutes:
        needs.append(f"还需 {hours_label(status.next_minutes)} 小时服务时长")
    if status.next_date and status.next_date > today:
        needs.append(f"{status.next_date:%Y年%m月%d日}起满足注册时间要求")
    return f"申请{status.next_stars}星级志愿者：" + "，".join(needs)


def request_star(actor: Any, volunteer: Volunteer, *, today: date | None = None) -> StarRequest:
    """Ask for the highest level earned and not yet awarded. Asking again for the same level returns the
    request already waiting."""
    require_object(actor, Action.CHANGE, volunteer, what="activities.star.request")
    today = today or timezone.localdate()
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise ValidationError({"volunteer": ["志愿者注册尚未审核通过或已暂停服务"]})
    stars = rules.eligible_stars(volunteer, today)
    if stars <= rules.awarded_stars(volunteer):
        raise ValidationError({"stars": [_not_yet(volunteer, today)]})
    waiting = StarRequest.objects.filter(volunteer=volunteer, stars=stars).first()
    if waiting is not None:
        return waiting
    minutes = effective_minutes(volunteer, until=today)
    try:
        with transaction.atomic():
            request = StarRequest.objects.create(
                volunteer=volunteer,
                stars=stars,
                minutes_at_request=minutes,
                requested_by=actor,
                region_code=volunteer.region_code,
            )
            audit.record(
                "activities.star.request",
                actor=actor,
                obj=volunteer,
                detail={"volunteer": volunteer.number, "stars": stars, "minutes": minutes},
            )
            events.emit(
                "activities.star.requested",
                volunteer_id=volunteer.pk,
                stars=stars,
                approving_region=rules.approving_region(volunteer, stars),
            )
    except IntegrityError:  # the same request, made a moment ago by someone else
        return StarRequest.objects.get(volunteer=volunteer, stars=stars)
    return request


def approve_star(actor: Any, volunteer: Volunteer, stars: int, *, today: date | None = None) -> StarAward:
    """Award `stars` on a waiting request: the approver needs `change` on the county-level node of the
    volunteer's home (1–2 stars), the city (3–4) or the province (5); the hours and registration period
    are checked again on the day."""
    if stars not in rules.LEVELS:
        raise ValidationError({"stars": ["星级应为 1 至 5"]})
    if volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None):
        audit.record(
            "activities.star.approve",
            actor=actor,
            obj=volunteer,
            outcome=AuditOutcome.DENIED,
            detail={"why": "own"},
        )
        raise PermissionDenied("own stars")
    region = rules.approving_region(volunteer, stars)
    require(actor, Action.CHANGE, region, what="activities.star.approve")
    request = StarRequest.objects.filter(volunteer=volunteer, stars=stars).first()
    if request is None:
        raise ValidationError({"stars": [f"没有待审核的{stars}星级申请"]})
    if request.requested_by_id == actor.pk:
        audit.record(
            "activities.star.approve",
            actor=actor,
            obj=volunteer,
            outcome=AuditOutcome.DENIED,
            detail={"why": "own request"},
        )
        raise PermissionDenied("own request")
    today = today or timezone.localdate()
    if rules.awarded_stars(volunteer) >= stars:
        raise ValidationError({"stars": [f"该志愿者已获评{stars}星级或更高星级"]})
    if rules.eligible_stars(volunteer, today) < stars:
        raise ValidationError({"stars": [f"该志愿者目前不满足{stars}星级的服务时长或注册时间条件"]})
    minutes = effective_minutes(volunteer, until=today)
    try:
        with transaction.atomic():
            award = StarAward.objects.create(
                volunteer=volunteer,
                stars=stars,
                minutes_at_award=minutes,
                requested_at=request.requested_at,
                approved_by=actor,
                region_code=region,
            )
            audit.record(
                "activities.star.approve",
                actor=actor,
                obj=volunteer,
                detail={"volunteer": volunteer.number, "stars": stars, "minutes": minutes, "region": region},
            )
            events.emit("activities.star.awarded", volunteer_id=volunteer.pk, stars=stars, region_code=region)
    except IntegrityError as exc:
        raise ValidationError({"stars": [f"该志愿者已获评{stars}星级"]}) from exc
    return award
