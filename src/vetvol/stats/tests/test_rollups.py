"""Roll-ups equal brute-force counts after random sequences of real actions, read at once (live recount
of marked leaves) and after compaction (stored totals)."""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vetvol.activities import actions as activity_actions
from vetvol.dispatch import actions as dispatch_actions
from vetvol.regions.models import Region
from vetvol.registry import actions as registry_actions
from vetvol.stats import rollup
from vetvol.stats.models import DirtyMark, LeafFigure
from vetvol.stats.tests.conftest import brute, nonzero

LEAVES = ["440304001", "440304002", "440305001", "440106001"]
CODES = ["44", "4403", "4401", "440304", "440305", "440106", *LEAVES]
OPS = ["register", "move", "suspend", "hours", "approve", "reject", "team", "incident", "compact"]
_seq = itertools.count(100)


def periods() -> set[str]:
    today = timezone.localdate()
    return {"", f"{today:%Y}", f"{today:%Y-%m}", f"{today - timedelta(days=40):%Y-%m}"}


class World:
    def __init__(self, people, make_volunteer):
        self.people, self.make_volunteer = people, make_volunteer
        self.volunteers: list = []
        self.pending: list = []

    def do(self, op: str, leaf: int, n: int) -> None:
        people, code = self.people, LEAVES[leaf % len(LEAVES)]
        if op == "register" or (not self.volunteers and op in {"move", "suspend", "hours"}):
            self.volunteers.append(self.make_volunteer(next(_seq), region=code))
        elif op == "move":
            v = self.volunteers[n % len(self.volunteers)]
            v.refresh_from_db()
            registry_actions.update_volunteer(people.root, v, {"home_region": code})
        elif op == "suspend":
            v = self.volunteers[n % len(self.volunteers)]
            v.refresh_from_db()
            to = "active" if v.status == "suspended" else "suspended"
            registry_actions.change_status(people.root, v, to, "测试")
        elif op == "hours":
            v = self.volunteers[n % len(self.volunteers)]
            record = activity_actions.enter_hours(
                people.futian_admin,
                v,
                region=Region.objects.get(code="440304"),
                day=timezone.localdate() - timedelta(days=(n % 3) * 20),
                minutes=30 + 15 * (n % 8),
                content="探访慰问",
                reason="纸质签到表补录",
            )
            self.pending.append(record)
        elif op in {"approve", "reject"} and self.pending:
            record = self.pending.pop(n % len(self.pending))
            activity_actions.approve_hours(people.sz_admin, record, approved=op == "approve")
        elif op == "team":
            registry_actions.create_team(
                people.root,
                region=Region.objects.get(code=code),
                name=f"测试分队{next(_seq)}",
                **(
                    {
                        "civil_status": "registered",
                        "civil_number": f"粤{n}",
                        "civil_date": timezone.localdate(),
                    }
                    if n % 2
                    else {}
                ),
            )
        elif op == "incident":
            incident = dispatch_actions.create_incident(
                people.futian_admin,
                region=Region.objects.get(code="440304"),
                type="water_rescue",
                level=1,
                title="深圳河溺水",
                lat=22.53,
                lng=114.05,
                dispatch=False,
            )
            if n % 2:
                dispatch_actions.close_incident(
                    people.futian_admin,
                    incident,
                    people_rescued=n % 4,
                    bodies_recovered=n % 2,
                    people_served=n,
                )
        elif op == "compact":
            rollup.compact(limit=1 + n % 5)


def check(stored_totals) -> None:
    p = periods()
    assert nonzero(rollup.totals(CODES, p, "44")) == brute(CODES, p)
    rollup.compact_all()
    assert not DirtyMark.objects.exists()
    full = {k: v for k, v in rollup.subtree_totals(rollup.full_counts()).items() if v}
    assert stored_totals() == full


@pytest.fixture
def world(people, make_volunteer):
    return World(people, make_volunteer)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 3), st.integers(0, 50)), max_size=14))
def test_rollups_equal_brute_force_after_random_actions(world, stored_totals, steps):
    for op, leaf, n in steps:
        with contextlib.suppress(ValidationError):  # a refusal by the action changes nothing
            world.do(op, leaf, n)
        p = periods()
        assert nonzero(rollup.totals(CODES, p, "44")) == brute(CODES, p)
    check(stored_totals)


def test_move_moves_figures_between_leaves(world, stored_totals, people):
    world.do("register", 0, 0)
    world.do("hours", 0, 0)
    world.do("approve", 0, 0)
    rollup.compact_all()
    p = periods()
    before = rollup.totals(["440304001", "440305001"], p, "4403")
    assert before["440304001"][("", "volunteers")] == 1
    assert before["440304001"][(p and f"{timezone.localdate():%Y}", "minutes")] == 30
    world.do("move", 2, 0)
    after = rollup.totals(["440304001", "440305001", "4403"], p, "4403")
    year = f"{timezone.localdate():%Y}"
    assert after["440304001"].get(("", "volunteers"), 0) == 0
    assert after["440305001"][("", "volunteers")] == 1
    assert after["440305001"][(year, "minutes")] == 30
    assert after["4403"][(year, "minutes")] == 30
    check(stored_totals)


def test_rebuild_equals_incremental(world, stored_totals):
    for op, n in (("register", 1), ("hours", 2), ("approve", 0), ("team", 1), ("incident", 3)):
        world.do(op, n % 4, n)
    rollup.compact_all()
    incremental = stored_totals()
    rollup.rebuild()
    assert stored_totals() == incremental
    assert LeafFigure.objects.filter(region_code=LEAVES[1], name="volunteers").get().value == 1


def test_rolled_back_change_leaves_no_mark(people, make_volunteer):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        make_volunteer(7, region="440304001")
        assert DirtyMark.objects.filter(region_code="440304001", family="volunteers").count() == 1
        raise RuntimeError
    assert not DirtyMark.objects.exists()
