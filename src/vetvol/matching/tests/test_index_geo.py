"""The spatial index (exact nearest with tombstones) and the geometry helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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

from .pools import FAST


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
