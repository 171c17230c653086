"""Loads the shipped administrative tree (data/guangdong_divisions.csv.gz) into the database.

Idempotent: a second run with the same file changes nothing; a newer file updates names, kinds, parents and
centre points in place. Nodes are never deleted by the loader, since records elsewhere refer to them.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from vetvol.regions.models import CODE_LENGTHS, Region, RegionKind, RegionLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_FILE = DATA_DIR / "guangdong_divisions.csv.gz"
LEVELS = [c.value for c in RegionLevel]
FIELDS = ("name", "level", "kind", "parent_id", "lng", "lat")


class RegionDataError(ValueError):
    """The data file is malformed; nothing was written."""


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _float(text: str) -> float | None:
    return round(float(text), 6) if text else None


def read_rows(path: Path = DIVISIONS_FILE, max_level: str = "village") -> list[Region]:
    depth = LEVELS.index(max_level)
    kinds = {c.value for c in RegionKind}
    rows: list[Region] = []
    with gzip.open(path, "rb") as raw:
        for n, row in enumerate(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")), start=2):
            level = row["level"]
            if level not in LEVELS or row["kind"] not in kinds or len(row["code"]) != CODE_LENGTHS[level]:
                raise RegionDataError(f"{path.name} line {n}: bad level, kind or code length: {row}")
            if LEVELS.index(level) > depth:
                continue
            rows.append(
                Region(
                    code=row["code"],
                    name=row["name"],
                    level=level,
                    kind=row["kind"],
                    parent_id=row["parent"] or None,
                    lng=_float(row["lng"]),
                    lat=_float(row["lat"]),
                )
            )
    return rows


def load(path: Path = DIVISIONS_FILE, max_level: str = "village") -> LoadResult:
    rows = read_rows(path, max_level)
    result = LoadResult()
    with transaction.atomic():
        existing = {r.code: r for r in Region.objects.filter(code__in=[r.code for r in rows])}
        new, changed = [], []
        for row in rows:
            old = existing.get(row.code)
            if old is None:
                new.append(row)
            elif any(getattr(old, f) != getattr(row, f) for f in FIELDS):
                changed.append(row)
            else:
                result.unchanged += 1
        # Parents come before children in code order, so foreign keys hold at every insert.
        Region.objects.bulk_create(sorted(new, key=lambda r: (len(r.code), r.code)), batch_size=2000)
        Region.objects.bulk_update(changed, FIELDS, batch_size=2000)
        result.created, result.updated = len(new), len(changed)
    return result
