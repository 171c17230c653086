"""Squads (班) by year of discharge: a pure proposal a leader can adjust before applying.

Members are sorted by discharge year and cut into `ceil(n / target)` squads of near-equal size, moving each
cut to the nearest boundary between two different years when that keeps sizes within the tolerance, so one
year's veterans stay together where possible (the way a street grouped 543 veterans into 30 squads).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SquadProposal:
    name: str
    year_from: int | None
    year_to: int | None
    volunteer_ids: tuple[int, ...]


def propose(
    members: list[tuple[int, int | None]],
    target: int,
    tolerance: float = 0.25,
    *,
    count: int | None = None,
) -> list[SquadProposal]:
    """`members` are (volunteer id, discharge year or None). Those without a year form a last squad.

    `count` asks for exactly that many squads of the dated members instead of squads of about `target`
    (no integer target cuts 543 people into 30 squads: 18 gives 31, 19 gives 29)."""
    if target < 2:
        raise ValueError("target size must be at least 2")
    dated = sorted((year, vid) for vid, year in members if year is not None)
    undated = sorted(vid for vid, year in members if year is None)
    squads: list[SquadProposal] = []
    if dated:
        count = min(count, len(dated)) if count else max(1, math.ceil(len(dated) / target))
        size = len(dated) / count
        slack = max(1, int(size * tolerance))
        cuts = [0]
        for k in range(1, count):
            ideal = round(k * size)
            best = ideal
            for shift in range(slack + 1):
                for pos in (ideal - shift, ideal + shift):
                    if cuts[-1] < pos < len(dated) and dated[pos - 1][0] != dated[pos][0]:
                        best = pos
                        break
                else:
                    continue
                break
            cuts.append(max(best, cuts[-1] + 1))
        cuts.append(len(dated))
        for k, (a, b) in enumerate(itertools.pairwise(cuts), start=1):
            chunk = dated[a:b]
            if not chunk:
                continue
            first, last = chunk[0][0], chunk[-1][0]
            label = f"{first}年退役" if first == last else f"{first}—{last}年退役"
            squads.append(SquadProposal(f"第{k}班（{label}）", first, last, tuple(v for _, v in chunk)))
    if undated:
        squads.append(SquadProposal(f"第{len(squads) + 1}班（退役年份待补）", None, None, tuple(undated)))
    return squads
