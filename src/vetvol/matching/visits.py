"""Visit assignment for care: many recipients' visits shared among volunteers who each make several.

Where ``assign`` fills emergency slots (one per volunteer), a campaign gives a volunteer up to ``capacity``
visits and adds two aims no dispatch has:

- **continuity**: a recipient is best visited by the volunteer who visited them before (last year's
  holiday visit, the paired party member); keeping them is worth ``continuity_km`` of extra travel;
- **fairness**: no volunteer is overloaded and no recipient waits far longer than the others. A volunteer
  makes one visit a day, so a recipient's wait is the place of their visit in the volunteer's list; the
  s-th visit of a volunteer (s = 0, 1, …) costs ``s · load_km`` more. That cost is convex in the load, so
  the optimum spreads visits over the volunteers nearby before it gives anyone a second one, and it fills a
  volunteer's earlier places first (a visit never waits behind an empty day).

Method: each visit's ``k`` nearest volunteers within ``max_km`` (a k-d tree over unit vectors) plus its
previous volunteer if within reach; each volunteer becomes one column per free place in their list, each
with its load cost; every visit has a private "unassigned" column of cost BIG (greater than any set of edge
costs it could trade against), so the most visits are assigned and, among those, the total cost is least.
Solving a whole city at once with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` (LAPJVsp) is
exact but grows with (visits × edges) per component: 100,000 visits took 65 s. So the visits are cut into
compact tiles of ``tile_size`` (median cuts along the longer side) solved exactly one after another, each
with the places earlier tiles left; visits left unassigned at tile edges get a second, wider look (4k
nearest with room). 100,000 visits take about a second; on instances small enough for the exact
whole-problem solve the tiles' cost is within a few per cent of it (tests pin the gap). Plain arrays in,
plain arrays out: no Django, as for the rest of the engine.

``greedy_visits`` is the baseline on the same input: visits in order, each to its nearest volunteer with
room left, continuity ignored (what a dispatcher working down the list by hand would do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial import cKDTree

from vetvol.matching.geo import chord_for_km, haversine_km, rounded_km, unit_vectors

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VisitPolicy:
    capacity: int = 5  # visits per volunteer at most
    max_km: float = 15.0  # nobody is sent farther
    k: int = 6  # nearest volunteers considered per visit (plus the previous one)
    continuity_km: float = 3.0  # the previous volunteer is kept unless someone is this much nearer
    load_km: float = 0.8  # extra cost of each further visit on one volunteer
    tile_size: int = 256  # visits solved together (see the module docstring)

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.k < 1 or self.max_km <= 0:
            raise ValueError("capacity, k and max_km must be positive")
        if self.continuity_km < 0 or self.load_km < 0:
            raise ValueError("continuity and load costs must be ≥ 0")


@dataclass
class VisitPlan:
    """Per visit: the volunteer's row (-1: unassigned), km, place in the volunteer's list (0 = first day),
    and whether it kept the previous volunteer."""

    volunteer: IntArray
    km: FloatArray
    place: IntArray
    kept: npt.NDArray[np.bool_]
    seconds: float = 0.0

    def figures(self, n_volunteers: int, had_previous: npt.NDArray[np.bool_]) -> dict[str, float]:
        done = self.volunteer >= 0
        load = np.bincount(self.volunteer[done], minlength=n_volunteers)
        used = load[load > 0]
        wait = self.place[done] + 1
        prev = had_previous & done
        return {
            "assigned": int(done.sum()),
            "unassigned": int((~done).sum()),
            "total_km": round(float(self.km[done].sum()), 1),
            "mean_km": round(float(self.km[done].mean()), 3) if done.any() else 0.0,
            "continuity_share": round(float(self.kept[prev].mean()), 4) if prev.any() else 0.0,
            "max_load": int(used.max()) if used.size else 0,
            "median_load": float(np.median(used)) if used.size else 0.0,
            "max_wait_days": int(wait.max()) if wait.size else 0,
            "median_wait_days": float(np.median(wait)) if wait.size else 0.0,
            "seconds": round(self.seconds, 3),
        }


def _candidates(
    v_lat: FloatArray,
    v_lng: FloatArray,
    w_lat: FloatArray,
    w_lng: FloatArray,
    previous: IntArray,
    capacity: IntArray,
    policy: VisitPolicy,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Edges (visit, volunteer row, km): the k nearest with room, and the previous volunteer in reach."""
    room = np.flatnonzero(capacity > 0)
    n = v_lat.size
    if room.size == 0 or n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    tree = cKDTree(unit_vectors(w_lat[room], w_lng[room]))
    k = min(policy.k, room.size)
    chord, idx = tree.query(unit_vectors(v_lat, v_lng), k=k, distance_upper_bound=chord_for_km(policy.max_km))
    chord = np.asarray(chord).reshape(n, k)
    idx = np.asarray(idx).reshape(n, k)
    ok = np.isfinite(chord)
    e_visit = np.repeat(np.arange(n), k)[ok.ravel()]
    e_row = room[idx[ok]]
    has_prev = (previous >= 0) & (previous < w_lat.size)
    pv = np.flatnonzero(has_prev)
    pv = pv[capacity[previous[pv]] > 0]
    e_visit = np.concatenate([e_visit, pv])
    e_row = np.concatenate([e_row, previous[pv]])
    km = rounded_km(haversine_km(v_lat[e_visit], v_lng[e_visit], w_lat[e_row], w_lng[e_row]))
    keep = km <= policy.max_km
    e_visit, e_row, km = e_visit[keep], e_row[keep], km[keep]
    # the previous volunteer may also be among the nearest: one edge per pair
    key = e_visit * (1 << 32) + e_row
    _, first = np.unique(key, return_index=True)
    return e_visit[first], e_row[first], km[first]


