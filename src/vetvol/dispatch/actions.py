"""Dispatch actions: open an incident, invite by rounds, answer, move along, share position, close.

Every function: permission check before its transaction, one transaction, audit row, events after commit
(`dispatch.*`, payloads plain JSON with `region_code`). Nobody is assigned without accepting: dispatch only
invites. Claims are conditional UPDATEs decided by row count, backed by the constraints on the models.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.dispatch import locations
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    STATUS_FLOW,
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
    TeamInvitation,
)
from vetvol.dispatch.search import RoleFilter, eligible, in_box, search_candidates
from vetvol.regions.models import Region
from vetvol.registry.models import CertificateType, Skill, Team, Volunteer

RADII_KM: tuple[float, ...] = (5.0, 10.0, 20.0, 30.0)


def invitation_timeout() -> timedelta:
    value = getattr(settings, "VETVOL_INVITATION_TIMEOUT_S", None) or os.environ.get(
        "VETVOL_INVITATION_TIMEOUT_S"
    )
    return timedelta(seconds=int(value or 60))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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
def _incident_payload(incident: Incident) -> dict[str, Any]:
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
        events.emit("dispatch.incident.opened", **_incident_payload(incident))
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
        events.emit("dispatch.incident.updated", **_incident_payload(incident))
    return incident


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
            _set_invitation(inv, InvitationStatus.CANCELLED, now)
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
            **_incident_payload(incident),
            people_rescued=people_rescued,
            bodies_recovered=bodies_recovered,
            people_served=people_served,
        )
    return incident


# -- invitation rounds -------------------------------------------------------------------------------------
def role_filter(need: Need, incident: Incident) -> RoleFilter | None:
    """None when the role names a skill or certificate type that does not exist (nobody can qualify)."""
    skill_id = cert_id = None
    if need.skill_code:
        skill_id = Skill.objects.filter(code=need.skill_code).values_list("pk", flat=True).first()
        if skill_id is None:
            return None
    if need.certificate_code:
        cert_id = (
            CertificateType.objects.filter(code=need.certificate_code).values_list("pk", flat=True).first()
        )
        if cert_id is None:
            return None
    return RoleFilter(skill_id, cert_id, insured=incident.risky, exclude_incident_id=incident.pk)


def open_slots(need: Need) -> int:
    pending = need.invitations.filter(status=InvitationStatus.PENDING).count()
    return max(0, need.count - need.filled - pending)


def _invite(
    incident: Incident,
    need: Need,
    volunteer_id: int,
    km: float | None,
    now: datetime,
    round_no: int,
    team_invitation: TeamInvitation | None = None,
) -> Invitation:
    inv = Invitation.objects.create(
        incident=incident,
        need=need,
        volunteer_id=volunteer_id,
        team_invitation=team_invitation,
        region_code=incident.region_code,
        round=round_no,
        distance_km=km,
        sent_at=now,
        expires_at=now + invitation_timeout(),
    )
    events.emit(
        "dispatch.invitation.sent",
        id=inv.pk,
        incident_id=incident.pk,
        need_id=need.pk,
        role=need.name,
        volunteer_id=volunteer_id,
        team_id=team_invitation.team_id if team_invitation else None,
        distance_km=km,
        expires_at=_iso(inv.expires_at),
        region_code=incident.region_code,
    )
    return inv


def _start_dispatching(incident: Incident) -> None:
    if Incident.objects.filter(pk=incident.pk, status=IncidentStatus.REPORTED).update(
        status=IncidentStatus.DISPATCHING
    ):
        incident.status = IncidentStatus.DISPATCHING
        events.emit("dispatch.incident.updated", **_incident_payload(incident))


def dispatch_round(incident: Incident, *, now: datetime | None = None) -> list[Invitation]:
    """Invite the best candidates for each role's open slots, widening the radius step by step while a
    role finds fewer candidates than it needs. The incident row is locked so concurrent rounds queue."""
    now = now or timezone.now()
    sent: list[Invitation] = []
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status == IncidentStatus.CLOSED:
            return []
        _start_dispatching(incident)
        round_no = (max(incident.invitations.values_list("round", flat=True), default=0) or 0) + 1
        for need in incident.needs.all():
            role = role_filter(need, incident)
            wanted = open_slots(need)
            while wanted > 0 and role is not None:
                found = search_candidates(
                    incident.lat, incident.lng, role, k=wanted, radius_km=RADII_KM[need.radius_step], now=now
                )
                for cand in found:
                    sent.append(_invite(incident, need, cand.volunteer_id, cand.distance_km, now, round_no))
                wanted -= len(found)
                if wanted <= 0 or need.radius_step >= len(RADII_KM) - 1:
                    break
                need.radius_step += 1
                Need.objects.filter(pk=need.pk).update(radius_step=need.radius_step)
        if sent:
            audit.record("dispatch.round", obj=incident, detail={"round": round_no, "invited": len(sent)})
    return sent


def dispatch_batch(incidents: Sequence[Incident], *, now: datetime | None = None) -> list[Invitation]:
    """One round for several incidents at once (typhoon): `matching.assign` decides who is invited where
    (most slots, then least total km) over every open role; roles still short then widen their radius."""
    from vetvol.matching import Need as EngineNeed
    from vetvol.matching import VolunteerPool, assign

    now = now or timezone.now()
    sent: list[Invitation] = []
    with transaction.atomic():
        locked = list(
            Incident.objects.select_for_update()
            .filter(pk__in=[i.pk for i in incidents])
            .exclude(status=IncidentStatus.CLOSED)
            .order_by("pk")
        )
        open_needs: list[tuple[Incident, Need, RoleFilter, int]] = []
        for incident in locked:
            _start_dispatching(incident)
            for need in incident.needs.all():
                role = role_filter(need, incident)
                wanted = open_slots(need)
                if role is not None and wanted > 0:
                    open_needs.append((incident, need, role, wanted))
        for start in range(0, len(open_needs), 63):
            chunk = open_needs[start : start + 63]
            member: dict[int, tuple[float, float, int]] = {}
            for bit, (incident, need, role, _) in enumerate(chunk):
                radius = RADII_KM[need.radius_step]
                rows = in_box(eligible(role, now), incident.lat, incident.lng, radius).values_list(
                    "volunteer_id", "lat", "lng"
                )
                for vid, lat, lng in rows:
                    _, _, mask = member.get(vid, (lat, lng, 0))
                    member[vid] = (lat, lng, mask | (1 << bit))
            if not member:
                continue
            ids = sorted(member)
            pool = VolunteerPool(
                ids,
                [member[i][0] for i in ids],
                [member[i][1] for i in ids],
                skills=[member[i][2] for i in ids],
            )
            needs = [
                EngineNeed(incident.lat, incident.lng, skills=1 << bit, slots=wanted, need_id=bit)
                for bit, (incident, need, _, wanted) in enumerate(chunk)
            ]
            max_km = max(RADII_KM[n.radius_step] for _, n, _, _ in chunk)
            result = assign(needs, pool, now.timestamp(), max_km)
            for need_key, volunteer_id, km in result.pairs:
                incident, need, _, _ = chunk[int(need_key)]
                if km <= RADII_KM[need.radius_step]:
                    sent.append(_invite(incident, need, volunteer_id, km, now, 1))
        for _, need, _, _ in open_needs:
            if open_slots(need) > 0 and need.radius_step < len(RADII_KM) - 1:
                Need.objects.filter(pk=need.pk).update(radius_step=F("radius_step") + 1)
    return sent


# -- team invitations ------------------------------------------------------------------------------------
def invite_team(
    actor: Any, incident: Incident, need: Need, team: Team, *, now: datetime | None = None
) -> TeamInvitation:
    require(actor, Action.CHANGE, incident.region_code, what="dispatch.team.invite")
    if need.incident_id != incident.pk:
        raise Http404
    if incident.status == IncidentStatus.CLOSED:
        raise ValidationError({"incident": ["事件已结束"]})
    now = now or timezone.now()
    try:
        with transaction.atomic():
            ti = TeamInvitation.objects.create(
                incident=incident, need=need, team=team, invited_by=actor, region_code=incident.region_code
            )
            audit.record("dispatch.team.invite", actor=actor, obj=incident, detail={"team_id": team.pk})
            events.emit(
                "dispatch.invitation.sent",
                id=None,
                team_invitation_id=ti.pk,
                incident_id=incident.pk,
                need_id=need.pk,
                role=need.name,
                team_id=team.pk,
                volunteer_id=None,
                region_code=incident.region_code,
            )
    except IntegrityError:
        raise ValidationError({"team": ["该队伍已被邀请"]}) from None
    return ti


def assign_team_members(
    actor: Any, team_invitation: TeamInvitation, volunteer_ids: Iterable[int], *, now: datetime | None = None
) -> list[Invitation]:
    """The leader (or deputy) picks eligible members; each gets an invitation to accept or decline."""
    from vetvol.dispatch.queries import eligible_team_members

    if not TeamInvitation.objects.restrict(actor, Action.CHANGE).filter(pk=team_invitation.pk).exists():
        raise PermissionDenied("only the team's leader picks members")
    now = now or timezone.now()
    incident, need = team_invitation.incident, team_invitation.need
    allowed = {v.pk for v in eligible_team_members(team_invitation, now=now)}
    wanted = list(dict.fromkeys(int(v) for v in volunteer_ids))
    bad = [v for v in wanted if v not in allowed]
    if bad:
        raise ValidationError({"volunteer_ids": [f"这些队员不符合条件或已被邀请：{bad}"]})
    if len(wanted) > open_slots(need):
        raise ValidationError({"volunteer_ids": [f"该岗位还需 {open_slots(need)} 人"]})
    with transaction.atomic():
        sent = [_invite(incident, need, v, None, now, 0, team_invitation) for v in wanted]
        audit.record("dispatch.team.assign", actor=actor, obj=incident, detail={"volunteer_ids": wanted})
    return sent


# -- the volunteer's side --------------------------------------------------------------------------------
def _set_invitation(inv: Invitation, status: str, now: datetime) -> bool:
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


class RoleFull(ValidationError):
    pass


def answer_invitation(
    user: Any, invitation: Invitation, accept: bool, *, now: datetime | None = None
) -> Invitation:
    """Accept or decline one's own invitation. Accepting claims a slot (`filled < count`, by row count) and
    the volunteer's one active assignment (partial unique constraint); losing either race is a 422."""
    if invitation.volunteer.user_id != getattr(user, "pk", None):
        raise Http404
    now = now or timezone.now()
    wanted = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    if invitation.status == wanted:
        return invitation
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError({"invitation": [f"邀请已{invitation.get_status_display()}"]})
    if invitation.expires_at <= now:
        with transaction.atomic():
            _set_invitation(invitation, InvitationStatus.EXPIRED, now)
        raise ValidationError({"invitation": ["邀请已超时"]})
    if not accept:
        with transaction.atomic():
            if not _set_invitation(invitation, InvitationStatus.DECLINED, now):
                raise ValidationError({"invitation": ["邀请状态已变化，请刷新"]})
            audit.record("dispatch.invitation.decline", actor=user, obj=invitation)
        return invitation
    try:
        with transaction.atomic():
            if not Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
                status=InvitationStatus.ACCEPTED, answered_at=now, updated_at=now
            ):
                raise ValidationError({"invitation": ["邀请状态已变化，请刷新"]})
            claimed = Need.objects.filter(pk=invitation.need_id, filled__lt=F("count")).update(
                filled=F("filled") + 1
            )
            if claimed != 1:
                raise RoleFull({"invitation": ["该岗位已满员，感谢您的响应"]})
            assignment = Assignment.objects.create(
                incident_id=invitation.incident_id,
                need_id=invitation.need_id,
                invitation=invitation,
                volunteer_id=invitation.volunteer_id,
                region_code=invitation.region_code,
                accepted_at=now,
                status_at=now,
            )
            invitation.status, invitation.answered_at = InvitationStatus.ACCEPTED, now
            events.emit(
                "dispatch.invitation.answered",
                id=invitation.pk,
                incident_id=invitation.incident_id,
                need_id=invitation.need_id,
                volunteer_id=invitation.volunteer_id,
                status=InvitationStatus.ACCEPTED,
                region_code=invitation.region_code,
            )
            _emit_assignment(assignment)
            # now busy: other pending invitations lapse
            for other in Invitation.objects.filter(
                volunteer_id=invitation.volunteer_id, status=InvitationStatus.PENDING
            ).exclude(pk=invitation.pk):
                _set_invitation(other, InvitationStatus.CANCELLED, now)
            audit.record("dispatch.invitation.accept", actor=user, obj=invitation)
    except RoleFull:
        with transaction.atomic():
            _set_invitation(invitation, InvitationStatus.CANCELLED, now)
        raise
    except IntegrityError:
        raise ValidationError({"invitation": ["您已有进行中的任务"]}) from None
    return invitation


