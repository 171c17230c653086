"""The notification outbox under a burst, with a worker killed midway.

Queues BENCH_NOTIFICATIONS (10,000) notifications in one burst (transactions of 1,000, as a mass event
would), half going by SMS through the local HTTP gateway (`vetvol.notify.testing.SmsGateway`, which keeps
ids as a real gateway must) and half by e-mail through a real local SMTP server (aiosmtpd). Two
`vetvol notify_worker` processes drain the outbox; when a third of the messages have arrived one worker is
killed with SIGKILL and a fresh one started. Prints throughput (messages a second from the burst's commit
to the last arrival), p50/p95 queue-to-delivery latency (the notification's creation to its arrival at the
gateway or SMTP server), lost (queued and never arrived), duplicated (e-mails the SMTP server took twice under
one Message-ID; the gateway never takes an SMS id twice) and the resends the gateway refused by id. SMTP
cannot be asked whether a message was taken, so the killed worker's one in-flight e-mail may go again, as
the same message (mail stores collapse one Message-ID into one).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench_notify .venv/bin/python \
        bench/notify_outbox.py
    .venv/bin/python bench/notify_outbox.py            # SQLite file under bench/out/

Last figures (2 cores; the rate limits, 50 SMS and 50 e-mails a second per worker, bound the throughput):
- PostgreSQL: 10,000 in 52.1 s, 192 messages/s, p50 27.7 s, p95 42.6 s, 0 lost, 0 duplicated, worker killed.
- SQLite: 10,000 in 36.6 s, 273 messages/s, p50 18.0 s, p95 29.4 s, 0 lost, 0 duplicated, worker killed.

The killed worker's claimed rows wait out their lease (VETVOL_NOTIFY_LEASE_SECONDS, 10 s here) before the
others take them over, and are then checked with the gateway before anything is resent.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _django import setup

HERE = Path(__file__).resolve().parent
COUNT = int(os.environ.get("BENCH_NOTIFICATIONS", "10000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
KILL_AT = float(os.environ.get("BENCH_KILL_AT", "0.33"))
TIMEOUT_S = float(os.environ.get("BENCH_TIMEOUT", "600"))


def ensure_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[-1]
        subprocess.run(  # noqa: S603 - a fixed command line
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],  # noqa: S607
            capture_output=True,
            check=False,
        )
    else:
        os.environ.setdefault("VETVOL_VAR_DIR", str(HERE / "out" / "notify"))
        db = Path(os.environ["VETVOL_VAR_DIR"]) / "vetvol.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def people(count: int) -> list[int]:
    from vetvol.accounts.models import User
    from vetvol.notify.models import Delivery, Notification, Preference

    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    have = list(
        User.objects.filter(username__startswith="bench-n-").order_by("id").values_list("id", flat=True)
    )
    if len(have) < count:
        User.objects.bulk_create(
            [
                User(username=f"bench-n-{i}", email=f"n{i}@example.org", password="!")  # noqa: S106 - "!": no password (unusable)
                for i in range(len(have), count)
            ],
            batch_size=2000,
        )
        have = list(
            User.objects.filter(username__startswith="bench-n-").order_by("id").values_list("id", flat=True)
        )
    Preference.objects.filter(user_id__in=have).delete()
    Preference.objects.bulk_create(
        [Preference(user_id=uid, phone=f"+86139{i:08d}") for i, uid in enumerate(have[:count])],
        batch_size=2000,
    )
    return have[:count]


def burst(user_ids: list[int]) -> float:
    from django.db import transaction

    from vetvol.notify.actions import Message, enqueue

    started = time.time()
    for start in range(0, len(user_ids), 1000):
        with transaction.atomic():
            enqueue(
                [
                    Message(
                        uid,
                        "activities.signup.promoted" if i % 2 == 0 else "registry.import.finished",
                        f"bench-{i}",
                        {
                            "activity": "春运志愿服务",
                            "starts": "02-01 08:00",
                            "name": "名单.xlsx",
                            "status": "完成",
                            "written": i,
                        },
                        url="/notify/",
                        region_code="4403",
                    )
                    for i, uid in enumerate(user_ids[start : start + 1000], start=start)
                ]
            )
    return started


def main() -> None:
    ensure_database()
    vendor = setup(load_regions=None)
    from django.db import connection
    from django.db.models import Count

    from vetvol.notify import testing
    from vetvol.notify.models import Delivery

    gateway = testing.SmsGateway(token="bench").start()  # noqa: S106 - the local gateway's token
    smtp = testing.SmtpSink().start()
    env = {
        **os.environ,
        "VETVOL_SMS_GATEWAY": "http",
        "VETVOL_SMS_URL": gateway.url + "/messages",
        "VETVOL_SMS_TOKEN": "bench",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "VETVOL_NOTIFY_RATE_SMS": "100000",
        "VETVOL_NOTIFY_RATE_EMAIL": "100000",
        "VETVOL_NOTIFY_LEASE_SECONDS": "10",
    }
    user_ids = people(COUNT)
    connection.close()
    vetvol = str(Path(sys.executable).with_name("vetvol"))
    cmd = [vetvol, "notify_worker", "--no-reminders", "--idle", "0.1", "--batch", "100"]
    started_workers = time.time()
    workers = [subprocess.Popen(cmd, env=env) for _ in range(WORKERS)]  # noqa: S603
    queued_at = burst(user_ids)
    connection.close()
    killed = False

    def arrived() -> int:
        return len(gateway.received) + len({m["message_id"] for m in smtp.messages})

    deadline = time.time() + TIMEOUT_S
    try:
        while arrived() < COUNT and time.time() < deadline:
            if not killed and arrived() >= COUNT * KILL_AT:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                # a fresh worker; the dead one's claims are taken over when their lease runs out
                workers[0] = subprocess.Popen(cmd, env=env)  # noqa: S603
                killed = True
            time.sleep(0.05)
        finished = time.time()
        # whatever is still claimed by the dead worker waits out its lease; make sure nothing more arrives
        time.sleep(1.0)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=30)
    created = {
        f"vv{pk}": at.timestamp() for pk, at in Delivery.objects.values_list("pk", "notification__created_at")
    }
    latencies = []
    for key, row in gateway.received.items():
        latencies.append(row["at"] - created[key])
    mails: dict[str, int] = {}
    for m in smtp.messages:
        key = m["message_id"].strip("<>").split("@")[0]
        mails[key] = mails.get(key, 0) + 1
        if mails[key] == 1:
            latencies.append(m["at"] - created[key])
    delivered = len(gateway.received) + len(mails)
    duplicated = sum(n - 1 for n in mails.values())  # the gateway refuses a repeated SMS id (409)
    refused_resends = sum(n - 1 for n in gateway.posts.values())
    statuses = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    latencies.sort()
    figures = {
        "database": vendor,
        "notifications": COUNT,
        "workers": WORKERS,
        "killed_one_worker": killed,
        "seconds": round(finished - queued_at, 2),
        "throughput_per_s": round(delivered / max(finished - queued_at, 1e-9), 1),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(latencies[int(len(latencies) * 0.95) - 1], 3) if latencies else None,
        "delivered": delivered,
        "lost": COUNT - delivered,
        "duplicated": duplicated,
        "resends_refused_by_id": refused_resends,
        "statuses": statuses,
        "workers_started_s_before_burst": round(queued_at - started_workers, 2),
    }
    gateway.stop()
    smtp.stop()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
