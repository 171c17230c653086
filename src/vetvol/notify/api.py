"""/api/notify/: the caller's inbox, devices and settings; the staff's delivery log (scoped, masked)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.core.masking import mask
from vetvol.core.scoping import Action
from vetvol.notify import actions, queries
from vetvol.notify.channels import webpush
from vetvol.notify.models import Delivery

router = Router(tags=["notify"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    emergency: bool
    created_at: datetime
    seen_at: datetime | None
    read_at: datetime | None


class InboxOut(Schema):
    unread: int
    results: list[NotificationOut]


class ReadIn(Schema):
    ids: list[int] | None = Field(None, max_length=500, description="none: every unread notification")


class ReadOut(Schema):
    read: int
    unread: int


@router.get("/inbox", response=InboxOut)
def inbox(request: HttpRequest, limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    rows = list(queries.inbox(request.user)[:limit])
    return {"unread": queries.unread_count(request.user), "results": rows}


@router.post("/inbox/read", response=ReadOut)
def read(request: HttpRequest, body: ReadIn) -> dict[str, int]:
    done = actions.mark_read(request.user, body.ids)
    return {"read": done, "unread": queries.unread_count(request.user)}


class KeyOut(Schema):
    application_server_key: str


@router.get("/push/key", response=KeyOut)
def push_key(request: HttpRequest) -> dict[str, str]:
    return {"application_server_key": webpush.application_server_key() if webpush.configured() else ""}


class KeysIn(Schema):
    p256dh: Annotated[str, StringConstraints(max_length=200)]
    auth: Annotated[str, StringConstraints(max_length=100)]


class SubscriptionIn(Schema):
    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    keys: KeysIn


class EndpointIn(Schema):
    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class SubscriptionOut(Schema):
    id: int
    created_at: datetime


@router.post("/push/subscriptions", response={201: SubscriptionOut})
def subscribe(request: HttpRequest, body: SubscriptionIn) -> Status:
    sub = actions.subscribe_push(
        request.user,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return Status(201, sub)


class DoneOut(Schema):
    done: bool


@router.post("/push/unsubscribe", response=DoneOut)
def unsubscribe(request: HttpRequest, body: EndpointIn) -> dict[str, bool]:
    return {"done": actions.unsubscribe_push(request.user, body.endpoint)}


class PreferenceIO(Schema):
    push: bool = True
    sms: bool = True
    email: bool = True
    quiet_start: time | None = None
    quiet_end: time | None = None
    phone: Annotated[str, StringConstraints(max_length=30)] = ""
    language: Annotated[str, StringConstraints(max_length=10)] = "zh-hans"


def _pref_out(pref: Any) -> dict[str, Any]:
    from vetvol.registry.validation import display_phone

    return {
        "push": pref.push,
        "sms": pref.sms,
        "email": pref.email,
        "quiet_start": pref.quiet_start,
        "quiet_end": pref.quiet_end,
        "phone": mask(display_phone(str(pref.phone)), "phone") if pref.phone else "",
        "language": pref.language,
    }


@router.get("/preferences", response=PreferenceIO)
def get_preferences(request: HttpRequest) -> dict[str, Any]:
    return _pref_out(actions.preference(request.user.pk))


@router.put("/preferences", response=PreferenceIO)
def put_preferences(request: HttpRequest, body: PreferenceIO) -> dict[str, Any]:
    return _pref_out(actions.save_preferences(request.user, **body.dict()))


class DeliveryOut(Schema):
    id: int
    notification_id: int
    kind: str
    recipient: str
    channel: str
    status: str
    address: str
    attempts: int
    not_before: datetime
    sent_at: datetime | None
    reason: str


class DeliveryPage(Schema):
    results: list[DeliveryOut]
    has_more: bool


def masked_address(d: Delivery) -> str:
    from vetvol.registry.validation import display_phone

    address = str(d.address or "")
    if not address:
        return ""
    if d.channel == "sms":
        return mask(display_phone(address), "phone")
    if d.channel == "email":
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return ""


def delivery_out(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "notification_id": d.notification_id,
        "kind": d.notification.kind,
        "recipient": str(d.notification.user),
        "channel": d.channel,
        "status": d.status,
        "address": masked_address(d),
        "attempts": d.attempts,
        "not_before": d.not_before,
        "sent_at": d.sent_at,
        "reason": d.last_error,
    }


@router.get("/deliveries", response=DeliveryPage)
def deliveries(
    request: HttpRequest,
    channel: Annotated[str, StringConstraints(pattern=r"^(push|sms|email)?$")] = "",
    status: Annotated[
        str, StringConstraints(pattern=r"^(pending|claimed|sent|failed|skipped|dropped)?$")
    ] = "",
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    from django.core.exceptions import PermissionDenied

    user: Any = request.user
    if not (user.is_superuser or user.region_prefixes(Action.VIEW_PEOPLE)):
        raise PermissionDenied("no region where people may be viewed")
    rows = list(
        queries.log_filter(queries.delivery_log(request.user), channel=channel, status=status)[
            offset : offset + limit + 1
        ]
    )
    from vetvol.core import audit

    audit.record("notify.deliveries.view", actor=request.user, detail={"channel": channel, "status": status})
    return {"results": [delivery_out(d) for d in rows[:limit]], "has_more": len(rows) > limit}
