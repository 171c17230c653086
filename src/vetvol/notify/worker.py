"""The outbox worker: claim due deliveries, send them, mark each one as soon as its channel answered.

- **Claims** are one UPDATE of up to a batch of due rows to `claimed` with this worker's id and a lease; on
  PostgreSQL the rows are chosen `FOR UPDATE SKIP LOCKED`, so any number of workers drain the outbox
  together without taking the same row. SQLite serialises writers anyway.
- **Idempotent delivery.** Each delivery is marked in its own statement right after its channel answered,
  so a worker killed mid-batch leaves at most its in-flight message unmarked. Rows whose lease ran out are
  taken again as *uncertain*: the channel is asked whether that key went out (SMS gateways can tell) before
  anything is resent; web push resends under the same Topic and tag, e-mail under the same Message-ID.
- **Retries** with exponential backoff for transient failures (timeouts, 5xx), then `failed` with the
  reason; permanent refusals fail at once; an expired push subscription is dropped, never retried.
- **Rate limits** per channel and worker (token buckets, `VETVOL_NOTIFY_RATE_*` per second).
- **Escalation**: an SMS marked `unless_seen` is skipped if the person saw the notification first.
Periodic reminders (shifts, care tasks due) are written by the same loop once a minute.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from vetvol.notify.channels import Gone, Permanent, Sender, Transient, sender_for
from vetvol.notify.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)
REMINDERS_EVERY_S = 60.0


_NUMBER = re.compile(r"\+?\d(?: ?\d){6,}")


def scrub(reason: str) -> str:
    """A failure's reason as kept and shown to staff: gateways echo phone numbers back, so every run of
    seven or more digits is cut to its last four."""
    return _NUMBER.sub(lambda m: "*" * 4 + re.sub(r"\D", "", m.group())[-4:], reason)[:300]


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: base × 2^(attempts-1), at most an hour."""
    base = settings.VETVOL_NOTIFY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


class TokenBucket:
    """At most `rate` sends a second on average, bursts up to `rate`."""

    def __init__(self, rate: float) -> None:
        self.rate = max(rate, 0.001)
        self.tokens = self.rate
        self.at = time.monotonic()

    def take(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) / self.rate)


def _rates() -> dict[str, float]:
    return {
        "push": settings.VETVOL_NOTIFY_RATE_PUSH,
        "sms": settings.VETVOL_NOTIFY_RATE_SMS,
        "email": settings.VETVOL_NOTIFY_RATE_EMAIL,
    }


