"""The overdue-case list and the roll-up by region with 1,000,000 care cases on PostgreSQL.

Builds (once; reruns reuse it) 20,000 recipients on Guangdong's streets and towns and 1,000,000 cases, one
life event each, opened over four years: a tenth still open, about half of those past their deadline or
their first-contact limit. Then times, as a district admin, a city admin and the province admin, the first
page (50 rows) of `care.queries.overdue_cases` and `care.queries.overdue_rollup` for their node, 50 runs
each, and prints p50/p95 in ms. Target: p95 ≤ 50 ms.

Measured (2-core machine, 1,000,000 cases, 110,000 open): the first page of the overdue list p95 16 ms
(district), 6 ms (city), 6 ms (province); the roll-up p95 2.8 ms (district), 5.4 ms (city), 139 ms
(province: all 110,000 open cases grouped by city). The list met its target once `Case.owner_q` gave the
case team as a list of ids (a subquery in the scoping OR kept PostgreSQL from combining the branches'
indexes) and the open cases got an index in deadline order.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench_care .venv/bin/python bench/care_overdue.py
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

CASES = int(os.environ.get("BENCH_CASES", "1000000"))
RECIPIENTS = 20_000
RUNS = 50
PASSWORD = "bench-pass-2026!"  # noqa: S105  (local benchmark accounts)


def build() -> None:
    from django.db import connection
    from django.utils import timezone

    from vetvol.care.models import Case, Recipient
    from vetvol.core.idcard import generate_id_number
    from vetvol.core.rawsql import insert_many
    from vetvol.regions.models import Region

    if Case.objects.count() >= CASES:
        return
    started = time.perf_counter()
    rng = random.Random(7)
    towns = list(Region.objects.filter(level="township").values_list("code", flat=True))
    now = timezone.now()
    if Recipient.objects.count() < RECIPIENTS:
        rows = []
        for i in range(RECIPIENTS):
            code = rng.choice(towns)
            number = generate_id_number(code[:6], date(1930 + i % 60, 1 + i % 12, 1 + i % 28), i % 1000, "M")
            rows.append(
                {
                    "region_code": code,
                    "number": f"R44{i:09d}",
                    "name": "对象",
                    "id_number": number,
                    "id_hash": hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
                    "gender": "M",
                    "birth_date": date(1930 + i % 60, 1, 1),
                    "category": "veteran",
                    "phone": "",
                    "address": "",
                    "household_size": 1,
                    "needs": [],
                    "health_notes": "",
                    "hardship_notes": "",
                    "family_notes": "",
                    "contact_phone": "",
                    "service_consent": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        insert_many(Recipient, rows)
    owner = _user("bench_owner", None)
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO care_lifeevent (created_at, updated_at, region_code, recipient_id, event_type, level,
                                        occurred_on, description, reported_by_id)
            SELECT now(), now(), r.region_code, r.id, p.event_type, p.level, current_date, '', NULL
            FROM generate_series(0, %s - 1) g
            JOIN (SELECT id, region_code, row_number() OVER (ORDER BY id) - 1 AS rn FROM care_recipient) r
              ON r.rn = g %% %s
            JOIN (SELECT event_type, level, row_number() OVER (ORDER BY id) - 1 AS pn FROM care_caseplan) p
              ON p.pn = g %% 30
            """,
            [CASES, RECIPIENTS],
        )
        cur.execute(
            """
            INSERT INTO care_case (created_at, updated_at, number, recipient_id, event_id, plan_id, level,
                status, owner_id, opened_at, first_contact_due, first_contact_at, deadline, visits_required,
                visits_done, closed_at, closed_by_id, outcome, outcome_note, region_code)
            SELECT now(), now(), 'B' || lpad(e.id::text, 12, '0'), e.recipient_id, e.id, p.id, e.level,
                   CASE WHEN e.id %% 20 = 0 THEN 'open' WHEN e.id %% 20 = 1 THEN 'active' ELSE 'closed' END,
                   %s, o.opened, o.opened + interval '2 days',
                   CASE WHEN e.id %% 40 = 20 THEN NULL ELSE o.opened + interval '1 day' END,
                   o.opened + interval '60 days', 2, 0,
                   CASE WHEN e.id %% 20 > 1 THEN o.opened + interval '30 days' END, NULL,
                   CASE WHEN e.id %% 20 > 1 THEN 'resolved' ELSE '' END, '', e.region_code
            FROM care_lifeevent e
            JOIN care_caseplan p ON p.event_type = e.event_type AND p.level = e.level
            CROSS JOIN LATERAL (
                SELECT now() - interval '1 day' * (
                    CASE WHEN e.id %% 20 < 2 THEN (e.id * 7919) %% 120 ELSE (e.id * 7919) %% 1460 END
                ) AS opened
            ) o
            WHERE NOT EXISTS (SELECT 1 FROM care_case c WHERE c.event_id = e.id)
            """,
            [owner.pk],
        )
        cur.execute("ANALYZE care_case; ANALYZE care_recipient; ANALYZE care_lifeevent")
    print(f"built {Case.objects.count():,} cases in {time.perf_counter() - started:.0f} s")


def _user(name: str, grant: tuple[str, str] | None):
    from vetvol.accounts import actions
    from vetvol.accounts.models import User
    from vetvol.regions.models import Region

    root = User.objects.filter(username="bench_root").first() or User.objects.create_superuser(
        "bench_root", password=PASSWORD
    )
    user = User.objects.filter(username=name).first() or actions.create_user(
        root, username=name, password=PASSWORD, display_name=name
    )
    if grant and not user.grants.filter(role=grant[0], region_id=grant[1]).exists():
        actions.grant_role(root, user, grant[0], Region.objects.get(code=grant[1]))
    return user


def timed(fn) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return round(statistics.median(samples), 2), round(samples[int(0.95 * (len(samples) - 1))], 2)


def main() -> None:
    vendor = setup(load_regions="township")
    if vendor != "postgresql":
        print("care_overdue measures PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
    build()
    from django.db import reset_queries

    from vetvol.care import queries

    figures: dict[str, object] = {"bench": "care_overdue", "cases": CASES, "vendor": vendor}
    for label, role, node in (
        ("district", "district_admin", "440304"),
        ("city", "city_admin", "4403"),
        ("province", "province_admin", "44"),
    ):
        user = _user(f"bench_{label}", (role, node))
        user = type(user).objects.get(pk=user.pk)
        total = queries.overdue_cases(user).count()
        p50, p95 = timed(lambda u=user: list(queries.overdue_cases(u)[:50]))
        r50, r95 = timed(lambda u=user, n=node: queries.overdue_rollup(u, n))
        reset_queries()
        print(f"{label:9s} overdue {total:7,}  list p50 {p50} p95 {p95} ms  roll-up p50 {r50} p95 {r95} ms")
        figures[label] = {
            "overdue": total,
            "list_p95_ms": p95,
            "list_p50_ms": p50,
            "rollup_p95_ms": r95,
            "rollup_p50_ms": r50,
        }
    figures["target_p95_ms"] = 50
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
