"""Run cards (response plans) and incidents: open with the plan and the first round, change, reveal the
reporter's phone (audited), close with the outcome (which records the responders' hours)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.dispatch import locations
from vetvol.dispatch.actions.common import incident_payload, set_invitation
from vetvol.dispatch.actions.rounds import dispatch_round
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    Incident,
    IncidentStatus,
    IncidentType,
    Invitation,
    InvitationStatus,
    Need,
    RunCard,
    RunCardRole,
)
from vetvol.regions.models import Region
from vetvol.registry.models import CertificateType, Skill


# -- run cards ---------------------------------------------------------------------------------------------
def _clean_roles(roles: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    skills = set(Skill.objects.values_list("code", flat=True))
    certs = set(CertificateType.objects.values_list("code", flat=True))
    errors: list[str] = []
    cleaned = []
    if not roles:
        errors.append("至少需要一个岗位")
    for i, role in enumerate(roles, 1):
        name = str(role.get("name") or "").strip()[:40]
        skill, cert = str(role.get("skill_code") or ""), str(role.get("certificate_code") or "")
        count = role.get("count")
        if not name:
            errors.append(f"第 {i} 个岗位缺少名称")
        if skill and skill not in skills:
            errors.append(f"未知技能：{skill}")
        if cert and cert not in certs:
            errors.append(f"未知证书：{cert}")
        if not isinstance(count, int) or not 1 <= count <= 500:
            errors.append(f"第 {i} 个岗位人数应为 1–500")
        cleaned.append({"name": name, "skill_code": skill, "certificate_code": cert, "count": count})
    if errors:
        raise ValidationError({"roles": errors})
    return cleaned


def save_run_card(
    actor: Any,
    *,
    region: Region,
    incident_type: str,
    level: int,
    roles: Sequence[dict[str, Any]],
    note: str = "",
) -> RunCard:
    """Create or replace the run card for (type, level) on a region node; admins of that node only."""
    require(actor, Action.MANAGE_USERS, region.code, what="dispatch.run_card.save")
    errors: dict[str, list[str]] = {}
    if incident_type not in IncidentType.values:
        errors["incident_type"] = ["未知事件类型"]
    if level not in (1, 2, 3, 4):
        errors["level"] = ["等级应为 1–4"]
    if errors:
        raise ValidationError(errors)
    cleaned = _clean_roles(roles)
    with transaction.atomic():
        card, created = RunCard.objects.update_or_create(
            incident_type=incident_type, level=level, region_code=region.code, defaults={"note": note[:200]}
        )
        card.roles.all().delete()
        RunCardRole.objects.bulk_create([RunCardRole(run_card=card, **r) for r in cleaned])
        audit.record(
            "dispatch.run_card.save", actor=actor, obj=card, detail={"created": created, "roles": cleaned}
        )
    return card


def delete_run_card(actor: Any, card: RunCard) -> None:
    require(actor, Action.MANAGE_USERS, card.region_code, what="dispatch.run_card.delete")
    with transaction.atomic():
        audit.record("dispatch.run_card.delete", actor=actor, obj=card)
        card.delete()


def run_card_for(incident_type: str, level: int, region_code: str) -> RunCard | None:
    """The most specific card on the incident's branch; the nearest level if none has this level."""
    prefixes = [region_code[:n] for n in range(2, len(region_code) + 1)]
    cards = list(RunCard.objects.filter(incident_type=incident_type, region_code__in=prefixes))
    if not cards:
        return None
    return min(cards, key=lambda c: (abs(c.level - level), -len(c.region_code), -c.level))


# -- incidents ---------------------------------------------------------------------------------------------
def create_incident(
    actor: Any,
    *,
    region: Region,
    type: str,
    level: int,
    title: str,
    lat: float,
    lng: float,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    commander: Any = None,
    risky: bool = False,
    roles: Sequence[dict[str, Any]] | None = None,
    dispatch: bool = True,
    now: datetime | None = None,
) -> Incident:
    """Open an incident in `region` (change rights there), plan its needs from the run card (or `roles`
    given explicitly) and, unless `dispatch=False`, run the first invitation round."""
    require(actor, Action.CHANGE, region.code, what="dispatch.incident.create")
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if type not in IncidentType.values:
        errors["type"] = ["未知事件类型"]
    if level not in (1, 2, 3, 4):
        errors["level"] = ["等级应为 1–4"]
    if not title.strip():
        errors["title"] = ["请填写标题"]
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors["lat"] = ["坐标无效"]
    if errors:
        raise ValidationError(errors)
    if roles is not None:
        plan = _clean_roles(roles)
    else:
        card = run_card_for(type, level, region.code)
        plan = [
            {
                "name": r.name,
                "skill_code": r.skill_code,
                "certificate_code": r.certificate_code,
                "count": r.count,
            }
            for r in (card.roles.all() if card else [])
        ]
    with transaction.atomic():
        incident = Incident.objects.create(
            region_code=region.code,
            type=type,
            level=level,
            title=title.strip()[:120],
            lat=lat,
            lng=lng,
            address=address.strip()[:200],
            reporter_name=reporter_name.strip()[:50],
            reporter_phone=reporter_phone.strip(),
            commander=commander or (actor if getattr(actor, "is_authenticated", False) else None),
            risky=risky,
            opened_at=now,
        )
        Need.objects.bulk_create([Need(incident=incident, **r) for r in plan])
        audit.record("dispatch.incident.open", actor=actor, obj=incident, detail={"needs": plan})
        events.emit("dispatch.incident.opened", **incident_payload(incident))
        if dispatch:
            dispatch_round(incident, now=now)
    return incident