class Worker:
    def __init__(self, *, batch: int = 200) -> None:
        self.id = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch = batch
        self.senders: dict[str, Sender | None] = {}
        self.buckets = {channel: TokenBucket(rate) for channel, rate in _rates().items()}

    def sender(self, channel: str) -> Sender | None:
        if channel not in self.senders:
            self.senders[channel] = sender_for(channel)
        return self.senders[channel]

    def close(self) -> None:
        for sender in self.senders.values():
            if sender is not None:
                sender.close()
        self.senders.clear()

    # -- claiming ----------------------------------------------------------------------------------------

    def claim(self, now: datetime) -> tuple[list[Delivery], set[int]]:
        due = Q(status=DeliveryStatus.PENDING, not_before__lte=now) | Q(
            status=DeliveryStatus.CLAIMED, lease_until__lt=now
        )
        with transaction.atomic():
            qs = Delivery.objects.filter(due).order_by("not_before", "id")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs.values_list("id", "status")[: self.batch])
            if not rows:
                return [], set()
            ids = [pk for pk, _ in rows]
            Delivery.objects.filter(pk__in=ids).update(
                status=DeliveryStatus.CLAIMED,
                claimed_by=self.id,
                lease_until=now + timedelta(seconds=settings.VETVOL_NOTIFY_LEASE_SECONDS),
                updated_at=now,
            )
        uncertain = {pk for pk, status in rows if status == DeliveryStatus.CLAIMED}
        claimed = list(
            Delivery.objects.filter(pk__in=ids, claimed_by=self.id)
            .select_related("notification", "notification__user", "subscription")
            .order_by("id")
        )
        return claimed, uncertain

    def _finish(self, d: Delivery, status: str, reason: str = "", **fields: Any) -> None:
        now = timezone.now()
        Delivery.objects.filter(pk=d.pk, claimed_by=self.id).update(
            status=status,
            last_error=scrub(reason),
            lease_until=None,
            updated_at=now,
            attempts=F("attempts") + 1,
            **fields,
        )

    def _retry(self, d: Delivery, reason: str) -> None:
        attempts = d.attempts + 1
        if attempts >= settings.VETVOL_NOTIFY_MAX_ATTEMPTS:
            self._finish(d, DeliveryStatus.FAILED, f"重试 {attempts} 次后失败：{reason}")
            return
        Delivery.objects.filter(pk=d.pk, claimed_by=self.id).update(
            status=DeliveryStatus.PENDING,
            last_error=scrub(reason),
            lease_until=None,
            attempts=F("attempts") + 1,
            not_before=timezone.now() + backoff(attempts),
            updated_at=timezone.now(),
        )

    # -- sending ---------------------------------------------------------------------------------------

    def deliver(self, d: Delivery, uncertain: bool) -> str:
        note = d.notification
        if d.unless_seen and note.seen_at is not None:
            self._finish(d, DeliveryStatus.SKIPPED, "已查看，不再短信提醒")
            return DeliveryStatus.SKIPPED
        sender = self.sender(d.channel)
        if sender is None:
            self._finish(d, DeliveryStatus.SKIPPED, "本系统未配置该渠道")
            return DeliveryStatus.SKIPPED
        try:
            address = sender.address(d)
            if uncertain and sender.already_sent(d, address):
                self._finish(d, DeliveryStatus.SENT, "", sent_at=timezone.now(), address=address)
                return DeliveryStatus.SENT
            self.buckets[d.channel].take()
            provider_id = sender.send(d, address)
        except Gone as exc:
            self._finish(d, DeliveryStatus.DROPPED, str(exc))
            return DeliveryStatus.DROPPED
        except Permanent as exc:
            self._finish(d, DeliveryStatus.FAILED, str(exc))
            return DeliveryStatus.FAILED
        except Transient as exc:
            self._retry(d, str(exc))
            return DeliveryStatus.PENDING
        except Exception as exc:  # a bug in a channel must not stop the outbox: retried, then failed
            logger.exception("delivery %s failed", d.pk)
            self._retry(d, f"内部错误：{type(exc).__name__}")
            return DeliveryStatus.PENDING
        self._finish(
            d, DeliveryStatus.SENT, "", sent_at=timezone.now(), address=address, provider_id=provider_id[:100]
        )
        return DeliveryStatus.SENT

    def step(self, now: datetime | None = None) -> int:
        """Claim one batch and send it; returns how many deliveries were handled."""
        claimed, uncertain = self.claim(now or timezone.now())
        for d in claimed:
            self.deliver(d, d.pk in uncertain)
        return len(claimed)

    def drain(self, *, limit: int = 100_000) -> int:
        """Send everything due now (tests, `--once`)."""
        total = 0
        while total < limit:
            done = self.step()
            if not done:
                break
            total += done
        return total


def run(
    *,
    stop: threading.Event | None = None,
    seconds: float | None = None,
    idle: float = 0.5,
    batch: int = 200,
    reminders: bool = True,
) -> None:
    """Work until `stop` is set or `seconds` have passed; an idle outbox is polled every `idle` seconds."""
    from vetvol.notify import reminders as periodic

    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds if seconds else None
    worker = Worker(batch=batch)
    next_reminders = 0.0
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            close_old_connections()
            handled = 0
            try:
                if reminders and time.monotonic() >= next_reminders:
                    periodic.run(timezone.now())
                    next_reminders = time.monotonic() + REMINDERS_EVERY_S
                handled = worker.step()
            except Exception:
                logger.exception("notification worker step failed")
                worker.close()
            if handled < batch:
                stop.wait(idle)
    finally:
        worker.close()
        connection.close()
