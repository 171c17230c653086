"""Candidate search on the database, ranked by the matching engine.

The database decides who is eligible *now* (correct with any number of server processes): active
volunteers with a home base in the location index, available now by their weekly availability (or who
stated none), not on an active assignment, holding the role's skill
and a certificate valid today if it needs one, insured today for a risky incident, not invited to this
incident before. Nothing is cached in the process; every search reads the database.

One statement per probe (`_nearest_sql`), shaped so the database does little per row:

1. Spatial prefilter: the grid-cell index of `VolunteerLocation` (see `locations.py`), a B-tree on
   `(cell) INCLUDE (lat, lng, skills, volunteer, source, updated_at)`. The bounding box of the probe radius
   is one contiguous cell range per grid row, each an index-only range scan; the lossy skills bitmask and
   the box itself drop most rows inside the index, without touching the table.
2. Distance in SQL: haversine's `a` (plain sin/cos arithmetic, PostgreSQL and SQLite alike) of the rows
   left, a cut at the probe radius, a sort.
3. Exact checks lazily, in distance order, until `LIMIT` rows passed: status, skill, certificate, insurance,
   busy, invited. On PostgreSQL each EXISTS is fenced with `OFFSET 0`, which keeps it a per-row subplan
   above the sort (never a semi-join over a whole table), so they run for about `LIMIT` rows, not for
   every row in the box.
4. Recent load and last dispatch (the ranking's penalties) only for the rows returned.

Exactness. Every penalty is ≥ 0 and bounded, so a score is never below its distance. A probe proves its
answer once the k-th best score is below `bound`, the distance every unfetched eligible row is known to
exceed: the probe radius if fewer than LIMIT rows came back (everyone eligible within it was fetched), else
the distance of the last row returned. Otherwise the LIMIT grows ×4 (penalised rows crowd the nearest
places) or the probe widens (2 km, then by the density seen, at least ×2) up to the search radius. The
ranking itself (distance, rested-first, recent load, ties by id) is `vetvol.matching`'s, on a small pool of
the fetched rows. `brute_force_candidates` runs the same eligibility as a scan without the spatial prefilter
and ranks every row: the reference, unchanged.

Figures (`bench/candidate_search.py`, PostgreSQL 15, 1,000,000 volunteers, 200 queries, a 2-core machine
shared with other work; CPU per search read from /proc for the client and the server backend):

- before (all rows of the box fetched with every check and both load subqueries per row): p95 20 ms,
  speedup 42 (the lead measured 29–38 ms, 65–70). EXPLAIN ANALYZE of a dense 2 km probe: 1,044 rows,
  11.2 ms execution, most of it the per-row checks and subqueries.
- after (five runs, load average 1.6–2.7): p50 2.0–2.8 ms, p95 3.5–7.9 ms, speedup 98–171 against a
  brute force of 589–888 ms; server CPU 1.45–1.85 ms and client CPU 0.63–0.76 ms per search; 1.12
  statements per search. The p95 is mostly waiting for a CPU on the shared machine, hence the spread.
- measured and not taken: per-skill index rows, `(skill, cell) INCLUDE (…)` (one row per volunteer and
  skill, 1.86 M rows instead of 1 M): server CPU 1.45 → 1.04 ms per search, same answers, p95 within the
  noise; not worth a second copy of the index to keep in sync (and a backfill) at this size. Several
  probes in one statement (rings gated by a count, so outer rings run only when needed): 1.00 statements
  per search but planning grows from 0.34 to 1.06 ms, server CPU 2.1–2.3 ms, p50 worse. First probe 1, 2,
  3, 4 km: server CPU 1.28, 1.47, 1.87, 2.42 ms for 1.28, 1.12, 1.08, 1.06 statements per search: 2 km.

Positions: a volunteer on duty who shares their location (an activity they checked in at; a dispatch
assignment, though then they are busy) has a live row; while it is fresher than
`VETVOL_LIVE_POSITION_MAX_MINUTES` (30) it stands for where they are, otherwise the home row does
(`_where_now`, checked row by row like the other exact checks).
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
from vetvol.dispatch.locations import cell_ranges, live_max_age, skill_bit
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    Invitation,
    LocationSource,
    VolunteerLocation,
)
from vetvol.matching import Candidate, Need, RankingPolicy, VolunteerPool, brute_force_search
from vetvol.matching.candidates import BOUND_SLACK_KM
from vetvol.matching.geo import EARTH_RADIUS_KM, bounding_box
from vetvol.registry.models.volunteers import availability_bit_at

FIRST_PROBE_KM = 2.0
LIMIT_EXTRA = 8  # first LIMIT: 2k + this many rows
RECENT_LOAD_DAYS = 30


@dataclass(frozen=True)
class RoleFilter:
    skill_id: int | None = None
    certificate_type_id: int | None = None
    insured: bool = False  # risky incident: insured today
    exclude_incident_id: int | None = None  # not invited to this incident before


def eligible(role: RoleFilter, now: datetime) -> QuerySet[VolunteerLocation]:
    """Position rows (see `_where_now`) of volunteers eligible for the role now (no spatial filter)."""
    from vetvol.registry.models import Certificate, VolunteerSkill

    today = timezone.localdate(now)
    fresh = now - live_max_age()
    fresh_live = VolunteerLocation.objects.filter(
        volunteer_id=OuterRef("volunteer_id"), source=LocationSource.LIVE, updated_at__gte=fresh
    )
    qs = VolunteerLocation.objects.filter(
        Q(source=LocationSource.LIVE, updated_at__gte=fresh)
        | (Q(source=LocationSource.HOME) & ~Exists(fresh_live)),
        volunteer__status="active",
    )
    when = availability_bit_at(now)
    qs = qs.annotate(_when=F("volunteer__availability").bitand(when)).filter(
        Q(volunteer__availability=0) | ~Q(_when=0)
    )
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


def _pool(rows: list[tuple[Any, ...]], ranking: RankingPolicy | None) -> VolunteerPool:
    """A small engine pool over the fetched rows (id, lat, lng, recent load, last dispatched); it is only
    evaluated (brute force over these rows), so it never builds the engine's spatial indexes."""
    return VolunteerPool(
        np.array([r[0] for r in rows], dtype=np.int64),
        [r[1] for r in rows],
        [r[2] for r in rows],
        recent_load=[int(r[3] or 0) for r in rows],
        last_dispatched_at=[_ts(r[4]) for r in rows],
        ranking=ranking,
        min_probe=8,
    )


