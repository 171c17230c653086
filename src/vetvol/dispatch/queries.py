"""Dispatch reads, always scoped: incidents with their needs and shortfalls, my invitations, team totals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers, get_for_user
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    Incident,
    Invitation,
    InvitationStatus,
    Need,
    RunCard,
    TeamInvitation,
)
from vetvol.registry.models import Volunteer
from vetvol.registry.models.teams import Membership

REASONS = {
    "waiting": "等待志愿者回复",
    "searching": "正在扩大搜索范围",
    "none_qualified": "{km:g} 公里内无符合条件的志愿者",
    "all_declined": "{km:g} 公里内符合条件的志愿者均已拒绝或未回复",
    "bad_role": "岗位要求的技能或证书不存在",
}


def get_incident_for_user(user: Any, pk: int, action: str = Action.VIEW) -> Incident:
    return get_for_user(Incident.objects.all(), user, action, pk=pk)


def get_run_card_for_user(user: Any, pk: int, action: str = Action.VIEW) -> RunCard:
    return get_for_user(RunCard.objects.all(), user, action, pk=pk)


def own_invitation(user: Any, pk: int) -> Invitation:
    """The caller's own invitation; anyone else's is 404 (accepting is personal)."""
    inv = (
        Invitation.objects.select_related("volunteer", "incident", "need")
        .filter(pk=pk, volunteer__user_id=getattr(user, "pk", None))
        .first()
    )
    if inv is None:
        from django.http import Http404

        raise Http404
    return inv


def own_assignment(user: Any, pk: int) -> Assignment:
    asg = (
        Assignment.objects.select_related("volunteer", "incident")
        .filter(pk=pk, volunteer__user_id=getattr(user, "pk", None))
        .first()
    )
    if asg is None:
        from django.http import Http404

        raise Http404
    return asg


def get_team_invitation_for_user(user: Any, pk: int) -> TeamInvitation:
    return get_for_user(
        TeamInvitation.objects.select_related("incident", "need", "team"), user, Action.VIEW, pk=pk
    )


def shortfall(need: Need, incident: Incident) -> dict[str, Any] | None:
    """Why a role is short, derived from its invitations and how far the search has widened."""
    from vetvol.dispatch.actions import RADII_KM, role_filter

    missing = need.count - need.filled
    if missing <= 0:
        return None
    statuses = list(need.invitations.values_list("status", flat=True))
    pending = statuses.count(InvitationStatus.PENDING)
    km = RADII_KM[need.radius_step]
    if role_filter(need, incident) is None:
        code = "bad_role"
    elif pending:
        code = "waiting"
    elif need.radius_step < len(RADII_KM) - 1 and incident.status != "closed":
        code = "searching"
    elif any(s in (InvitationStatus.DECLINED, InvitationStatus.EXPIRED) for s in statuses):
        code = "all_declined"
    else:
        code = "none_qualified"
    return {"missing": missing, "pending": pending, "reason": code, "detail": REASONS[code].format(km=km)}


def incident_detail(incident: Incident, user: Any) -> dict[str, Any]:
    """The incident page's and API's view of one incident: needs with shortfalls, invitations, assignments;
    the reporter's phone masked for everyone (`can_reveal` says who may reveal it)."""
    from vetvol.dispatch.actions import RADII_KM

    needs = []
    for need in incident.needs.all():
        needs.append(
            {
                "id": need.pk,
                "name": need.name,
                "skill_code": need.skill_code,
                "certificate_code": need.certificate_code,
                "count": need.count,
                "filled": need.filled,
                "radius_km": RADII_KM[need.radius_step],
                "shortfall": shortfall(need, incident),
            }
        )
    return {
        **incident_row(incident),
        "address": incident.address,
        "reporter_name": incident.reporter_name,
        # Masked for everyone, with the one masking pattern; the full number is one audited reveal away
        # (actions.reveal) for those who may unmask in the incident's region.
        "reporter_phone": mask(incident.reporter_phone, "phone"),
        "can_reveal": covers(allowed_prefixes(user, Action.UNMASK), incident.region_code),
        "commander": incident.commander.get_username() if incident.commander else "",
        "people_rescued": incident.people_rescued,
        "bodies_recovered": incident.bodies_recovered,
        "people_served": incident.people_served,
        "summary": incident.summary,
        "needs": needs,
        "invitations": [
            {
                "id": i.pk,
                "need_id": i.need_id,
                "volunteer_id": i.volunteer_id,
                "volunteer": i.volunteer.number,
                "status": i.status,
                "distance_km": i.distance_km,
                "sent_at": i.sent_at,
                "expires_at": i.expires_at,
                "team_id": i.team_invitation.team_id if i.team_invitation else None,
            }
            for i in incident.invitations.select_related("volunteer", "team_invitation")
        ],
        "assignments": [
            {
                "id": a.pk,
                "need_id": a.need_id,
                "volunteer_id": a.volunteer_id,
                "volunteer": a.volunteer.number,
                "status": a.status,
                "accepted_at": a.accepted_at,
                "done_at": a.done_at,
            }
            for a in incident.assignments.select_related("volunteer")
        ],
    }


def incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "type": incident.type,
        "level": incident.level,
        "title": incident.title,
        "status": incident.status,
        "lat": incident.lat,
        "lng": incident.lng,
        "risky": incident.risky,
        "region_code": incident.region_code,
        "opened_at": incident.opened_at,
        "closed_at": incident.closed_at,
    }


def my_invitations(user: Any) -> list[Invitation]:
    return list(
        Invitation.objects.filter(
            volunteer__user_id=user.pk,
            status=InvitationStatus.PENDING,
            expires_at__gt=timezone.now(),
        ).select_related("incident", "need")
    )


def eligible_team_members(team_invitation: TeamInvitation, *, now: datetime | None = None) -> list[Volunteer]:
    """Current members of the team who could take the role now (same rules as the candidate search, no
    distance limit: the leader knows where their people are)."""
    from vetvol.dispatch.actions import role_filter
    from vetvol.dispatch.search import eligible

    now = now or timezone.now()
    role = role_filter(team_invitation.need, team_invitation.incident)
    if role is None:
        return []
    members = Membership.objects.filter(team=team_invitation.team, left_on=None).values("volunteer_id")
    ids = eligible(role, now).filter(volunteer_id__in=members).values("volunteer_id")
    return list(Volunteer.objects.filter(pk__in=ids).order_by("number"))


def team_totals(team_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Outcomes summed by the teams of assigned volunteers: missions (closed incidents with at least one of
    the team's members done on them), rescued, bodies recovered, served, distinct volunteers, minutes."""
    from vetvol.activities.models import HourRecord
    from vetvol.activities.queries import counting_q

    done = Assignment.objects.filter(status=AssignmentStatus.DONE, incident__status="closed")
    memberships = Membership.objects.filter(volunteer_id__in=done.values("volunteer_id"))
    if team_ids is not None:
        memberships = memberships.filter(team_id__in=team_ids)
    rows: dict[int, dict[str, Any]] = {}
    by_volunteer: dict[int, list[tuple[int, Any, Any]]] = {}
    for team_id, vid, joined, left in memberships.values_list(
        "team_id", "volunteer_id", "joined_on", "left_on"
    ):
        by_volunteer.setdefault(vid, []).append((team_id, joined, left))
    incidents: dict[int, set[int]] = {}
    volunteers: dict[int, set[int]] = {}
    for vid, inc_id, accepted in done.values_list("volunteer_id", "incident_id", "accepted_at"):
        day = timezone.localtime(accepted).date()
        for team_id, joined, left in by_volunteer.get(vid, []):
            if joined <= day and (left is None or day <= left):
                incidents.setdefault(team_id, set()).add(inc_id)
                volunteers.setdefault(team_id, set()).add(vid)
    outcome = {
        i["pk"]: i
        for i in Incident.objects.filter(pk__in={i for s in incidents.values() for i in s}).values(
            "pk", "people_rescued", "bodies_recovered", "people_served"
        )
    }
    for team_id, inc_ids in incidents.items():
        minutes = (
            HourRecord.objects.filter(source="dispatch", volunteer_id__in=volunteers[team_id])
            .filter(counting_q())  # pending, rejected and superseded records do not count
            .aggregate(m=Sum("minutes"))["m"]
            or 0
        )
        rows[team_id] = {
            "team_id": team_id,
            "missions": len(inc_ids),
            "people_rescued": sum(outcome[i]["people_rescued"] for i in inc_ids),
            "bodies_recovered": sum(outcome[i]["bodies_recovered"] for i in inc_ids),
            "people_served": sum(outcome[i]["people_served"] for i in inc_ids),
            "volunteers": len(volunteers[team_id]),
            "minutes": minutes,
        }
    return sorted(rows.values(), key=lambda r: -r["missions"])


def active_assignment(volunteer_id: int) -> Assignment | None:
    return Assignment.objects.filter(volunteer_id=volunteer_id, status__in=ACTIVE_ASSIGNMENT).first()
