"""Proof: SIGKILL at a random moment of a running import (`vetvol import_volunteers`, the web import's job
run synchronously) and of a running dispatch round (`vetvol dispatch_tick`) leaves each unit of work whole
or absent, and running the same command again finishes the work without duplicates.

Units of work: an import chunk (its volunteers, their status changes, its audit row); an invitation round
(its invitations and its `dispatch.round` audit row with the count). The commands run as real processes
against a scratch database of their own (a SQLite file, or `<test database>_crashproof` on PostgreSQL)
set up and inspected by `scenario.py`, like the notify worker's crash test. Between kills the killed
import's heartbeat is aged by STALE_AFTER (the wait an operator would otherwise sit through). The kill
delays are random (seeded by VETVOL_CRASH_SEED when set, printed otherwise).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

HERE = Path(__file__).resolve().parent
VETVOL = str(Path(sys.executable).parent / "vetvol")
ROWS = 10_000  # five chunks of the bulk engine
KILLS = 3


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, django_db_blocker):
    """(environment, the xlsx file) of a migrated scratch database with the regions and futian_admin."""
    folder = tmp_path_factory.mktemp("crash")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(VETVOL_ENV="test", VETVOL_VAR_DIR=str(folder), VETVOL_LOG_LEVEL="ERROR")
    with django_db_blocker.unblock():
        vendor, settings = connection.vendor, dict(connection.settings_dict)
    dropped = None
    if vendor == "postgresql":
        import psycopg

        name = f"{settings['NAME']}_crashproof"
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        base = f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"{base}/{name}"
        dropped = (base, name)
    else:
        env["DATABASE_URL"] = f"sqlite:///{folder / 'crash.sqlite3'}"
    book = folder / "名册.xlsx"
    scenario(env, "setup", str(book), str(ROWS))
    yield env, book
    if dropped:
        import psycopg

        with psycopg.connect(f"{dropped[0]}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dropped[1]}" WITH (FORCE)')


def scenario(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "scenario.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def killed(env: dict, command: list[str], delay: float) -> int | None:
    """Run the command, SIGKILL it after `delay` seconds; its exit code if it finished first."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def rng() -> random.Random:
    seed = int(os.environ.get("VETVOL_CRASH_SEED") or time.time_ns() % 1_000_000)
    print(f"VETVOL_CRASH_SEED={seed}")
    return random.Random(seed)


def assert_whole_chunks(state: dict) -> None:
    assert state["duplicated"] == 0
    for job in state["jobs"]:
        assert job["volunteers"] == job["audited"] == job["status_changes"], job
        assert job["whole_chunks"], job


def import_command(book: Path) -> list[str]:
    return [VETVOL, "import_volunteers", str(book), "--as", "futian_admin"]


def test_a_killed_import_leaves_whole_chunks_and_running_it_again_finishes_it(scratch):
    env, book = scratch
    random_delay = rng()
    outcomes = []
    for _ in range(KILLS):
        delay = random_delay.uniform(1.0, 4.5)  # start-up ~1 s; the run writes for 2-8 s by machine load
        code = killed(env, import_command(book), delay)
        state = scenario(env, "check-import", str(ROWS))
        assert_whole_chunks(state)
        outcomes.append({"after_s": round(delay, 2), "exit": code, "volunteers": state["volunteers"]})
        scenario(env, "age")
    start = time.monotonic()
    done = subprocess.run(import_command(book), env=env, capture_output=True, text=True, timeout=600)
    outcomes.append({"resumed_in_s": round(time.monotonic() - start, 1)})
    assert done.returncode == 0, (outcomes, done.stderr[-2000:])
    state = scenario(env, "check-import", str(ROWS))
    assert_whole_chunks(state)
    assert state["volunteers"] == ROWS
    finished = [job for job in state["jobs"] if job["volunteers"]]
    assert sum(job["volunteers"] for job in finished) == ROWS
    print({"kills": outcomes, "jobs": state["jobs"]})


def test_a_killed_dispatch_round_leaves_whole_rounds_and_the_next_tick_finishes_it(scratch):
    env, book = scratch
    subprocess.run(import_command(book), env=env, capture_output=True, timeout=600, check=False)
    scenario(env, "setup-dispatch")
    random_delay = rng()
    outcomes = []
    for _ in range(KILLS):
        delay = random_delay.uniform(1.5, 6.0)
        code = killed(env, [VETVOL, "dispatch_tick"], delay)
        state = scenario(env, "check-dispatch")
        outcomes.append({"after_s": round(delay, 2), "exit": code, "invitations": state["invitations"]})
        for incident in state["incidents"]:
            assert {str(k): v for k, v in incident["rounds"].items()} == {
                str(k): v for k, v in incident["audited"].items()
            }, incident
        assert state["twice"] == 0
    start = time.monotonic()
    done = subprocess.run([VETVOL, "dispatch_tick"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes.append({"full_tick_s": round(time.monotonic() - start, 1)})
    state = scenario(env, "check-dispatch")
    for incident in state["incidents"]:
        assert {str(k): v for k, v in incident["rounds"].items()} == {
            str(k): v for k, v in incident["audited"].items()
        }, incident
        assert sum(incident["rounds"].values()) == incident["slots"], (
            incident
        )  # every slot has its invitation
    assert state["twice"] == 0
    print({"kills": outcomes, "incidents": state["incidents"]})
