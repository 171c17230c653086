"""Enter a region's veteran population for a year: `vetvol stats_population <code> <year> <veterans>`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vetvol.regions.models import Region
from vetvol.stats import actions


class Command(BaseCommand):
    help = "Enter how many veterans live in a region in a year (the registration rate's denominator)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code")
        parser.add_argument("year", type=int)
        parser.add_argument("veterans", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        from vetvol.accounts.models import User

        region = Region.objects.filter(code=options["code"]).first()
        if region is None:
            raise CommandError(f"no region {options['code']}")
        actor = User.objects.filter(is_superuser=True).order_by("id").first()
        if actor is None:
            raise CommandError("create a superuser first")
        try:
            actions.set_veteran_population(actor, region, options["year"], options["veterans"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write("saved")
