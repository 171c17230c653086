"""The matching engine on plain data: no Django, no database. Candidate search (hypothesis): the indexed
search answers exactly what the brute-force reference answers (same ids, same order) on random pools, after
random incremental updates too; the eligibility, position, rested-first, fairness and radius rules hold
against a pure-Python oracle; the travel-time re-rank."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vetvol.matching import (
    Need,
    PositionPolicy,
    RankingPolicy,
    Reason,
    StraightLineProvider,
    VolunteerPool,
    brute_force_search,
    rerank,
)
from vetvol.matching.geo import (
    KM_PER_DEGREE_LAT,
)

from .pools import (
    FAST,
    HOUR,
    NOW,
    apply_updates,
    build,
    needs_st,
    oracle,
    pools,
    py_haversine,
    random_arrays,
    rankings,
)


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
