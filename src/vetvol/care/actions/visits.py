"""The one way a visit is written, whatever asked for it: the visit row, the hours (through the activities'
hour rules) and the audit row, inside the caller's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from vetvol.activities.actions.hours import record_care_hours
from vetvol.care.models import Recipient, Visit, VisitMode
from vetvol.core import audit, events
from vetvol.registry.models import Volunteer

MAX_VISIT_MINUTES = 12 * 60
SUMMARY_LIMIT = 1000


def clean_visit(visited_on: date | None, mode: str, summary: str, minutes: int) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if visited_on is None:
        errors["visited_on"] = ["请填写探访日期"]
    elif visited_on > today:
        errors["visited_on"] = ["探访日期不能晚于今天"]
    if mode not in VisitMode.values:
        errors["mode"] = ["请选择探访方式：" + "、".join(VisitMode.labels)]
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_LIMIT:
        errors["summary"] = [f"探访内容最多 {SUMMARY_LIMIT} 字"]
    if not 0 <= minutes <= MAX_VISIT_MINUTES:
        errors["minutes"] = ["服务时长应在 0 到 720 分钟之间"]
    if errors:
        raise ValidationError(errors)
    return {"visited_on": visited_on, "mode": mode, "summary": summary, "minutes": minutes}


def write_visit(
    actor: Any,
    recipient: Recipient,
    volunteer: Volunteer | None,
    fields: dict[str, Any],
    *,
    what: str,
    **links: Any,
) -> Visit:
    """Write a cleaned visit (call inside the action's transaction); every kind of visit (for a case, a
    pairing, a campaign task) is announced as `care.visit.logged`, with the id of what it was for."""
    visit = Visit.objects.create(
        recipient=recipient,
        volunteer=volunteer,
        region_code=recipient.region_code,
        logged_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
        **links,
    )
    if volunteer is not None and fields["minutes"]:
        record_care_hours(
            volunteer,
            service_date=fields["visited_on"],
            minutes=fields["minutes"],
            region_code=recipient.region_code,
            content=f"{VisitMode(fields['mode']).label}：{what}",
            actor=actor,
        )
    audit.record(
        "care.visit.log",
        actor=actor,
        obj=visit,
        detail={"recipient_id": recipient.pk, "volunteer_id": getattr(volunteer, "pk", None), "for": what},
    )
    events.emit(
        "care.visit.logged",
        id=visit.pk,
        **{f"{name}_id": obj.pk for name, obj in links.items() if hasattr(obj, "pk")},
    )
    return visit
