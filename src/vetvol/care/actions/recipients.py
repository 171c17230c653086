"""Recipients: registration by station staff (one person, one record), changes, reveals, honour plaques."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.care.models import Case, Recipient
from vetvol.care.models.recipients import MASK_KIND
from vetvol.care.validation import clean_recipient
from vetvol.core import audit, events, ids
from vetvol.core.scoping import Action, allowed_prefixes, covers, require, require_object
from vetvol.regions.models import Region

DUPLICATE_MESSAGE = "该身份证号码已登记为服务对象（一人一档），请在服务对象列表中查找，不要重复登记。"
UPDATABLE = (
    "name",
    "category",
    "phone",
    "address",
    "household_size",
    "lives_alone",
    "contact_name",
    "contact_phone",
    "needs",
    "health_notes",
    "hardship_notes",
    "family_notes",
    "region_code",
)


class DuplicateRecipient(ValidationError):
    """The ID number is registered already."""


def regions_for(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=[c for c in codes if c]).values_list("code", "level"))


def new_numbers(region_code: str, count: int = 1) -> list[str]:
    """Public recipient numbers: R + province code + 9-digit sequence."""
    province = region_code[:2]
    return [f"R{province}{n:09d}" for n in ids.allocate(f"recipient_number_{province}", count)]


def position_of(region_code: str) -> tuple[float | None, float | None]:
    """Without a point on the map, the nearest known centre up the tree stands for the home."""
    codes = [region_code[:n] for n in (12, 9, 6, 4, 2) if n <= len(region_code)]
    rows = dict(
        (c, (lng, lat))
        for c, lng, lat in Region.objects.filter(code__in=codes, lng__isnull=False).values_list(
            "code", "lng", "lat"
        )
    )
    for code in codes:
        if code in rows:
            return rows[code]
    return None, None


def register_recipient(actor: Any, raw: dict[str, Any], *, today: date | None = None) -> Recipient:
    """Register one recipient; needs change-people rights where the household lives."""
    today = today or timezone.localdate()
    data, errors = clean_recipient(raw, today, regions_for([str(raw.get("region") or "")]))
    if errors:
        raise ValidationError(errors)
    require(actor, Action.CHANGE_PEOPLE, data["region_code"], what="care.recipient.register")
    if Recipient.objects.filter(id_hash=data["id_hash"]).exists():
        raise DuplicateRecipient({"id_number": [DUPLICATE_MESSAGE]})
    lng, lat = raw.get("lng"), raw.get("lat")
    if lng is None or lat is None:
        lng, lat = position_of(data["region_code"])
    recipient = Recipient(
        number=new_numbers(data["region_code"])[0],
        lng=lng,
        lat=lat,
        registered_by=actor if getattr(actor, "is_authenticated", False) else None,
        plaque_hung_on=today if data.get("has_honour_plaque") else None,
        **data,
    )
    try:
        with transaction.atomic():
            recipient.save(force_insert=True)
            audit.record("care.recipient.register", actor=actor, obj=recipient)
            events.emit("care.recipient.registered", id=recipient.pk, region_code=recipient.region_code)
    except IntegrityError as exc:  # two registrations of one ID number racing: the constraint decides
        raise DuplicateRecipient({"id_number": [DUPLICATE_MESSAGE]}) from exc
    return recipient


def update_recipient(actor: Any, recipient: Recipient, raw: dict[str, Any]) -> Recipient:
    """Change a recipient's details (the ID number is fixed). Moving the household needs rights there too."""
    require_object(actor, Action.CHANGE, recipient, what="care.recipient.update")
    data, errors = clean_recipient(
        raw, timezone.localdate(), regions_for([str(raw.get("region") or "")]), partial=True
    )
    if errors:
        raise ValidationError(errors)
    if data.get("region_code") and data["region_code"] != recipient.region_code:
        require(actor, Action.CHANGE_PEOPLE, data["region_code"], what="care.recipient.move")
    changes = {k: v for k, v in data.items() if k in UPDATABLE and getattr(recipient, k) != v}
    if not changes:
        return recipient
    for key, value in changes.items():
        setattr(recipient, key, value)
    if "region_code" in changes and "lng" not in raw:
        recipient.lng, recipient.lat = position_of(recipient.region_code)
        changes.update(lng=recipient.lng, lat=recipient.lat)
    with transaction.atomic():
        recipient.save(update_fields=[*changes, "updated_at"])
        audit.record("care.recipient.update", actor=actor, obj=recipient, detail={"fields": sorted(changes)})
        events.emit("care.recipient.updated", id=recipient.pk, region_code=recipient.region_code)
    return recipient


def may_reveal(actor: Any, recipient: Recipient) -> bool:
    """Unmask rights on the region, or ownership of an open case of the recipient (the social worker who
    must read the health notes to do the work)."""
    if covers(allowed_prefixes(actor, Action.UNMASK), recipient.region_code):
        return True
    return Case.objects.filter(recipient=recipient, owner_id=actor.pk, status__in=["open", "active"]).exists()


def reveal(actor: Any, recipient: Recipient, field: str) -> str:
    """The full value of a masked field; every reveal, granted or refused, is audited."""
    if field not in MASK_KIND:
        raise PermissionDenied(field)
    if not may_reveal(actor, recipient):
        require(actor, Action.UNMASK, recipient.region_code, what="care.recipient.unmask")  # audits, raises
    audit.record("care.recipient.unmask", actor=actor, obj=recipient, detail={"field": field})
    return str(getattr(recipient, field))


def set_honour_plaque(actor: Any, recipient: Recipient, *, hung_on: date | None) -> Recipient:
    """Record that a honour plaque (光荣牌) hangs on the home (or that it no longer does)."""
    require_object(actor, Action.CHANGE, recipient, what="care.recipient.plaque")
    today = timezone.localdate()
    if hung_on and hung_on > today:
        raise ValidationError({"hung_on": ["悬挂日期不能晚于今天"]})
    recipient.has_honour_plaque = hung_on is not None
    recipient.plaque_hung_on = hung_on
    with transaction.atomic():
        recipient.save(update_fields=["has_honour_plaque", "plaque_hung_on", "updated_at"])
        audit.record(
            "care.recipient.plaque", actor=actor, obj=recipient, detail={"hung_on": str(hung_on or "")}
        )
    return recipient
