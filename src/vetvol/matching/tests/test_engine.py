"""The matching engine on plain data: no Django, no database.

Property-based (hypothesis): the indexed search answers exactly what the brute-force reference answers
(same ids, same order) on random pools, after random incremental updates too; the eligibility, position,
rested-first, fairness and radius rules hold against a pure-Python oracle; the batch assignment equals the
dense optimum on small instances, is never worse than greedy, and never breaks a capacity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vetvol.matching import (
    Candidate,
    Need,
    PositionPolicy,
    RankingPolicy,
    Reason,
    StraightLineProvider,
    VolunteerPool,
    assign,
    brute_force_search,
    dense_optimum,
    greedy_assign,
    rerank,
)
from vetvol.matching.assignment import ALL_BUSY, COMPETITION, NONE_QUALIFIED, TOO_FEW
from vetvol.matching.geo import (
    EARTH_RADIUS_KM,
    KM_PER_DEGREE_LAT,
    bounding_box,
    chord_for_km,
    haversine_km,
    km_for_chord,
    km_per_degree_lng,
)
from vetvol.matching.index import SpatialIndex

NOW = 1_785_000_000.0
HOUR = 3600.0
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def py_haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Scalar haversine in plain Python: the oracle's own distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


# -- random pools ---------------------------------------------------------------------------------------
SPOTS = [(23.13, 113.26), (23.14, 113.27), (23.10, 113.30), (23.20, 113.20)]  # shared spots make ties


def random_arrays(seed: int, n: int, tie_share: float) -> dict:
    rng = np.random.default_rng(seed)
    lat = 23.15 + rng.normal(0, 0.08, n)
    lng = 113.25 + rng.normal(0, 0.08, n)
    tie = rng.random(n) < tie_share  # many volunteers at the same spot
    spot = rng.integers(0, len(SPOTS), n)
    lat[tie] = np.array([s[0] for s in SPOTS])[spot[tie]]
    lng[tie] = np.array([s[1] for s in SPOTS])[spot[tie]]
    live = rng.random(n) < 0.4
    return {
        "ids": rng.permutation(np.arange(1, 10 * n + 2))[:n].astype(np.int64),
        "lat": lat,
        "lng": lng,
        "skills": rng.integers(0, 8, n).astype(np.uint64),
        "cert_expiry": np.where(rng.random((n, 2)) < 0.6, NOW + rng.normal(0, 5 * HOUR, (n, 2)), np.nan),
        "busy": rng.random(n) < 0.15,
        "available": rng.random(n) < 0.85,
        "last_dispatched_at": np.where(rng.random(n) < 0.3, NOW - rng.uniform(-HOUR, 30 * HOUR, n), np.nan),
        "recent_load": rng.integers(0, 4, n) * (rng.random(n) < 0.5),
        "live_lat": np.where(live, lat + rng.normal(0, 0.03, n), np.nan),
        "live_lng": np.where(live, lng + rng.normal(0, 0.03, n), np.nan),
        "live_at": NOW - rng.uniform(-10 * 60, 60 * 60, n),
        "location_consent": rng.random(n) < 0.7,
        "seed": seed,
    }


@st.composite
def pools(draw: st.DrawFn, min_size: int = 0, max_size: int = 120) -> dict:
    return random_arrays(
        draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(min_size, max_size)),
        draw(st.sampled_from([0.0, 0.3, 0.8])),
    )


def build(data: dict, **kwargs) -> VolunteerPool:
    arrays = {k: v for k, v in data.items() if k != "seed"}
    return VolunteerPool(**arrays, **kwargs)


needs_st = st.builds(
    Need,
    lat=st.floats(23.0, 23.3),
    lng=st.floats(113.1, 113.4),
    skills=st.integers(0, 7),
    certificates=st.lists(st.integers(0, 1), max_size=2).map(tuple),
)
rankings = st.builds(
    RankingPolicy,
    rest_window_s=st.sampled_from([0.0, 6 * HOUR, 12 * HOUR]),
    rested_bonus_km=st.sampled_from([0.0, 0.5, 2.0, 10.0]),
    load_penalty_km=st.sampled_from([0.0, 0.25, 1.0]),
    max_load_penalty_km=st.sampled_from([0.0, 1.0, 3.0]),
)


def apply_updates(pool: VolunteerPool, seed: int, rounds: int) -> None:
    """Random incremental updates: moves, live positions (with and without consent), busy, skills."""
    rng = np.random.default_rng(seed + 1)
    n = len(pool)
    if n == 0:
        return
    for _ in range(rounds):
        who = pool.ids[rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False)]
        action = int(rng.integers(0, 7))
        if action == 0:
            pool.move_home(who, 23.15 + rng.normal(0, 0.08, who.size), 113.25 + rng.normal(0, 0.08, who.size))
        elif action == 1:
            pool.report_live_positions(
                who,
                23.15 + rng.normal(0, 0.08, who.size),
                113.25 + rng.normal(0, 0.08, who.size),
                NOW - rng.uniform(0, 40 * 60, who.size),
                consent=rng.random(who.size) < 0.8,
            )
        elif action == 2:
            pool.clear_live_positions(who, withdraw_consent=bool(rng.random() < 0.5))
        elif action == 3:
            pool.set_busy(who, rng.random(who.size) < 0.5)
        elif action == 4:
            pool.set_skills(who, rng.integers(0, 8, who.size).astype(np.uint64))
        elif action == 5:
            pool.record_dispatch(who, NOW - rng.uniform(0, 20 * HOUR))
        else:
            pool.remove(who[:1])


# -- search == brute force ------------------------------------------------------------------------------
@FAST
@given(
    data=pools(),
    need=needs_st,
    k=st.integers(1, 25),
    radius=st.sampled_from([0.5, 3.0, 8.0, 25.0, 500.0]),
    ranking=rankings,
    share=st.sampled_from([0.2, 1.0]),
    probe=st.sampled_from([1, 4, 32]),
    updates=st.integers(0, 6),
)
def test_search_equals_brute_force(data, need, k, radius, ranking, share, probe, updates):
    pool = build(data, ranking=ranking, partition_max_share=share, min_probe=probe, tail_min=8)
    apply_updates(pool, data["seed"], updates)
    got = pool.search(need, k, radius, NOW)
    ref = brute_force_search(pool, need, k, radius, NOW)
    assert got == ref
    assert [c.volunteer_id for c in got] == [c.volunteer_id for c in ref]


@FAST
@given(data=pools(min_size=1), need=needs_st, k=st.integers(1, 10))
def test_search_order_is_score_then_load_then_id(data, need, k):
    pool = build(data, min_probe=1)
    got = pool.search(need, k, 30.0, NOW)
    keys = [(c.score_km, c.recent_load, c.volunteer_id) for c in got]
    assert keys == sorted(keys)
    assert len({c.volunteer_id for c in got}) == len(got)


def test_rebuild_after_updates_gives_the_same_answers():
    data = random_arrays(seed=5, n=80, tie_share=0.3)
    pool = build(data, min_probe=1, tail_min=4)
    apply_updates(pool, data["seed"], 8)
    need = Need(23.15, 113.25, skills=1)
    before = pool.search(need, 15, 20.0, NOW)
    pool.rebuild_indexes()
    assert pool.search(need, 15, 20.0, NOW) == before == brute_force_search(pool, need, 15, 20.0, NOW)


# -- the rules against a pure-Python oracle -------------------------------------------------------------
def oracle(pool: VolunteerPool, need: Need, radius: float, now: float) -> dict[int, float]:
    """Eligible volunteer id → distance, computed row by row in plain Python."""
    out = {}
    pos = pool.positions
    for r in range(len(pool)):
        if not pool.present[r] or pool.busy[r] or not pool.available[r]:
            continue
        if int(pool.skills[r]) & need.skills != need.skills:
            continue
        if any(
            not (c < pool.cert_expiry.shape[1] and pool.cert_expiry[r, c] > now) for c in need.certificates
        ):
            continue
        lat, lng = float(pool.lat[r]), float(pool.lng[r])
        live_at = float(pool.live_at[r])
        if (
            pool.location_consent[r]
            and math.isfinite(live_at)
            and -pos.max_clock_skew_s <= now - live_at <= pos.max_live_age_s
        ):
            lat, lng = float(pool.live_lat[r]), float(pool.live_lng[r])
        d = py_haversine(need.lat, need.lng, lat, lng)
        if d <= radius + 1e-6:
            out[int(pool.ids[r])] = d
    return out


@FAST
@given(data=pools(), need=needs_st, radius=st.sampled_from([1.0, 5.0, 15.0]), updates=st.integers(0, 3))
def test_eligibility_rules_match_the_oracle(data, need, radius, updates):
    pool = build(data, min_probe=1)
    apply_updates(pool, data["seed"], updates)
    got = {c.volunteer_id: c for c in pool.search(need, len(pool) + 1, radius, NOW)}
    expected = oracle(pool, need, radius, NOW)
    borderline = {i for i, d in expected.items() if abs(d - radius) < 1e-5}
    assert set(got) - borderline == set(expected) - borderline
    for vid, c in got.items():
        assert c.distance_km <= radius
        assert c.distance_km == pytest.approx(expected[vid], abs=1e-5)
        r = int(pool.rows_for([vid])[0])
        assert not pool.busy[r] and pool.available[r] and pool.present[r]
        assert int(pool.skills[r]) & need.skills == need.skills
        assert all(pool.cert_expiry[r, cert] > NOW for cert in need.certificates)


def single(**overrides) -> VolunteerPool:
    arrays = {"ids": [7], "lat": [23.0], "lng": [113.0], "skills": [0b11], "cert_expiry": [[NOW + 10]]}
    arrays.update(overrides)
    return VolunteerPool(**arrays)


def test_skill_certificate_busy_availability_rules():
    here = Need(23.0, 113.0)
    assert [c.volunteer_id for c in single().search(here, 5, 1.0, NOW)] == [7]
    assert single().search(Need(23.0, 113.0, skills=0b100), 5, 1.0, NOW) == []
    assert len(single().search(Need(23.0, 113.0, skills=0b11, certificates=(0,)), 5, 1.0, NOW)) == 1
    assert single(cert_expiry=[[NOW - 1]]).search(Need(23.0, 113.0, certificates=(0,)), 5, 1.0, NOW) == []
    assert single(cert_expiry=[[NOW]]).search(Need(23.0, 113.0, certificates=(0,)), 5, 1.0, NOW) == []
    assert single().search(Need(23.0, 113.0, certificates=(3,)), 5, 1.0, NOW) == []  # unknown type
    assert single(busy=[True]).search(here, 5, 1.0, NOW) == []
    assert single(available=[False]).search(here, 5, 1.0, NOW) == []
    pool = single()
    pool.remove([7])
    assert pool.search(here, 5, 1.0, NOW) == []
    with pytest.raises(KeyError):
        pool.set_busy([8])


@pytest.mark.parametrize(
    ("consent", "age_s", "uses_live", "flag"),
    [
        (True, 60.0, True, Reason.LIVE_POSITION),
        (True, 29 * 60.0, True, Reason.LIVE_POSITION),
        (True, 31 * 60.0, False, Reason.LIVE_STALE),  # older than 30 minutes: home base
        (True, -600.0, False, Reason.LIVE_STALE),  # from the future beyond the clock skew
        (True, -60.0, True, Reason.LIVE_POSITION),  # within the skew
        (False, 60.0, False, Reason.HOME_BASE),  # no consent: never stored
    ],
)
def test_position_rule(consent, age_s, uses_live, flag):
    pool = single(live_lat=[23.1], live_lng=[113.0], live_at=[NOW - age_s], location_consent=[consent])
    [c] = pool.search(Need(23.1, 113.0), 1, 50.0, NOW)
    assert (c.lat, c.lng) == ((23.1, 113.0) if uses_live else (23.0, 113.0))
    assert c.distance_km == pytest.approx(0.0 if uses_live else KM_PER_DEGREE_LAT * 0.1, abs=1e-3)
    assert flag in c.flags
    if not consent:
        assert math.isnan(pool.live_lat[0])  # dropped, not kept


@given(age=st.floats(0, 3 * HOUR), max_age=st.floats(60, 2 * HOUR))
@settings(deadline=None, max_examples=40)
def test_stale_position_threshold_is_configurable(age, max_age):
    assume(abs(age - max_age) > 1e-3)  # NOW - (NOW - age) is not exactly age in floating point
    pool = single(live_lat=[23.2], live_lng=[113.0], live_at=[NOW - age], location_consent=[True])
    [c] = pool.search(Need(23.0, 113.0), 1, 100.0, NOW, positions=PositionPolicy(max_live_age_s=max_age))
    assert (Reason.LIVE_POSITION in c.flags) == (age <= max_age)


def test_live_positions_stream_consent_withdrawal_and_clear():
    pool = single()
    pool.report_live_positions([7], [23.3], [113.0], NOW - 30)
    [c] = pool.search(Need(23.3, 113.0), 1, 5.0, NOW)
    assert Reason.LIVE_POSITION in c.flags
    pool.report_live_positions([7], [23.4], [113.0], NOW, consent=False)
    assert pool.search(Need(23.3, 113.0), 1, 5.0, NOW) == []  # withdrawn: back at home, 33 km away
    pool.report_live_positions([7], [23.3], [113.0], NOW)
    pool.clear_live_positions([7])
    assert pool.search(Need(23.3, 113.0), 1, 5.0, NOW) == []


@FAST
@given(
    d=st.floats(0.0, 20.0),
    extra=st.floats(0.0, 5.0).filter(lambda x: abs(x - 2.0) > 1e-3),
    hours_ago=st.floats(0.0, 11.9),
)
def test_rested_first(d, extra, hours_ago):
    """A volunteer dispatched in the rest window ranks below a rested one up to rested_bonus_km farther."""
    pool = VolunteerPool(
        ids=[1, 2],
        lat=[23.0 + d / KM_PER_DEGREE_LAT, 23.0 + (d + extra) / KM_PER_DEGREE_LAT],
        lng=[113.0, 113.0],
        last_dispatched_at=[NOW - hours_ago * HOUR, np.nan],
        ranking=RankingPolicy(rested_bonus_km=2.0, rest_window_s=12 * HOUR, load_penalty_km=0.0),
    )
    got = pool.search(Need(23.0, 113.0), 2, 100.0, NOW)
    assert [c.volunteer_id for c in got] == ([2, 1] if extra < 2.0 else [1, 2])
    assert Reason.RECENTLY_DISPATCHED in got[[c.volunteer_id for c in got].index(1)].flags


def test_rest_window_ends():
    pool = VolunteerPool(
        ids=[1, 2], lat=[23.0, 23.001], lng=[113.0, 113.0], last_dispatched_at=[NOW - 13 * HOUR, 0]
    )
    assert [c.volunteer_id for c in pool.search(Need(23.0, 113.0), 2, 10.0, NOW)] == [1, 2]


@FAST
@given(loads=st.lists(st.integers(0, 6), min_size=2, max_size=12))
def test_fairness_fewer_recent_dispatches_first(loads):
    """Same place: fewer recent dispatches first, then lower id (penalty off: pure tie-break)."""
    n = len(loads)
    pool = VolunteerPool(
        ids=np.arange(n)[::-1] + 1,
        lat=np.full(n, 23.0),
        lng=np.full(n, 113.0),
        recent_load=loads,
        ranking=RankingPolicy(load_penalty_km=0.0),
    )
    got = pool.search(Need(23.01, 113.0), n, 10.0, NOW)
    assert [(c.recent_load, c.volunteer_id) for c in got] == sorted(
        (c.recent_load, c.volunteer_id) for c in got
    )


def test_fairness_penalty_is_bounded():
    ranking = RankingPolicy(load_penalty_km=0.5, max_load_penalty_km=1.0)
    pool = VolunteerPool(ids=[1, 2], lat=[23.0, 23.0 + 1.5 / KM_PER_DEGREE_LAT], lng=[113.0, 113.0],
                         recent_load=[50, 0], ranking=ranking)  # fmt: skip
    got = pool.search(Need(23.0, 113.0), 2, 10.0, NOW)
    assert [c.volunteer_id for c in got] == [1, 2]  # 50 dispatches cost at most 1 km, not 25
    assert got[0].score_km == pytest.approx(1.0) and Reason.LOAD_PENALTY in got[0].flags


@FAST
@given(data=pools(min_size=1), radius=st.floats(0.0, 30.0), need=needs_st)
def test_radius_limit(data, radius, need):
    pool = build(data, min_probe=1)
    got = pool.search(need, len(pool), radius, NOW)
    assert all(c.distance_km <= radius for c in got)
    assert all(py_haversine(need.lat, need.lng, c.lat, c.lng) <= radius + 1e-5 for c in got)


def test_degenerate_queries():
    pool = single()
    assert pool.search(Need(23.0, 113.0), 0, 10.0, NOW) == []
    assert pool.search(Need(23.0, 113.0), 3, -1.0, NOW) == []
    assert len(pool.search(Need(23.0, 113.0), 3, 0.0, NOW)) == 1  # same spot, radius 0
    empty = VolunteerPool(ids=[], lat=[], lng=[])
    assert empty.search(Need(23.0, 113.0), 3, 10.0, NOW) == []
    with pytest.raises(ValueError):
        VolunteerPool(ids=[1, 1], lat=[23.0, 23.0], lng=[113.0, 113.0])
    with pytest.raises(ValueError):
        RankingPolicy(rested_bonus_km=-1.0)


# -- travel-time re-rank --------------------------------------------------------------------------------
class Reversed:
    reference_speed_kmh = 30.0

    def minutes(self, to_lat, to_lng, from_lat, from_lng, distance_km):
        return 100.0 - np.asarray(distance_km)


class Broken:
    reference_speed_kmh = 30.0

    def minutes(self, *args):
        raise RuntimeError("routing service down")


class Flooded:
    reference_speed_kmh = 30.0

    def minutes(self, to_lat, to_lng, from_lat, from_lng, distance_km):
        out = np.asarray(distance_km) * 2.0
        out[0] = np.inf
        return out


@FAST
@given(data=pools(min_size=1), need=needs_st, top=st.integers(1, 8))
def test_straight_line_rerank_keeps_the_order(data, need, top):
    pool = build(data)
    plain = pool.search(need, 10, 30.0, NOW)
    again = pool.search(need, 10, 30.0, NOW, travel=StraightLineProvider(speed_kmh=40), rerank_top=top)
    assert [c.volunteer_id for c in again] == [c.volunteer_id for c in plain]
    assert all(Reason.TRAVEL_RERANKED in c.flags for c in again[:top])
    assert all(c.travel_minutes is None for c in again[top:])


def test_rerank_reorders_only_the_top_block():
    pool = VolunteerPool(ids=np.arange(1, 8), lat=23.0 + np.arange(7) * 0.01, lng=np.full(7, 113.0))
    need = Need(23.0, 113.0)
    plain = pool.search(need, 7, 50.0, NOW)
    got = pool.search(need, 7, 50.0, NOW, travel=Reversed(), rerank_top=3)
    assert [c.volunteer_id for c in got] == [3, 2, 1, 4, 5, 6, 7]
    assert brute_force_search(pool, need, 7, 50.0, NOW, travel=Reversed(), rerank_top=3) == got
    assert rerank(plain, need, Broken(), top=3) == plain  # a failing provider changes nothing
    flooded = rerank(plain, need, Flooded(), top=3)
    assert [c.volunteer_id for c in flooded][:3] == [2, 3, 1]
    assert Reason.TRAVEL_UNREACHABLE in flooded[2].flags


# -- index ----------------------------------------------------------------------------------------------
@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    k=st.integers(1, 40),
    moves=st.integers(0, 200),
    km=st.sampled_from([1.0, 10.0, 20_000.0]),
)
def test_index_nearest_with_tombstones_is_exact(seed, n, k, moves, km):
    rng = np.random.default_rng(seed)
    lat, lng = rng.uniform(-89, 89, n), rng.uniform(-180, 180, n)
    lat[: n // 2] = 23.0 + rng.normal(0, 0.05, n // 2)
    lng[: n // 2] = 113.0 + rng.normal(0, 0.05, n // 2)
    versions = np.zeros(n, dtype=np.int32)
    index = SpatialIndex(np.arange(n), lat, lng, versions, tail_min=16)
    if n:
        who = rng.integers(0, n, moves)
        for key in who:  # move one by one: tombstone + tail insert, compaction when the tail grows
            versions[key] += 1
            lat[key], lng[key] = 23.0 + rng.normal(0, 0.05), 113.0 + rng.normal(0, 0.05)
            index.insert([key], [lat[key]], [lng[key]], [versions[key]])
            if index.needs_compaction:
                index = index.compacted(versions)
    q_lat, q_lng = 23.0, 113.0
    keys, bound = index.nearest(
        np.array([math.cos(math.radians(q_lat)) * math.cos(math.radians(q_lng)),
                  math.cos(math.radians(q_lat)) * math.sin(math.radians(q_lng)),
                  math.sin(math.radians(q_lat))]),
        k,
        chord_for_km(km),
        versions,
    )  # fmt: skip
    d = haversine_km(q_lat, q_lng, lat, lng)
    assert len(set(keys.tolist())) == keys.size  # each alive key once
    returned = set(keys.tolist())
    bound_km = km_for_chord(bound)
    for key in range(n):
        if d[key] <= km - 1e-6 and d[key] < bound_km - 1e-6:
            assert key in returned  # everything nearer than the bound was returned
    assert all(d[key] <= km + 1e-6 for key in returned)


# -- geo ------------------------------------------------------------------------------------------------
def test_geo_known_distances():
    assert haversine_km(0, 0, 0, 1) == pytest.approx(KM_PER_DEGREE_LAT)
    assert haversine_km(23.13, 113.26, 22.54, 114.06) == pytest.approx(104.5, abs=1.0)  # Guangzhou–Shenzhen
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(KM_PER_DEGREE_LAT)  # across the antimeridian
    assert km_per_degree_lng(60.0) == pytest.approx(KM_PER_DEGREE_LAT / 2)
    assert km_for_chord(chord_for_km(123.4)) == pytest.approx(123.4)
    assert chord_for_km(1e9) == 2.0


@given(
    lat=st.floats(-80, 80),
    lng=st.floats(-180, 180),
    radius=st.floats(0.1, 2000),
    bearing=st.floats(0, 2 * math.pi),
    frac=st.floats(0, 1),
)
@settings(max_examples=200, deadline=None)
def test_bounding_box_contains_the_circle(lat, lng, radius, bearing, frac):
    # destination point at distance frac·radius along the bearing
    delta = frac * radius / EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lng)
    p2 = math.asin(math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(bearing))
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(p1), math.cos(delta) - math.sin(p1) * math.sin(p2)
    )
    plat, plng = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
    assert min_lat - 1e-9 <= plat <= max_lat + 1e-9
    if min_lng <= max_lng:
        assert min_lng - 1e-9 <= plng <= max_lng + 1e-9
    else:  # wraps the antimeridian
        assert plng >= min_lng - 1e-9 or plng <= max_lng + 1e-9


# -- batch assignment -----------------------------------------------------------------------------------
@st.composite
def instances(draw: st.DrawFn) -> tuple[VolunteerPool, list[Need], float]:
    data = draw(pools(min_size=0, max_size=60))
    pool = build(data)
    rng = np.random.default_rng(data["seed"] + 7)
    count = draw(st.integers(1, 10))
    needs = [
        Need(
            float(23.15 + rng.normal(0, 0.06)),
            float(113.25 + rng.normal(0, 0.06)),
            skills=int(rng.integers(0, 4)),
            certificates=tuple(int(c) for c in rng.choice(2, int(rng.integers(0, 2)), replace=False)),
            slots=int(rng.integers(0, 5)),
            need_id=f"n{j}",
        )
        for j in range(count)
    ]
    max_km = draw(st.sampled_from([2.0, 5.0, 12.0, 40.0]))
    return pool, needs, max_km


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances(), extra=st.integers(0, 6))
def test_assignment_is_the_dense_optimum_and_beats_greedy(instance, extra):
    pool, needs, max_km = instance
    result = assign(needs, pool, NOW, max_km, initial_extra=extra)
    dense = dense_optimum(needs, pool, NOW, max_km)
    greedy = greedy_assign(needs, pool, NOW, max_km)
    assert result.stats["proven_optimal"] == 1
    assert result.filled == dense.filled
    assert result.total_km == pytest.approx(dense.total_km, abs=1e-6)
    assert result.better_or_equal(greedy)
    assert result.filled >= greedy.filled
    for outcome in (result, greedy, dense):
        volunteers = [v for _, v, _ in outcome.pairs]
        assert len(volunteers) == len(set(volunteers))  # nobody twice
        per_need: dict = {}
        for need_id, _, _ in outcome.pairs:
            per_need[need_id] = per_need.get(need_id, 0) + 1
        slots = {nd.need_id: nd.slots for nd in needs}
        assert all(count <= slots[need_id] for need_id, count in per_need.items())  # capacities
    by_id = {nd.need_id: nd for nd in needs}
    for need_id, volunteer_id, km in result.pairs:  # every pair eligible and within max_km
        eligible = oracle(pool, by_id[need_id], max_km, NOW)
        assert volunteer_id in eligible
        assert km == pytest.approx(eligible[volunteer_id], abs=1e-5)
    assert sum(s.unfilled for s in result.shortfalls) == result.slots - result.filled
    for s in result.shortfalls:
        nd = by_id[s.need_id]
        qualified = sum(
            1
            for r in range(len(pool))
            if pool.present[r]
            and int(pool.skills[r]) & nd.skills == nd.skills
            and all(pool.cert_expiry[r, c] > NOW for c in nd.certificates)
        )
        assert s.qualified_within <= qualified
        eligible = oracle(pool, nd, max_km, NOW)
        borderline = sum(1 for d in eligible.values() if abs(d - max_km) < 1e-5)
        assert abs(s.eligible_within - len(eligible)) <= borderline
        expected = {
            NONE_QUALIFIED: s.qualified_within == 0,
            ALL_BUSY: s.qualified_within > 0 and s.eligible_within == 0,
            TOO_FEW: 0 < s.eligible_within < nd.slots,
            COMPETITION: s.eligible_within >= nd.slots,
        }
        assert expected[s.reason]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances(), budget=st.integers(0, 60))
def test_assignment_under_an_edge_budget_stays_valid(instance, budget):
    """Past the proof budget the answer is still feasible; when the proof held it is the dense optimum."""
    pool, needs, max_km = instance
    result = assign(needs, pool, NOW, max_km, initial_extra=0, max_slot_edges=budget)
    volunteers = [v for _, v, _ in result.pairs]
    assert len(volunteers) == len(set(volunteers))
    by_id = {nd.need_id: nd for nd in needs}
    per_need: dict = {}
    for need_id, volunteer_id, _ in result.pairs:
        per_need[need_id] = per_need.get(need_id, 0) + 1
        assert volunteer_id in oracle(pool, by_id[need_id], max_km, NOW)
    assert all(count <= by_id[need_id].slots for need_id, count in per_need.items())
    assert sum(s.unfilled for s in result.shortfalls) == result.slots - result.filled
    if result.stats["proven_optimal"]:
        dense = dense_optimum(needs, pool, NOW, max_km)
        assert (result.filled, result.total_km) == (dense.filled, pytest.approx(dense.total_km, abs=1e-6))


def test_optimum_beats_greedy_on_the_classic_chain():
    """Greedy gives B's only volunteer to A (nearer), leaving B empty; the optimum fills both."""
    km = 1 / KM_PER_DEGREE_LAT
    pool = VolunteerPool(ids=[1, 2], lat=[23.0 + 1 * km, 23.0 + 4 * km], lng=[113.0, 113.0])
    needs = [Need(23.0 + 2 * km, 113.0, need_id="B"), Need(23.0, 113.0, need_id="A")]
    # volunteer 1 is 1 km from both A and B; volunteer 2 is 4 km from A, 2 km from B
    greedy = greedy_assign(needs, pool, NOW, 3.0)
    best = assign(needs, pool, NOW, 3.0)
    assert best.filled == 2 and greedy.filled == 1
    assert dict((n, v) for n, v, _ in best.pairs) == {"A": 1, "B": 2}
    # with room for both, the optimum also beats greedy on km: greedy takes the 1 km pair first
    pool = VolunteerPool(ids=[1, 2], lat=[23.0 + 1 * km, 23.0 + 3.5 * km], lng=[113.0, 113.0])
    greedy = greedy_assign(needs, pool, NOW, 10.0)
    best = assign(needs, pool, NOW, 10.0)
    assert best.filled == greedy.filled == 2
    assert best.total_km == pytest.approx(2.5, abs=1e-3) and greedy.total_km == pytest.approx(4.5, abs=1e-3)