def _emit_assignment(a: Assignment) -> None:
    events.emit(
        "dispatch.assignment.status",
        id=a.pk,
        incident_id=a.incident_id,
        need_id=a.need_id,
        volunteer_id=a.volunteer_id,
        status=a.status,
        at=_iso(a.status_at),
        region_code=a.region_code,
    )


def set_assignment_status(
    user: Any, assignment: Assignment, status: str, *, now: datetime | None = None
) -> Assignment:
    """The volunteer moves their assignment along: en route → on scene → done."""
    if assignment.volunteer.user_id != getattr(user, "pk", None):
        raise Http404
    now = now or timezone.now()
    if status == assignment.status:
        return assignment
    if status not in STATUS_FLOW.get(assignment.status, ()):  # type: ignore[call-overload]
        raise ValidationError({"status": [f"不能从“{assignment.get_status_display()}”变为“{status}”"]})
    with transaction.atomic():
        fields: dict[str, Any] = {"status": status, "status_at": now, "updated_at": now}
        if status == AssignmentStatus.DONE:
            fields["done_at"] = now
        if not Assignment.objects.filter(pk=assignment.pk, status=assignment.status).update(**fields):
            raise ValidationError({"status": ["任务状态已变化，请刷新"]})
        for k, v in fields.items():
            setattr(assignment, k, v)
        if status == AssignmentStatus.DONE:
            locations.clear_live(assignment.volunteer_id)
        if status == AssignmentStatus.ON_SCENE and Incident.objects.filter(
            pk=assignment.incident_id, status__in=[IncidentStatus.REPORTED, IncidentStatus.DISPATCHING]
        ).update(status=IncidentStatus.ON_SCENE):
            events.emit("dispatch.incident.updated", **_incident_payload(assignment.incident))
        audit.record("dispatch.assignment.status", actor=user, obj=assignment, detail={"status": status})
        _emit_assignment(assignment)
    return assignment