# Available now: the volunteer's weekly availability covers this period, or they stated none.
AVAILABLE = "(v.availability = 0 OR (v.availability & %s) <> 0)"


def _where_now(alias: str, now: datetime, fence: str = "") -> tuple[str, list[Any]]:
    """Which row stands for where a volunteer is: a fresh live row (on duty, shared with consent), else
    the home row. Applied row by row (lazily in the search); the index scan keeps home and fresh live rows."""
    fresh = connection.ops.adapt_datetimefield_value(now - live_max_age())
    # alias and fence are literals of this module; every value is a parameter
    sql = (
        f"(({alias}.source = 'live' AND {alias}.updated_at >= %s) OR "  # noqa: S608
        f"({alias}.source = 'home' AND NOT EXISTS (SELECT 1 FROM dispatch_volunteerlocation w "
        f"WHERE w.volunteer_id = {alias}.volunteer_id AND w.source = 'live' AND w.updated_at >= %s{fence})))"
    )
    return sql, [fresh, fresh]


def _eligibility(role: RoleFilter, now: datetime, fence: str = "") -> tuple[str, list[Any]]:
    """The role's checks on `l.volunteer_id` as `AND …` clauses. `fence` ends each subquery: the search
    passes ` OFFSET 0` on PostgreSQL, which keeps every EXISTS a per-row subplan (never a semi-join over
    the whole table), so the checks run lazily on the nearest rows only, until the LIMIT is met."""
    today = timezone.localdate(now)
    sql: list[str] = []
    params: list[Any] = []
    if role.skill_id is not None:
        sql.append(
            "AND EXISTS (SELECT 1 FROM registry_volunteerskill s "  # noqa: S608
            f"WHERE s.volunteer_id = l.volunteer_id AND s.skill_id = %s{fence})"
        )
        params.append(role.skill_id)
    if role.certificate_type_id is not None:
        sql.append(
            "AND EXISTS (SELECT 1 FROM registry_certificate c WHERE c.volunteer_id = l.volunteer_id "  # noqa: S608
            "AND c.type_id = %s AND (c.valid_until IS NULL OR c.valid_until >= %s) "
            f"AND (c.issued_on IS NULL OR c.issued_on <= %s){fence})"
        )
        params += [role.certificate_type_id, today, today]
    if role.insured:
        sql.append(
            "AND EXISTS (SELECT 1 FROM activities_insurancepolicy p WHERE p.volunteer_id = l.volunteer_id "  # noqa: S608
            f"AND p.valid_from <= %s AND p.valid_until >= %s{fence})"
        )
        params += [today, today]
    sql.append(
        "AND NOT EXISTS (SELECT 1 FROM dispatch_assignment a WHERE a.volunteer_id = l.volunteer_id "  # noqa: S608
        f"AND a.status IN (%s, %s, %s){fence})"
    )
    params += [str(s) for s in ACTIVE_ASSIGNMENT]
    if role.exclude_incident_id is not None:
        sql.append(
            "AND NOT EXISTS (SELECT 1 FROM dispatch_invitation i WHERE i.volunteer_id = l.volunteer_id "  # noqa: S608
            f"AND i.incident_id = %s{fence})"
        )
        params.append(role.exclude_incident_id)
    return " ".join(sql), params


