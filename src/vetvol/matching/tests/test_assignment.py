"""Batch assignment: equal to the dense optimum on small instances, never worse than greedy, never over a
capacity; shortfall reasons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vetvol.matching import (
    Candidate,
    Need,
    Reason,
    VolunteerPool,
    assign,
    dense_optimum,
    greedy_assign,
)
from vetvol.matching.assignment import ALL_BUSY, COMPETITION, NONE_QUALIFIED, TOO_FEW
from vetvol.matching.geo import (
    KM_PER_DEGREE_LAT,
)

from .pools import NOW, build, oracle, pools


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