def report_position(
    user: Any, assignment: Assignment, lat: float, lng: float, *, at: datetime | None = None
) -> bool:
    """Store the latest live position of a volunteer on duty (location consent required). A position older
    than `locations.live_max_age()` (30 minutes) is ignored (returns False). Only the latest is kept; it is
    deleted when duty ends."""
    volunteer: Volunteer = assignment.volunteer
    if volunteer.user_id != getattr(user, "pk", None):
        raise Http404
    if not volunteer.location_consent:
        raise ValidationError({"location": ["您未同意执勤时共享位置"]})
    if assignment.status not in ACTIVE_ASSIGNMENT:
        raise ValidationError({"assignment": ["任务已结束"]})
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError({"lat": ["坐标无效"]})
    now = timezone.now()
    at = at or now
    if at < now - locations.live_max_age() or at > now + timedelta(minutes=2):
        return False
    with transaction.atomic():
        locations.set_live(volunteer.pk, lat, lng, at)
        events.emit(
            "dispatch.position",
            volunteer_id=volunteer.pk,
            assignment_id=assignment.pk,
            incident_id=assignment.incident_id,
            lat=lat,
            lng=lng,
            at=_iso(at),
            region_code=assignment.region_code,
        )
    return True


# -- the clock ---------------------------------------------------------------------------------------------
def expire_invitations(now: datetime | None = None) -> int:
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for inv in Invitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=now):
            count += _set_invitation(inv, InvitationStatus.EXPIRED, now)
    return count


def tick(now: datetime | None = None) -> dict[str, int]:
    """Expire overdue invitations, then run the next round for every open incident with open slots (several
    incidents at once: one batch round through `matching.assign`). Production runs it every few seconds
    (`vetvol dispatch_tick --loop`, or from `vetvol simulate`)."""
    now = now or timezone.now()
    expired = expire_invitations(now)
    waiting = []
    for incident in Incident.objects.filter(status__in=[IncidentStatus.DISPATCHING, IncidentStatus.ON_SCENE]):
        if any(open_slots(n) > 0 and role_filter(n, incident) is not None for n in incident.needs.all()):
            waiting.append(incident)
    invited = 0
    if len(waiting) > 1:
        invited += len(dispatch_batch(waiting, now=now))
    else:
        for incident in waiting:
            invited += len(dispatch_round(incident, now=now))
    return {"expired": expired, "incidents": len(waiting), "invited": invited}
