"""Drain the notification outbox: `vetvol notify_worker` (until stopped), `--once` (what is due now),
`--seconds N`. Several may run at once (on PostgreSQL they share the outbox with SKIP LOCKED)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vetvol.notify import worker


class Command(BaseCommand):
    help = "Send due notifications (push, SMS, e-mail) with retries, backoff and per-channel rate limits."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then stop")
        parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
        parser.add_argument("--idle", type=float, default=0.5, help="poll interval of an idle outbox (s)")
        parser.add_argument("--batch", type=int, default=200, help="deliveries claimed at a time")
        parser.add_argument("--no-reminders", action="store_true", help="do not write shift/task reminders")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            w = worker.Worker(batch=options["batch"])
            try:
                sent = w.drain()
            finally:
                w.close()
            self.stdout.write(f"handled {sent} deliveries")
            return
        worker.run(
            seconds=options["seconds"],
            idle=options["idle"],
            batch=options["batch"],
            reminders=not options["no_reminders"],
        )
