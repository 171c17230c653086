"""Expire overdue invitations, run the next invitation round, push the boards' counters. Production runs it
continuously (`vetvol dispatch_tick --loop 2` under the process supervisor, or `vetvol serve --tick`); any
number of processes may run it at once: claims and rounds are decided by the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vetvol.dispatch import clock
from vetvol.dispatch.actions import tick


class Command(BaseCommand):
    help = "Expire overdue dispatch invitations and invite the next candidates."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["loop"]:
            clock.run(every=options["loop"], out=self.stdout)
            return
        result = tick()
        self.stdout.write(
            f"expired {result['expired']}, incidents with open slots {result['incidents']}, "
            f"invited {result['invited']}"
        )