_LOAD_SQL = (
    "(SELECT COUNT(*) FROM dispatch_assignment r WHERE r.volunteer_id = {v} AND r.accepted_at >= %s), "
    "(SELECT MAX(r.accepted_at) FROM dispatch_assignment r WHERE r.volunteer_id = {v})"
)


def _sql(role: RoleFilter, now: datetime) -> tuple[str, list[Any]]:
    """Every eligible volunteer's position row with recent load and last dispatch: the brute-force
    reference's scan. Table names are the models' (asserted in the tests); every value is a parameter."""
    position, position_params = _where_now("l", now)
    sql = [
        "SELECT l.volunteer_id, l.lat, l.lng, " + _LOAD_SQL.format(v="l.volunteer_id"),
        "FROM dispatch_volunteerlocation l JOIN registry_volunteer v ON v.id = l.volunteer_id "
        f"WHERE v.status = 'active' AND {AVAILABLE} AND {position}",
    ]
    params: list[Any] = [now - timedelta(days=RECENT_LOAD_DAYS), availability_bit_at(now), *position_params]
    if role.skill_id is not None:
        bit = skill_bit(role.skill_id)
        sql.append("AND (l.skills & %s) = %s")
        params += [bit, bit]
    checks, check_params = _eligibility(role, now)
    return " ".join([*sql, checks]), params + check_params


def _hav(lat: float, lng: float, col: str) -> tuple[str, list[Any]]:
    """SQL for haversine's `a` = sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2) of the row `col` from (lat, lng):
    strictly increasing in the great-circle distance, plain arithmetic and sin/cos (PostgreSQL and
    SQLite ≥ 3.35 alike), so the database can order rows by distance without knowing the engine."""
    half = math.pi / 360.0  # degrees → radians, halved
    dlat = f"sin(({col}.lat - %s) * {half!r})"
    dlng = f"sin(({col}.lng - %s) * {half!r})"
    sql = f"({dlat} * {dlat} + %s * cos({col}.lat * {2 * half!r}) * {dlng} * {dlng})"
    return sql, [lat, lat, math.cos(math.radians(lat)), lng, lng]


def _hav_of_km(km: float) -> float:
    return math.sin(min(km / (2.0 * EARTH_RADIUS_KM), math.pi / 2)) ** 2


def _km_of_hav(hav: float) -> float:
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(max(hav, 0.0), 1.0)))