def update_incident(actor: Any, incident: Incident, **fields: Any) -> Incident:
    """Change level, title, address, commander, risky, or move to on scene."""
    require(actor, Action.CHANGE, incident.region_code, what="dispatch.incident.update")
    allowed = {"level", "title", "address", "commander", "risky", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({"body": [f"不能修改：{', '.join(sorted(unknown))}"]})
    if incident.status == IncidentStatus.CLOSED:
        raise ValidationError({"status": ["事件已结束"]})
    if "status" in fields and fields["status"] not in (IncidentStatus.DISPATCHING, IncidentStatus.ON_SCENE):
        raise ValidationError({"status": ["结束事件请使用“结束”操作"]})
    if "level" in fields and fields["level"] not in (1, 2, 3, 4):
        raise ValidationError({"level": ["等级应为 1–4"]})
    with transaction.atomic():
        for k, v in fields.items():
            setattr(incident, k, v)
        incident.save()
        audit.record("dispatch.incident.update", actor=actor, obj=incident, detail={"fields": sorted(fields)})
        events.emit("dispatch.incident.updated", **incident_payload(incident))
    return incident


REVEALABLE = ("reporter_phone",)  # masked on the incident page and in the API; revealed one at a time


def reveal(actor: Any, incident: Incident, field: str) -> str:
    """The full value of a masked field of an incident, for a viewer with the unmask right in its region;
    every reveal is audited, and so is a refusal."""
    if field not in REVEALABLE:
        raise PermissionDenied(field)
    require(actor, Action.UNMASK, incident.region_code, what="dispatch.incident.unmask")
    audit.record("dispatch.incident.unmask", actor=actor, obj=incident, detail={"field": field})
    return str(getattr(incident, field))


def close_incident(
    actor: Any,
    incident: Incident,
    *,
    people_rescued: int = 0,
    bodies_recovered: int = 0,
    people_served: int = 0,
    summary: str = "",
    now: datetime | None = None,
) -> Incident:
    """Close: active assignments end as done, pending invitations are cancelled, live positions deleted,
    every done assignment's hours are recorded (source "dispatch"), the outcome is stored."""
    from vetvol.activities.actions.hours import record_dispatch_hours

    require(actor, Action.CHANGE, incident.region_code, what="dispatch.incident.close")
    now = now or timezone.now()
    if min(people_rescued, bodies_recovered, people_served) < 0:
        raise ValidationError({"outcome": ["人数不能为负"]})
    with transaction.atomic():
        updated = (
            Incident.objects.filter(pk=incident.pk)
            .exclude(status=IncidentStatus.CLOSED)
            .update(
                status=IncidentStatus.CLOSED,
                closed_at=now,
                people_rescued=people_rescued,
                bodies_recovered=bodies_recovered,
                people_served=people_served,
                summary=summary.strip()[:5000],
                updated_at=now,
            )
        )
        if updated != 1:
            raise ValidationError({"status": ["事件已结束"]})
        for inv in Invitation.objects.filter(incident=incident, status=InvitationStatus.PENDING):
            set_invitation(inv, InvitationStatus.CANCELLED, now)
        active = Assignment.objects.filter(incident=incident, status__in=ACTIVE_ASSIGNMENT)
        for asg in active:
            locations.clear_live(asg.volunteer_id)
        active.update(status=AssignmentStatus.DONE, done_at=now, status_at=now)
        hours = 0
        for asg in Assignment.objects.filter(incident=incident, status=AssignmentStatus.DONE).select_related(
            "volunteer"
        ):
            rec = record_dispatch_hours(
                asg.volunteer,
                started_at=asg.accepted_at,
                ended_at=asg.done_at or now,
                region_code=incident.region_code,
                content=f"应急调度：{incident.title}",
                actor=actor,
            )
            hours += rec.minutes if rec else 0
        incident.refresh_from_db()
        audit.record(
            "dispatch.incident.close",
            actor=actor,
            obj=incident,
            detail={
                "people_rescued": people_rescued,
                "bodies_recovered": bodies_recovered,
                "people_served": people_served,
                "minutes": hours,
            },
        )
        events.emit(
            "dispatch.incident.closed",
            **incident_payload(incident),
            people_rescued=people_rescued,
            bodies_recovered=bodies_recovered,
            people_served=people_served,
        )
    return incident
