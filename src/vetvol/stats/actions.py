"""State changes of the statistics app: the veteran population entered per region and year."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from vetvol.core import audit
from vetvol.core.scoping import Action, require
from vetvol.regions.models import Region
from vetvol.stats.models import VeteranPopulation
from vetvol.stats.queries import STATS_ACTION

MAX_VETERANS = 10_000_000


def set_veteran_population(actor: Any, region: Region, year: int, veterans: int) -> VeteranPopulation:
    """Enter (or correct) how many veterans live in `region` in `year`; the admins of the region may."""
    require(actor, STATS_ACTION, region.code, what="stats.population.set")
    require(actor, Action.CHANGE, region.code, what="stats.population.set")
    errors: dict[str, list[str]] = {}
    if not 2000 <= int(year) <= 2100:
        errors["year"] = ["年度应在 2000 至 2100 之间"]
    if not 0 <= int(veterans) <= MAX_VETERANS:
        errors["veterans"] = ["退役军人人数应在 0 至 10,000,000 之间"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, created = VeteranPopulation.objects.select_for_update().get_or_create(
            region=region,
            year=year,
            defaults={"region_code": region.code, "veterans": veterans, "entered_by": actor},
        )
        before = None if created else row.veterans
        if not created:
            row.veterans, row.entered_by = veterans, actor
            row.save(update_fields=["veterans", "entered_by", "updated_at"])
        audit.record(
            "stats.population.set",
            actor=actor,
            obj=row,
            region_code=region.code,
            detail={"year": year, "veterans": veterans, "before": before},
        )
    return row
