"""What the dispatch actions share: search radii, the invitation timeout, event payloads, and the one
way an invitation changes state (with its event)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from vetvol.core import events
from vetvol.dispatch.models import (
    Incident,
    Invitation,
    InvitationStatus,
)

RADII_KM: tuple[float, ...] = (5.0, 10.0, 20.0, 30.0)


def invitation_timeout() -> timedelta:
    value = getattr(settings, "VETVOL_INVITATION_TIMEOUT_S", None) or os.environ.get(
        "VETVOL_INVITATION_TIMEOUT_S"
    )
    return timedelta(seconds=int(value or 60))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def incident_payload(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "type": incident.type,
        "level": incident.level,
        "status": incident.status,
        "title": incident.title,
        "lat": incident.lat,
        "lng": incident.lng,
        "risky": incident.risky,
        "region_code": incident.region_code,
    }


def set_invitation(inv: Invitation, status: str, now: datetime) -> bool:
    done = Invitation.objects.filter(pk=inv.pk, status=InvitationStatus.PENDING).update(
        status=status, answered_at=now, updated_at=now
    )
    if done:
        inv.status, inv.answered_at = status, now
        name = (
            "dispatch.invitation.expired"
            if status == InvitationStatus.EXPIRED
            else "dispatch.invitation.answered"
        )
        events.emit(
            name,
            id=inv.pk,
            incident_id=inv.incident_id,
            need_id=inv.need_id,
            volunteer_id=inv.volunteer_id,
            status=status,
            region_code=inv.region_code,
        )
    return bool(done)
