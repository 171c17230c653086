"""Every change the notification outbox makes: write notifications with their deliveries (in the caller's
transaction), mark them seen, read or received, and the person's own settings and devices."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vetvol.core import audit, rawsql
from vetvol.notify.kinds import EMAIL, KINDS, PUSH, SMS, Kind
from vetvol.notify.models import Delivery, DeliveryStatus, Notification, Preference, PushSubscription


@dataclass
class Message:
    """What to tell one person. `key` makes it once-only: one (user, kind, key) is never written twice."""

    user_id: int
    kind: str
    key: str
    context: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    region_code: str = ""
    subject: str = ""


def preference(user_id: Any) -> Preference:
    return Preference.objects.filter(user_id=user_id).first() or Preference(user_id=user_id)


def quiet_until(pref: Preference, now: datetime) -> datetime:
    """`now`, or the end of the person's quiet hours if `now` falls inside them (local time)."""
    start, end = pref.quiet_start, pref.quiet_end
    if start is None or end is None or start == end:
        return now
    local = timezone.localtime(now)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return now
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, end), local.tzinfo)


def _plan(
    note: Notification, kind: Kind, pref: Preference, devices: list[int], now: datetime
) -> list[Delivery]:
    """The deliveries of one notification. Emergencies go by push at once and by SMS if not seen in time
    (at once with no device to push to), whatever the person's settings; everything else respects the
    channels the person chose and waits out their quiet hours; SMS then only stands in for a missing push."""
    at = now if kind.emergency else quiet_until(pref, now)
    base = {"notification": note, "region_code": note.region_code}
    out: list[Delivery] = []
    pushing = PUSH in kind.channels and (kind.emergency or pref.push) and devices
    if pushing:
        out += [Delivery(channel=PUSH, subscription_id=d, not_before=at, **base) for d in devices]
    if SMS in kind.channels and (kind.emergency or pref.sms):
        if kind.escalate:
            delay = timedelta(seconds=settings.VETVOL_NOTIFY_ESCALATE_SECONDS if pushing else 0)
            out.append(Delivery(channel=SMS, unless_seen=True, not_before=at + delay, **base))
        elif not pushing:
            out.append(Delivery(channel=SMS, not_before=at, **base))
    if EMAIL in kind.channels and (kind.emergency or pref.email):
        out.append(Delivery(channel=EMAIL, not_before=at, **base))
    return out


NOTES_PER_INSERT = 500  # a statement's parameters stay far below SQLite's and PostgreSQL's limits


def enqueue(messages: Sequence[Message], *, now: datetime | None = None) -> list[Notification]:
    """Write the notifications and their deliveries in the caller's transaction (nothing is sent for a
    change that rolls back); the inbox is told after commit. Messages already written are left alone, also
    when a concurrent transaction writes the same (user, kind, key) first: the insert skips it (ON CONFLICT
    DO NOTHING) instead of failing the caller's change, and only the notifications written here get
    deliveries. Returns those."""
    if not messages:
        return []
    now = now or timezone.now()
    user_ids = {m.user_id for m in messages}
    seen = set(
        Notification.objects.filter(user_id__in=user_ids, kind__in={m.kind for m in messages})
        .filter(key__in={m.key[:80] for m in messages})
        .values_list("user_id", "kind", "key")
    )
    fresh: dict[tuple[int, str, str], Message] = {}
    for m in messages:
        fresh.setdefault((m.user_id, m.kind, m.key[:80]), m)
    todo = [m for k, m in fresh.items() if k not in seen]
    if not todo:
        return []
    prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    devices: dict[int, list[int]] = defaultdict(list)
    for sub_id, user_id in PushSubscription.objects.filter(user_id__in=user_ids, gone_at=None).values_list(
        "id", "user_id"
    ):
        devices[user_id].append(sub_id)
    notes: list[Notification] = []
    for m in todo:
        kind = KINDS[m.kind]
        pref = prefs.get(m.user_id) or Preference(user_id=m.user_id)
        title, body = kind.render(pref.language, m.context)
        notes.append(
            Notification(
                user_id=m.user_id,
                kind=m.kind,
                key=m.key[:80],
                subject=m.subject[:60],
                emergency=kind.emergency,
                title=title[:200],
                body=body[:1000],
                url=m.url[:300],
                region_code=m.region_code,
            )
        )
    notes = _insert_new(notes)
    if not notes:
        return []
    deliveries: list[Delivery] = []
    for note in notes:
        pref = prefs.get(note.user_id) or Preference(user_id=note.user_id)
        deliveries += _plan(note, KINDS[note.kind], pref, devices[note.user_id], now)
    Delivery.objects.bulk_create(deliveries)
    users = sorted({n.user_id for n in notes})
    transaction.on_commit(lambda: _tell_inboxes(users))
    return notes


def _insert_new(notes: list[Notification]) -> list[Notification]:
    """The notes this transaction wrote: one already there (a concurrent enqueue of the same message that
    committed first, or is still to commit: the insert waits for it) is skipped, not an IntegrityError."""
    written: list[Notification] = []
    for start in range(0, len(notes), NOTES_PER_INSERT):
        part = notes[start : start + NOTES_PER_INSERT]
        new = rawsql.insert_new(list(part), unique=("user_id", "kind", "key"))
        written += [note for note, ok in zip(part, new, strict=True) if ok]
    return written


