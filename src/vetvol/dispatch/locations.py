"""The location index (`VolunteerLocation`): grid cells, sync from the registry, live positions.

Grid: 0.01° cells. `cell = row * 36000 + col` with `row = floor((lat + 90) * 100)` and
`col = floor((lng + 180) * 100)`; a bounding box is one contiguous range of cells per grid row.

Why this index. One home row per volunteer, a plain B-tree on `(cell)` with the columns the search reads
INCLUDEd (lat, lng, the lossy skills bitmask …): a box is a few index-only range scans on SQLite and
PostgreSQL alike, no extension (PostGIS, btree_gist) and no per-process structure (the database stays the
only truth for every server process). The cells are ~1.1 km; a 2 km probe at the densest place of the
1,000,000-volunteer benchmark reads ~9,000 index entries, which costs the server well under a millisecond
once the expensive checks are left to the nearest rows (see `search.py`). The alternative measured,
one row per (volunteer, skill) under `(skill, cell)`, cut the server's CPU per search from 1.45 to 1.04 ms
for 86 % more rows to keep in sync; see `search.py` for the figures and why it was not taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vetvol.core import rawsql
from vetvol.dispatch.models import LocationSource, VolunteerLocation
from vetvol.registry.models import Volunteer, VolunteerSkill

CELL_DEG = 0.01
COLS = 36000


def cell_row(lat: float) -> int:
    return math.floor((lat + 90.0) / CELL_DEG)


def cell_col(lng: float) -> int:
    return math.floor((lng + 180.0) / CELL_DEG)


def cell_of(lat: float, lng: float) -> int:
    return cell_row(lat) * COLS + min(cell_col(lng), COLS - 1)


def cell_ranges(min_lat: float, max_lat: float, min_lng: float, max_lng: float) -> list[tuple[int, int]]:
    """Inclusive cell ranges covering the box (one per grid row; boxes across the antimeridian split)."""
    if min_lng > max_lng:
        return cell_ranges(min_lat, max_lat, min_lng, 180.0) + cell_ranges(min_lat, max_lat, -180.0, max_lng)
    c0, c1 = cell_col(min_lng), min(cell_col(max_lng), COLS - 1)
    return [(r * COLS + c0, r * COLS + c1) for r in range(cell_row(min_lat), cell_row(max_lat) + 1)]


def skill_bit(skill_id: int) -> int:
    return 1 << (int(skill_id) % 63)


def skills_mask(skill_ids: Iterable[int]) -> int:
    mask = 0
    for sid in skill_ids:
        mask |= skill_bit(sid)
    return mask


def sync_locations(
    volunteer_ids: Iterable[int] | None = None, *, batch: int = 5000, fresh: bool = False
) -> int:
    """Rebuild home rows from registry.Volunteer (all, or the given ids); volunteers without a home base or
    no longer active lose their rows. `fresh`: the volunteers were just created (an import), so they have
    no rows to replace. Returns the number of home rows written."""
    now = timezone.now()
    qs = Volunteer.objects.all()
    if volunteer_ids is not None:
        qs = qs.filter(pk__in=list(volunteer_ids))
    written = 0
    last = 0
    while True:
        chunk = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", "lat", "lng", "status")[:batch])
        if not chunk:
            break
        last = chunk[-1][0]
        chunk_ids = [row[0] for row in chunk]
        masks: dict[int, int] = {}
        for vid, sid in VolunteerSkill.objects.filter(volunteer_id__in=chunk_ids).values_list(
            "volunteer_id", "skill_id"
        ):
            masks[vid] = masks.get(vid, 0) | skill_bit(sid)
        rows = [
            {
                "volunteer_id": vid,
                "source": LocationSource.HOME,
                "lat": lat,
                "lng": lng,
                "cell": cell_of(lat, lng),
                "skills": masks.get(vid, 0),
                "updated_at": now,
            }
            for vid, lat, lng, status in chunk
            if lat is not None and lng is not None and status == "active"
        ]
        with transaction.atomic():
            if not fresh:
                VolunteerLocation.objects.filter(
                    volunteer_id__in=chunk_ids, source=LocationSource.HOME
                ).delete()
            rawsql.insert_many(VolunteerLocation, rows)  # COPY on PostgreSQL
        written += len(rows)
        if len(chunk) < batch:
            break
    return written


def on_volunteer_changed(name: str, payload: dict[str, Any]) -> None:
    """Event handler (subscribed in DispatchConfig.ready): re-index one volunteer's home row."""
    if payload.get("id"):
        sync_locations([int(payload["id"])])


def on_volunteers_imported(name: str, payload: dict[str, Any]) -> None:
    """Event handler: index the home rows of volunteers written by a bulk import (one chunk at a time)."""
    if payload.get("ids"):
        sync_locations([int(i) for i in payload["ids"]], fresh=True)


def live_max_age() -> timedelta:
    """How long a shared position stands for where a volunteer is (VETVOL_LIVE_POSITION_MAX_MINUTES)."""
    return timedelta(minutes=int(getattr(settings, "VETVOL_LIVE_POSITION_MAX_MINUTES", 30)))


def set_live(volunteer_id: int, lat: float, lng: float, at: datetime) -> None:
    """Keep only the latest live position, with the home row's skills mask so the search's prefilter sees
    the same skills wherever the volunteer is (called inside the caller's transaction)."""
    home = VolunteerLocation.objects.filter(volunteer_id=volunteer_id, source=LocationSource.HOME)
    skills = home.values_list("skills", flat=True).first() or 0
    VolunteerLocation.objects.update_or_create(
        volunteer_id=volunteer_id,
        source=LocationSource.LIVE,
        defaults={"lat": lat, "lng": lng, "cell": cell_of(lat, lng), "skills": skills, "updated_at": at},
    )


def clear_live(volunteer_id: int) -> None:
    VolunteerLocation.objects.filter(volunteer_id=volunteer_id, source=LocationSource.LIVE).delete()


def on_checked_in(name: str, payload: dict[str, Any]) -> None:
    """Event handler: a volunteer who checked in at an activity is on duty there; with their consent to
    share their location on duty, dispatch looks for them there (not at home) while the fix is fresh."""
    if not payload.get("location_consent") or payload.get("lat") is None or payload.get("lng") is None:
        return
    at = datetime.fromisoformat(payload["at"]) if payload.get("at") else timezone.now()
    with transaction.atomic():
        set_live(int(payload["volunteer_id"]), float(payload["lat"]), float(payload["lng"]), at)


def on_checked_out(name: str, payload: dict[str, Any]) -> None:
    """Event handler: off duty, the activity position is dropped (unless a dispatch assignment now owns
    the live position: then its own updates and its end decide)."""
    from vetvol.dispatch.models import ACTIVE_ASSIGNMENT, Assignment

    volunteer_id = int(payload["volunteer_id"])
    if not Assignment.objects.filter(volunteer_id=volunteer_id, status__in=ACTIVE_ASSIGNMENT).exists():
        clear_live(volunteer_id)
