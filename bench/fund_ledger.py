"""The fund's ledger at 1,000,000 transactions on PostgreSQL: posting throughput with 16 concurrent writers,
then 0 imbalance and 0 negative balance (SQL over the legs), then p50/p95 of an account's balance and of the
monthly disclosure report (`portal.fund_queries.fund_disclosure`, what /public/fund/ shows).

Every transaction goes through `fund.ledger.post` with all its rules: the chain head lock, the accounts
locked by id and checked in code, the database triggers (legs before the header, balanced, no leg joining a
posted transaction, the balance moved leg by leg, the non-negative CHECK, the deferred balance check at
commit), the hash chain and the monthly totals. Writers are processes, each with its own connection. Each
`post()` call carries BENCH_BATCH (10) postings, as a day's bank statement or a batch import of donations
would; `--batch 1` posts one transaction per call, as the pages' actions do.

The chart: the province and its 21 cities, each with a bank, payables and a restricted fund and an expense
account per purpose. A writer books donations (to its cities and, one in ten, to the province's fund, the
row everyone shares), approvals that move a restricted fund into a payable (only what the fund holds, as
the code checks) and payments of those payables, with economic dates spread over the past year.

    createdb -h 127.0.0.1 -U postgres vetvol_bench_fund   # made (and emptied) by the script itself
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench_fund .venv/bin/python bench/fund_ledger.py
    ... bench/fund_ledger.py --transactions 20000          # a quick run

Last figures, full size (`--verify`), 2026-12-07, PostgreSQL 15 on a 2-core machine shared with other
workers and with this author's own test runs during most of the posting (load average 3-4), so the posting
rate is a floor, not a ceiling (20,000 transactions on a quieter machine: 1,293 txn/s):
- posting: 1,000,000 transactions (2,401,228 legs) in 1,141.7 s, 876 txn/s, 16 writers, 10 per post();
- 0 imbalanced transactions, 0 negative balances, 0 balances differing from the sum of their legs;
  ledger.verify() ok in 105.9 s;
- balance of one account: p50 0.66 ms, p95 0.76 ms (200 repetitions);
- disclosure report (province): p50 24.75 ms, p95 30.92 ms; one city: p50 8.38 ms, p95 11.95 ms.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

PURPOSES = ["mechanism", "resources", "publicity", "safeguards"]
WRITERS = 16


def fresh_database() -> None:
    """The bench's own database, dropped and made again (the ledger is append-only: no DELETE)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "bench/fund_ledger.py needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/"
            "vetvol_bench_fund (SQLite serialises writers, so 16 concurrent writers mean nothing there)"
        )
    name = url.rsplit("/", 1)[-1].split("?")[0]
    for command in (["dropdb", "--if-exists", name], ["createdb", name]):
        subprocess.run(  # noqa: S603 - a fixed command line
            [command[0], "-h", "127.0.0.1", "-U", "postgres", *command[1:]],
            capture_output=True,
            check=False,
        )


def make_chart() -> list[str]:
    from vetvol.fund.actions import chart
    from vetvol.regions.models import Region, RegionLevel

    cities = list(
        Region.objects.filter(level=RegionLevel.CITY).order_by("code").values_list("code", flat=True)
    )
    for holder in ["44", *cities]:
        chart(holder)
    return cities