def _tell_inboxes(user_ids: Iterable[int]) -> None:
    from vetvol.notify import live

    live.unread_changed(user_ids)


def cancel_escalation(subject: str, reason: str) -> int:
    """The matter is settled (answered, expired): SMS still waiting to escalate it is not sent."""
    return Delivery.objects.filter(
        notification__subject=subject, status=DeliveryStatus.PENDING, unless_seen=True
    ).update(status=DeliveryStatus.SKIPPED, last_error=reason[:300], updated_at=timezone.now())


def mark_subject_seen(subject: str) -> int:
    """Whoever was told about `subject` has seen it (they answered it)."""
    return Notification.objects.filter(subject=subject, seen_at=None).update(seen_at=timezone.now())


def mark_seen(user: Any, *, subjects: Iterable[str] = (), ids: Iterable[int] = ()) -> int:
    """The person has seen these (their inbox, or the page showing what they are about)."""
    qs = Notification.objects.filter(user_id=user.pk, seen_at=None)
    ids, subjects = list(ids), list(subjects)
    if ids:
        qs = qs.filter(pk__in=ids)
    elif subjects:
        qs = qs.filter(subject__in=subjects)
    else:
        return 0
    return qs.update(seen_at=timezone.now(), updated_at=timezone.now())


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Read (all unread when no ids are given); reading is seeing."""
    now = timezone.now()
    qs = Notification.objects.filter(user_id=user.pk, read_at=None)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    changed = qs.update(read_at=now, updated_at=now)
    Notification.objects.filter(user_id=user.pk, seen_at=None, read_at__isnull=False).update(seen_at=now)
    if changed:
        transaction.on_commit(lambda: _tell_inboxes([user.pk]))
    return changed


def mark_received(note_id: int) -> bool:
    """The phone's service worker has shown the push (a receipt signed into the push message)."""
    return bool(Notification.objects.filter(pk=note_id, received_at=None).update(received_at=timezone.now()))


# -- the person's devices and settings --------------------------------------------------------------------


def _b64url(text: str, size: int, field_name: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValidationError({field_name: [_("推送订阅的密钥格式不正确")]}) from exc
    if len(raw) != size or (size == 65 and raw[0] != 4):
        raise ValidationError({field_name: [_("推送订阅的密钥格式不正确")]})
    return text.rstrip("=")


def _check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint.strip())
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.hostname or len(endpoint) > 1000:
        raise ValidationError({"endpoint": [_("推送地址无效")]})
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback and not settings.PRODUCTION):
        raise ValidationError({"endpoint": [_("推送地址必须是 https 地址")]})
    return endpoint.strip()


def subscribe_push(
    user: Any, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Register (or renew) this browser's push subscription for the person."""
    endpoint = _check_endpoint(endpoint)
    p256dh = _b64url(p256dh, 65, "p256dh")
    auth = _b64url(auth, 16, "auth")
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    with transaction.atomic():
        sub, created = PushSubscription.objects.update_or_create(
            endpoint_hash=digest,
            defaults={
                "user_id": user.pk,
                "endpoint": endpoint,
                "p256dh": p256dh,
                "auth": auth,
                "user_agent": user_agent[:200],
                "gone_at": None,
            },
        )
        audit.record("notify.push.subscribe", actor=user, obj=sub, detail={"new": created})
    return sub


def unsubscribe_push(user: Any, endpoint: str) -> bool:
    digest = hashlib.sha256(endpoint.strip().encode()).hexdigest()
    with transaction.atomic():
        done = PushSubscription.objects.filter(user_id=user.pk, endpoint_hash=digest, gone_at=None).update(
            gone_at=timezone.now()
        )
        if done:
            audit.record("notify.push.unsubscribe", actor=user, detail={"endpoint_hash": digest[:16]})
    return bool(done)


def save_preferences(
    user: Any,
    *,
    push: bool,
    sms: bool,
    email: bool,
    quiet_start: time | None,
    quiet_end: time | None,
    phone: str = "",
    language: str = "zh-hans",
) -> Preference:
    """The person's channels, quiet hours and number. A malformed number is refused, nothing is saved. The
    masked number sent back unchanged (pages and the API show it masked) keeps the stored one."""
    from vetvol.registry.validation import normalise_phone

    errors: dict[str, list[str]] = {}
    number = ""
    if "*" in phone:
        number = str(preference(user.pk).phone or "")
    elif phone.strip():
        try:
            number = normalise_phone(phone)
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if (quiet_start is None) != (quiet_end is None):
        errors["quiet_end"] = [_("免打扰时段需要同时填写开始和结束时间")]
    # quiet hours are wall-clock times of the person's day; a time with an offset cannot be stored as one
    for name, value in (("quiet_start", quiet_start), ("quiet_end", quiet_end)):
        if value is not None and value.tzinfo is not None:
            errors[name] = [_("免打扰时间请填写当地时间，不带时区")]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("不支持的语言")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pref, _created = Preference.objects.update_or_create(
            user_id=user.pk,
            defaults={
                "push": push,
                "sms": sms,
                "email": email,
                "quiet_start": quiet_start,
                "quiet_end": quiet_end,
                "phone": number,
                "language": language,
            },
        )
        audit.record(
            "notify.preferences.save",
            actor=user,
            detail={
                "push": push,
                "sms": sms,
                "email": email,
                "quiet": bool(quiet_start),
                "phone": bool(number),
            },
        )
    return pref
