"""Candidate search: the nearest volunteers able to take a role now, ranked; and its brute-force reference.

The pool (``VolunteerPool``) is built from plain arrays, one row per volunteer, and updated incrementally
as volunteers move, become busy, are dispatched, gain skills. It is a cache of the database's state:
nothing here claims anybody — the dispatch app does that in a transaction.

Eligibility (all must hold at ``now``)
--------------------------------------
- present (not removed from the pool), ``available`` (the app's "accepting dispatch now", schedules and
  leave already applied), not ``busy`` (on an active assignment);
- holds every required skill: ``skills & need.skills == need.skills`` (uint64 bitmask, bit = skill);
- every required certificate valid now: ``cert_expiry[row, type] > now`` (NaN = not held);
- distance from the volunteer's *position* to the need ≤ ``radius_km`` (haversine).

Position rule
-------------
The live position counts only if the volunteer consented to location sharing *and* it is fresh:
``-max_clock_skew_s ≤ now - live_at ≤ max_live_age_s`` (30 minutes by default; a timestamp from the future
beyond the skew is distrusted). Otherwise the home base counts. The app sends a live position only while
the volunteer is on duty and clears it (``clear_live_positions``) when duty ends or consent is withdrawn;
without consent a position is never stored or indexed, and one passed in the arrays is ignored.

Ranking
-------
``score_km = distance_km + rested_bonus_km·[dispatched within rest_window_s]
+ min(load_penalty_km · recent_load, max_load_penalty_km)``, then the key is
``(score_km, recent_load, volunteer_id)``. So a volunteer dispatched in the last N hours ranks below a rested
one up to ``rested_bonus_km`` farther away ("slightly farther"), a heavily used one below a fresh one up to
``max_load_penalty_km`` farther away, exact ties go to the one with fewer recent dispatches and then to the
lower id. Distances and scores are rounded to the millimetre (see ``geo``), so the order is the same
whichever code path computed them.

Search (exact)
--------------
The index returns the ``kq`` entries nearest the need (home bases and live positions are indexed
separately; rare skills have their own partitions) and a bound: every volunteer not returned is at least
that far away. Because every penalty is ≥ 0, an unseen volunteer's score is ≥ the bound; once the k-th
best score among the seen is below the bound the answer is proven, otherwise ``kq`` grows ×4. The answer is
therefore identical to ``brute_force_search``, which evaluates every row with the same function.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from vetvol.matching.geo import chord_for_km, haversine_km, km_for_chord, rounded_km, unit_vectors
from vetvol.matching.index import SpatialIndex

if TYPE_CHECKING:
    from vetvol.matching.travel import TravelTimeProvider

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_SKILLS = 64
#: A skill held by at most this share of volunteers gets its own index partition.
PARTITION_MAX_SHARE = 0.2
#: Slack (km) when comparing a proven bound with rounded scores.
BOUND_SLACK_KM = 1e-5


class Reason(enum.IntFlag):
    """Why a candidate is where it is in the ranking (several may hold)."""

    NONE = 0
    HOME_BASE = 1  # distance measured from the home base
    LIVE_POSITION = 2  # distance measured from a fresh, consented live position
    LIVE_STALE = 4  # a consented live position existed but was too old (or from the future): home used
    RECENTLY_DISPATCHED = 8  # dispatched within the rest window: rested_bonus_km added
    LOAD_PENALTY = 16  # recent load added a fairness penalty
    TRAVEL_RERANKED = 32  # order within the top block decided by the travel-time provider
    TRAVEL_UNREACHABLE = 64  # the provider found no route (infinite travel time)


@dataclass(frozen=True)
class Need:
    """A place, a role (skills bitmask + certificate types) and a number of slots."""

    lat: float
    lng: float
    skills: int = 0
    certificates: tuple[int, ...] = ()
    slots: int = 1
    need_id: int | str | None = None

    @property
    def role(self) -> tuple[int, tuple[int, ...]]:
        return self.skills, tuple(sorted(set(self.certificates)))


@dataclass(frozen=True)
class PositionPolicy:
    max_live_age_s: float = 30 * 60.0
    max_clock_skew_s: float = 120.0


@dataclass(frozen=True)
class RankingPolicy:
    rest_window_s: float = 12 * 3600.0
    rested_bonus_km: float = 2.0
    load_penalty_km: float = 0.25
    max_load_penalty_km: float = 1.0

    def __post_init__(self) -> None:
        # non-negative penalties are what makes the search's bound (and its exactness) hold
        if min(self.rest_window_s, self.rested_bonus_km, self.load_penalty_km, self.max_load_penalty_km) < 0:
            raise ValueError("ranking penalties and windows must be ≥ 0")


class Candidate(NamedTuple):
    volunteer_id: int
    distance_km: float
    flags: Reason
    score_km: float
    recent_load: int
    lat: float  # the position the distance was measured from
    lng: float
    travel_minutes: float | None = None


@dataclass
class Evaluation:
    """Eligible rows within the radius, with everything the ranking needs (parallel arrays)."""

    rows: IntArray
    distance: FloatArray
    score: FloatArray
    flags: npt.NDArray[np.int64]
    lat: FloatArray
    lng: FloatArray


def _as(values: npt.ArrayLike | None, n: int, dtype: npt.DTypeLike, default: object) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.array(values, dtype=dtype, copy=True)
    if arr.shape[:1] != (n,):
        raise ValueError(f"expected {n} rows, got shape {arr.shape}")
    return arr


class VolunteerPool:
    """Volunteers as parallel arrays plus the spatial indexes over them; see the module docstring.

    Not thread-safe: one writer; readers in the same thread (or behind the caller's lock).
    """

    def __init__(
        self,
        ids: npt.ArrayLike,
        lat: npt.ArrayLike,
        lng: npt.ArrayLike,
        *,
        skills: npt.ArrayLike | None = None,
        cert_expiry: npt.ArrayLike | None = None,
        busy: npt.ArrayLike | None = None,
        available: npt.ArrayLike | None = None,
        last_dispatched_at: npt.ArrayLike | None = None,
        recent_load: npt.ArrayLike | None = None,
        live_lat: npt.ArrayLike | None = None,
        live_lng: npt.ArrayLike | None = None,
        live_at: npt.ArrayLike | None = None,
        location_consent: npt.ArrayLike | None = None,
        positions: PositionPolicy | None = None,
        ranking: RankingPolicy | None = None,
        partition_max_share: float = PARTITION_MAX_SHARE,
        tail_min: int = 4096,
        min_probe: int = 32,
    ) -> None:
        self.ids: IntArray = np.array(ids, dtype=np.int64, copy=True).reshape(-1)
        n = self.ids.shape[0]
        self.lat: FloatArray = _as(lat, n, np.float64, np.nan)
        self.lng: FloatArray = _as(lng, n, np.float64, np.nan)
        if not (np.isfinite(self.lat).all() and np.isfinite(self.lng).all()):
            raise ValueError("every volunteer needs a home base (finite lat/lng)")
        if (np.abs(self.lat) > 90).any() or (np.abs(self.lng) > 180).any():
            raise ValueError("lat must be in [-90, 90] and lng in [-180, 180]")
        self.skills = _as(skills, n, np.uint64, 0)
        if cert_expiry is None:
            self.cert_expiry: FloatArray = np.empty((n, 0), dtype=np.float64)
        else:
            self.cert_expiry = np.array(cert_expiry, dtype=np.float64, copy=True)
            if self.cert_expiry.ndim == 1:
                self.cert_expiry = self.cert_expiry.reshape(n, 1)
            if self.cert_expiry.shape[0] != n:
                raise ValueError("cert_expiry must have one row per volunteer")
        self.busy: BoolArray = _as(busy, n, np.bool_, False)
        self.available: BoolArray = _as(available, n, np.bool_, True)
        self.present: BoolArray = np.ones(n, dtype=np.bool_)
        self.last_dispatched_at: FloatArray = _as(last_dispatched_at, n, np.float64, np.nan)
        self.recent_load = _as(recent_load, n, np.int64, 0)
        self.live_lat: FloatArray = _as(live_lat, n, np.float64, np.nan)
        self.live_lng: FloatArray = _as(live_lng, n, np.float64, np.nan)
        self.live_at: FloatArray = _as(live_at, n, np.float64, np.nan)
        self.location_consent: BoolArray = _as(location_consent, n, np.bool_, False)
        # no consent, no position: one passed in without consent is dropped, never stored or indexed
        bad = ~(np.isfinite(self.live_lat) & np.isfinite(self.live_lng) & self.location_consent)
        self.live_lat[bad] = self.live_lng[bad] = self.live_at[bad] = np.nan
        self.positions = positions or PositionPolicy()
        self.ranking = ranking or RankingPolicy()
        self.partition_max_share = partition_max_share
        self.tail_min = tail_min  # entries a home index's tail may hold before it is compacted
        self.min_probe = min_probe  # nearest entries fetched by a search's first probe
        self.home_version = np.zeros(n, dtype=np.int32)
        self.live_version = np.zeros(n, dtype=np.int32)
        self._reindex_ids()
        # the spatial indexes are built by the first ``search`` (or ``rebuild_indexes``): a pool used only
        # for evaluation (brute force, batch assignment, the dispatch app's pool of rows fetched from the
        # database) never pays for them, and updates before that first search touch the arrays only
        self._partitions: dict[int, tuple[SpatialIndex, SpatialIndex]] | None = None
        self._skill_count = np.zeros(MAX_SKILLS, dtype=np.int64)
        self._share_cache: dict[int, float] = {}

    # -- identity ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def _reindex_ids(self) -> None:
        self._id_order = np.argsort(self.ids, kind="stable")
        sorted_ids = self.ids[self._id_order]
        if sorted_ids.size > 1 and (sorted_ids[1:] == sorted_ids[:-1]).any():
            raise ValueError("volunteer ids must be unique")
        self._sorted_ids = sorted_ids

    def rows_for(self, ids: npt.ArrayLike) -> IntArray:
        """Row numbers of volunteer ids (KeyError for an unknown id)."""
        wanted = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        pos = np.searchsorted(self._sorted_ids, wanted)
        pos = np.minimum(pos, max(self._sorted_ids.size - 1, 0))
        if self._sorted_ids.size == 0 or (self._sorted_ids[pos] != wanted).any():
            missing = wanted if self._sorted_ids.size == 0 else wanted[self._sorted_ids[pos] != wanted]
            raise KeyError(f"unknown volunteer ids: {missing[:5].tolist()}")
        return self._id_order[pos].astype(np.int64)

    # -- indexes ----------------------------------------------------------------------------------------
    def _has_live(self) -> BoolArray:
        return self.location_consent & np.isfinite(self.live_at) & self.present

    def rebuild_indexes(self) -> None:
        """Rebuild every index from the arrays (the source of truth of this cache)."""
        n = len(self)
        rows = np.flatnonzero(self.present).astype(np.int64)
        live_rows = np.flatnonzero(self._has_live()).astype(np.int64)
        partitions = {-1: self._make_pair(rows, live_rows)}
        self._skill_count = np.zeros(MAX_SKILLS, dtype=np.int64)
        if n:
            for bit in range(MAX_SKILLS):
                has = (self.skills[rows] >> np.uint64(bit)) & np.uint64(1)
                count = int(has.sum())
                self._skill_count[bit] = count
                if 0 < count <= self.partition_max_share * max(rows.size, 1):
                    live_has = ((self.skills[live_rows] >> np.uint64(bit)) & np.uint64(1)).astype(bool)
                    partitions[bit] = self._make_pair(rows[has.astype(bool)], live_rows[live_has])
        self._partitions = partitions
        self._share_cache = {}

    def _indexes(self) -> dict[int, tuple[SpatialIndex, SpatialIndex]]:
        """The partitions' indexes, built on first use."""
        if self._partitions is None:
            self.rebuild_indexes()
        assert self._partitions is not None
        return self._partitions

    def _make_pair(self, rows: IntArray, live_rows: IntArray) -> tuple[SpatialIndex, SpatialIndex]:
        home = SpatialIndex(
            rows, self.lat[rows], self.lng[rows], self.home_version[rows], tail_min=self.tail_min
        )
        live = SpatialIndex(
            live_rows,
            self.live_lat[live_rows],
            self.live_lng[live_rows],
            self.live_version[live_rows],
            tail_min=max(1, self.tail_min // 4),
            tail_fraction=0.25,
        )
        return home, live

    def _partitions_of(self, rows: IntArray) -> list[tuple[tuple[SpatialIndex, SpatialIndex], IntArray]]:
        """(index pair of a partition, rows belonging to it) for the given rows; none before the first
        search (the indexes are then built from the arrays)."""
        if self._partitions is None:
            return []
        out = [(self._partitions[-1], rows)]
        for bit, pair in self._partitions.items():
            if bit >= 0:
                has = ((self.skills[rows] >> np.uint64(bit)) & np.uint64(1)).astype(bool)
                if has.any():
                    out.append((pair, rows[has]))
        return out

    def _compact_if_needed(self) -> None:
        if self._partitions is None:
            return
        for bit, (home, live) in list(self._partitions.items()):
            if home.needs_compaction:
                home = home.compacted(self.home_version)
            if live.needs_compaction:
                live = live.compacted(self.live_version)
            self._partitions[bit] = (home, live)

    def index_stats(self) -> dict[str, int]:
        partitions = self._indexes()
        home, live = partitions[-1]
        return {
            "partitions": len(partitions) - 1,
            "home_entries": len(home),
            "home_tail": home.tail_size,
            "live_entries": len(live),
            "live_tail": live.tail_size,
        }

    # -- incremental updates ----------------------------------------------------------------------------
    def set_busy(self, ids: npt.ArrayLike, busy: bool | npt.ArrayLike = True) -> None:
        self.busy[self.rows_for(ids)] = busy

    def set_available(self, ids: npt.ArrayLike, available: bool | npt.ArrayLike = True) -> None:
        self.available[self.rows_for(ids)] = available

    def record_dispatch(self, ids: npt.ArrayLike, at: float) -> None:
        """A dispatch happened: the rest window starts and the recent load grows by one."""
        rows = self.rows_for(ids)
        self.last_dispatched_at[rows] = at
        np.add.at(self.recent_load, rows, 1)

    def set_recent_load(self, ids: npt.ArrayLike, load: int | npt.ArrayLike) -> None:
        self.recent_load[self.rows_for(ids)] = load

    def set_certificate(self, ids: npt.ArrayLike, cert_type: int, expiry: float | npt.ArrayLike) -> None:
        if cert_type >= self.cert_expiry.shape[1]:
            extra = np.full((len(self), cert_type + 1 - self.cert_expiry.shape[1]), np.nan)
            self.cert_expiry = np.hstack([self.cert_expiry, extra])
        self.cert_expiry[self.rows_for(ids), cert_type] = expiry

    def set_skills(self, ids: npt.ArrayLike, skills: int | npt.ArrayLike) -> None:
        """Replace skill masks; entries are added to the partitions of newly gained skills."""
        rows = self.rows_for(ids)
        old = self.skills[rows].copy()
        self.skills[rows] = np.asarray(skills, dtype=np.uint64)
        gained = self.skills[rows] & ~old
        live = self._has_live()
        for bit, (home, live_index) in (self._partitions or {}).items():
            if bit < 0:
                continue
            got = ((gained >> np.uint64(bit)) & np.uint64(1)).astype(bool) & self.present[rows]
            r = rows[got]
            home.insert(r, self.lat[r], self.lng[r], self.home_version[r])
            lr = r[live[r]]
            live_index.insert(lr, self.live_lat[lr], self.live_lng[lr], self.live_version[lr])
        self._share_cache.clear()
        self._compact_if_needed()

    def move_home(self, ids: npt.ArrayLike, lat: npt.ArrayLike, lng: npt.ArrayLike) -> None:
        rows = self.rows_for(ids)
        self.lat[rows], self.lng[rows] = lat, lng
        self.home_version[rows] += 1
        for (home, _), part_rows in self._partitions_of(rows[self.present[rows]]):
            home.insert(part_rows, self.lat[part_rows], self.lng[part_rows], self.home_version[part_rows])
        self._compact_if_needed()

    def report_live_positions(
        self,
        ids: npt.ArrayLike,
        lat: npt.ArrayLike,
        lng: npt.ArrayLike,
        at: float | npt.ArrayLike,
        consent: bool | npt.ArrayLike = True,
    ) -> None:
        """Live positions from on-duty volunteers; without consent the position is dropped, not stored."""
        rows = self.rows_for(ids)
        consent_a = np.broadcast_to(np.asarray(consent, dtype=bool), rows.shape)
        self.clear_live_positions(self.ids[rows[~consent_a]])
        rows = rows[consent_a]
        if not rows.size:
            return
        self.live_lat[rows] = np.broadcast_to(np.asarray(lat, dtype=np.float64), consent_a.shape)[consent_a]
        self.live_lng[rows] = np.broadcast_to(np.asarray(lng, dtype=np.float64), consent_a.shape)[consent_a]
        self.live_at[rows] = np.broadcast_to(np.asarray(at, dtype=np.float64), consent_a.shape)[consent_a]
        self.location_consent[rows] = True
        self.live_version[rows] += 1
        for (_, live), part_rows in self._partitions_of(rows[self.present[rows]]):
            live.insert(
                part_rows, self.live_lat[part_rows], self.live_lng[part_rows], self.live_version[part_rows]
            )
        self._compact_if_needed()

    def clear_live_positions(self, ids: npt.ArrayLike, *, withdraw_consent: bool = False) -> None:
        rows = self.rows_for(ids)
        self.live_lat[rows] = self.live_lng[rows] = self.live_at[rows] = np.nan
        self.live_version[rows] += 1
        if withdraw_consent:
            self.location_consent[rows] = False

    def remove(self, ids: npt.ArrayLike) -> None:
        """Take volunteers out of every search (their index entries become tombstones)."""
        rows = self.rows_for(ids)
        self.present[rows] = False
        self.home_version[rows] += 1
        self.live_version[rows] += 1

    # -- evaluation (shared by search and brute force) --------------------------------------------------
    def qualified(self, rows: IntArray, skills: int, certificates: Sequence[int], now: float) -> BoolArray:
        """Holds every skill of the mask and every certificate type valid at ``now`` (busy or not)."""
        mask = np.ones(rows.shape[0], dtype=np.bool_)
        if skills:
            want = np.uint64(skills)
            mask &= (self.skills[rows] & want) == want
        for cert in certificates:
            if cert >= self.cert_expiry.shape[1]:
                return np.zeros(rows.shape[0], dtype=np.bool_)
            mask &= self.cert_expiry[rows, cert] > now
        return mask

    def _positions(
        self, rows: IntArray, now: float, positions: PositionPolicy | None
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        positions = positions or self.positions
        age = now - self.live_at[rows]
        with np.errstate(invalid="ignore"):
            fresh_time = (age <= positions.max_live_age_s) & (age >= -positions.max_clock_skew_s)
        fresh = self.location_consent[rows] & np.isfinite(self.live_at[rows]) & fresh_time
        lat = np.where(fresh, self.live_lat[rows], self.lat[rows])
        lng = np.where(fresh, self.live_lng[rows], self.lng[rows])
        return lat, lng, fresh

    def effective_positions(
        self, rows: IntArray, now: float, positions: PositionPolicy | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Where each volunteer counts as being at ``now``: the fresh consented live position, else home."""
        lat, lng, _ = self._positions(rows, now, positions)
        return lat, lng

    def evaluate(
        self,
        rows: IntArray,
        need: Need,
        radius_km: float,
        now: float,
        ranking: RankingPolicy | None = None,
        positions: PositionPolicy | None = None,
    ) -> Evaluation:
        """Eligibility, position, distance, score and flags for ``rows``; keeps the eligible within radius."""
        ranking = ranking or self.ranking
        mask = self.present[rows] & self.available[rows] & ~self.busy[rows]
        rows = rows[mask]
        rows = rows[self.qualified(rows, need.skills, need.certificates, now)]
        lat, lng, fresh = self._positions(rows, now, positions)
        has_live = np.isfinite(self.live_at[rows])
        consent = self.location_consent[rows]  # defence in depth: positions are dropped without consent
        dist = rounded_km(haversine_km(need.lat, need.lng, lat, lng))
        inside = dist <= radius_km
        rows, dist, lat, lng = rows[inside], dist[inside], lat[inside], lng[inside]
        fresh, has_live, consent = fresh[inside], has_live[inside], consent[inside]
        with np.errstate(invalid="ignore"):
            tired = (now - self.last_dispatched_at[rows]) <= ranking.rest_window_s
        load = self.recent_load[rows]
        load_pen = np.minimum(load * ranking.load_penalty_km, ranking.max_load_penalty_km)
        score = rounded_km(dist + np.where(tired, ranking.rested_bonus_km, 0.0) + load_pen)
        flags = np.where(fresh, int(Reason.LIVE_POSITION), int(Reason.HOME_BASE)).astype(np.int64)
        flags |= np.where(has_live & consent & ~fresh, int(Reason.LIVE_STALE), 0)
        flags |= np.where(tired, int(Reason.RECENTLY_DISPATCHED), 0)
        flags |= np.where(load_pen > 0, int(Reason.LOAD_PENALTY), 0)
        return Evaluation(rows, dist, score, flags, lat, lng)

    def ranked(self, ev: Evaluation, k: int) -> list[Candidate]:
        """The top ``k`` of an evaluation by (score, recent_load, id)."""
        score, load, ids = ev.score, self.recent_load[ev.rows], self.ids[ev.rows]
        sel = np.arange(score.shape[0])
        if score.shape[0] > k:
            kth = np.partition(score, k - 1)[k - 1]
            sel = np.flatnonzero(score <= kth)
        order = sel[np.lexsort((ids[sel], load[sel], score[sel]))][:k]
        return [
            Candidate(
                int(ids[i]),
                float(ev.distance[i]),
                Reason(int(ev.flags[i])),
                float(score[i]),
                int(load[i]),
                float(ev.lat[i]),
                float(ev.lng[i]),
            )
            for i in order
        ]

    def _partition_for(self, need: Need) -> tuple[int, tuple[SpatialIndex, SpatialIndex]]:
        partitions = self._indexes()
        best = -1
        if need.skills:
            for bit in range(MAX_SKILLS):
                rarer = best < 0 or self._skill_count[bit] < self._skill_count[best]
                if need.skills >> bit & 1 and bit in partitions and rarer:
                    best = bit
        return best, partitions[best]

    def _share(self, need: Need, part: int) -> float:
        """Estimated share of the partition's entries holding the need's skills (cached per mask)."""
        if not need.skills:
            return 1.0
        if need.skills not in self._share_cache:
            want = np.uint64(need.skills)
            holders = int(((self.skills & want) == want).sum())
            base = int(self._skill_count[part]) if part >= 0 else len(self)
            self._share_cache[need.skills] = holders / max(base, 1)
        return self._share_cache[need.skills]

    # -- search -----------------------------------------------------------------------------------------
    def search(
        self,
        need: Need,
        k: int,
        radius_km: float,
        now: float,
        *,
        ranking: RankingPolicy | None = None,
        positions: PositionPolicy | None = None,
        travel: TravelTimeProvider | None = None,
        rerank_top: int = 5,
    ) -> list[Candidate]:
        """The ``k`` best eligible volunteers within ``radius_km`` of the need, best first (exact)."""
        if k <= 0 or radius_km < 0:
            return []
        q = unit_vectors(need.lat, need.lng)[0]
        max_chord = chord_for_km(radius_km) * (1 + 1e-9) + 1e-12
        part, (home, live) = self._partition_for(need)
        share = max(self._share(need, part), 1e-4)
        kq = int(min(max(self.min_probe, math.ceil(2 * k / share)), 1 << 22))
        while True:
            home_rows, home_bound = home.nearest(q, kq, max_chord, self.home_version)
            live_rows, live_bound = live.nearest(q, kq, max_chord, self.live_version)
            rows = np.unique(np.concatenate([home_rows, live_rows]))
            ev = self.evaluate(rows, need, radius_km, now, ranking, positions)
            bound = min(home_bound, live_bound)
            if bound == math.inf:
                break
            if ev.rows.size >= k:
                kth = float(np.partition(ev.score, k - 1)[k - 1])
                if kth < km_for_chord(bound) - BOUND_SLACK_KM:
                    break
            kq *= 4
        result = self.ranked(ev, k)
        if travel is not None:
            from vetvol.matching.travel import rerank

            result = rerank(result, need, travel, top=rerank_top)
        return result


def brute_force_search(
    pool: VolunteerPool,
    need: Need,
    k: int,
    radius_km: float,
    now: float,
    *,
    ranking: RankingPolicy | None = None,
    positions: PositionPolicy | None = None,
    travel: TravelTimeProvider | None = None,
    rerank_top: int = 5,
) -> list[Candidate]:
    """Reference: evaluate every row, rank, take k. Same semantics as ``VolunteerPool.search``."""
    if k <= 0 or radius_km < 0:
        return []
    ev = pool.evaluate(np.arange(len(pool), dtype=np.int64), need, radius_km, now, ranking, positions)
    result = pool.ranked(ev, k)
    if travel is not None:
        from vetvol.matching.travel import rerank

        result = rerank(result, need, travel, top=rerank_top)
    return result
