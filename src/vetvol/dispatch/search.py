"""Candidate search on the database, ranked by the matching engine.

The database decides who is eligible *now* (correct with any number of server processes): active
volunteers with a home base in the location index, not on an active assignment, holding the role's skill
and a certificate valid today if it needs one, insured today for a risky incident, not invited to this
incident before. The spatial prefilter is the grid-cell index of `VolunteerLocation` (see
`locations.py`): the bounding box of a probe radius is a few contiguous cell ranges, each a B-tree range
scan, and the lossy skills bitmask drops most non-holders inside the index before the exact checks.

The probe radius grows (2 km, ×2.5 …) up to the search radius; a probe's answer is final once its k-th
best score is within the probe radius, because everyone not fetched is farther than that and every
ranking penalty is ≥ 0. The ranking itself (distance, rested-first, recent load, ties by id) is
`vetvol.matching`'s, on a small pool built from the rows fetched. `brute_force_candidates` runs the same
eligibility as a scan without the spatial prefilter and ranks every row: the reference.

Live positions are not used here: a live row exists only while its volunteer is on an active assignment,
and such a volunteer is not a candidate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from vetvol.activities.models import InsurancePolicy
from vetvol.dispatch.locations import cell_ranges, skill_bit
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    Invitation,
    LocationSource,
    VolunteerLocation,
)
from vetvol.matching import Candidate, Need, RankingPolicy, VolunteerPool, brute_force_search
from vetvol.matching.geo import bounding_box

FIRST_PROBE_KM = 2.0
RECENT_LOAD_DAYS = 30


@dataclass(frozen=True)
class RoleFilter:
    skill_id: int | None = None
    certificate_type_id: int | None = None
    insured: bool = False  # risky incident: insured today
    exclude_incident_id: int | None = None  # not invited to this incident before


def eligible(role: RoleFilter, now: datetime) -> QuerySet[VolunteerLocation]:
    """Home rows of volunteers eligible for the role now (no spatial filter)."""
    from vetvol.registry.models import Certificate, VolunteerSkill

    today = timezone.localdate(now)
    qs = VolunteerLocation.objects.filter(source=LocationSource.HOME, volunteer__status="active")
    if role.skill_id is not None:
        bit = skill_bit(role.skill_id)
        qs = qs.annotate(_bit=F("skills").bitand(bit)).filter(_bit=bit)
        qs = qs.filter(
            Exists(
                VolunteerSkill.objects.filter(volunteer_id=OuterRef("volunteer_id"), skill_id=role.skill_id)
            )
        )
    if role.certificate_type_id is not None:
        certs = Certificate.objects.filter(
            volunteer_id=OuterRef("volunteer_id"), type_id=role.certificate_type_id
        ).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            Q(issued_on__isnull=True) | Q(issued_on__lte=today),
        )
        qs = qs.filter(Exists(certs))
    if role.insured:
        qs = qs.filter(
            Exists(
                InsurancePolicy.objects.filter(
                    volunteer_id=OuterRef("volunteer_id"), valid_from__lte=today, valid_until__gte=today
                )
            )
        )
    busy = Assignment.objects.filter(volunteer_id=OuterRef("volunteer_id"), status__in=ACTIVE_ASSIGNMENT)
    qs = qs.filter(~Exists(busy))
    if role.exclude_incident_id is not None:
        invited = Invitation.objects.filter(
            volunteer_id=OuterRef("volunteer_id"), incident_id=role.exclude_incident_id
        )
        qs = qs.filter(~Exists(invited))
    return qs


def in_box(
    qs: QuerySet[VolunteerLocation], lat: float, lng: float, radius_km: float
) -> QuerySet[VolunteerLocation]:
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    q = Q(pk__in=[])
    for lo, hi in cell_ranges(min_lat, max_lat, min_lng, max_lng):
        q |= Q(cell__gte=lo, cell__lte=hi)
    qs = qs.filter(q, lat__gte=min_lat, lat__lte=max_lat)
    if min_lng <= max_lng:
        return qs.filter(lng__gte=min_lng, lng__lte=max_lng)
    return qs.filter(Q(lng__gte=min_lng) | Q(lng__lte=max_lng))


def _ts(value: Any) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, str):  # SQLite: no type converters on a raw cursor
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return float(value.timestamp())


def _pool(rows: list[tuple[Any, ...]], now: datetime, ranking: RankingPolicy | None) -> VolunteerPool:
    """A small engine pool over the fetched rows (id, lat, lng, recent load, last dispatched)."""
    return VolunteerPool(
        np.array([r[0] for r in rows], dtype=np.int64),
        [r[1] for r in rows],
        [r[2] for r in rows],
        recent_load=[int(r[3] or 0) for r in rows],
        last_dispatched_at=[_ts(r[4]) for r in rows],
        ranking=ranking,
        min_probe=8,
    )


def _sql(
    role: RoleFilter, now: datetime, box: tuple[list[tuple[int, int]], str, list[Any]] | None = None
) -> tuple[str, list[Any]]:
    """The eligibility of `eligible()` as one SQL statement (the hot path: no ORM compilation per probe).
    Table names are the models' (asserted in the tests); every value is a parameter."""
    today = timezone.localdate(now)
    sql = [
        "SELECT l.volunteer_id, l.lat, l.lng, "
        "(SELECT COUNT(*) FROM dispatch_assignment r WHERE r.volunteer_id = l.volunteer_id "
        "AND r.accepted_at >= %s), "
        "(SELECT MAX(r.accepted_at) FROM dispatch_assignment r WHERE r.volunteer_id = l.volunteer_id) "
    ]
    params: list[Any] = [now - timedelta(days=RECENT_LOAD_DAYS)]
    if box is not None and connection.vendor == "postgresql":
        # one index-only range scan of (cell) INCLUDE (...) per grid row of the box; the LATERAL with
        # OFFSET 0 keeps the planner from flattening it into a scan of the whole table
        sql.append(
            "FROM unnest(%s::int[], %s::int[]) g(lo, hi) CROSS JOIN LATERAL ("
            "SELECT x.volunteer_id, x.lat, x.lng, x.source, x.skills FROM dispatch_volunteerlocation x "
            "WHERE x.cell BETWEEN g.lo AND g.hi OFFSET 0) l "
        )
        params += [[lo for lo, _ in box[0]], [hi for _, hi in box[0]]]
    else:
        sql.append("FROM dispatch_volunteerlocation l ")
    sql.append(
        "JOIN registry_volunteer v ON v.id = l.volunteer_id WHERE l.source = 'home' AND v.status = 'active'"
    )
    if box is not None:
        sql.append(box[1])
        params += box[2]
    if role.skill_id is not None:
        bit = skill_bit(role.skill_id)
        sql.append(
            "AND (l.skills & %s) = %s AND EXISTS (SELECT 1 FROM registry_volunteerskill s "
            "WHERE s.volunteer_id = l.volunteer_id AND s.skill_id = %s)"
        )
        params += [bit, bit, role.skill_id]
    if role.certificate_type_id is not None:
        sql.append(
            "AND EXISTS (SELECT 1 FROM registry_certificate c WHERE c.volunteer_id = l.volunteer_id "
            "AND c.type_id = %s AND (c.valid_until IS NULL OR c.valid_until >= %s) "
            "AND (c.issued_on IS NULL OR c.issued_on <= %s))"
        )
        params += [role.certificate_type_id, today, today]
    if role.insured:
        sql.append(
            "AND EXISTS (SELECT 1 FROM activities_insurancepolicy p WHERE p.volunteer_id = l.volunteer_id "
            "AND p.valid_from <= %s AND p.valid_until >= %s)"
        )
        params += [today, today]
    sql.append(
        "AND NOT EXISTS (SELECT 1 FROM dispatch_assignment a WHERE a.volunteer_id = l.volunteer_id "
        "AND a.status IN (%s, %s, %s))"
    )
    params += [str(s) for s in ACTIVE_ASSIGNMENT]
    if role.exclude_incident_id is not None:
        sql.append(
            "AND NOT EXISTS (SELECT 1 FROM dispatch_invitation i WHERE i.volunteer_id = l.volunteer_id "
            "AND i.incident_id = %s)"
        )
        params.append(role.exclude_incident_id)
    return " ".join(sql), params


