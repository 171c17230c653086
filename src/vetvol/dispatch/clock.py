"""The dispatch clock: expire unanswered invitations and invite the next candidates (`actions.tick`), push
the boards' per-district counters, prune the board journal. Any number of processes may run it at once:
claims and rounds are decided by the database (incident rows are locked).

Run by `vetvol dispatch_tick --loop 2`, `vetvol serve --tick` (beside the websocket server) and
`vetvol simulate`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import close_old_connections, connection
from django.utils import timezone

from vetvol.dispatch import actions, live

logger = logging.getLogger(__name__)
COUNTERS_EVERY_S = 5.0
PRUNE_EVERY_S = 3600.0


def run(
    *,
    every: float = 2.0,
    stop: threading.Event | None = None,
    seconds: float | None = None,
    simulation: Any = None,
    out: Any = None,
) -> None:
    """Tick every `every` seconds until `stop` is set or `seconds` have passed. A failing step is logged and
    the clock goes on (a board must not freeze because one round failed)."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds if seconds else None
    next_counters = next_prune = 0.0
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            close_old_connections()
            now = timezone.now()
            try:
                if simulation is not None:
                    simulation.step(now)
                result = actions.tick(now)
                if out is not None and (result["expired"] or result["invited"]):
                    out.write(f"tick: expired {result['expired']}, invited {result['invited']}")
                if time.monotonic() >= next_counters:
                    live.publish_counters(now)
                    next_counters = time.monotonic() + COUNTERS_EVERY_S
                if time.monotonic() >= next_prune:
                    live.prune(now)
                    next_prune = time.monotonic() + PRUNE_EVERY_S
            except Exception:
                logger.exception("dispatch clock step failed")
            stop.wait(every)
    finally:
        connection.close()
