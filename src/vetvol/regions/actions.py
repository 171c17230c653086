"""State changes of service centres, stations and liaison points.

Each action checks permission (before its transaction, so a denial's audit row survives), validates,
writes in one transaction with its audit row, and emits its event after commit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.regions.models import LiaisonPoint, Region, ServiceCentre, ServiceCentreKind

CENTRE_FIELDS = ("name", "address", "phone", "opening_hours")
LIAISON_FIELDS = ("name", "room", "is_active")
# Default names are stored data, so they stay in Chinese whatever the language of the request (the kind's
# label is translated for display and must not leak into the record).
DEFAULT_NAME_SUFFIX = {
    ServiceCentreKind.CENTRE: "退役军人服务中心",
    ServiceCentreKind.STATION: "退役军人服务站",
}


def _clean_text(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


def create_service_centre(user: Any, region: Region, **fields: Any) -> ServiceCentre:
    require(user, Action.CHANGE, region.code, what="regions.service_centre.create")
    fields = _clean_text({k: v for k, v in fields.items() if k in CENTRE_FIELDS})
    kind = ServiceCentreKind.CENTRE if region.is_centre_level else ServiceCentreKind.STATION
    fields.setdefault("name", f"{region.name}{DEFAULT_NAME_SUFFIX[kind]}")
    centre = ServiceCentre(region=region, region_code=region.code, kind=kind, **fields)
    centre.full_clean()
    with transaction.atomic():
        centre.save(force_insert=True)
        audit.record("regions.service_centre.create", actor=user, obj=centre, detail={"name": centre.name})
        events.emit("regions.service_centre.created", id=centre.pk, region_code=centre.region_code)
    return centre


def update_service_centre(user: Any, centre: ServiceCentre, **fields: Any) -> ServiceCentre:
    require(user, Action.CHANGE, centre.region_code, what="regions.service_centre.update")
    changes = {k: v for k, v in _clean_text(fields).items() if k in CENTRE_FIELDS and getattr(centre, k) != v}
    if not changes:
        return centre
    for key, value in changes.items():
        setattr(centre, key, value)
    centre.full_clean(validate_unique=False)
    with transaction.atomic():
        centre.save(update_fields=[*changes, "updated_at"])
        audit.record(
            "regions.service_centre.update", actor=user, obj=centre, detail={"fields": sorted(changes)}
        )
        events.emit("regions.service_centre.updated", id=centre.pk, region_code=centre.region_code)
    return centre


def _check_liaison_name(point: LiaisonPoint) -> None:
    """A field error for a duplicate name (the database constraint stays the last word under races)."""
    same = LiaisonPoint.objects.filter(service_centre_id=point.service_centre_id, name=point.name)
    if same.exclude(pk=point.pk).exists():
        raise ValidationError({"name": LiaisonPoint._meta.constraints[0].violation_error_message})


def create_liaison_point(user: Any, centre: ServiceCentre, **fields: Any) -> LiaisonPoint:
    require(user, Action.CHANGE, centre.region_code, what="regions.liaison_point.create")
    fields = _clean_text({k: v for k, v in fields.items() if k in LIAISON_FIELDS})
    point = LiaisonPoint(service_centre=centre, region_code=centre.region_code, **fields)
    _check_liaison_name(point)
    point.full_clean()
    with transaction.atomic():
        point.save(force_insert=True)
        audit.record("regions.liaison_point.create", actor=user, obj=point, detail={"name": point.name})
        events.emit("regions.liaison_point.created", id=point.pk, region_code=point.region_code)
    return point


def update_liaison_point(user: Any, point: LiaisonPoint, **fields: Any) -> LiaisonPoint:
    require(user, Action.CHANGE, point.region_code, what="regions.liaison_point.update")
    changes = {k: v for k, v in _clean_text(fields).items() if k in LIAISON_FIELDS and getattr(point, k) != v}
    if not changes:
        return point
    for key, value in changes.items():
        setattr(point, key, value)
    _check_liaison_name(point)
    point.full_clean()
    with transaction.atomic():
        point.save(update_fields=[*changes, "updated_at"])
        audit.record(
            "regions.liaison_point.update", actor=user, obj=point, detail={"fields": sorted(changes)}
        )
        events.emit("regions.liaison_point.updated", id=point.pk, region_code=point.region_code)
    return point
