"""Live board: event-to-client latency with 500 websocket clients connected to the real server.

    python bench/live_board.py      # needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379

Set-up (not measured): a scratch database `vetvol_bench_board` (or DATABASE_URL), migrated, with the
county-level region tree; a province admin whose session the clients share; 20 incidents in 福田区.

Server: `vetvol serve` (uvicorn: pages and websockets) in its own process, with the Redis channel layer, as
in production. Clients: `BENCH_CLIENTS` (default 500) websockets in this process's asyncio loop, watching
the province (a fifth), 深圳市 (two fifths) and 福田区 (two fifths): every event below reaches all of them.

Load: this process changes incidents through `dispatch.actions.update_incident`, as a WSGI worker or the
dispatch clock would (`BENCH_EVENTS`, default 200, at `BENCH_RATE` per second, default 10). Each change
commits, is journaled, and goes through Redis to the server, which sends it to every client. Latency is
the client's receive time minus the event's journal time (`at`, stamped after commit); same machine clock.

Last line: {"bench": "live_board", "clients": 500, "events": …, "p50_ms": …, "p95_ms": …, "p99_ms": …,
"max_ms": …, "delivered": …, "expected": …}. Target: p95 ≤ 500 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "500"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "200"))
RATE = float(os.environ.get("BENCH_RATE", "10"))
DB_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/vetvol_bench_board"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7"
os.environ["DATABASE_URL"] = DB_URL
os.environ["REDIS_URL"] = REDIS_URL
os.environ.setdefault("VETVOL_DEBUG", "false")
os.environ.setdefault("VETVOL_LOG_LEVEL", "WARNING")

sys.path.insert(0, str(HERE))
import _django  # noqa: E402


def ensure_database() -> None:
    if not DB_URL.startswith("postgres"):
        return
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    with psycopg.connect(DB_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_up() -> tuple[str, list[int]]:
    """A province admin's session cookie and 20 incidents in Futian."""
    from django.test import Client

    from vetvol.accounts import actions as account_actions
    from vetvol.accounts.models import User
    from vetvol.dispatch import actions
    from vetvol.dispatch.models import Incident
    from vetvol.regions.models import Region

    root = User.objects.filter(username="bench-root").first() or User.objects.create_superuser(
        "bench-root", password=None
    )
    admin = User.objects.filter(username="bench-board").first()
    if admin is None:
        admin = account_actions.create_user(
            root, username="bench-board", password=secrets.token_urlsafe(16) + "Aa1!", display_name="大屏"
        )
        account_actions.grant_role(root, admin, "province_admin", Region.objects.get(code="44"))
    client = Client()
    client.force_login(admin)
    futian = Region.objects.get(code="440304")
    incidents = list(Incident.objects.filter(region_code="440304").exclude(status="closed")[:20])
    while len(incidents) < 20:
        incidents.append(
            actions.create_incident(
                root,
                region=futian,
                type="large_event",
                level=3,
                title=f"大型活动秩序 {len(incidents) + 1}",
                lat=22.5333,
                lng=114.05,
                roles=[{"name": "秩序维护", "count": 10}],
                dispatch=False,
            )
        )
    return client.cookies["sessionid"].value, [i.pk for i in incidents]


def produce(incident_ids: list[int], done: threading.Event) -> None:
    """Change incidents at a steady rate, the way workers and the clock do (each change one event)."""
    from django.db import connection

    from vetvol.accounts.models import User
    from vetvol.dispatch import actions
    from vetvol.dispatch.models import Incident

    root = User.objects.get(username="bench-root")
    incidents = list(Incident.objects.filter(pk__in=incident_ids))
    start = time.monotonic()
    for i in range(EVENTS):
        target = start + i / RATE
        time.sleep(max(0.0, target - time.monotonic()))
        incident = incidents[i % len(incidents)]
        actions.update_incident(root, incident, level=1 + (i % 4))
    connection.close()
    done.set()


async def client(
    url: str, origin: str, cookie: str, latencies: list[float], counts: list[int], ready
) -> None:
    from websockets.asyncio.client import connect

    async with connect(
        url,
        origin=origin,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=60,
        max_queue=None,
    ) as ws:
        ready()
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "event" and message.get("name") == "dispatch.incident.updated":
                latencies.append((now - datetime.fromisoformat(message["at"]).timestamp()) * 1000)
                counts[0] += 1


async def run(port: int, cookie: str, incident_ids: list[int]) -> dict:
    origin = f"http://127.0.0.1:{port}"
    nodes = ["44"] * (CLIENTS // 5) + ["4403"] * (2 * CLIENTS // 5)
    nodes += ["440304"] * (CLIENTS - len(nodes))
    latencies: list[float] = []
    counts = [0]
    connected = 0

    def ready() -> None:
        nonlocal connected
        connected += 1

    tasks = []
    for node in nodes:
        url = f"ws://127.0.0.1:{port}/ws/board/?region={node}"
        tasks.append(asyncio.create_task(client(url, origin, cookie, latencies, counts, ready)))
        await asyncio.sleep(0.002)
    deadline = time.monotonic() + 120
    while connected < len(nodes) and time.monotonic() < deadline:
        if any(t.done() for t in tasks):
            failed = next(t for t in tasks if t.done())
            raise SystemExit(f"a client failed to connect: {failed.exception()!r}")
        await asyncio.sleep(0.1)
    print(f"{connected} clients connected", flush=True)
    done = threading.Event()
    started = time.monotonic()
    await asyncio.to_thread(produce, incident_ids, done)
    expected = EVENTS * len(nodes)
    deadline = time.monotonic() + 30
    while counts[0] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print(
        f"{EVENTS} events in {time.monotonic() - started:.1f} s, {counts[0]}/{expected} delivered", flush=True
    )
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else -1.0

    return {
        "bench": "live_board",
        "clients": len(nodes),
        "events": EVENTS,
        "db": "postgresql" if DB_URL.startswith("postgres") else "sqlite",
        "channel_layer": "redis",
        "p50_ms": round(statistics.median(latencies), 1) if latencies else -1.0,
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else -1.0,
        "delivered": counts[0],
        "expected": expected,
    }


def main() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).ping()
    ensure_database()
    _django.setup(load_regions="county")
    cookie, incident_ids = set_up()
    port = free_port()
    env = {**os.environ, "VETVOL_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(  # noqa: S603
        [
            *os.environ.get("BENCH_SERVER_WRAPPER", "").split(),
            sys.executable,
            "-m",
            "vetvol",
            "serve",
            f"127.0.0.1:{port}",
        ],
        env=env,
        cwd=HERE.parent,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.3)
        server_cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
        result = asyncio.run(run(port, cookie, incident_ids))
        result["server_cpu_s"] = round(cpu_seconds(server.pid) - server_cpu, 1)
        result["bench_cpu_s"] = round(time.process_time() - own_cpu, 1)
        result["rate_per_s"] = RATE
    finally:
        # a profiler wrapping the server (BENCH_SERVER_WRAPPER) writes its output on SIGINT
        server.send_signal(signal.SIGINT if os.environ.get("BENCH_SERVER_WRAPPER") else signal.SIGTERM)
        server.wait(30)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
