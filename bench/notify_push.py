"""Invitation to push: from an emergency invitation's commit to the push message decrypted by the phone.

    .venv/bin/python bench/notify_push.py            # SQLite file under bench/out/notify_push/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vetvol_bench_push .venv/bin/python bench/notify_push.py

Set-up (not measured): a fresh database with the township tree, a district dispatcher, BENCH_RESPONDERS
(default 20) water-rescue volunteers around 福田, each with a phone subscribed to the local push service
(`vetvol.notify.testing.PushService`, which checks the VAPID header and decrypts every message with the
phone's own keys, RFC 8291) through `notify.actions.subscribe_push`.

Load: one `vetvol notify_worker` process, as in production (its default idle poll, 0.5 s). This process opens
BENCH_INCIDENTS (default 40) incidents one after another through `dispatch.actions.create_incident`, each
inviting volunteers through the engine, and waits for the pushes. Latency per invitation: the push
service's receipt time minus the incident's commit; same machine clock.

Last line: {"bench": "notify_push", "invitations": …, "pushed": …, "p50_ms": …, "p95_ms": …, "max_ms": …}.
Target: p95 ≤ 2,000 ms.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWORD = "bench-pass-1"  # noqa: S105 - scratch database
OUT = HERE / "out" / "notify_push"
RESPONDERS = int(os.environ.get("BENCH_RESPONDERS", "20"))
INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "40"))
if not os.environ.get("DATABASE_URL"):
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    os.environ["VETVOL_VAR_DIR"] = str(OUT)
os.environ.setdefault("VETVOL_LOG_LEVEL", "WARNING")

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import _django  # noqa: E402


def fresh_postgres() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    fresh_postgres()
    _django.setup(load_regions="township")
    from conftest import volunteer_raw

    from vetvol.accounts import actions as account_actions
    from vetvol.accounts.models import User
    from vetvol.dispatch import actions as dispatch_actions
    from vetvol.dispatch.locations import sync_locations
    from vetvol.notify import actions as notify_actions
    from vetvol.notify import testing
    from vetvol.regions.models import Region
    from vetvol.registry import actions as registry_actions

    site = (22.5333, 114.0500)
    futian = Region.objects.get(code="440304")
    root = User.objects.create_superuser("root", password=PASSWORD)
    dispatcher = account_actions.create_user(
        root, username="dispatcher", password=PASSWORD, display_name="调度员"
    )
    account_actions.grant_role(root, dispatcher, "district_admin", futian)
    push = testing.PushService().start()
    ids = []
    for seq in range(1, RESPONDERS + 1):
        lat, lng = site[0] + (seq % 5) * 0.003, site[1] + (seq // 5) * 0.003
        v = registry_actions.register_volunteer(
            root, volunteer_raw(seq, lat=lat, lng=lng), location_consent=False
        )
        v.user = User.objects.create_user(v.number, password=PASSWORD)
        v.save(update_fields=["user"])
        registry_actions.set_skills(root, v, {"water_rescue": 2})
        phone = push.subscribe()
        notify_actions.subscribe_push(
            v.user, endpoint=phone["endpoint"], p256dh=phone["p256dh"], auth=phone["auth"]
        )
        ids.append(v.pk)
    sync_locations(ids)

    env = dict(os.environ)
    worker = subprocess.Popen(  # noqa: S603 - this repository's own command
        [str(Path(sys.executable).with_name("vetvol")), "notify_worker", "--no-reminders"], env=env
    )
    latencies: list[float] = []
    invited = 0
    try:
        time.sleep(2)  # the worker's start-up, not measured
        for i in range(INCIDENTS):
            title = f"深圳河溺水 {i + 1}"
            roles = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 2}]
            before = len(push.received)
            incident = dispatch_actions.create_incident(
                dispatcher,
                region=futian,
                roles=roles,
                risky=False,
                type="water_rescue",
                level=1,
                title=title,
                lat=site[0],
                lng=site[1],
            )
            committed = time.time()
            expected = incident.invitations.count()
            invited += expected
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                mine = [m for m in push.received[before:] if title in m["data"].get("title", "")]
                if len(mine) >= expected:
                    break
                time.sleep(0.005)
            latencies.extend(m["at"] - committed for m in mine)
            dispatch_actions.close_incident(dispatcher, incident, summary="演练结束")
    finally:
        worker.terminate()
        worker.wait(10)
        push.stop()
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))] if ms else None
    print(f"{len(ms)} of {invited} invitations pushed")
    print(
        json.dumps(
            {
                "bench": "notify_push",
                "database": os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0],
                "invitations": invited,
                "pushed": len(ms),
                "p50_ms": round(statistics.median(ms)) if ms else None,
                "p95_ms": round(p95) if p95 is not None else None,
                "max_ms": round(ms[-1]) if ms else None,
            }
        )
    )


if __name__ == "__main__":
    main()
