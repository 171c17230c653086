"""Helpers for statistics tests: brute-force figures to compare the roll-ups with."""

from __future__ import annotations

import pytest

from vetvol.stats import rollup


def brute(codes: list[str], periods: set[str]) -> dict[str, dict[tuple[str, str], int]]:
    """The figures of `codes` from a full recount of every leaf (no stored roll-ups involved)."""
    totals = rollup.subtree_totals(rollup.full_counts())
    out: dict[str, dict[tuple[str, str], int]] = {c: {} for c in codes}
    for (code, period, name), value in totals.items():
        if code in out and period in periods and value:
            out[code][(period, name)] = value
    return out


def nonzero(figures: dict[str, dict[tuple[str, str], int]]) -> dict[str, dict[tuple[str, str], int]]:
    return {c: {k: v for k, v in values.items() if v} for c, values in figures.items()}


@pytest.fixture
def stored_totals():
    def read() -> dict[tuple[str, str, str], int]:
        from vetvol.stats.models import RegionTotal

        return {(t.region_code, t.period, t.name): t.value for t in RegionTotal.objects.all() if t.value}

    return read
