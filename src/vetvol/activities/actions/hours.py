"""Service hours: computed from attendance, back-filled, entered by staff, corrected, approved.

Rules (compliance): per person per day up to 8 h count directly; 8–12 h need approval by the organising
body's parent; over 12 h by a higher level. Back-fill (emergency "green channel") needs evidence and the
organiser's approval; hours entered by staff without a check-in need a second person to approve; nobody
approves their own hours or an entry they made. Records are never changed: a correction is a new row
referencing the old one."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from vetvol.activities.models import Activity, ApprovalLevel, Attendance, HourApproval, HourRecord, HourSource
from vetvol.core import audit, events
from vetvol.core.scoping import Action, allowed_prefixes, covers, require
from vetvol.regions.models import Region
from vetvol.registry.models import Volunteer

DIRECT_LIMIT = 8 * 60
PARENT_LIMIT = 12 * 60
MANUAL_SOURCES = (HourSource.BACKFILL, HourSource.STAFF, HourSource.CORRECTION)


def round_minutes(minutes: int) -> int:
    """The configured rounding rule: down to a multiple of VETVOL_HOURS_ROUND_TO (minutes; default 15)."""
    step = max(1, int(getattr(settings, "VETVOL_HOURS_ROUND_TO", 15)))
    return (minutes // step) * step


def day_minutes(volunteer_id: int, day: date) -> int:
    """Minutes already on record for the volunteer that day, superseded records excluded."""
    rows = HourRecord.objects.filter(volunteer_id=volunteer_id, service_date=day).exclude(
        corrections__isnull=False
    )
    rows = rows.exclude(approvals__approved=False)
    return rows.aggregate(total=Sum("minutes"))["total"] or 0


def required_level(
    volunteer_id: int,
    day: date,
    minutes: int,
    *,
    manual: bool,
    review: bool,
    replaces: HourRecord | None = None,
) -> int | None:
    total = day_minutes(volunteer_id, day) - (replaces.minutes if replaces else 0) + minutes
    level = ApprovalLevel.ORGANISER if manual or review else None
    if total > PARENT_LIMIT:
        return ApprovalLevel.HIGHER
    if total > DIRECT_LIMIT:
        return ApprovalLevel.PARENT
    return level


def _write(record: HourRecord, actor: Any, action: str) -> HourRecord:
    with transaction.atomic():
        record.save(force_insert=True)
        audit.record(
            action,
            actor=actor,
            obj=record,
            region_code=record.region_code,
            detail={
                "volunteer_id": record.volunteer_id,
                "minutes": record.minutes,
                "level": record.required_level,
            },
        )
        events.emit(
            "activities.hours.recorded",
            id=record.pk,
            volunteer_id=record.volunteer_id,
            level=record.required_level,
        )
    return record


def record_attendance_hours(attendance: Attendance, actor: Any) -> HourRecord | None:
    """Hours from a closed attendance, counted inside the activity's time window and rounded."""
    activity = attendance.activity
    start = max(attendance.checked_in_at, activity.starts_at)
    end = min(attendance.checked_out_at or start, activity.ends_at)
    minutes = round_minutes(max(0, int((end - start).total_seconds() // 60)))
    if minutes == 0:
        return None
    day = timezone.localtime(start).date()
    record = HourRecord(
        volunteer=attendance.volunteer,
        activity=activity,
        attendance=attendance,
        source=HourSource.CHECKIN,
        service_date=day,
        started_at=start,
        ended_at=end,
        minutes=minutes,
        content=activity.title[:200],
        region_code=activity.region_code,
        volunteer_region_code=attendance.volunteer.region_code,
        required_level=required_level(
            attendance.volunteer_id, day, minutes, manual=False, review=attendance.needs_review
        ),
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return _write(record, actor, "activities.hours.checkin")


def _manual(
    actor: Any,
    volunteer: Volunteer,
    *,
    source: str,
    region_code: str,
    day: date,
    minutes: int,
    content: str,
    reason: str,
    evidence: str = "",
    activity: Activity | None = None,
    corrects: HourRecord | None = None,
) -> HourRecord:
    require(actor, Action.CHANGE, region_code, what=f"activities.hours.{source}")
    errors: dict[str, list[str]] = {}
    if not 0 < minutes <= 24 * 60:
        errors["minutes"] = ["时长应在 1 分钟到 24 小时之间"]
    if day > timezone.localdate():
        errors["service_date"] = ["服务日期不能晚于今天"]
    if not reason.strip():
        errors["reason"] = ["请填写原因"]
    if source == HourSource.BACKFILL and not evidence.strip():
        errors["evidence"] = ["应急补录须提供佐证材料（照片、盖章的签到表等）"]
    if not content.strip():
        errors["content"] = ["请填写服务内容"]
    if errors:
        raise ValidationError(errors)
    record = HourRecord(
        volunteer=volunteer,
        activity=activity,
        source=source,
        service_date=day,
        minutes=minutes,
        content=content.strip()[:200],
        region_code=region_code,
        volunteer_region_code=volunteer.region_code,
        required_level=required_level(
            volunteer.pk, day, minutes, manual=True, review=False, replaces=corrects
        ),
        corrects=corrects,
        reason=reason.strip()[:200],
        evidence=evidence.strip()[:300],
        entered_by=actor,
    )
    return _write(record, actor, f"activities.hours.{source}")


def backfill_hours(
    actor: Any,
    volunteer: Volunteer,
    *,
    region: Region,
    day: date,
    minutes: int,
    content: str,
    reason: str,
    evidence: str,
    activity: Activity | None = None,
) -> HourRecord:
    """Emergency work done without check-in ("green channel"): evidence, then the organiser's approval."""
    return _manual(
        actor,
        volunteer,
        source=HourSource.BACKFILL,
        region_code=region.code,
        day=day,
        minutes=minutes,
        content=content,
        reason=reason,
        evidence=evidence,
        activity=activity,
    )


def enter_hours(
    actor: Any,
    volunteer: Volunteer,
    *,
    region: Region,
    day: date,
    minutes: int,
    content: str,
    reason: str,
    activity: Activity | None = None,
) -> HourRecord:
    """Hours typed in by staff without a check-in: marked as such, and a second person must approve."""
    return _manual(
        actor,
        volunteer,
        source=HourSource.STAFF,
        region_code=region.code,
        day=day,
        minutes=minutes,
        content=content,
        reason=reason,
        activity=activity,
    )


def correct_hours(actor: Any, record: HourRecord, *, minutes: int, reason: str) -> HourRecord:
    """A correction: a new record that supersedes `record` (which stays, unchanged, in the history)."""
    if record.corrections.exists():
        raise ValidationError({"record": ["该记录已被更正过，请更正最新的记录"]})
    return _manual(
        actor,
        record.volunteer,
        source=HourSource.CORRECTION,
        region_code=record.region_code,
        day=record.service_date,
        minutes=minutes,
        content=record.content,
        reason=reason,
        activity=record.activity,
        corrects=record,
    )


def approval_region(record: HourRecord, level: int) -> str:
    """The region whose staff approve at `level`: the organising region, its parent, or the level above."""
    codes = [record.region_code[:n] for n in (2, 4, 6, 9) if n < len(record.region_code)]
    existing = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    chain = [c for c in codes if c in existing] + [record.region_code]
    index = max(0, len(chain) - level)
    return chain[index]


def approve_hours(actor: Any, record: HourRecord, *, approved: bool = True, note: str = "") -> HourApproval:
    """Approve (or reject) a record at its required level. Not one's own hours, not one's own entry."""
    if record.required_level is None:
        raise ValidationError({"record": ["该记录无需审核"]})
    if record.volunteer.user_id == actor.pk:
        audit.record(
            "activities.hours.approve", actor=actor, obj=record, outcome="denied", detail={"why": "own"}
        )
        raise PermissionDenied("own hours")
    if record.entered_by_id == actor.pk:
        audit.record(
            "activities.hours.approve", actor=actor, obj=record, outcome="denied", detail={"why": "entered"}
        )
        raise PermissionDenied("own entry")
    region = approval_region(record, record.required_level)
    if not covers(allowed_prefixes(actor, Action.CHANGE), region):
        require(actor, Action.CHANGE, region, what="activities.hours.approve")
    try:
        with transaction.atomic():
            approval = HourApproval.objects.create(
                record=record,
                level=record.required_level,
                approved=approved,
                approver=actor,
                region_code=region,
                note=note.strip()[:200],
            )
            audit.record(
                "activities.hours.approve",
                actor=actor,
                obj=record,
                region_code=record.region_code,
                detail={"approved": approved, "level": record.required_level},
            )
            events.emit("activities.hours.decided", id=record.pk, approved=approved)
    except IntegrityError as exc:
        raise ValidationError({"record": ["该记录已经审核过了"]}) from exc
    return approval


def record_dispatch_hours(
    volunteer: Volunteer,
    *,
    started_at: Any,
    ended_at: Any,
    region_code: str,
    content: str,
    actor: Any = None,
) -> HourRecord | None:
    """Hours of an emergency-dispatch assignment (accepted → done), rounded like check-in hours; the 8/12-hour
    day rules decide whether an approval is needed. Called by dispatch when an incident closes."""
    minutes = round_minutes(max(0, int((ended_at - started_at).total_seconds() // 60)))
    minutes = min(minutes, 24 * 60)
    if minutes == 0:
        return None
    day = timezone.localtime(started_at).date()
    record = HourRecord(
        volunteer=volunteer,
        source=HourSource.DISPATCH,
        service_date=day,
        started_at=started_at,
        ended_at=ended_at,
        minutes=minutes,
        content=content.strip()[:200] or "应急调度任务",
        region_code=region_code,
        volunteer_region_code=volunteer.region_code,
        required_level=required_level(volunteer.pk, day, minutes, manual=False, review=False),
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return _write(record, actor, "activities.hours.dispatch")


def record_care_hours(
    volunteer: Volunteer,
    *,
    service_date: date,
    minutes: int,
    region_code: str,
    content: str,
    actor: Any = None,
) -> HourRecord | None:
    """Hours of a care service (a visit, a help request), reported without a check-in: rounded like any
    other, and approved by the organising station before they count (plus the 8/12-hour day rules)."""
    minutes = min(round_minutes(max(0, int(minutes))), 24 * 60)
    if minutes == 0:
        return None
    record = HourRecord(
        volunteer=volunteer,
        source=HourSource.CARE,
        service_date=service_date,
        minutes=minutes,
        content=content.strip()[:200] or "关爱帮扶服务",
        region_code=region_code,
        volunteer_region_code=volunteer.region_code,
        required_level=required_level(volunteer.pk, service_date, minutes, manual=True, review=False),
        entered_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return _write(record, actor, "activities.hours.care")