def _nearest_sql(
    role: RoleFilter, now: datetime, lat: float, lng: float, probe_km: float, limit: int
) -> tuple[str, list[Any]]:
    """The `limit` eligible home rows nearest (lat, lng) within probe_km, with load and last dispatch.

    Cheap filters first, inside the index: the probe's bounding box as one `cell` range per grid row
    (index-only scans of `dispatch_location_cell`), the lossy skills bit, the box itself; then the
    distance (haversine's `a`) of what is left, a cut at probe_km and a sort. Only then, row by row in
    distance order, the exact checks (status, skill, certificate valid today, insurance, not busy, not
    invited), until `limit` rows passed; the load and the last dispatch only for those rows."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, probe_km)
    ranges = cell_ranges(min_lat, max_lat, min_lng, max_lng)
    hav, hav_params = _hav(lat, lng, "y")
    fresh = connection.ops.adapt_datetimefield_value(now - live_max_age())
    where = ["(y.source = 'home' OR y.updated_at >= %s)", "y.lat BETWEEN %s AND %s"]
    params: list[Any] = [fresh, min_lat, max_lat]
    if min_lng <= max_lng:
        where.append("y.lng BETWEEN %s AND %s")
    else:
        where.append("(y.lng >= %s OR y.lng <= %s)")
    params += [min_lng, max_lng]
    if role.skill_id is not None:
        bit = skill_bit(role.skill_id)
        where.append("(y.skills & %s) = %s")
        params += [bit, bit]
    cut = _hav_of_km(probe_km + BOUND_SLACK_KM)
    if connection.vendor == "postgresql":
        # one index-only range scan of (cell) INCLUDE (...) per grid row of the box; the LATERAL with
        # OFFSET 0 keeps the planner from flattening it into a scan of the whole table
        near = (
            "SELECT x.volunteer_id, x.lat, x.lng, x.source, x.updated_at, x.hav "  # noqa: S608
            "FROM unnest(%s::int[], %s::int[]) g(lo, hi) "
            f"CROSS JOIN LATERAL (SELECT y.volunteer_id, y.lat, y.lng, y.source, y.updated_at, {hav} AS hav "
            "FROM dispatch_volunteerlocation y WHERE y.cell BETWEEN g.lo AND g.hi AND "
            + " AND ".join(where)
            + " OFFSET 0) x WHERE x.hav <= %s ORDER BY x.hav OFFSET 0"
        )
        near_params = [[lo for lo, _ in ranges], [hi for _, hi in ranges], *hav_params, *params, cut]
        fence = " OFFSET 0"
    else:
        cells = " OR ".join("y.cell BETWEEN %s AND %s" for _ in ranges)
        near = (
            f"SELECT z.* FROM (SELECT y.volunteer_id, y.lat, y.lng, y.source, y.updated_at, {hav} AS hav "  # noqa: S608
            f"FROM dispatch_volunteerlocation y WHERE ({cells}) AND "
            + " AND ".join(where)
            + ") z WHERE z.hav <= %s ORDER BY z.hav LIMIT -1"
        )
        near_params = [*hav_params, *[c for r in ranges for c in r], *params, cut]
        fence = ""
    checks, check_params = _eligibility(role, now, fence)
    position, position_params = _where_now("l", now, fence)
    sql = (
        f"SELECT c.volunteer_id, c.lat, c.lng, {_LOAD_SQL.format(v='c.volunteer_id')}, c.hav FROM ("  # noqa: S608
        f"SELECT l.volunteer_id, l.lat, l.lng, l.hav FROM ({near}) l "
        f"WHERE {position} AND EXISTS (SELECT 1 FROM registry_volunteer v WHERE v.id = l.volunteer_id "
        f"AND v.status = 'active' AND {AVAILABLE}{fence}) {checks} ORDER BY l.hav LIMIT %s) c"
    )
    when = availability_bit_at(now)
    return sql, [
        now - timedelta(days=RECENT_LOAD_DAYS),
        *near_params,
        *position_params,
        when,
        *check_params,
        limit,
    ]


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(r[0]), float(r[1]), float(r[2]), r[3], r[4], *r[5:]) for r in cur.fetchall()]


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
    limit = 2 * k + LIMIT_EXTRA
    need = Need(lat=lat, lng=lng, slots=k)
    while True:
        rows = _rows(*_nearest_sql(role, now, lat, lng, probe, limit))
        result = brute_force_search(_pool(rows, ranking), need, k, radius_km, now.timestamp()) if rows else []
        truncated = len(rows) >= limit
        # everyone eligible not fetched is at least `bound` km away, so scores at least that (penalties ≥ 0)
        bound = _km_of_hav(max(r[5] for r in rows)) if truncated else probe
        if len(result) == k and result[-1].score_km < bound - BOUND_SLACK_KM:
            return result
        if not truncated and probe >= radius_km:
            return result  # every eligible row within the radius was ranked
        if truncated:  # the nearest rows' penalties pushed the k-th score past them: rank more rows
            limit *= 4
            continue
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
        _pool(rows, ranking), Need(lat=lat, lng=lng, slots=k), k, radius_km, now.timestamp()
    )