def writer(
    index: int, writers: int, count: int, batch: int, cities: list[str], queue: mp.Queue, go: Any
) -> None:
    """Post `count` transactions in calls of `batch` once `go` is set; report (posted, seconds)."""
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from vetvol.fund import ledger
    from vetvol.fund.models import Account

    connection.close()
    rng = random.Random(index)
    mine = cities[index::writers] or [cities[index % len(cities)]]
    accounts = {a.code: a for a in Account.objects.all()}
    funds = {(h, p): 0 for h in mine for p in PURPOSES}  # what this writer's cities' funds hold
    payables: dict[str, list[int]] = {h: [] for h in mine}
    today = timezone.localdate()
    queue.put("ready")
    go.wait()

    def donation(holder: str) -> ledger.Posting:
        purpose = rng.choice(PURPOSES)
        fen = rng.randint(100, 5_000_000)
        if holder != "44":
            funds[(holder, purpose)] += fen
        return ledger.Posting(
            kind="donation",
            legs=[(accounts[f"1001-{holder}"], fen), (accounts[f"3101-{purpose}-{holder}"], -fen)],
            region_code=holder,
            purpose=purpose,
            memo="资金捐赠 爱心单位",
            income=fen,
            on=today - timedelta(days=rng.randint(0, 364)),
        )

    def approval(holder: str) -> ledger.Posting | None:
        purpose = rng.choice(PURPOSES)
        fen = min(funds[(holder, purpose)], rng.randint(100, 2_000_000))
        if fen <= 0:
            return None
        funds[(holder, purpose)] -= fen
        payables[holder].append(fen)
        return ledger.Posting(
            kind="approval",
            legs=[
                (accounts[f"3101-{purpose}-{holder}"], fen),
                (accounts[f"3201-{holder}"], -fen),
                (accounts[f"5101-{purpose}-{holder}"], fen),
                (accounts[f"2202-{holder}"], -fen),
            ],
            region_code=holder,
            purpose=purpose,
            memo="批准 ZC 支出",
        )

    def payment(holder: str) -> ledger.Posting | None:
        if not payables[holder]:
            return None
        fen = payables[holder].pop()
        return ledger.Posting(
            kind="payment",
            legs=[(accounts[f"2202-{holder}"], fen), (accounts[f"1001-{holder}"], -fen)],
            region_code=holder,
            purpose=rng.choice(PURPOSES),
            memo="支付 ZC",
            spending=fen,
            on=today - timedelta(days=rng.randint(0, 30)),
        )

    posted = 0
    started = time.perf_counter()
    while posted < count:
        postings: list[ledger.Posting] = []
        while len(postings) < min(batch, count - posted):
            holder = rng.choice(mine)
            roll = rng.random()
            if roll < 0.1:
                p: ledger.Posting | None = donation("44")  # the province's fund: shared by every writer
            elif roll < 0.6:
                p = donation(holder)
            elif roll < 0.8:
                p = approval(holder)
            else:
                p = payment(holder)
            if p is not None:
                postings.append(p)
        with transaction.atomic():
            ledger.post(None, postings)
        posted += len(postings)
    queue.put((posted, time.perf_counter() - started))
    connection.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def timed(fn, repetitions: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def checks() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM (SELECT transaction_id FROM fund_leg GROUP BY transaction_id "
            "HAVING sum(amount) <> 0 OR count(*) < 2) unbalanced"
        )
        imbalanced = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM fund_account WHERE balance < 0 AND NOT allow_negative")
        negative = cur.fetchone()[0]
        cur.execute(
            "SELECT count(*) FROM fund_account a LEFT JOIN (SELECT account_id, sum(amount) AS s "
            "FROM fund_leg GROUP BY account_id) l ON l.account_id = a.id "
            "WHERE a.balance <> coalesce(l.s, 0) * a.normal"
        )
        mismatched = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM fund_ledgertransaction")
        transactions = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM fund_leg")
        legs = cur.fetchone()[0]
    return {
        "transactions": transactions,
        "legs": legs,
        "imbalanced": imbalanced,
        "negative": negative,
        "balance_mismatch": mismatched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument("--batch", type=int, default=int(os.environ.get("BENCH_BATCH", "10")))
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--verify", action="store_true", help="also run ledger.verify() (slow at 1M)")
    args = parser.parse_args()
    fresh_database()
    os.environ["VETVOL_LEDGER_CHAINS"] = str(max(16, args.writers))
    setup(load_regions="city")
    from django.db import connection

    cities = make_chart()
    connection.close()
    per_writer = [args.transactions // args.writers] * args.writers
    per_writer[0] += args.transactions - sum(per_writer)
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    go = ctx.Event()
    procs = [
        ctx.Process(target=writer, args=(i, args.writers, n, args.batch, cities, queue, go))
        for i, n in enumerate(per_writer)
    ]
    for p in procs:
        p.start()
    for _ in procs:  # every writer set up (Django, its connection, the chart): then all at once
        assert queue.get() == "ready"
    started = time.perf_counter()
    go.set()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            sys.exit(f"a writer failed (exit {p.exitcode})")
    wall = time.perf_counter() - started
    posted = sum(n for n, _ in results)
    rate = posted / wall
    print(f"posted {posted:,} transactions with {args.writers} writers (batch {args.batch}) in {wall:.1f} s")
    print(f"throughput: {rate:,.0f} txn/s")

    found = checks()
    print(
        f"check: {found['transactions']:,} transactions, {found['legs']:,} legs; "
        f"imbalanced {found['imbalanced']}, negative balances {found['negative']}, "
        f"balances ≠ sum of legs {found['balance_mismatch']}"
    )
    verified = None
    if args.verify:
        from vetvol.fund import ledger

        t0 = time.perf_counter()
        result = ledger.verify()
        verified = result.ok
        answer = "ok" if result.ok else result.problems[:5]
        print(f"ledger.verify(): {answer} in {time.perf_counter() - t0:.1f} s")

    from vetvol.fund.models import Account
    from vetvol.portal import fund_queries

    code = f"3101-safeguards-{cities[0]}"
    balance_p50, balance_p95 = timed(lambda: Account.objects.get(code=code).balance, args.repetitions)
    report_p50, report_p95 = timed(fund_queries.fund_disclosure, args.repetitions)
    city = fund_queries.fund_cities()[0]
    city_p50, city_p95 = timed(lambda: fund_queries.fund_disclosure(city), args.repetitions)
    print(f"balance of {code}: p50 {balance_p50:.2f} ms, p95 {balance_p95:.2f} ms")
    print(f"disclosure report (province): p50 {report_p50:.2f} ms, p95 {report_p95:.2f} ms")
    print(f"disclosure report ({city.name}): p50 {city_p50:.2f} ms, p95 {city_p95:.2f} ms")
    print(
        json.dumps(
            {
                "transactions": posted,
                "writers": args.writers,
                "batch": args.batch,
                "seconds": round(wall, 1),
                "txn_per_s": round(rate),
                **{k: v for k, v in found.items() if k not in ("transactions",)},
                "verified": verified,
                "balance_p50_ms": round(balance_p50, 2),
                "balance_p95_ms": round(balance_p95, 2),
                "report_p50_ms": round(report_p50, 2),
                "report_p95_ms": round(report_p95, 2),
                "city_report_p95_ms": round(city_p95, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
