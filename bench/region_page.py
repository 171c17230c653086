"""Region page reads: p50/p95 of the region page query for the province, a city and a district, as a
province admin sees them (the scoping primitive included). Prints figures; last line one JSON object.

    DATABASE_URL=... python bench/region_page.py
"""

from __future__ import annotations

import json
import statistics
import time

import _django

vendor = _django.setup(load_regions="village")

from vetvol.accounts.models import User  # noqa: E402
from vetvol.regions.queries import region_page  # noqa: E402

user, _ = User.objects.get_or_create(username="bench_root", defaults={"is_superuser": True})
ROUNDS = 200
figures = {"bench": "region_page", "db": vendor, "rounds": ROUNDS}
for label, code in (("province", "44"), ("city", "4403"), ("district", "440304")):
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        region_page(user, code)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<9} p50 {p50:.2f} ms  p95 {p95:.2f} ms")
    figures[f"{label}_p50_ms"], figures[f"{label}_p95_ms"] = round(p50, 2), round(p95, 2)
print(json.dumps(figures))
