"""Help requests (submit, verify, invite, accept or decline, complete, rate, cancel) and complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Schema, Status
from pydantic import StringConstraints

from vetvol.care import actions, queries
from vetvol.care.api.common import (
    ReasonIn,
    RegionCode,
    ShortText,
    Text,
    _my_volunteer,
    _volunteer,
    router,
)
from vetvol.care.models import (
    Complaint,
    HelpInvitation,
    HelpRequest,
    Recipient,
)
from vetvol.core.scoping import Action
from vetvol.registry.models import Skill


class HelpRequestIn(Schema):
    recipient_id: int
    category: str
    description: Text
    wanted_from: datetime
    wanted_until: datetime
    place: ShortText = ""
    skill_code: str = ""


class HelpRequestOut(Schema):
    id: int
    number: str
    recipient_id: int
    category: str
    status: str
    wanted_from: datetime
    wanted_until: datetime
    volunteer_id: int | None
    minutes: int | None
    rating: int | None


class VerifyIn(Schema):
    approved: bool
    note: ShortText = ""


class InviteIn(Schema):
    volunteer_ids: list[int] | None = None  # omitted: the volunteers the matching proposes


class InvitationOut(Schema):
    id: int
    request_id: int
    request_number: str
    category: str
    status: str
    distance_km: float | None
    served_before: bool
    wanted_from: datetime
    wanted_until: datetime


class CompleteHelpIn(Schema):
    minutes: int
    summary: Text = ""


class RateIn(Schema):
    rating: int
    comment: ShortText = ""


class ComplaintIn(Schema):
    region_code: RegionCode = ""
    channel: str
    complainant: str
    content: Text
    recipient_id: int | None = None
    help_request_id: int | None = None


class ResolveIn(Schema):
    response: Annotated[str, StringConstraints(max_length=1000)]


class ComplaintOut(Schema):
    id: int
    number: str
    region_code: str
    channel: str
    status: str
    recipient_id: int | None
    help_request_id: int | None
    filed_at: datetime
    due_at: datetime
    resolved_at: datetime | None


def _help_out(h: HelpRequest) -> dict[str, Any]:
    return {
        f: getattr(h, f)
        for f in (
            "id",
            "number",
            "recipient_id",
            "category",
            "status",
            "wanted_from",
            "wanted_until",
            "volunteer_id",
            "minutes",
            "rating",
        )
    }


def _invitation_out(i: HelpInvitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "request_id": i.request_id,
        "request_number": i.request.number,
        "category": i.request.category,
        "status": i.status,
        "distance_km": i.distance_km,
        "served_before": i.served_before,
        "wanted_from": i.request.wanted_from,
        "wanted_until": i.request.wanted_until,
    }


def _complaint_out(c: Complaint) -> dict[str, Any]:
    return {
        f: getattr(c, f)
        for f in (
            "id",
            "number",
            "region_code",
            "channel",
            "status",
            "recipient_id",
            "help_request_id",
            "filed_at",
            "due_at",
            "resolved_at",
        )
    }


@router.post("/help-requests", response={201: HelpRequestOut}, summary="Place a help request for a recipient")
def help_submit(request: HttpRequest, payload: HelpRequestIn):  # type: ignore[no-untyped-def]
    recipient = queries.get_recipient_for_user(request.user, payload.recipient_id, Action.CHANGE)
    skill = None
    if payload.skill_code:
        skill = Skill.objects.filter(code=payload.skill_code, is_active=True).first()
        if skill is None:
            raise ValidationError({"skill_code": ["没有这项技能"]})
    help_request = actions.submit_help_request(
        request.user,
        recipient,
        category=payload.category,
        description=payload.description,
        wanted_from=payload.wanted_from,
        wanted_until=payload.wanted_until,
        place=payload.place,
        skill=skill,
    )
    return Status(201, _help_out(help_request))


@router.get("/help-requests/{request_id}", response=HelpRequestOut, summary="One help request")
def help_get(request: HttpRequest, request_id: int) -> dict:
    return _help_out(queries.get_help_request_for_user(request.user, request_id))


@router.post("/help-requests/{request_id}/verify", response=HelpRequestOut, summary="Verify or reject")
def help_verify(request: HttpRequest, request_id: int, payload: VerifyIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.verify_help_request(request.user, help_request, approved=payload.approved, note=payload.note)
    )


@router.post(
    "/help-requests/{request_id}/invite",
    response={201: list[InvitationOut]},
    summary="Invite volunteers (proposed by matching, or chosen)",
)
def help_invite(request: HttpRequest, request_id: int, payload: InviteIn):  # type: ignore[no-untyped-def]
    help_request = queries.get_help_request_for_user(request.user, request_id)
    volunteers = None
    if payload.volunteer_ids is not None:
        volunteers = [_volunteer(request, vid) for vid in payload.volunteer_ids]
    made = actions.invite_volunteers(request.user, help_request, volunteers)
    return Status(201, [_invitation_out(i) for i in made])


@router.get("/me/invitations", response=list[InvitationOut], summary="My pending help invitations")
def my_invitations(request: HttpRequest) -> list[dict]:
    volunteer = _my_volunteer(request)
    if volunteer is None:
        return []
    return [_invitation_out(i) for i in queries.my_invitations(volunteer)[:500]]


def _own_invitation(request: HttpRequest, invitation_id: int) -> HelpInvitation:
    """Only the invited volunteer reaches an invitation; anyone else gets the missing one's 404."""
    user: Any = request.user
    invitation = (
        HelpInvitation.objects.select_related("request", "volunteer")
        .filter(pk=invitation_id, volunteer__user_id=user.pk)
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation


@router.post("/invitations/{invitation_id}/accept", response=HelpRequestOut, summary="Accept an invitation")
def invitation_accept(request: HttpRequest, invitation_id: int) -> dict:
    return _help_out(actions.accept_help(request.user, _own_invitation(request, invitation_id)))


@router.post("/invitations/{invitation_id}/decline", response=InvitationOut, summary="Decline an invitation")
def invitation_decline(request: HttpRequest, invitation_id: int) -> dict:
    return _invitation_out(actions.decline_help(request.user, _own_invitation(request, invitation_id)))


@router.post(
    "/help-requests/{request_id}/complete", response=HelpRequestOut, summary="Record the service done"
)
def help_complete(request: HttpRequest, request_id: int, payload: CompleteHelpIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.complete_help(request.user, help_request, minutes=payload.minutes, summary=payload.summary)
    )


@router.post("/help-requests/{request_id}/rate", response=HelpRequestOut, summary="Rate the service, once")
def help_rate(request: HttpRequest, request_id: int, payload: RateIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(
        actions.rate_help(request.user, help_request, rating=payload.rating, comment=payload.comment)
    )


@router.post("/help-requests/{request_id}/cancel", response=HelpRequestOut, summary="Cancel a help request")
def help_cancel(request: HttpRequest, request_id: int, payload: ReasonIn) -> dict:
    help_request = queries.get_help_request_for_user(request.user, request_id)
    return _help_out(actions.cancel_help_request(request.user, help_request, payload.reason))


# -- complaints ------------------------------------------------------------------------------------------
@router.post("/complaints", response={201: ComplaintOut}, summary="Take down a complaint")
def complaint_file(request: HttpRequest, payload: ComplaintIn):  # type: ignore[no-untyped-def]
    recipient: Recipient | None = None
    help_request: HelpRequest | None = None
    if payload.recipient_id is not None:
        recipient = queries.get_recipient_for_user(request.user, payload.recipient_id)
    if payload.help_request_id is not None:
        help_request = queries.get_help_request_for_user(request.user, payload.help_request_id)
    complaint = actions.file_complaint(
        request.user,
        region_code=payload.region_code,
        channel=payload.channel,
        complainant=payload.complainant,
        content=payload.content,
        recipient=recipient,
        help_request=help_request,
    )
    return Status(201, _complaint_out(complaint))


@router.post("/complaints/{complaint_id}/resolve", response=ComplaintOut, summary="Record the answer")
def complaint_resolve(request: HttpRequest, complaint_id: int, payload: ResolveIn) -> dict:
    complaint = queries.get_complaint_for_user(request.user, complaint_id)
    return _complaint_out(actions.resolve_complaint(request.user, complaint, payload.response))
