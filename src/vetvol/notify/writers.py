"""Which events tell whom what. Each writer runs inside the transaction that emits its event
(`core.events.record_with`), so the notification and its deliveries commit with the change or not at all.
Texts sent through push and SMS providers name no third person in full (recipients' names are masked)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vetvol.core import events
from vetvol.core.masking import mask
from vetvol.notify.actions import Message, cancel_escalation, enqueue, mark_subject_seen


def _users_of(volunteer_ids: list[int]) -> dict[int, tuple[int, str]]:
    """volunteer id → (user id, region code), for volunteers who have an account."""
    from vetvol.registry.models import Volunteer

    rows = Volunteer.objects.filter(pk__in=volunteer_ids, user__isnull=False).values_list(
        "pk", "user_id", "region_code"
    )
    return {pk: (uid, region) for pk, uid, region in rows}


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M") if value else ""


def on_invitation_sent(name: str, p: dict[str, Any]) -> None:
    from vetvol.dispatch.models import Incident

    incident = Incident.objects.filter(pk=p["incident_id"]).values_list("title", flat=True).first() or ""
    context = {"incident": incident, "role": p.get("role") or "", "km": f"{p.get('distance_km') or 0:.1f}"}
    if p.get("volunteer_id"):
        user = _users_of([p["volunteer_id"]]).get(p["volunteer_id"])
        if user:
            enqueue(
                [
                    Message(
                        user[0],
                        "dispatch.invitation",
                        str(p["id"]),
                        context,
                        url=reverse("dispatch:me"),
                        region_code=p.get("region_code") or user[1],
                        subject=f"dispatch.invitation:{p['id']}",
                    )
                ]
            )
        return
    if p.get("team_invitation_id") and p.get("team_id"):
        from vetvol.registry.models.teams import LEADING_ROLES, Membership, Team

        team = Team.objects.filter(pk=p["team_id"]).values_list("name", flat=True).first() or ""
        leaders = Membership.objects.filter(
            team_id=p["team_id"], role__in=LEADING_ROLES, left_on=None, volunteer__user__isnull=False
        ).values_list("volunteer__user_id", flat=True)
        enqueue(
            [
                Message(
                    uid,
                    "dispatch.team_invitation",
                    str(p["team_invitation_id"]),
                    {**context, "team": team},
                    url=reverse("dispatch:team_invitations"),
                    region_code=p.get("region_code") or "",
                    subject=f"dispatch.team_invitation:{p['team_invitation_id']}",
                )
                for uid in leaders
            ]
        )


def on_invitation_settled(name: str, p: dict[str, Any]) -> None:
    """Answered or expired: no SMS escalation any more; an answer also means it was seen."""
    if not p.get("id"):
        return
    subject = f"dispatch.invitation:{p['id']}"
    if p.get("status") in ("accepted", "declined"):  # an answer means it was seen; a cancellation does not
        mark_subject_seen(subject)
        cancel_escalation(subject, "志愿者已回复")
    else:
        cancel_escalation(subject, "邀请已结束")


def _activity_messages(p: dict[str, Any], kind: str, key: str, **context: Any) -> None:
    from vetvol.activities.models import Activity

    activity = (
        Activity.objects.filter(pk=p["activity_id"]).values("title", "starts_at", "region_code").first()
    )
    user = _users_of([p["volunteer_id"]]).get(p["volunteer_id"])
    if not activity or not user:
        return
    ctx = {"activity": activity["title"], "starts": _when(activity["starts_at"]), **context}
    enqueue(
        [
            Message(
                user[0],
                kind,
                key,
                ctx,
                url=reverse("activities:detail", args=[p["activity_id"]]),
                region_code=activity["region_code"],
                subject=f"activities.activity:{p['activity_id']}",
            )
        ]
    )


SIGNUP_OUTCOMES = {"confirmed": _("已录取"), "rejected": _("未获录取"), "waitlisted": _("已列入候补名单")}


def on_signup_decided(name: str, p: dict[str, Any]) -> None:
    outcome = SIGNUP_OUTCOMES.get(p.get("status") or "")
    if outcome is not None:
        key = f"{p['activity_id']}:{p['status']}:{_stamp()}"
        _activity_messages(p, "activities.signup.decided", key, outcome=outcome)


def on_signup_promoted(name: str, p: dict[str, Any]) -> None:
    _activity_messages(p, "activities.signup.promoted", f"{p['activity_id']}:{_stamp()}")


STAR_OUTCOMES = {
    "activities.star.awarded": _("已获批准"),
    "activities.star.rejected": _("未获通过"),
    "activities.star.revoked": _("已被撤销"),
}
CERTIFICATE_OUTCOMES = {
    "activities.certificate.issued": _("已出具"),
    "activities.certificate.revoked": _("已被撤销"),
}


def _to_volunteer(volunteer_id: int, kind: str, key: str, context: dict[str, Any], url: str) -> None:
    user = _users_of([volunteer_id]).get(volunteer_id)
    if user:
        enqueue([Message(user[0], kind, key, context, url=url, region_code=user[1])])


def on_star(name: str, p: dict[str, Any]) -> None:
    _to_volunteer(
        p["volunteer_id"],
        "activities.star.decided",
        f"{name}:{p['stars']}:{_stamp()}",
        {"stars": p["stars"], "outcome": STAR_OUTCOMES[name]},
        reverse("activities:me"),
    )


def on_certificate(name: str, p: dict[str, Any]) -> None:
    _to_volunteer(
        p["volunteer_id"],
        "activities.certificate.decided",
        f"{name}:{p['number']}",
        {"number": p["number"], "outcome": CERTIFICATE_OUTCOMES[name]},
        reverse("activities:my_certificates"),
    )


def on_care_task(name: str, p: dict[str, Any]) -> None:
    from vetvol.care.models import CaseTask

    if not p.get("assignee_id"):
        return
    task = CaseTask.objects.filter(pk=p["id"]).select_related("case__recipient").first()
    if task is None:
        return
    _to_volunteer(
        p["assignee_id"],
        "care.task.assigned",
        str(task.pk),
        {"task": task.title, "recipient": mask(task.case.recipient.name, "name"), "due": _when(task.due_at)},
        reverse("care:me"),
    )


def on_campaign_assigned(name: str, p: dict[str, Any]) -> None:
    from vetvol.care.models import Campaign, CampaignTask

    campaign = Campaign.objects.filter(pk=p["id"]).values("name", "region_code").first()
    if not campaign or not p.get("tasks"):
        return
    per_volunteer: dict[int, int] = defaultdict(int)
    for volunteer_id in CampaignTask.objects.filter(pk__in=p["tasks"], volunteer__isnull=False).values_list(
        "volunteer_id", flat=True
    ):
        per_volunteer[volunteer_id] += 1
    users = _users_of(list(per_volunteer))
    stamp = _stamp()
    enqueue(
        [
            Message(
                users[vid][0],
                "care.campaign.visits",
                f"{p['id']}:{stamp}",
                {"campaign": campaign["name"], "count": count},
                url=reverse("care:me"),
                region_code=campaign["region_code"],
            )
            for vid, count in per_volunteer.items()
            if vid in users
        ]
    )


def on_help_invited(name: str, p: dict[str, Any]) -> None:
    from vetvol.care.models import HelpRequest

    request = HelpRequest.objects.filter(pk=p["id"]).first()
    if request is None:
        return
    users = _users_of(list(p.get("volunteer_ids") or []))
    enqueue(
        [
            Message(
                uid,
                "care.help.invitation",
                f"{request.pk}:{vid}",
                {"category": request.get_category_display()},
                url=reverse("care:me"),
                region_code=request.region_code,
                subject=f"care.help:{request.pk}",
            )
            for vid, (uid, _region) in users.items()
        ]
    )


IMPORT_STATUS = {"done": _("已完成"), "failed": _("失败")}


def on_import_finished(name: str, p: dict[str, Any]) -> None:
    from vetvol.registry.models import ImportJob

    job = ImportJob.objects.filter(pk=p["id"]).values("uploaded_by_id", "filename", "region_code").first()
    if not job:
        return
    enqueue(
        [
            Message(
                job["uploaded_by_id"],
                "registry.import.finished",
                str(p["id"]),
                {
                    "name": job["filename"],
                    "status": IMPORT_STATUS.get(p.get("status") or "", p.get("status") or ""),
                    "written": p.get("written") or 0,
                },
                url=reverse("registry:import_job", args=[p["id"]]),
                region_code=job["region_code"] or "",
            )
        ]
    )


def on_disbursement(name: str, p: dict[str, Any]) -> None:
    from vetvol.core.money import format_fen
    from vetvol.fund.models import Disbursement
    from vetvol.fund.queries import approvers

    d = Disbursement.objects.filter(pk=p["disbursement_id"]).first()
    if d is None:
        return
    context = {"number": d.number, "title": d.title, "amount": format_fen(d.amount)}
    url = reverse("fund:disbursement", args=[d.pk])
    if name == "fund.disbursement.requested":
        people = approvers(d)
        kind = "fund.disbursement.requested"
    else:
        people = [d.requested_by_id]
        kind = "fund.disbursement.decided"
        context["outcome"] = str(_("已获批准") if p.get("approved") else _("未获批准"))
    enqueue([Message(uid, kind, f"{d.pk}", context, url=url, region_code=d.region_code) for uid in people])


WRITERS = {
    "dispatch.invitation.sent": on_invitation_sent,
    "dispatch.invitation.answered": on_invitation_settled,
    "dispatch.invitation.expired": on_invitation_settled,
    "activities.signup.decided": on_signup_decided,
    "activities.signup.promoted": on_signup_promoted,
    "activities.star.awarded": on_star,
    "activities.star.rejected": on_star,
    "activities.star.revoked": on_star,
    "activities.certificate.issued": on_certificate,
    "activities.certificate.revoked": on_certificate,
    "care.task.added": on_care_task,
    "care.campaign.assigned": on_campaign_assigned,
    "care.help.invited": on_help_invited,
    "registry.import.finished": on_import_finished,
    "fund.disbursement.requested": on_disbursement,
    "fund.disbursement.decided": on_disbursement,
}


def register() -> None:
    for name, writer in WRITERS.items():
        events.record_with(name, writer)
