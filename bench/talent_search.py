"""Talent-pool search on a province of a million volunteers: p50/p95 of the list page's queries for "skill +
region subtree (a city or a district) + certificate valid on a date", as a province admin sees them (the
scoping primitive included): the first page of 50 rows with their skills and whether there is a next page
(`queries.page_of`, as the list page calls it). Also measures the same with the match count capped at 1,000,
and what an exact COUNT would cost on the largest results. Prints figures; the last line is one JSON object
with the list page's figures.

The province is the demo's (`vetvol seed_demo --volunteers N`, seed 2021), built on first use and reused:

    createdb -h 127.0.0.1 -U postgres vetvol_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench python bench/talent_search.py
    BENCH_VOLUNTEERS=100000 DATABASE_URL=sqlite:////tmp/vetvol_bench.sqlite3 python bench/talent_search.py

On PostgreSQL the registry tables are vacuumed and analysed before measuring, as autovacuum does after a
bulk load. The benchmark machine's server runs with autovacuum off, and without the visibility map every
"index-only" scan of the talent indexes reads the table too: the run right after seeding (caches cold as
well) measured p95 65 ms; vacuumed, 26-28 ms (p50 15.5-17 ms, client CPU 12-13 ms a page, load average 1 on
2 cores). What is left at p95 is the city-wide searches with 5,000-15,000 matches, every one of which is
checked before the first 50 by number are known. Measured on the vacuumed million and not taken: a covering
(status, region_code, id, number, user) index (the planner joined through it and the largest search took
112 ms instead of 52 ms), a statistics target of 1000 on the region codes (no change), and extended
statistics, which PostgreSQL keeps per table, while the correlated skill and certificate are in two.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import time
from datetime import date, timedelta

import _django

vendor = _django.setup(load_regions="township")

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from vetvol.accounts.models import User  # noqa: E402
from vetvol.regions.models import Region  # noqa: E402
from vetvol.registry.models import Volunteer  # noqa: E402
from vetvol.registry.queries import COUNT_CAP, TalentFilter, page_of, talent_search  # noqa: E402

VOLUNTEERS = int(os.environ.get("BENCH_VOLUNTEERS", "1000000"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "240"))
SEED = 2021
# Skills and the certificate that qualifies for each (the talent pool's "who can X with a valid Y").
PAIRS = [
    ("water_rescue", "lifeguard"),
    ("diving", "diver"),
    ("boat_operation", "boat_licence"),
    ("first_aid", "first_aider"),
    ("emt", "emt"),
    ("driving", "driving_c1"),
    ("heavy_vehicle", "driving_b2"),
    ("electrician", "electrician"),
    ("drone", "drone_pilot"),
    ("mountain_search", "rescuer"),
    ("firefighting", "fire_operator"),
    ("nursing", "nurse"),
    ("medical_doctor", "doctor"),
    ("legal_aid", "lawyer"),
    ("policy_lecture", "lecturer"),
]


def ensure_province() -> int:
    have = Volunteer.objects.filter(import_batch=f"demo-{SEED}").count()
    if have < VOLUNTEERS:
        print(
            f"seeding a province of {VOLUNTEERS:,} volunteers (have {have:,}); this takes a while", flush=True
        )
        started = time.perf_counter()
        call_command(
            "seed_demo", "--seed", str(SEED), "--volunteers", str(VOLUNTEERS), "--quiet-logins", verbosity=2
        )
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load (this machine's server runs without it): statistics, and
        # the visibility map, without which no index-only scan skips the table. Quick when nothing changed.
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) registry_volunteer, registry_volunteerskill, registry_certificate")
        print(f"vacuum and analyze: {time.perf_counter() - started:.1f} s", flush=True)
    return Volunteer.objects.filter(import_batch=f"demo-{SEED}").count()


def searches(n: int) -> list[TalentFilter]:
    rng = random.Random(SEED)
    cities = list(Region.objects.filter(level="city").values_list("code", flat=True))
    districts = list(Region.objects.filter(level="county").values_list("code", flat=True))
    result = []
    for k in range(n):
        skill, certificate = PAIRS[k % len(PAIRS)]
        region = rng.choice(cities) if k % 2 else rng.choice(districts)
        day = date(2023, 1, 1) + timedelta(days=rng.randrange(4 * 365))
        result.append(
            TalentFilter(region=region, skills=[skill], certificate=certificate, valid_on=day, today=day)
        )
    return result


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):.1f} ms  p95 {percentile(samples, 0.95):.1f} ms  "
        f"max {max(samples):.1f} ms"
    )


def main() -> None:
    total = ensure_province()
    user = User.objects.get(username="gd_admin")  # province admin (广东省), from seed_demo
    filters = searches(SEARCHES)
    for f in filters[:10]:  # warm the caches
        page_of(talent_search(user, f), 1, 50, cap=COUNT_CAP)

    def list_page(f: TalentFilter, cap: int) -> tuple[int, bool]:
        page = page_of(talent_search(user, f), 1, 50, cap=cap)
        for v in page.rows:  # what the page shows
            _ = [s.skill.name for s in v.skills.all()], v.home_region.name
        return page.count, page.count_capped

    reset_queries()  # the seeding above may have filled the (development) query log
    with CaptureQueriesContext(connection) as captured:
        list_page(filters[0], 0)
    load = os.getloadavg()[0]
    cpu = time.process_time()
    pages: list[float] = []  # rows and has-next (page_of's default, for the list page)
    counted: list[float] = []  # the same with the match count capped at COUNT_CAP
    sliced: list[float] = []  # the full rows sliced straight from the search (no narrow id query first)
    sizes: list[tuple[int, bool, TalentFilter]] = []
    for k, f in enumerate(filters):
        for cap in (0, COUNT_CAP) if k % 2 else (COUNT_CAP, 0):
            started = time.perf_counter()
            count, capped = list_page(f, cap)
            (counted if cap else pages).append((time.perf_counter() - started) * 1000)
            if cap:
                sizes.append((count, capped, f))
    cpu_per_page = (time.process_time() - cpu) * 1000 / (2 * len(filters))
    for f in filters:
        started = time.perf_counter()
        for v in list(talent_search(user, f)[:51])[:50]:
            _ = [s.skill.name for s in v.skills.all()], v.home_region.name
        sliced.append((time.perf_counter() - started) * 1000)
    p50, p95 = statistics.median(pages), percentile(pages, 0.95)
    many = sum(1 for _, c, _ in sizes if c)
    print(
        f"{vendor}: {total:,} volunteers, {len(pages)} searches (skill + city/district + valid certificate)"
    )
    print(f"page of 50 + has-next ({len(captured)} queries):     {summary(pages)}")
    print(f"the same + count capped at {COUNT_CAP}:    {summary(counted)}")
    print(f"full rows sliced from the search, no id query: {summary(sliced)}")
    print(
        f"{many} searches with more than {COUNT_CAP} matches; client CPU {cpu_per_page:.1f} ms per page; "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    largest = sorted(sizes, key=lambda s: (s[1], s[0]), reverse=True)[:10]
    exact = []
    for _, _, f in largest:  # what an exact COUNT would cost on the largest results
        started = time.perf_counter()
        n = talent_search(user, f).order_by().count()
        exact.append(((time.perf_counter() - started) * 1000, n))
    if exact:
        worst = max(exact)
        print(
            f"exact COUNT on the 10 largest results: median {statistics.median(e[0] for e in exact):.1f} ms, "
            f"max {worst[0]:.1f} ms ({worst[1]:,} matches)"
        )
    print(
        json.dumps(
            {
                "bench": "talent_search",
                "volunteers": total,
                "db": vendor,
                "p50_ms": round(p50, 2),
                "p95_ms": round(p95, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
