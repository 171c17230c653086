"""Party-member pairing: pair, log visits on the plan, hand over when a volunteer leaves, end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.care.actions.visits import clean_visit, write_visit
from vetvol.care.models import Pairing, PairingStatus, Recipient, Visit, VisitFrequency
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require, require_object
from vetvol.registry.models import Volunteer

MSG_ONE_ACTIVE = "该服务对象已有结对的党员志愿者，请先办理交接或结束原结对"
MSG_NOT_YOURS = "只能为与您结对的服务对象登记探访"


def _check_volunteer(volunteer: Volunteer) -> None:
    if volunteer.status != "active":
        raise ValidationError({"volunteer": ["该志愿者不在册，不能结对"]})
    if not volunteer.is_party_member:
        raise ValidationError({"volunteer": ["党员结对帮扶须由中共党员志愿者承担"]})


def create_pairing(
    actor: Any,
    volunteer: Volunteer,
    recipient: Recipient,
    *,
    frequency_days: int = VisitFrequency.MONTHLY,
    started_on: date | None = None,
    handed_over_from: Pairing | None = None,
) -> Pairing:
    require(actor, Action.CHANGE_PEOPLE, recipient.region_code, what="care.pairing.create")
    _check_volunteer(volunteer)
    if frequency_days not in VisitFrequency.values:
        raise ValidationError({"frequency_days": ["请选择探访频次：" + "、".join(VisitFrequency.labels)]})
    if recipient.status != "active":
        raise ValidationError({"recipient": ["该服务对象已迁出或已故"]})
    started_on = started_on or timezone.localdate()
    pairing = Pairing(
        volunteer=volunteer,
        recipient=recipient,
        region_code=recipient.region_code,
        frequency_days=frequency_days,
        started_on=started_on,
        next_visit_due=started_on + timedelta(days=frequency_days),
        handed_over_from=handed_over_from,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            pairing.save(force_insert=True)
            audit.record(
                "care.pairing.create",
                actor=actor,
                obj=pairing,
                detail={"volunteer_id": volunteer.pk, "recipient_id": recipient.pk},
            )
            events.emit("care.pairing.created", id=pairing.pk, volunteer_id=volunteer.pk)
    except IntegrityError as exc:  # the one-active-pairing constraint
        raise ValidationError({"recipient": [MSG_ONE_ACTIVE]}) from exc
    return pairing


def log_pairing_visit(
    actor: Any,
    pairing: Pairing,
    *,
    visited_on: date,
    mode: str,
    summary: str = "",
    minutes: int = 0,
    idempotency_key: str = "",
) -> Visit:
    """The paired volunteer (or staff for them) logs a visit; the next visit falls due one interval later.
    A volunteer may log visits only for their own active pairings."""
    is_own = pairing.volunteer.user_id is not None and pairing.volunteer.user_id == getattr(actor, "pk", None)
    if not is_own:
        require_object(actor, Action.CHANGE, pairing, what="care.pairing.visit")
    if pairing.status != PairingStatus.ACTIVE:
        raise ValidationError({"pairing": ["该结对已结束，不能再登记探访"]})
    fields = clean_visit(visited_on, mode, summary, minutes)
    if idempotency_key:
        earlier = Visit.objects.filter(pairing=pairing, idempotency_key=idempotency_key[:64]).first()
        if earlier is not None:
            return earlier
    try:
        with transaction.atomic():
            visit = write_visit(
                actor,
                pairing.recipient,
                pairing.volunteer,
                fields,
                what="党员结对探访",
                pairing=pairing,
                idempotency_key=idempotency_key[:64],
            )
            last = max(pairing.last_visit_on or visited_on, visited_on)
            Pairing.objects.filter(pk=pairing.pk).update(
                last_visit_on=last,
                next_visit_due=last + timedelta(days=pairing.frequency_days),
                updated_at=timezone.now(),
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same resend raced this one and won: its visit is the answer.
        return Visit.objects.get(pairing=pairing, idempotency_key=idempotency_key[:64])
    pairing.refresh_from_db()
    return visit


def end_pairing(actor: Any, pairing: Pairing, reason: str, *, today: date | None = None) -> Pairing:
    require_object(actor, Action.CHANGE, pairing, what="care.pairing.end")
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError({"end_reason": ["请填写结束原因（最多 200 字）"]})
    today = today or timezone.localdate()
    with transaction.atomic():
        if not Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.ACTIVE).update(
            status=PairingStatus.ENDED, ended_on=today, end_reason=reason, updated_at=timezone.now()
        ):
            raise ValidationError({"pairing": ["该结对已经结束"]})
        audit.record("care.pairing.end", actor=actor, obj=pairing, detail={"reason": reason})
    pairing.refresh_from_db()
    return pairing


def hand_over_pairing(actor: Any, pairing: Pairing, to: Volunteer, reason: str) -> Pairing:
    """The volunteer leaves or can no longer visit: the pairing ends and a new one starts with `to`, keeping
    the plan and the date the next visit is due (the recipient must not wait longer for the change)."""
    require_object(actor, Action.CHANGE, pairing, what="care.pairing.handover")
    _check_volunteer(to)
    if to.pk == pairing.volunteer_id:
        raise ValidationError({"volunteer": ["请选择另一名志愿者接手"]})
    with transaction.atomic():
        end_pairing(actor, pairing, reason or "交接")
        new = create_pairing(
            actor, to, pairing.recipient, frequency_days=pairing.frequency_days, handed_over_from=pairing
        )
        Pairing.objects.filter(pk=new.pk).update(
            next_visit_due=pairing.next_visit_due, last_visit_on=pairing.last_visit_on
        )
        audit.record("care.pairing.handover", actor=actor, obj=new, detail={"from_id": pairing.pk})
    new.refresh_from_db()
    return new