def assign_visits(
    v_lat: npt.ArrayLike,
    v_lng: npt.ArrayLike,
    w_lat: npt.ArrayLike,
    w_lng: npt.ArrayLike,
    *,
    previous: npt.ArrayLike | None = None,
    capacity: npt.ArrayLike | None = None,
    policy: VisitPolicy | None = None,
) -> VisitPlan:
    """Assign visits (recipients at v_lat/v_lng) to volunteers (w_lat/w_lng). ``previous[i]`` is the row of
    visit i's previous volunteer or -1; ``capacity[w]`` the visits volunteer w may still take (default the
    policy's)."""
    import time

    t0 = time.perf_counter()
    policy = policy or VisitPolicy()
    v_lat, v_lng = np.asarray(v_lat, np.float64), np.asarray(v_lng, np.float64)
    w_lat, w_lng = np.asarray(w_lat, np.float64), np.asarray(w_lng, np.float64)
    n, m = v_lat.size, w_lat.size
    prev = np.full(n, -1, np.int64) if previous is None else np.asarray(previous, np.int64)
    cap = (
        np.full(m, policy.capacity, np.int64)
        if capacity is None
        else np.minimum(np.asarray(capacity, np.int64), policy.capacity)
    )
    out_w = np.full(n, -1, np.int64)
    out_km = np.zeros(n)
    out_place = np.full(n, -1, np.int64)
    used = np.zeros(m, np.int64)
    e_v, e_w, e_km = _candidates(v_lat, v_lng, w_lat, w_lng, prev, cap, policy)
    for part in _edges_by_tile(_tiles(v_lat, v_lng, np.arange(n), policy.tile_size), e_v, n):
        _solve_tile(part, e_v, e_w, e_km, prev, cap, used, policy, out_w, out_km, out_place)
    # visits whose nearest were taken by neighbouring tiles: a wider look among volunteers with room left
    left = np.flatnonzero(out_w < 0)
    if left.size:
        wider = VisitPolicy(
            policy.capacity, policy.max_km, policy.k * 4, policy.continuity_km, policy.load_km
        )
        l_v, l_w, l_km = _candidates(v_lat[left], v_lng[left], w_lat, w_lng, prev[left], cap - used, wider)
        l_v = left[l_v]
        for part in _edges_by_tile(_tiles(v_lat, v_lng, left, policy.tile_size), l_v, n):
            _solve_tile(part, l_v, l_w, l_km, prev, cap, used, policy, out_w, out_km, out_place)
    kept = (out_w >= 0) & (out_w == prev)
    return VisitPlan(out_w, out_km, out_place, kept, time.perf_counter() - t0)


def _tiles(lat: FloatArray, lng: FloatArray, idx: IntArray, size: int) -> list[IntArray]:
    """Split visits into compact tiles of at most `size` (median cuts along the longer side), nearest
    first within the province's order of tiles, so neighbouring tiles are solved one after the other."""
    if idx.size <= size:
        return [idx] if idx.size else []
    la, lo = lat[idx], lng[idx]
    axis = la if np.ptp(la) >= np.ptp(lo) * np.cos(np.radians(float(la.mean()))) else lo
    order = np.argsort(axis, kind="stable")
    half = idx.size // 2
    return _tiles(lat, lng, idx[order[:half]], size) + _tiles(lat, lng, idx[order[half:]], size)


def _edges_by_tile(tiles: list[IntArray], e_v: IntArray, n: int) -> list[IntArray]:
    """The edge positions of each tile, in the tiles' order."""
    tile_of = np.full(n, -1, np.int64)
    for t, tile in enumerate(tiles):
        tile_of[tile] = t
    order = np.argsort(tile_of[e_v], kind="stable")
    bounds = np.searchsorted(tile_of[e_v][order], np.arange(len(tiles) + 1))
    return [order[bounds[t] : bounds[t + 1]] for t in range(len(tiles))]


