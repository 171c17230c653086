"""The matching engine: who is nearest and able, and who goes where when many needs arrive at once.

It owns the pure computation behind emergency dispatch and, later, matching veterans' help requests to
volunteers:

- ``geo``         great-circle distances (vectorised haversine), bounding boxes, km per degree, unit vectors;
- ``index``       the in-process spatial index (a cache: rebuilt from plain arrays, updated incrementally);
- ``candidates``  ``VolunteerPool`` and ``search``: the k nearest volunteers able to take a role now, ranked
                  by distance, rested-first and fairness of recent load; ``brute_force_search`` is its
                  reference with identical semantics;
- ``assignment``  ``assign``: the global optimum of total travel for many simultaneous needs (fill as many
                  slots as possible, then least total km), with ``greedy_assign`` as the baseline and
                  ``dense_optimum`` as the check on small instances;
- ``travel``      the ``TravelTimeProvider`` protocol, a straight-line default and the re-rank hook.

Architecture rule: this package is a pure engine — plain data in (numpy arrays, ints, floats, tuples),
plain data out. It imports nothing of Django and nothing of the other vetvol apps; numpy and scipy are its
only dependencies. Who actually gets a slot is decided in the database elsewhere (the dispatch app claims
rows under its own locks); everything held here is a cache that can be thrown away and rebuilt from arrays.

Times are plain floats: seconds since the Unix epoch (``datetime.timestamp()``). Distances are kilometres.
"""

from vetvol.matching.assignment import Assignment, Shortfall, assign, dense_optimum, greedy_assign
from vetvol.matching.candidates import (
    Candidate,
    Need,
    PositionPolicy,
    RankingPolicy,
    Reason,
    VolunteerPool,
    brute_force_search,
)
from vetvol.matching.travel import StraightLineProvider, TravelTimeProvider, rerank

__all__ = [
    "Assignment",
    "Candidate",
    "Need",
    "PositionPolicy",
    "RankingPolicy",
    "Reason",
    "Shortfall",
    "StraightLineProvider",
    "TravelTimeProvider",
    "VolunteerPool",
    "assign",
    "brute_force_search",
    "dense_optimum",
    "greedy_assign",
    "rerank",
]
