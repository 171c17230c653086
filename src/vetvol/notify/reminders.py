"""Reminders written by the worker's clock: shifts about to start (to their confirmed volunteers) and care
tasks about to fall due (to their assignees). Each is written once per person and thing (the outbox's
(user, kind, key) uniqueness); several workers running this at once write each reminder once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from vetvol.core.masking import mask
from vetvol.notify.actions import Message, enqueue
from vetvol.notify.models import Notification
from vetvol.notify.writers import _when


def _write(messages: list[Message]) -> int:
    if not messages:
        return 0
    try:
        with transaction.atomic():
            return len(enqueue(messages))
    except IntegrityError:  # another worker wrote some of them a moment ago: one by one, skipping those
        written = 0
        for m in messages:
            try:
                with transaction.atomic():
                    written += len(enqueue([m]))
            except IntegrityError:
                pass
        return written


def _already(kind: str, keys: set[str]) -> set[tuple[int, str]]:
    return set(Notification.objects.filter(kind=kind, key__in=keys).values_list("user_id", "key"))


def shift_reminders(now: datetime) -> int:
    from vetvol.activities.models import SignUp

    soon = now + timedelta(hours=settings.VETVOL_NOTIFY_REMIND_HOURS)
    rows = list(
        SignUp.objects.filter(
            status="confirmed",
            activity__starts_at__gt=now,
            activity__starts_at__lte=soon,
            volunteer__user__isnull=False,
        ).values_list(
            "volunteer__user_id",
            "activity_id",
            "activity__title",
            "activity__starts_at",
            "activity__place_name",
            "activity__region_code",
        )[:5000]
    )
    done = _already("activities.shift.reminder", {str(r[1]) for r in rows})
    messages = [
        Message(
            uid,
            "activities.shift.reminder",
            str(aid),
            {"activity": title, "starts": _when(starts), "place": place},
            url=reverse("activities:detail", args=[aid]),
            region_code=region,
            subject=f"activities.activity:{aid}",
        )
        for uid, aid, title, starts, place, region in rows
        if (uid, str(aid)) not in done
    ]
    return _write(messages)


def care_task_reminders(now: datetime) -> int:
    from vetvol.care.models import CaseTask

    soon = now + timedelta(hours=settings.VETVOL_NOTIFY_REMIND_HOURS)
    tasks = list(
        CaseTask.objects.filter(
            status="open", due_at__gt=now, due_at__lte=soon, assignee__user__isnull=False
        ).select_related("case__recipient", "assignee")[:5000]
    )
    done = _already("care.task.due", {str(t.pk) for t in tasks})
    messages = [
        Message(
            t.assignee.user_id,
            "care.task.due",
            str(t.pk),
            {"task": t.title, "recipient": mask(t.case.recipient.name, "name"), "due": _when(t.due_at)},
            url=reverse("care:me"),
            region_code=t.region_code,
        )
        for t in tasks
        if t.assignee and t.assignee.user_id and (t.assignee.user_id, str(t.pk)) not in done
    ]
    return _write(messages)


def run(now: datetime) -> int:
    return shift_reminders(now) + care_task_reminders(now)
