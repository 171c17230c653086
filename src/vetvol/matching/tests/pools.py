"""Random volunteer pools and needs for the engine's property tests, and a scalar haversine oracle."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from vetvol.matching import (
    Need,
    RankingPolicy,
    VolunteerPool,
)
from vetvol.matching.geo import (
    EARTH_RADIUS_KM,
)

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
