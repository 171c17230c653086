"""Expire overdue invitations and run the next invitation round. Production runs this every few seconds
(`vetvol dispatch_tick --loop 5` under the process supervisor, or from `vetvol simulate`); any number of
processes may run it at once: claims and rounds are decided by the database (incident rows are locked)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from vetvol.dispatch.actions import tick


class Command(BaseCommand):
    help = "Expire overdue dispatch invitations and invite the next candidates."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds (0: once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            result = tick()
            self.stdout.write(
                f"expired {result['expired']}, incidents with open slots {result['incidents']}, "
                f"invited {result['invited']}"
            )
            if not options["loop"]:
                return
            time.sleep(options["loop"])
