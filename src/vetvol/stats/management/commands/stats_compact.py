"""Fold the statistics' dirty marks into the stored roll-ups (`--rebuild`: recount everything)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vetvol.stats import rollup


class Command(BaseCommand):
    help = "Fold statistics dirty marks into the roll-ups; --rebuild recounts everything; --loop keeps going."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recount every figure from scratch")
        parser.add_argument("--loop", action="store_true", help="compact every few seconds until stopped")
        parser.add_argument("--every", type=float, default=5.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            self.stdout.write(f"rebuilt: {rollup.rebuild()}")
            return
        if options["loop"]:
            rollup.run(every=options["every"])
            return
        self.stdout.write(f"folded {rollup.compact_all()} marks")
