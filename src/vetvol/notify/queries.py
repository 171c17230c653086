"""Reads: a person's inbox, the staff's delivery log (scoped), what the dispatcher sees per invitee."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from vetvol.core.scoping import Action, allowed_prefixes, subtree_q
from vetvol.notify.models import Delivery, Notification


def inbox(user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user.pk).order_by("-id")


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    counts = dict(
        Notification.objects.filter(user_id__in=user_ids, read_at=None)
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    return {uid: counts.get(uid, 0) for uid in user_ids}


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user_id=user.pk, read_at=None).count()


def delivery_log(user: Any) -> QuerySet[Delivery]:
    """Deliveries about the viewer's regions. They name people and carry their numbers: view_people. What
    was said about the fund stays with those who may read the fund."""
    qs = Delivery.objects.restrict(user, Action.VIEW_PEOPLE)
    fund = allowed_prefixes(user, Action.VIEW_FUND)
    if fund is not None:
        qs = qs.exclude(Q(notification__kind__startswith="fund.") & ~subtree_q("region_code", fund))
    return qs.select_related("notification", "notification__user").order_by("-id")


def invitee_status(subjects: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per subject (`dispatch.invitation:<id>`): when it reached the phone, was seen, each channel's state."""
    subjects = list(subjects)
    out: dict[str, dict[str, Any]] = {}
    notes = Notification.objects.filter(subject__in=subjects).prefetch_related("deliveries")
    for note in notes:
        row = out.setdefault(note.subject, {"received_at": None, "seen_at": None, "channels": []})
        row["received_at"] = row["received_at"] or note.received_at
        row["seen_at"] = row["seen_at"] or note.seen_at
        for d in note.deliveries.all():
            row["channels"].append(
                {
                    "channel": d.channel,
                    "status": d.status,
                    "label": d.get_channel_display(),
                    "status_label": d.get_status_display(),
                    "sent_at": d.sent_at,
                    "reason": d.last_error,
                }
            )
    return out


def log_filter(qs: QuerySet[Delivery], *, channel: str = "", status: str = "") -> QuerySet[Delivery]:
    q = Q()
    if channel:
        q &= Q(channel=channel)
    if status:
        q &= Q(status=status)
    return qs.filter(q)
