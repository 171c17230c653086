"""Help requests (Art. 13) and complaints (Art. 26).

submitted → verified (or rejected) → inviting → accepted → done, then rated once. Volunteers are proposed
by the dispatch candidate search (skills, distance, availability, rest) re-ranked for care (continuity:
who served this recipient before; fairness: open care load), and invited; the first to accept takes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from vetvol.activities.actions.hours import record_care_hours
from vetvol.care.models import (
    CampaignTask,
    Complaint,
    ComplaintChannel,
    HelpCategory,
    HelpInvitation,
    HelpRequest,
    HelpStatus,
    InvitationStatus,
    Recipient,
    Visit,
)
from vetvol.core import audit, events, ids
from vetvol.core.scoping import Action, require, require_object
from vetvol.matching.visits import rank_for_service
from vetvol.registry.models import Skill, Volunteer

TEXT_LIMIT = 1000
SEARCH_KM = 20.0
COMPLAINT_DAYS = 15  # answer within


def _number(prefix: str) -> str:
    year = timezone.localdate().year
    return f"{prefix}{year}{ids.allocate(f'{prefix.lower()}_number_{year}')[0]:07d}"


def submit_help_request(
    actor: Any,
    recipient: Recipient,
    *,
    category: str,
    description: str,
    wanted_from: datetime,
    wanted_until: datetime,
    place: str = "",
    skill: Skill | None = None,
) -> HelpRequest:
    """Station staff place a request for a recipient (or the recipient's own request taken down by them)."""
    require(actor, Action.CHANGE_PEOPLE, recipient.region_code, what="care.help.submit")
    errors: dict[str, list[str]] = {}
    if category not in HelpCategory.values:
        errors["category"] = ["请选择需求类别"]
    description = (description or "").strip()
    if not description or len(description) > TEXT_LIMIT:
        errors["description"] = [f"请填写需求说明（最多 {TEXT_LIMIT} 字）"]
    if wanted_from is None or wanted_until is None:
        errors["wanted_from"] = ["请填写期望服务时间"]
    elif wanted_until < wanted_from:
        errors["wanted_until"] = ["结束时间不能早于开始时间"]
    elif wanted_until < timezone.now():
        errors["wanted_until"] = ["期望服务时间已过"]
    if len(place or "") > 200:
        errors["place"] = ["服务地点最多 200 字"]
    if recipient.status != "active":
        errors["recipient"] = ["该服务对象已迁出或已故"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        request = HelpRequest.objects.create(
            number=_number("H"),
            recipient=recipient,
            region_code=recipient.region_code,
            category=category,
            skill=skill,
            description=description,
            wanted_from=wanted_from,
            wanted_until=wanted_until,
            place=(place or "").strip(),
            lat=recipient.lat,
            lng=recipient.lng,
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        audit.record("care.help.submit", actor=actor, obj=request, detail={"category": category})
        events.emit("care.help.submitted", id=request.pk, region_code=request.region_code)
    return request


def _move(request: HelpRequest, frm: tuple[str, ...], to: str, **fields: Any) -> None:
    if not HelpRequest.objects.filter(pk=request.pk, status__in=frm).update(
        status=to, updated_at=timezone.now(), **fields
    ):
        current = HelpRequest.objects.get(pk=request.pk).get_status_display()
        raise ValidationError({"status": [f"该需求当前为“{current}”，不能进行此操作"]})


def verify_help_request(actor: Any, request: HelpRequest, *, approved: bool, note: str = "") -> HelpRequest:
    """Staff check the request is true and within the teams' work (Art. 13); a rejection needs a reason."""
    require_object(actor, Action.CHANGE, request, what="care.help.verify")
    note = (note or "").strip()[:300]
    if not approved and not note:
        raise ValidationError({"verify_note": ["核实未通过请说明原因"]})
    with transaction.atomic():
        _move(
            request,
            (HelpStatus.SUBMITTED,),
            HelpStatus.VERIFIED if approved else HelpStatus.REJECTED,
            verified_by=actor,
            verified_at=timezone.now(),
            verify_note=note,
        )
        audit.record("care.help.verify", actor=actor, obj=request, detail={"approved": approved})
    request.refresh_from_db()
    return request


def served_before(recipient: Recipient) -> set[int]:
    return set(
        Visit.objects.filter(recipient=recipient, volunteer__isnull=False).values_list(
            "volunteer_id", flat=True
        )
    ) | set(
        HelpRequest.objects.filter(recipient=recipient, status=HelpStatus.DONE).values_list(
            "volunteer_id", flat=True
        )
    )


def open_loads(volunteer_ids: list[int]) -> dict[int, int]:
    """Open care work each volunteer carries: assigned campaign visits and accepted help requests."""
    loads: dict[int, int] = {}
    for vid, n in (
        CampaignTask.objects.filter(volunteer_id__in=volunteer_ids, status="assigned")
        .values_list("volunteer_id")
        .annotate(n=Count("id"))
    ):
        loads[vid] = loads.get(vid, 0) + n
    for vid, n in (
        HelpRequest.objects.filter(volunteer_id__in=volunteer_ids, status=HelpStatus.ACCEPTED)
        .values_list("volunteer_id")
        .annotate(n=Count("id"))
    ):
        loads[vid] = loads.get(vid, 0) + n
    return loads


def propose_volunteers(request: HelpRequest, k: int = 5) -> list[tuple[Volunteer, float, bool]]:
    """The k best volunteers for the request: the dispatch search finds the eligible nearest (skill,
    availability, rest, not busy), care re-ranks them for continuity and fairness."""
    from vetvol.dispatch.search import RoleFilter, search_candidates

    if request.lat is None or request.lng is None:
        return []
    invited = set(request.invitations.values_list("volunteer_id", flat=True))
    found = search_candidates(
        request.lat,
        request.lng,
        RoleFilter(skill_id=request.skill_id),
        k=k * 3 + len(invited),
        radius_km=SEARCH_KM,
        now=max(request.wanted_from, timezone.now()),
    )
    found = [c for c in found if c.volunteer_id not in invited]
    before = served_before(request.recipient)
    # those who served the recipient before are always considered, even if the search ranked them lower
    ids_ = [c.volunteer_id for c in found]
    order = rank_for_service(
        ids_,
        [c.distance_km for c in found],
        served_before=before,
        open_load=open_loads(ids_),
    )[:k]
    by_id = Volunteer.objects.in_bulk(order)
    km = {c.volunteer_id: c.distance_km for c in found}
    return [(by_id[v], km[v], v in before) for v in order if v in by_id]


def invite_volunteers(
    actor: Any, request: HelpRequest, volunteers: list[Volunteer] | None = None
) -> list[HelpInvitation]:
    """Invite the proposed volunteers (or those staff picked); an invitation, never an order (Art. 25)."""
    require_object(actor, Action.CHANGE, request, what="care.help.invite")
    if request.status not in (HelpStatus.VERIFIED, HelpStatus.INVITING):
        raise ValidationError({"status": ["需求核实通过后才能邀请志愿者"]})
    if volunteers is None:
        proposals = propose_volunteers(request)
    else:
        before = served_before(request.recipient)
        proposals = [(v, 0.0, v.pk in before) for v in volunteers if v.status == "active"]
    if not proposals:
        raise ValidationError({"volunteers": ["附近暂无符合条件的志愿者，可扩大范围或稍后再试"]})
    now = timezone.now()
    with transaction.atomic():
        start = request.invitations.count()
        made = []
        for i, (volunteer, km, continuity) in enumerate(proposals):
            invitation, created = HelpInvitation.objects.get_or_create(
                request=request,
                volunteer=volunteer,
                defaults={"rank": start + i, "distance_km": km, "served_before": continuity, "sent_at": now},
            )
            if created:
                made.append(invitation)
        HelpRequest.objects.filter(pk=request.pk, status=HelpStatus.VERIFIED).update(
            status=HelpStatus.INVITING
        )
        audit.record(
            "care.help.invite", actor=actor, obj=request, detail={"invited": [i.volunteer_id for i in made]}
        )
        events.emit("care.help.invited", id=request.pk, volunteer_ids=[i.volunteer_id for i in made])
    request.refresh_from_db()
    return made


def _own_invitation(actor: Any, invitation: HelpInvitation) -> None:
    if invitation.volunteer.user_id is None or invitation.volunteer.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("not your invitation")


def accept_help(actor: Any, invitation: HelpInvitation) -> HelpRequest:
    """The volunteer accepts; the first acceptance takes the request (a conditional update decides)."""
    _own_invitation(actor, invitation)
    request = invitation.request
    now = timezone.now()
    with transaction.atomic():
        if not HelpInvitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.ACCEPTED, answered_at=now
        ):
            raise ValidationError({"invitation": ["该邀请已回复或已撤回"]})
        if not HelpRequest.objects.filter(pk=request.pk, status=HelpStatus.INVITING).update(
            status=HelpStatus.ACCEPTED, volunteer=invitation.volunteer, accepted_at=now, updated_at=now
        ):
            raise ValidationError({"invitation": ["该需求已由其他志愿者接单，感谢您的热心"]})
        HelpInvitation.objects.filter(request=request, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.WITHDRAWN, answered_at=now
        )
        audit.record(
            "care.help.accept", actor=actor, obj=request, detail={"volunteer_id": invitation.volunteer_id}
        )
        events.emit("care.help.accepted", id=request.pk, volunteer_id=invitation.volunteer_id)
    request.refresh_from_db()
    return request


def decline_help(actor: Any, invitation: HelpInvitation) -> HelpInvitation:
    _own_invitation(actor, invitation)
    with transaction.atomic():
        if not HelpInvitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.DECLINED, answered_at=timezone.now()
        ):
            raise ValidationError({"invitation": ["该邀请已回复或已撤回"]})
        audit.record("care.help.decline", actor=actor, obj=invitation.request)
    invitation.refresh_from_db()
    return invitation


def complete_help(actor: Any, request: HelpRequest, *, minutes: int, summary: str = "") -> HelpRequest:
    """The service is done: the volunteer who took it (or staff) records it; the hours go through the
    activities' hour rules (approved by the station before they count)."""
    volunteer = request.volunteer
    is_own = (
        volunteer is not None
        and volunteer.user_id is not None
        and volunteer.user_id == getattr(actor, "pk", None)
    )
    if not is_own:
        require_object(actor, Action.CHANGE, request, what="care.help.complete")
    if not 0 < int(minutes) <= 12 * 60:
        raise ValidationError({"minutes": ["服务时长应在 1 到 720 分钟之间"]})
    now = timezone.now()
    with transaction.atomic():
        _move(request, (HelpStatus.ACCEPTED,), HelpStatus.DONE, done_at=now, minutes=minutes)
        record = None
        if volunteer is not None:
            record = record_care_hours(
                volunteer,
                service_date=timezone.localdate(),
                minutes=minutes,
                region_code=request.region_code,
                content=f"帮扶需求 {request.number}：{request.get_category_display()}",
                actor=actor,
            )
            Visit.objects.create(
                recipient=request.recipient,
                volunteer=volunteer,
                region_code=request.region_code,
                visited_on=timezone.localdate(),
                summary=(summary or "").strip()[:1000],
                minutes=0,  # the hours are on the request's own record
                logged_by=actor,
            )
        if record is not None:
            HelpRequest.objects.filter(pk=request.pk).update(hour_record=record)
        audit.record("care.help.complete", actor=actor, obj=request, detail={"minutes": minutes})
        events.emit("care.help.done", id=request.pk)
    request.refresh_from_db()
    return request


def rate_help(actor: Any, request: HelpRequest, *, rating: int, comment: str = "") -> HelpRequest:
    """The recipient's rating, given once (by staff on their behalf where the recipient has no login)."""
    require_object(actor, Action.CHANGE, request, what="care.help.rate")
    if rating not in (1, 2, 3, 4, 5):
        raise ValidationError({"rating": ["评价应为 1 到 5 星"]})
    if request.status != HelpStatus.DONE:
        raise ValidationError({"rating": ["服务完成后才能评价"]})
    with transaction.atomic():
        if not HelpRequest.objects.filter(pk=request.pk, rated_at__isnull=True).update(
            rating=rating,
            rating_comment=(comment or "").strip()[:300],
            rated_at=timezone.now(),
            rated_by=actor,
        ):
            raise ValidationError({"rating": ["该服务已经评价过了，不能重复评价"]})
        audit.record("care.help.rate", actor=actor, obj=request, detail={"rating": rating})
    request.refresh_from_db()
    return request


def cancel_help_request(actor: Any, request: HelpRequest, reason: str) -> HelpRequest:
    require_object(actor, Action.CHANGE, request, what="care.help.cancel")
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ValidationError({"reason": ["请填写撤销原因"]})
    with transaction.atomic():
        _move(
            request,
            (HelpStatus.SUBMITTED, HelpStatus.VERIFIED, HelpStatus.INVITING, HelpStatus.ACCEPTED),
            HelpStatus.CANCELLED,
            verify_note=reason,
        )
        HelpInvitation.objects.filter(request=request, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.WITHDRAWN, answered_at=timezone.now()
        )
        audit.record("care.help.cancel", actor=actor, obj=request, detail={"reason": reason})
    request.refresh_from_db()
    return request


def file_complaint(
    actor: Any,
    *,
    region_code: str,
    channel: str,
    complainant: str,
    content: str,
    recipient: Recipient | None = None,
    help_request: HelpRequest | None = None,
) -> Complaint:
    """Take down a complaint (Art. 26); it must be answered within COMPLAINT_DAYS."""
    if recipient is not None:
        region_code = recipient.region_code
    if help_request is not None:
        region_code = help_request.region_code
    require(actor, Action.CHANGE_PEOPLE, region_code, what="care.complaint.file")
    errors: dict[str, list[str]] = {}
    if channel not in ComplaintChannel.values:
        errors["channel"] = ["请选择投诉渠道"]
    complainant = (complainant or "").strip()
    if not complainant or len(complainant) > 50:
        errors["complainant"] = ["请填写投诉人（最多 50 字）"]
    content = (content or "").strip()
    if not content or len(content) > TEXT_LIMIT:
        errors["content"] = [f"请填写投诉内容（最多 {TEXT_LIMIT} 字）"]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=_number("T"),
            region_code=region_code,
            recipient=recipient,
            help_request=help_request,
            channel=channel,
            complainant=complainant,
            content=content,
            filed_by=actor,
            filed_at=now,
            due_at=now + timedelta(days=COMPLAINT_DAYS),
        )
        audit.record("care.complaint.file", actor=actor, obj=complaint, detail={"channel": channel})
        events.emit("care.complaint.filed", id=complaint.pk, region_code=region_code)
    return complaint


def resolve_complaint(actor: Any, complaint: Complaint, response: str) -> Complaint:
    require_object(actor, Action.CHANGE, complaint, what="care.complaint.resolve")
    response = (response or "").strip()
    if not response or len(response) > 1000:
        raise ValidationError({"response": ["请填写处理结果（最多 1000 字）"]})
    with transaction.atomic():
        if (
            not Complaint.objects.filter(pk=complaint.pk)
            .filter(~Q(status="resolved"))
            .update(status="resolved", response=response, resolved_at=timezone.now(), handler=actor)
        ):
            raise ValidationError({"complaint": ["该投诉已经办结"]})
        audit.record("care.complaint.resolve", actor=actor, obj=complaint)
    complaint.refresh_from_db()
    return complaint
