"""The one way a visit is written, whatever asked for it: the visit row, the hours (through the activities'
hour rules) and the audit row, inside the caller's transaction. And who reads what was written: a visit's
summary (探访内容) holds health and hardship details, so only those doing the work read it as written;
anyone else sees it hidden, one audited reveal away where they may reveal it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from vetvol.activities.actions.hours import record_care_hours
from vetvol.care.actions.recipients import may_reveal
from vetvol.care.models import OPEN_STATUSES, Case, Recipient, Visit, VisitMode
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.registry.models import Volunteer

MAX_VISIT_MINUTES = 12 * 60
SUMMARY_LIMIT = 1000
REVEALABLE = ("summary",)
# How a viewer sees a visit's summary (see visit_access).
PLAIN, REVEAL, HIDDEN = "plain", "reveal", "hidden"


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


def _cases_worked(actor: Any, case_ids: set[int]) -> dict[int, bool]:
    """Of `case_ids`, the cases `actor` works on (their owner, or staff or social worker of the case team:
    the people `Case.owner_q` lets change the case), each with whether it is still open."""
    if not case_ids:
        return {}
    rows = (
        Case.objects.filter(pk__in=case_ids)
        .filter(Q(owner_id=actor.pk) | Q(members__user_id=actor.pk))
        .values_list("pk", "status")
        .distinct()
    )
    return {pk: status in OPEN_STATUSES for pk, status in rows}


def visit_access(actor: Any, recipient: Recipient, visits: Iterable[Visit]) -> dict[int, str]:
    """How `actor` sees the summary of each of `recipient`'s `visits`, by visit id (a few queries, however
    many visits):

    - PLAIN, as written, for those who need it to do the work: the visit's author (the volunteer who made
      it, the user who logged it) and, while the case is open, the case owner and the staff and social
      workers of the case team;
    - REVEAL, hidden but one audited reveal away: unmask rights where the recipient lives, the recipient's
      own reveal rule (the owner of an open case of theirs), or work on the visit's case once it is closed;
    - HIDDEN for everyone else (auditors, other staff, volunteers who did not make the visit).
    """
    visits = [v for v in visits if v.recipient_id == recipient.pk]
    if not getattr(actor, "is_authenticated", False):
        return {v.pk: HIDDEN for v in visits}
    worked = _cases_worked(actor, {v.case_id for v in visits if v.case_id is not None})
    others = [v for v in visits if v.logged_by_id != actor.pk and v.volunteer_id is not None]
    own_volunteers = (
        set(Volunteer.objects.filter(user_id=actor.pk).values_list("pk", flat=True)) if others else set()
    )
    recipient_reveal: bool | None = None  # asked once, and only if some visit needs it
    access = {}
    for v in visits:
        if v.logged_by_id == actor.pk or v.volunteer_id in own_volunteers or worked.get(v.case_id or 0):
            access[v.pk] = PLAIN
        elif (v.case_id or 0) in worked:
            access[v.pk] = REVEAL  # their own case, closed: still theirs to read, now audited
        else:
            if recipient_reveal is None:
                recipient_reveal = may_reveal(actor, recipient)
            access[v.pk] = REVEAL if recipient_reveal else HIDDEN
    return access


def reveal_visit(actor: Any, visit: Visit, field: str) -> str:
    """The full text of a hidden field of a visit; every reveal, granted or refused, is audited."""
    if field not in REVEALABLE:
        raise PermissionDenied(field)
    if visit_access(actor, visit.recipient, [visit])[visit.pk] == HIDDEN:
        # no unmask right where the recipient lives (visit_access asked): audits the refusal and raises
        require(actor, Action.UNMASK, visit.recipient.region_code, what="care.visit.unmask")
    audit.record("care.visit.unmask", actor=actor, obj=visit, detail={"field": field})
    return str(getattr(visit, field))
