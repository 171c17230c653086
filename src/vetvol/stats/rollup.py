"""Incremental roll-ups: fold dirty marks into leaf figures and subtree totals, and read exact figures.

- The compactor (`compact`) takes marks in id order, recounts each marked (leaf, family, year) through
  `figures.count`, replaces the leaf's stored figures and moves every ancestor's total (province → city →
  county → street → community, the leaf itself included) by the difference, then deletes the marks it
  read, all in one transaction. On PostgreSQL an advisory lock lets only one compactor run; SQLite
  serialises writers anyway. A mark of a change not yet committed when the marks were read stays for the
  next run.
- `rebuild` counts everything from scratch (first build, repair).
- `totals` reads stored totals and adds, for every leaf still marked inside the subtree read, the
  difference between its live recount and its stored figures — so a read right after a change is exact
  without waiting for the compactor, and costs one recount per marked leaf, not a recount of the subtree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import close_old_connections, connection, transaction
from django.db.models import Max, Q

from vetvol.stats import figures
from vetvol.stats.models import DirtyMark, Family, LeafFigure, RegionTotal

logger = logging.getLogger(__name__)
LOCK_KEY = 7_013_001  # pg advisory lock of the stats compactor
LEVEL_LENGTHS = (2, 4, 6, 9, 12)
Delta = dict[tuple[str, str], int]  # (period, name) -> value


def ancestors(leaf: str) -> list[str]:
    """The codes whose subtree holds `leaf`, the leaf included (441900 for a Dongguan town is harmless)."""
    return [leaf[:n] for n in LEVEL_LENGTHS if n <= len(leaf)]


def _period_q(year: str) -> Q:
    return Q() if not year else Q(period=year) | Q(period__startswith=year + "-")


def _stored(leaf: str, family: str, year: str, periods: set[str] | None = None) -> Delta:
    qs = LeafFigure.objects.filter(_period_q(year), region_code=leaf, family=family)
    if periods is not None:
        qs = qs.filter(period__in=periods)
    return {(p, n): v for p, n, v in qs.values_list("period", "name", "value")}


def _diff(new: Delta, old: Delta) -> Delta:
    keys = set(new) | set(old)
    return {k: new.get(k, 0) - old.get(k, 0) for k in keys if new.get(k, 0) != old.get(k, 0)}


def _collapse(marks: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], set[str]]:
    """(leaf, family) -> years to recount; an all-years mark ("") covers the others."""
    work: dict[tuple[str, str], set[str]] = defaultdict(set)
    for leaf, family, year in marks:
        work[(leaf, family)].add("" if family in figures.SNAPSHOT_FAMILIES else year)
    return {k: ({""} if "" in years else years) for k, years in work.items()}


@contextmanager
def _locked() -> Iterator[bool]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
                yield bool(cur.fetchone()[0])
        else:
            yield True


def compact(limit: int = 2000) -> int:
    """Fold up to `limit` marks in, one leaf and family per transaction (so writers elsewhere, on SQLite
    above all, never wait long for the compactor); the number folded (0 when another compactor holds the
    lock). Folding a leaf twice is harmless: it recounts and moves the totals by the difference."""
    marks = list(DirtyMark.objects.order_by("id").values_list("id", "region_code", "family", "year")[:limit])
    groups: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for pk, leaf, family, year in marks:
        groups[(leaf, family)].append((pk, year))
    done = 0
    for (leaf, family), rows in groups.items():
        with _locked() as got:
            if not got:
                return done
            for years in _collapse((leaf, family, year) for _, year in rows).values():
                for year in sorted(years):
                    _refold(leaf, family, year)
            DirtyMark.objects.filter(id__in=[pk for pk, _ in rows]).delete()
        done += len(rows)
    return done


def compact_all() -> int:
    total = 0
    while True:
        done = compact()
        total += done
        if not done:
            return total


def _refold(leaf: str, family: str, year: str) -> None:
    new = figures.by_period(figures.count(family, leaf, year))
    diff = _diff(new, _stored(leaf, family, year))
    if not diff:
        return
    LeafFigure.objects.filter(_period_q(year), region_code=leaf, family=family).delete()
    LeafFigure.objects.bulk_create(
        LeafFigure(region_code=leaf, family=family, period=p, name=n, value=v)
        for (p, n), v in new.items()
        if v
    )
    _add_totals({code: diff for code in ancestors(leaf)})


def _add_totals(deltas: dict[str, Delta]) -> None:
    codes = list(deltas)
    periods = {p for d in deltas.values() for p, _ in d}
    names = {n for d in deltas.values() for _, n in d}
    rows = {
        (t.region_code, t.period, t.name): t
        for t in RegionTotal.objects.filter(region_code__in=codes, period__in=periods, name__in=names)
    }
    changed, created = [], []
    for code, delta in deltas.items():
        for (period, name), d in delta.items():
            row = rows.get((code, period, name))
            if row is None:
                created.append(RegionTotal(region_code=code, period=period, name=name, value=d))
            else:
                row.value += d
                changed.append(row)
    RegionTotal.objects.bulk_update(changed, ["value"], batch_size=1000)
    RegionTotal.objects.bulk_create(created, batch_size=1000)


def full_counts(families: Iterable[str] = tuple(Family.values)) -> dict[str, figures.Counts]:
    return {family: figures.count(family, None) for family in families}


def subtree_totals(counts: dict[str, figures.Counts]) -> dict[tuple[str, str, str], int]:
    """(code, period, name) -> value for every ancestor code, from leaf counts."""
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for family_counts in counts.values():
        for (leaf, period, name), value in family_counts.items():
            for code in ancestors(leaf):
                out[(code, period, name)] += value
    return out


def rebuild() -> dict[str, int]:
    """Recount everything and replace the stored figures (marks present at the start are folded in)."""
    with _locked() as got:
        if not got:
            return {}
        upto = DirtyMark.objects.aggregate(m=Max("id"))["m"] or 0
        counts = full_counts()
        LeafFigure.objects.all().delete()
        RegionTotal.objects.all().delete()
        for family, family_counts in counts.items():
            LeafFigure.objects.bulk_create(
                (
                    LeafFigure(region_code=leaf, family=family, period=p, name=n, value=v)
                    for (leaf, p, n), v in family_counts.items()
                ),
                batch_size=5000,
            )
        totals = subtree_totals(counts)
        RegionTotal.objects.bulk_create(
            (RegionTotal(region_code=c, period=p, name=n, value=v) for (c, p, n), v in totals.items() if v),
            batch_size=5000,
        )
        DirtyMark.objects.filter(id__lte=upto).delete()
    return {"leaf_figures": sum(len(c) for c in counts.values()), "totals": len(totals)}


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view for a read (the totals and the marks must come from the same moment)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
    else:
        yield


def totals(codes: list[str], periods: set[str], subtree: str) -> dict[str, dict[tuple[str, str], int]]:
    """Exact figures {code: {(period, name): value}} of `codes` (nodes inside `subtree`) for `periods`."""
    out: dict[str, dict[tuple[str, str], int]] = {code: defaultdict(int) for code in codes}
    with _snapshot():
        for code, period, name, value in RegionTotal.objects.filter(
            region_code__in=codes, period__in=periods
        ).values_list("region_code", "period", "name", "value"):
            out[code][(period, name)] += value
        pending = DirtyMark.objects.filter(region_code__gte=subtree, region_code__lt=subtree + ":")
        marks = set(pending.values_list("region_code", "family", "year"))
        for (leaf, family), years in _collapse(marks).items():
            for year in years:
                live = figures.by_period(figures.count(family, leaf, year))
                live = {k: v for k, v in live.items() if k[0] in periods}
                diff = _diff(live, _stored(leaf, family, year, periods))
                for code in codes:
                    if leaf.startswith(code):
                        for key, d in diff.items():
                            out[code][key] += d
    return {code: dict(values) for code, values in out.items()}


def run_tick() -> int:
    """One tick: fold what is marked; a failure is logged and retried on the next tick."""
    try:
        return compact_all()
    except Exception:
        logger.exception("stats compaction failed")
        return 0


def run(*, every: float = 5.0, stop: threading.Event | None = None, seconds: float | None = None) -> None:
    """Compact every `every` seconds until `stop` is set (the serve tick's thread, `stats_compact --loop`)."""
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds if seconds else None
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        close_old_connections()
        run_tick()
        stop.wait(every)
    close_old_connections()
