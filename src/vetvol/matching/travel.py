"""Travel time: the provider protocol, a straight-line default, and the re-rank hook for the top few.

Straight-line distance ranks the whole candidate list; a routing provider (road network, flood closures
from the command centre, a boat for the last kilometre) is too slow to ask about thousands of volunteers,
so it only re-orders the top ``top`` candidates of a search. Nobody outside the top block can move into it:
that is the price of keeping dispatch real-time, and why the default block is a handful, not one.

Re-rank key: ``minutes · reference_speed_kmh / 60 + penalty_km`` where ``penalty_km`` is the candidate's
rested/fairness penalty (``score_km - distance_km``): minutes are turned back into "kilometres at the
reference speed" so the rested-first and fairness rules keep their weight. Ties: recent load, then id.
With ``StraightLineProvider`` the key equals ``score_km`` and the order does not change.

A provider that raises leaves the straight-line order in place (logged): a routing outage must not stop a
dispatch. An infinite time means unreachable; such candidates go to the end of the block, flagged.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from vetvol.matching.geo import rounded_km

if TYPE_CHECKING:
    from vetvol.matching.candidates import Candidate, Need

logger = logging.getLogger(__name__)
FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class TravelTimeProvider(Protocol):
    """Minutes from each origin to one destination (``inf`` = unreachable)."""

    @property
    def reference_speed_kmh(self) -> float:
        """Speed that turns minutes back into kilometres for the ranking penalties."""
        ...

    def minutes(
        self,
        to_lat: float,
        to_lng: float,
        from_lat: FloatArray,
        from_lng: FloatArray,
        distance_km: FloatArray,
    ) -> FloatArray: ...


@dataclass(frozen=True)
class StraightLineProvider:
    """Great-circle distance × detour factor at a constant speed."""

    speed_kmh: float = 30.0
    detour_factor: float = 1.0

    def __post_init__(self) -> None:
        if self.speed_kmh <= 0 or self.detour_factor <= 0:
            raise ValueError("speed and detour factor must be > 0")

    @property
    def reference_speed_kmh(self) -> float:
        return self.speed_kmh / self.detour_factor

    def minutes(
        self,
        to_lat: float,
        to_lng: float,
        from_lat: FloatArray,
        from_lng: FloatArray,
        distance_km: FloatArray,
    ) -> FloatArray:
        return np.asarray(distance_km, dtype=np.float64) * self.detour_factor / self.speed_kmh * 60.0


def rerank(
    candidates: list[Candidate], need: Need, provider: TravelTimeProvider, top: int = 5
) -> list[Candidate]:
    """Re-order the first ``top`` candidates by travel time (see the module docstring); the rest stay."""
    from vetvol.matching.candidates import Reason

    head, tail = candidates[:top], candidates[top:]
    if len(head) == 0:
        return list(candidates)
    lat = np.array([c.lat for c in head], dtype=np.float64)
    lng = np.array([c.lng for c in head], dtype=np.float64)
    dist = np.array([c.distance_km for c in head], dtype=np.float64)
    try:
        minutes = np.asarray(provider.minutes(need.lat, need.lng, lat, lng, dist), dtype=np.float64)
        if minutes.shape != dist.shape:
            raise ValueError(f"provider returned shape {minutes.shape} for {dist.shape[0]} origins")
    except Exception:
        logger.exception("travel-time provider failed; keeping the straight-line order")
        return list(candidates)
    penalty = np.array([c.score_km - c.distance_km for c in head], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        key = rounded_km(minutes * (provider.reference_speed_kmh / 60.0) + penalty)
    key = np.where(np.isnan(minutes), math.inf, key)
    order = np.lexsort(
        (
            np.array([c.volunteer_id for c in head]),
            np.array([c.recent_load for c in head]),
            key,
        )
    )
    out = []
    for i in order:
        c = head[i]
        flags = c.flags | Reason.TRAVEL_RERANKED
        if not math.isfinite(minutes[i]):
            flags |= Reason.TRAVEL_UNREACHABLE
        out.append(c._replace(flags=flags, travel_minutes=float(minutes[i])))
    return out + tail
