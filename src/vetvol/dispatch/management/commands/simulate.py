"""Keep the live board alive: incidents around the demo province, on-duty volunteers who accept or
decline, move towards the scene, arrive and finish; the dispatch clock ticks in the same loop.

    vetvol simulate --seconds 120 --seed 7 [--every 2] [--incident-every 20]

Events reach the boards of another process only through Redis (REDIS_URL); without it, run the simulation
inside the server: `vetvol serve --simulate` (what `make demo` does).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.dispatch import clock
from vetvol.dispatch.simulation import Simulation, SimulationError


class Command(BaseCommand):
    help = "Simulate incidents and responding volunteers so the dispatch board is alive."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=float, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--every", type=float, default=2.0, help="seconds between steps")
        parser.add_argument("--incident-every", type=float, default=15.0)
        parser.add_argument(
            "--link-accounts",
            action="store_true",
            help="give invited volunteers without an account a login-less demo account so they can answer",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            simulation = Simulation(
                seed=options["seed"],
                incident_every=options["incident_every"],
                link_accounts=options["link_accounts"],
                out=self.stdout,
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        clock.run(every=options["every"], seconds=options["seconds"], simulation=simulation, out=self.stdout)
        self.stdout.write("simulation finished")
