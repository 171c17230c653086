"""The answers: a team invited as a whole and its leader's picks; the volunteer accepts or declines,
moves the assignment along and shares their position while on duty."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.dispatch import locations
from vetvol.dispatch.actions.common import incident_payload, iso, set_invitation
from vetvol.dispatch.actions.rounds import invite, open_slots
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    STATUS_FLOW,
    Assignment,
    AssignmentStatus,
    Incident,
    IncidentStatus,
    Invitation,
    InvitationStatus,
    Need,
    TeamInvitation,
)
from vetvol.registry.models import Team, Volunteer


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
        sent = [invite(incident, need, v, None, now, 0, team_invitation) for v in wanted]
        audit.record("dispatch.team.assign", actor=actor, obj=incident, detail={"volunteer_ids": wanted})
    return sent


# -- the volunteer's side --------------------------------------------------------------------------------
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
            set_invitation(invitation, InvitationStatus.EXPIRED, now)
        raise ValidationError({"invitation": ["邀请已超时"]})
    if not accept:
        with transaction.atomic():
            if not set_invitation(invitation, InvitationStatus.DECLINED, now):
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
                set_invitation(other, InvitationStatus.CANCELLED, now)
            audit.record("dispatch.invitation.accept", actor=user, obj=invitation)
    except RoleFull:
        with transaction.atomic():
            set_invitation(invitation, InvitationStatus.CANCELLED, now)
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
        at=iso(a.status_at),
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
            events.emit("dispatch.incident.updated", **incident_payload(assignment.incident))
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
            at=iso(at),
            region_code=assignment.region_code,
        )
    return True