def _solve_tile(
    part: IntArray,
    e_v: IntArray,
    e_w: IntArray,
    e_km: FloatArray,
    prev: IntArray,
    cap: IntArray,
    used: IntArray,
    policy: VisitPolicy,
    out_w: IntArray,
    out_km: FloatArray,
    out_place: IntArray,
) -> None:
    """Optimal assignment of one tile's visits to the places volunteers still have (earlier tiles took
    theirs): LAPJVsp on the tile's edges, each volunteer's next free places as columns."""
    part = part[used[e_w[part]] < cap[e_w[part]]]
    if part.size == 0:
        return
    cost = (
        e_km[part] - np.where(prev[e_v[part]] == e_w[part], policy.continuity_km, 0.0) + policy.continuity_km
    )
    visits, row = np.unique(e_v[part], return_inverse=True)
    vols, vcol = np.unique(e_w[part], return_inverse=True)
    # a volunteer offers no more places than visits list them, and no more than they have left
    places = np.minimum(cap[vols] - used[vols], np.bincount(vcol, minlength=vols.size))
    first = np.concatenate([[0], np.cumsum(places)[:-1]])
    n_cols = int(places.sum())
    rep = places[vcol]
    edge = np.repeat(np.arange(part.size), rep)
    s = np.arange(edge.size) - np.repeat(np.cumsum(rep) - rep, rep)  # which free place
    col = first[vcol[edge]] + s
    w = cost[edge] + (s + used[vols][vcol[edge]]) * policy.load_km
    nv = visits.size
    big = float(w.max(initial=0.0)) * 2 * nv + 1.0  # an extra visit assigned beats any trade of edge costs
    data = np.concatenate([w + 1.0, np.full(nv, big)])  # +1: LAPJVsp treats weight 0 as no edge
    ri = np.concatenate([row[edge], np.arange(nv)])
    ci = np.concatenate([col, n_cols + np.arange(nv)])
    graph = sparse.csr_array((data, (ri, ci)), shape=(nv, n_cols + nv))
    r_ind, c_ind = min_weight_full_bipartite_matching(graph)
    real = c_ind < n_cols
    r_ind, c_ind = r_ind[real], c_ind[real]
    owner = np.repeat(np.arange(vols.size), places)[c_ind]
    volunteer = vols[owner]
    visit = visits[r_ind]
    # places as days: each volunteer's visits numbered on from those earlier tiles gave them
    order = np.lexsort((c_ind, owner))
    place = np.empty(order.size, np.int64)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(owner[order])) + 1]) if order.size else order
    counts = np.diff(np.concatenate([starts, [order.size]]))
    place[order] = np.arange(order.size) - np.repeat(starts, counts)
    out_w[visit] = volunteer
    out_place[visit] = place + used[volunteer]
    np.add.at(used, volunteer, 1)
    key = e_v[part] * (1 << 32) + e_w[part]
    srt = np.argsort(key)
    pos = np.searchsorted(key[srt], visit * (1 << 32) + volunteer)
    out_km[visit] = e_km[part][srt[pos]]


def greedy_visits(
    v_lat: npt.ArrayLike,
    v_lng: npt.ArrayLike,
    w_lat: npt.ArrayLike,
    w_lng: npt.ArrayLike,
    *,
    previous: npt.ArrayLike | None = None,
    capacity: npt.ArrayLike | None = None,
    policy: VisitPolicy | None = None,
) -> VisitPlan:
    """Baseline: each visit in order takes its nearest volunteer with room (among its k nearest)."""
    import time

    t0 = time.perf_counter()
    policy = policy or VisitPolicy()
    v_lat, v_lng = np.asarray(v_lat, np.float64), np.asarray(v_lng, np.float64)
    w_lat, w_lng = np.asarray(w_lat, np.float64), np.asarray(w_lng, np.float64)
    n, m = v_lat.size, w_lat.size
    prev = np.full(n, -1, np.int64) if previous is None else np.asarray(previous, np.int64)
    room = (
        np.full(m, policy.capacity, np.int64)
        if capacity is None
        else np.minimum(np.asarray(capacity, np.int64), policy.capacity).copy()
    )
    out_w = np.full(n, -1, np.int64)
    out_km = np.zeros(n)
    out_place = np.full(n, -1, np.int64)
    used = np.zeros(m, np.int64)
    e_v, e_w, e_km = _candidates(v_lat, v_lng, w_lat, w_lng, np.full(n, -1, np.int64), room, policy)
    order = np.lexsort((e_km, e_v))
    e_v, e_w, e_km = e_v[order], e_w[order], e_km[order]
    starts = np.searchsorted(e_v, np.arange(n))
    ends = np.searchsorted(e_v, np.arange(n), side="right")
    for i in range(n):
        for j in range(starts[i], ends[i]):
            w = e_w[j]
            if used[w] < room[w]:
                out_w[i], out_km[i], out_place[i] = w, e_km[j], used[w]
                used[w] += 1
                break
    kept = (out_w >= 0) & (out_w == prev)
    return VisitPlan(out_w, out_km, out_place, kept, time.perf_counter() - t0)


def rank_for_service(
    volunteer_ids: list[int],
    distance_km: list[float],
    *,
    served_before: set[int],
    open_load: dict[int, int],
    continuity_km: float = 3.0,
    load_km: float = 0.8,
) -> list[int]:
    """Order candidates for one help request: distance, less ``continuity_km`` for a volunteer who served
    this recipient before, plus ``load_km`` per open care task they already carry; ties by id."""
    scored = [
        (d - (continuity_km if v in served_before else 0.0) + load_km * open_load.get(v, 0), v)
        for v, d in zip(volunteer_ids, distance_km, strict=True)
    ]
    return [v for _, v in sorted(scored)]
