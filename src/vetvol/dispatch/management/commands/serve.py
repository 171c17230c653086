"""Run vetvol under ASGI (uvicorn): the pages and the live websockets, optionally with the dispatch clock
and the demo simulation in the same process.

    vetvol serve [ADDR:PORT] [--tick] [--simulate] [--seed N]

`make demo` runs `vetvol serve --simulate`: one process, so the in-memory channel layer reaches every board.
In production run it behind the reverse proxy for `/ws/` (and the pages too, if wanted) with REDIS_URL set,
so that events from the WSGI workers and the clock reach its boards.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.dispatch import clock


class Command(BaseCommand):
    help = "Serve the pages and live websockets with uvicorn; optionally run the dispatch clock beside them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--tick",
            action="store_true",
            help="run the dispatch clock, the notification worker, the statistics compactor and the sweep "
            "of orphaned import files in this process",
        )
        parser.add_argument(
            "--simulate", action="store_true", help="run the demo simulation (implies --tick)"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--incident-every", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        from vetvol.asgi import application

        host, _, port = options["addrport"].rpartition(":")
        if not port.isdigit():
            raise CommandError("give the address as HOST:PORT, e.g. 127.0.0.1:8000")
        stop = threading.Event()
        if options["tick"] or options["simulate"]:
            simulation = None
            if options["simulate"]:
                from vetvol.dispatch.simulation import Simulation, SimulationError

                try:
                    simulation = Simulation(
                        seed=options["seed"],
                        incident_every=options["incident_every"],
                        link_accounts=True,
                        out=self.stdout,
                    )
                except SimulationError as exc:
                    raise CommandError(str(exc)) from exc
            worker = threading.Thread(
                target=clock.run,
                kwargs={"stop": stop, "simulation": simulation},
                name="dispatch-clock",
                daemon=True,
            )
            worker.start()
            from vetvol.notify import worker as notify_worker  # the outbox beside the clock

            threading.Thread(
                target=notify_worker.run, kwargs={"stop": stop}, name="notify-worker", daemon=True
            ).start()
            from vetvol.stats import rollup as stats_rollup  # fold the statistics' dirty marks in

            threading.Thread(
                target=stats_rollup.run, kwargs={"stop": stop}, name="stats-compactor", daemon=True
            ).start()
            from vetvol.registry.actions import imports  # orphaned copies of uploads, every ten minutes

            threading.Thread(
                target=imports.run_sweeper, kwargs={"stop": stop}, name="import-sweeper", daemon=True
            ).start()
        config = uvicorn.Config(
            application,
            host=host or "127.0.0.1",
            port=int(port),
            lifespan="off",
            ws="websockets-sansio",
            # board messages are small and many: compressing each one per client costs more than it saves
            ws_per_message_deflate=False,
        )
        try:
            uvicorn.Server(config).run()
        finally:
            stop.set()
