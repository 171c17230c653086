"""Rebuild the dispatch location index (home rows) from the registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vetvol.dispatch.locations import sync_locations


class Command(BaseCommand):
    help = "Rebuild dispatch.VolunteerLocation home rows from registry volunteers."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{sync_locations()} home rows indexed")
