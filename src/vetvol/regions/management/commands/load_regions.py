"""`vetvol load_regions`: load Guangdong's administrative tree (idempotent)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vetvol.regions import loader


class Command(BaseCommand):
    help = "Load Guangdong's administrative divisions (province to village) from the shipped data file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, default=loader.DIVISIONS_FILE, help="CSV.gz data file")
        parser.add_argument(
            "--max-level",
            choices=loader.LEVELS,
            default="village",
            help="deepest level to load (default: village)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = loader.load(options["file"], options["max_level"])
        except (OSError, loader.RegionDataError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"regions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
