"""Statistics roll-ups on PostgreSQL: 1,000,000 volunteers and 10,000,000 hour records.

Seeds (once; reruns reuse it) volunteers on Guangdong's streets and towns and hour records over the last
two years with generate_series SQL, builds the roll-ups once (`rollup.rebuild`), then repeats: a change
through real actions (`enter_hours` + `approve_hours` for a random volunteer), the province dashboard's
data and a city's (`stats.queries.dashboard`, read right after the change, with its leaf still marked),
and every fifth round the compactor. Prints p50/p95 of both reads and of the compactor, asserts the read
figures equal a full recount in the same run, and times the civilisation export of the province.
Targets: p95 ≤ 200 ms (province), ≤ 100 ms (city) after a change; civilisation export ≤ 30 s.

    createdb -h 127.0.0.1 -U postgres vetvol_bench_stats
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench_stats .venv/bin/python bench/stats_rollup.py
    (quick run: --volunteers 20000 --records 200000)

Measured (shared 2-core machine, PostgreSQL, 1,000,000 volunteers, 10,000,000 hour records; seeding 6 min):
rebuild 45.7 s; after a change, province dashboard data p50 72.8 ms, p95 109.9 ms; a city's (4403) p50
24.3 ms, p95 74.1 ms; compactor run p95 117 ms; figures equal a full recount (42 s); civilisation export of
the province (1,901 rows, xlsx written) 0.29 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

ROUNDS = 40
PASSWORD = "bench-pass-2026!"  # noqa: S105  (local benchmark accounts)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def seed(volunteers: int, records: int) -> None:
    from django.db import connection

    from vetvol.activities.models import HourRecord
    from vetvol.core.crypto import encrypt
    from vetvol.registry.models import Volunteer

    sealed = {
        f: encrypt("bench", f"registry.volunteer.{f}".encode()) for f in ("id_number", "phone", "address")
    }
    have = Volunteer.objects.count()
    with connection.cursor() as cur:
        if have < volunteers:
            started = time.perf_counter()
            cur.execute(
                "CREATE TEMP TABLE bench_towns AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, code "
                "FROM regions_region WHERE level = 'township'"
            )
            cur.execute("SELECT count(*) FROM bench_towns")
            towns = cur.fetchone()[0]
            cur.execute(  # only integers are formatted in; values are bound
                f"""
                INSERT INTO registry_volunteer (created_at, updated_at, region_code, number, name, id_number,
                  id_hash, phone, phone_hash, gender, birth_date, address, is_veteran, service_branch,
                  is_retired_cadre, is_party_member, availability, status, status_reason, publicity_consent,
                  location_consent, guardian_name, registered_via, import_batch, home_region_id)
                SELECT now(), now(), t.code, 'B' || lpad(g::text, 9, '0'), '志愿者' || g, %(id_number)s,
                  md5('id' || g), %(phone)s, md5('ph' || g), 'M', date '1960-01-01' + (g %% 10000),
                  %(address)s, true, 'army',
                  false, g %% 2 = 0, 0, CASE WHEN g %% 20 = 0 THEN 'pending' ELSE 'active' END, '', false,
                  false, '', 'import', 'bench', t.code
                FROM generate_series({have + 1}, {volunteers}) g JOIN bench_towns t ON t.i = g %% {towns}
                """,  # noqa: S608
                sealed,
            )
            print(
                f"seeded {volunteers - have} volunteers in {time.perf_counter() - started:.0f} s", flush=True
            )
        have_records = HourRecord.objects.count()
        if have_records < records:
            started = time.perf_counter()
            cur.execute("SELECT min(id), max(id) FROM registry_volunteer")
            lo, hi = cur.fetchone()
            span = hi - lo + 1
            cur.execute(  # only integers are formatted in
                f"""
                INSERT INTO activities_hourrecord (volunteer_id, source, service_date, minutes, content,
                  region_code, volunteer_region_code, reason, evidence, created_at)
                SELECT v.id, 'checkin', current_date - ((g::bigint * 7919) % 700)::int, 30 + (g % 16) * 15,
                  '志愿服务', v.region_code, v.region_code, '', '', now()
                FROM generate_series({have_records + 1}, {records}) g
                JOIN registry_volunteer v ON v.id = {lo} + ((g::bigint * 104729) % {span})
                """  # noqa: S608
            )
            print(
                f"seeded {records - have_records} hour records in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    args = parser.parse_args()
    vendor = setup()
    if vendor != "postgresql":
        raise SystemExit("run on PostgreSQL: DATABASE_URL=postgres://…/vetvol_bench_stats")
    from django.utils import timezone

    from vetvol.accounts.models import User
    from vetvol.activities import actions as hours_actions
    from vetvol.core.exports import xlsx_file
    from vetvol.regions.models import Region
    from vetvol.registry.models import Volunteer
    from vetvol.stats import exports, queries, rollup

    seed(args.volunteers, args.records)
    started = time.perf_counter()
    built = rollup.rebuild()
    rebuild_s = time.perf_counter() - started
    print(f"rebuild: {built} in {rebuild_s:.1f} s", flush=True)

    entering = User.objects.filter(username="bench_entry").first() or User.objects.create_superuser(
        "bench_entry", password=PASSWORD
    )
    approving = User.objects.filter(username="bench_approve").first() or User.objects.create_superuser(
        "bench_approve", password=PASSWORD
    )
    province, city = Region.objects.get(code="44"), Region.objects.get(code="4403")
    year = f"{timezone.localdate():%Y}"
    ids = list(Volunteer.objects.filter(region_code__startswith="4403").values_list("id", flat=True)[:5000])
    ids += list(Volunteer.objects.filter(region_code__startswith="4401").values_list("id", flat=True)[:5000])
    rng = random.Random(3)
    reads_p, reads_c, compacts = [], [], []
    for i in range(ROUNDS):
        v = Volunteer.objects.get(pk=rng.choice(ids))
        record = hours_actions.enter_hours(
            entering,
            v,
            region=Region.objects.get(code=v.region_code[:6]),
            day=timezone.localdate() - timedelta(days=rng.randrange(60)),
            minutes=60 + 15 * rng.randrange(8),
            content="探访慰问",
            reason="纸质签到表补录",
        )
        hours_actions.approve_hours(approving, record)
        t = time.perf_counter()
        queries.dashboard(approving, province, year)
        reads_p.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        queries.dashboard(approving, city, year)
        reads_c.append((time.perf_counter() - t) * 1000)
        if i % 5 == 4:
            t = time.perf_counter()
            rollup.compact_all()
            compacts.append((time.perf_counter() - t) * 1000)

    # Exactness: what a read shows (stored totals + marked leaves) equals a full recount, now.
    months = {f"{year}-{m:02d}" for m in range(1, 13)}
    codes = ["44", *Region.objects.filter(parent_id="44").values_list("code", flat=True)]
    started = time.perf_counter()
    full = rollup.subtree_totals(rollup.full_counts())
    recount_s = time.perf_counter() - started
    shown = rollup.totals(codes, {"", year, *months}, "44")
    for code in codes:
        expected = {
            (p, n): v for (c, p, n), v in full.items() if c == code and p in {"", year, *months} and v
        }
        got = {k: v for k, v in shown[code].items() if v}
        assert got == expected, f"{code}: roll-up differs from a full recount"
    print(f"exact: {len(codes)} nodes equal a full recount ({recount_s:.1f} s)", flush=True)

    started = time.perf_counter()
    export = exports.civilisation(approving, province, year)
    xlsx_file(export).close()
    export_s = time.perf_counter() - started

    figures = {
        "volunteers": Volunteer.objects.count(),
        "records": args.records,
        "rebuild_s": round(rebuild_s, 1),
        "province_p50_ms": pct(reads_p, 0.5),
        "province_p95_ms": pct(reads_p, 0.95),
        "city_p50_ms": pct(reads_c, 0.5),
        "city_p95_ms": pct(reads_c, 0.95),
        "compact_p95_ms": pct(compacts, 0.95),
        "full_recount_s": round(recount_s, 1),
        "civilisation_export_s": round(export_s, 2),
        "civilisation_rows": export.count,
        "exact": True,
    }
    print(
        f"province p50 {figures['province_p50_ms']} ms p95 {figures['province_p95_ms']} ms; "
        f"city p50 {figures['city_p50_ms']} ms p95 {figures['city_p95_ms']} ms; "
        f"compactor p95 {figures['compact_p95_ms']} ms; mean read {statistics.mean(reads_p):.1f} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
