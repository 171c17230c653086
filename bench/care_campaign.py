"""A province-wide holiday campaign: 100,000 recipients' visits among 65,000 volunteers, the engine alone.

Volunteers and recipients are spread over Guangdong's 21 cities by population share (the same cities as
bench/batch_assignment.py); recipients cluster a little tighter (older households in the centres). Last
year's campaign is simulated first: a share of recipients (``--had-previous``) were visited by one of
their 12 nearest volunteers, and a tenth of those volunteers have since left (their recipients have no
previous volunteer in the pool). Then ``assign_visits`` (tiles solved exactly, continuity bonus, convex
load cost) and the ``greedy_visits`` baseline run on the same input.

    python bench/care_campaign.py [--visits 100000] [--volunteers 65000] [--had-previous 0.6] [--seed 7]

Figures per method: seconds, assigned, total_km, continuity_share (visits kept with last year's volunteer
among those who had one in the pool), max/median load (visits per volunteer used) and max/median wait in
days (a volunteer makes one visit a day: the wait is the place in their list). Target: ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scipy.spatial import cKDTree

from batch_assignment import CITIES
from vetvol.matching.geo import unit_vectors
from vetvol.matching.visits import VisitPolicy, assign_visits, greedy_visits


def spread(n: int, rng: np.random.Generator, sd: float) -> tuple[np.ndarray, np.ndarray]:
    share = np.array([c[3] for c in CITIES])
    city = rng.choice(len(CITIES), size=n, p=share / share.sum())
    lat = np.array([c[1] for c in CITIES])[city] + rng.normal(0, sd, n)
    lng = np.array([c[2] for c in CITIES])[city] + rng.normal(0, sd * 1.15, n)
    return lat, lng


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--volunteers", type=int, default=65_000)
    parser.add_argument("--had-previous", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    w_lat, w_lng = spread(args.volunteers, rng, 0.12)
    v_lat, v_lng = spread(args.visits, rng, 0.10)

    # last year: a near volunteer for a share of recipients; a tenth of those volunteers have left since
    tree = cKDTree(unit_vectors(w_lat, w_lng))
    _, near = tree.query(unit_vectors(v_lat, v_lng), k=12)
    previous = near[np.arange(args.visits), rng.integers(0, 12, args.visits)].astype(np.int64)
    previous[rng.random(args.visits) >= args.had_previous] = -1
    left = rng.random(args.volunteers) < 0.1
    previous[(previous >= 0) & left[np.maximum(previous, 0)]] = -1
    had = previous >= 0
    print(f"{args.visits:,} visits, {args.volunteers:,} volunteers, {int(had.sum()):,} with a previous one")

    policy = VisitPolicy()
    results = {}
    for name, method in (("engine", assign_visits), ("greedy", greedy_visits)):
        plan = method(v_lat, v_lng, w_lat, w_lng, previous=previous, policy=policy)
        figures = plan.figures(args.volunteers, had)
        results[name] = figures
        print(
            f"{name:7s} {figures['seconds']:6.2f} s  assigned {figures['assigned']:,}  "
            f"{figures['total_km']:,.0f} km (mean {figures['mean_km']:.2f})  "
            f"continuity {figures['continuity_share']:.1%}  load max {figures['max_load']} "
            f"median {figures['median_load']:g}  wait max {figures['max_wait_days']} d "
            f"median {figures['median_wait_days']:g} d"
        )
    print(
        json.dumps(
            {
                "bench": "care_campaign",
                "visits": args.visits,
                "volunteers": args.volunteers,
                "with_previous": int(had.sum()),
                "engine": results["engine"],
                "greedy": results["greedy"],
                "target_s": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
