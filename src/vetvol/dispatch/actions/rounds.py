"""Invitation rounds: who may take a role, invite the best candidates (widening the radius), several
incidents at once, and the clock that expires unanswered invitations and runs the next round."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vetvol.core import audit, events, failpoints
from vetvol.dispatch.actions.common import RADII_KM, incident_payload, invitation_timeout, iso, set_invitation
from vetvol.dispatch.models import (
    Incident,
    IncidentStatus,
    Invitation,
    InvitationStatus,
    Need,
    TeamInvitation,
)
from vetvol.dispatch.search import RoleFilter, eligible, in_box, search_candidates
from vetvol.registry.models import CertificateType, Skill


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


def invite(
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
        expires_at=iso(inv.expires_at),
        region_code=incident.region_code,
    )
    return inv


def _start_dispatching(incident: Incident) -> None:
    if Incident.objects.filter(pk=incident.pk, status=IncidentStatus.REPORTED).update(
        status=IncidentStatus.DISPATCHING
    ):
        incident.status = IncidentStatus.DISPATCHING
        events.emit("dispatch.incident.updated", **incident_payload(incident))


def _next_round(incident: Incident) -> int:
    return (max(incident.invitations.values_list("round", flat=True), default=0) or 0) + 1


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
        round_no = _next_round(incident)
        for need in incident.needs.all():
            role = role_filter(need, incident)
            wanted = open_slots(need)
            while wanted > 0 and role is not None:
                found = search_candidates(
                    incident.lat, incident.lng, role, k=wanted, radius_km=RADII_KM[need.radius_step], now=now
                )
                for cand in found:
                    sent.append(invite(incident, need, cand.volunteer_id, cand.distance_km, now, round_no))
                wanted -= len(found)
                if wanted <= 0 or need.radius_step >= len(RADII_KM) - 1:
                    break
                need.radius_step += 1
                Need.objects.filter(pk=need.pk).update(radius_step=need.radius_step)
        if sent:
            audit.record("dispatch.round", obj=incident, detail={"round": round_no, "invited": len(sent)})
        failpoints.pause("dispatch.round")  # a crash test's kill: the round written, not committed
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
        # Each incident's invitations carry its own next round number and get its round record, as in
        # dispatch_round: a batch round is one round of each incident it invites for.
        round_of = {incident.pk: _next_round(incident) for incident in locked}
        invited: dict[int, int] = {}
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
                    sent.append(invite(incident, need, volunteer_id, km, now, round_of[incident.pk]))
                    invited[incident.pk] = invited.get(incident.pk, 0) + 1
        for _, need, _, _ in open_needs:
            if open_slots(need) > 0 and need.radius_step < len(RADII_KM) - 1:
                Need.objects.filter(pk=need.pk).update(radius_step=F("radius_step") + 1)
        for incident in locked:
            if invited.get(incident.pk):
                detail = {"round": round_of[incident.pk], "invited": invited[incident.pk], "batch": True}
                audit.record("dispatch.round", obj=incident, detail=detail)
        failpoints.pause("dispatch.round")
    return sent


# -- the clock ---------------------------------------------------------------------------------------------
def expire_invitations(now: datetime | None = None) -> int:
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for inv in Invitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=now):
            count += set_invitation(inv, InvitationStatus.EXPIRED, now)
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