def _box(lat: float, lng: float, radius_km: float) -> tuple[list[tuple[int, int]], str, list[Any]]:
    """(cell ranges, extra WHERE, its params) for the radius's bounding box. On PostgreSQL the ranges are
    joined from `unnest` in FROM (see `_sql`); elsewhere they are OR-ed BETWEENs here."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    ranges = cell_ranges(min_lat, max_lat, min_lng, max_lng)
    params: list[Any] = []
    sql = ""
    if connection.vendor != "postgresql":
        for lo, hi in ranges:
            params += [lo, hi]
        sql = " AND (" + " OR ".join("l.cell BETWEEN %s AND %s" for _ in ranges) + ")"
    sql += " AND l.lat BETWEEN %s AND %s"
    params += [min_lat, max_lat]
    if min_lng <= max_lng:
        sql += " AND l.lng BETWEEN %s AND %s"
    else:
        sql += " AND (l.lng >= %s OR l.lng <= %s)"
    return ranges, sql, [*params, min_lng, max_lng]


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(r[0]), float(r[1]), float(r[2]), r[3], r[4]) for r in cur.fetchall()]


def search_candidates(
    lat: float,
    lng: float,
    role: RoleFilter,
    *,
    k: int,
    radius_km: float,
    now: datetime | None = None,
    ranking: RankingPolicy | None = None,
) -> list[Candidate]:
    """The k best eligible volunteers within radius_km, best first (exact; see the module docstring)."""
    now = now or timezone.now()
    if k <= 0 or radius_km < 0:
        return []
    probe = min(FIRST_PROBE_KM, radius_km)
    need = Need(lat=lat, lng=lng, slots=k)
    while True:
        rows = _rows(*_sql(role, now, _box(lat, lng, probe)))
        result = (
            brute_force_search(_pool(rows, now, ranking), need, k, probe, now.timestamp()) if rows else []
        )
        if probe >= radius_km or (len(result) == k and result[-1].score_km <= probe):
            return result
        # widen by the density seen so far (area grows with the square of the radius), at least ×2
        grow = math.sqrt(2.0 * k / max(len(result), 0.5))
        probe = min(radius_km, probe * max(2.0, grow))


def brute_force_candidates(
    lat: float,
    lng: float,
    role: RoleFilter,
    *,
    k: int,
    radius_km: float,
    now: datetime | None = None,
    ranking: RankingPolicy | None = None,
) -> list[Candidate]:
    """Reference: every eligible row (same SQL, no spatial prefilter), ranked by the engine's brute force."""
    now = now or timezone.now()
    rows = _rows(*_sql(role, now))
    if not rows:
        return []
    return brute_force_search(
        _pool(rows, now, ranking), Need(lat=lat, lng=lng, slots=k), k, radius_km, now.timestamp()
    )
