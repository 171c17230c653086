"""Star ratings: the volunteer (or staff for them) asks for the level they have earned; the staff of the
approving region level award it or turn it down with a reason. Nobody decides on their own stars, nor on a
request they made themselves. An award found wrong is revoked with a reason (a new row, the award stays);
after a rejection or a revocation the volunteer may ask again, in a new attempt."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from vetvol.activities import stars as rules
from vetvol.activities.models import StarAward, StarRejection, StarRequest, StarRevocation
from vetvol.activities.queries import effective_minutes, hours_label
from vetvol.core import audit, events
from vetvol.core.models import AuditOutcome
from vetvol.core.scoping import Action, require, require_object
from vetvol.registry.models import Volunteer, VolunteerStatus

REASON_MAX = 200  # characters of a rejection's or revocation's reason


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
    latest = _latest_request(volunteer, stars)
    if latest is not None and _is_open(latest):
        return latest
    attempt = latest.attempt + 1 if latest is not None else 1
    minutes = effective_minutes(volunteer, until=today)
    try:
        with transaction.atomic():
            request = StarRequest.objects.create(
                volunteer=volunteer,
                stars=stars,
                attempt=attempt,
                minutes_at_request=minutes,
                requested_by=actor,
                region_code=volunteer.region_code,
            )
            audit.record(
                "activities.star.request",
                actor=actor,
                obj=volunteer,
                detail={
                    "volunteer": volunteer.number,
                    "stars": stars,
                    "minutes": minutes,
                    "attempt": attempt,
                },
            )
            events.emit(
                "activities.star.requested",
                volunteer_id=volunteer.pk,
                stars=stars,
                approving_region=rules.approving_region(volunteer, stars),
            )
    except IntegrityError:  # the same request, made a moment ago by someone else
        return StarRequest.objects.get(volunteer=volunteer, stars=stars, attempt=attempt)
    return request


def _latest_request(volunteer: Volunteer, stars: int) -> StarRequest | None:
    return (
        StarRequest.objects.filter(volunteer=volunteer, stars=stars)
        .select_related("rejection")
        .order_by("-attempt")
        .first()
    )


def _is_open(request: StarRequest) -> bool:
    """Not rejected and not awarded (an award revoked since closes its request too)."""
    if hasattr(request, "rejection"):
        return False
    return not StarAward.objects.filter(
        volunteer_id=request.volunteer_id, stars=request.stars, attempt=request.attempt
    ).exists()


def _lock_open(request: StarRequest, message: str) -> None:
    """Inside the deciding transaction: lock the request (a row lock, not an update) and check it is still
    open, so an approval and a rejection made at the same moment cannot both be written."""
    locked = StarRequest.objects.select_for_update().get(pk=request.pk)
    if not _is_open(locked):
        raise ValidationError({"stars": [message]})


def _refuse_own(actor: Any, volunteer: Volunteer, request: StarRequest | None, what: str) -> None:
    """Nobody decides on their own stars, nor on a request they made (audited, then refused)."""
    why = ""
    if volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None):
        why = "own"
    elif request is not None and request.requested_by_id == getattr(actor, "pk", None):
        why = "own request"
    if why:
        audit.record(what, actor=actor, obj=volunteer, outcome=AuditOutcome.DENIED, detail={"why": why})
        raise PermissionDenied(why)


def clean_reason(text: str, field: str, empty: str) -> str:
    """A reason as one line of text, required and at most REASON_MAX characters."""
    reason = " ".join((text or "").split())
    if not reason:
        raise ValidationError({field: [empty]})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {
                field: [
                    gettext("理由不能超过 %(max)d 个字（现有 %(n)d 个字）")
                    % {"max": REASON_MAX, "n": len(reason)}
                ]
            }
        )
    return reason


def approve_star(actor: Any, volunteer: Volunteer, stars: int, *, today: date | None = None) -> StarAward:
    """Award `stars` on a waiting request: the approver needs `change` on the county-level node of the
    volunteer's home (1–2 stars), the city (3–4) or the province (5); the hours and registration period
    are checked again on the day."""
    if stars not in rules.LEVELS:
        raise ValidationError({"stars": ["星级应为 1 至 5"]})
    _refuse_own(actor, volunteer, None, "activities.star.approve")
    region = rules.approving_region(volunteer, stars)
    require(actor, Action.CHANGE, region, what="activities.star.approve")
    request = _latest_request(volunteer, stars)
    if request is None or not _is_open(request):
        raise ValidationError({"stars": [f"没有待审核的{stars}星级申请"]})
    _refuse_own(actor, volunteer, request, "activities.star.approve")
    today = today or timezone.localdate()
    if rules.awarded_stars(volunteer) >= stars:
        raise ValidationError({"stars": [f"该志愿者已获评{stars}星级或更高星级"]})
    if rules.eligible_stars(volunteer, today) < stars:
        raise ValidationError({"stars": [f"该志愿者目前不满足{stars}星级的服务时长或注册时间条件"]})
    minutes = effective_minutes(volunteer, until=today)
    try:
        with transaction.atomic():
            _lock_open(request, gettext("该申请已被驳回或已认定，请刷新页面"))
            award = StarAward.objects.create(
                volunteer=volunteer,
                stars=stars,
                attempt=request.attempt,
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


def reject_star(actor: Any, request: StarRequest, reason: str) -> StarRejection:
    """Turn a waiting request down, with the reason the volunteer is told. The same people who could
    approve it decide; the request stays, and the volunteer may ask again later."""
    volunteer = request.volunteer
    _refuse_own(actor, volunteer, request, "activities.star.reject")
    region = rules.approving_region(volunteer, request.stars)
    require(actor, Action.CHANGE, region, what="activities.star.reject")
    text = clean_reason(reason, "reason", gettext("请填写驳回理由，志愿者会看到它"))
    if hasattr(request, "rejection"):
        raise ValidationError({"reason": [gettext("该申请已被驳回，不能重复驳回")]})
    if not _is_open(request):
        raise ValidationError({"reason": [gettext("该申请已认定星级，不能再驳回")]})
    try:
        with transaction.atomic():
            _lock_open(request, gettext("该申请已被驳回或已认定，请刷新页面"))
            rejection = StarRejection.objects.create(
                request=request, reason=text, rejected_by=actor, region_code=region
            )
            audit.record(
                "activities.star.reject",
                actor=actor,
                obj=volunteer,
                detail={
                    "volunteer": volunteer.number,
                    "stars": request.stars,
                    "attempt": request.attempt,
                    "reason": text,
                    "region": region,
                },
            )
            events.emit(
                "activities.star.rejected", volunteer_id=volunteer.pk, stars=request.stars, region_code=region
            )
    except IntegrityError as exc:  # decided a moment ago by someone else
        raise ValidationError({"reason": [gettext("该申请已被驳回，不能重复驳回")]}) from exc
    return rejection


def revoke_star(actor: Any, award: StarAward, reason: str) -> StarRevocation:
    """Withdraw an award found wrong. Staff who may change the approving region (the level that awarded
    it, or above) revoke it; the award row stays, and the volunteer's stars are those still standing."""
    volunteer = award.volunteer
    require(actor, Action.CHANGE, award.region_code, what="activities.star.revoke")
    text = clean_reason(reason, "reason", gettext("请填写撤销理由"))
    done = StarRevocation.objects.filter(award=award).first()
    if done is not None:
        raise ValidationError({"reason": [_already_revoked(done.revoked_at)]})
    try:
        with transaction.atomic():
            revocation = StarRevocation.objects.create(
                award=award, reason=text, revoked_by=actor, region_code=award.region_code
            )
            audit.record(
                "activities.star.revoke",
                actor=actor,
                obj=volunteer,
                detail={
                    "volunteer": volunteer.number,
                    "stars": award.stars,
                    "award": award.pk,
                    "reason": text,
                },
            )
            events.emit(
                "activities.star.revoked",
                volunteer_id=volunteer.pk,
                stars=award.stars,
                region_code=award.region_code,
            )
    except IntegrityError as exc:  # revoked a moment ago by someone else
        done = StarRevocation.objects.get(award=award)
        raise ValidationError({"reason": [_already_revoked(done.revoked_at)]}) from exc
    return revocation


def _already_revoked(at: Any) -> str:
    return gettext("已于 %(date)s 撤销，不能重复撤销") % {"date": f"{timezone.localtime(at):%Y-%m-%d}"}