def test_shortfall_reasons():
    km = 1 / KM_PER_DEGREE_LAT
    pool = VolunteerPool(
        ids=[1, 2, 3, 4],
        lat=[23.0, 23.0 + km, 23.0 + 2 * km, 25.0],
        lng=[113.0] * 4,
        skills=[1, 2, 2, 4],
        busy=[False, True, False, False],
        available=[True, True, False, True],
    )
    needs = [
        Need(23.0, 113.0, skills=4, need_id="far"),  # the only boat operator is 220 km away
        Need(23.0, 113.0, skills=2, slots=2, need_id="busy"),  # both divers busy or unavailable
        Need(23.0 + 0.5 * km, 113.0, skills=0, slots=3, need_id="few"),  # one free volunteer within 5 km
        Need(23.0, 113.0, skills=1, need_id="rival"),  # ... who is 0 km from "rival", 0.5 km from "few"
    ]
    result = assign(needs, pool, NOW, 5.0)
    reasons = {
        s.need_id: (s.reason, s.unfilled, s.eligible_within, s.qualified_within) for s in result.shortfalls
    }
    assert reasons == {
        "far": (NONE_QUALIFIED, 1, 0, 0),
        "busy": (ALL_BUSY, 2, 0, 2),
        "few": (TOO_FEW, 3, 1, 3),
    }
    assert result.pairs == [("rival", 1, 0.0)]
    near = Need(23.0, 113.0, need_id="a")
    competition = assign([near, Need(23.0 + 0.2 * km, 113.0, need_id="b")], pool, NOW, 0.5)
    [short] = competition.shortfalls
    assert (short.need_id, short.reason) == ("b", COMPETITION)


def test_assignment_degenerate_inputs():
    pool = VolunteerPool(ids=[1], lat=[23.0], lng=[113.0])
    empty = assign([], pool, NOW, 10.0)
    assert (empty.filled, empty.slots, empty.pairs) == (0, 0, [])
    zero = assign([Need(23.0, 113.0, slots=0)], pool, NOW, 10.0)
    assert zero.slots == 0 and zero.shortfalls == []
    nobody = VolunteerPool(ids=[], lat=[], lng=[])
    result = assign([Need(23.0, 113.0, slots=2, need_id=9)], nobody, NOW, 10.0)
    assert result.shortfalls[0].reason == NONE_QUALIFIED and greedy_assign([], nobody, NOW, 1.0).filled == 0


def test_candidate_is_a_plain_tuple():
    c = Candidate(1, 2.0, Reason.HOME_BASE, 2.0, 0, 23.0, 113.0)
    volunteer_id, distance_km, flags = c[:3]
    assert (volunteer_id, distance_km, flags) == (1, 2.0, Reason.HOME_BASE)
