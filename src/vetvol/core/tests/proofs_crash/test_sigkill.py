"""Proof: SIGKILL at a random moment of a running import (`vetvol import_volunteers`, the web import's job
run synchronously) and of a running dispatch round (`vetvol dispatch_tick`) leaves each unit of work whole
or absent, and running the same command again finishes the work without duplicates.

Units of work: an import chunk (its volunteers, their status changes, its audit row); an invitation round
(its invitations and its `dispatch.round` audit row with the count). The commands run as real processes
against a scratch database of their own (a SQLite file, or `<test database>_crashproof` on PostgreSQL)
set up and inspected by `scenario.py`, like the notify worker's crash test. Between kills the killed
import's heartbeat is aged by STALE_AFTER and the stored uploads by the sweep's grace (the wait an operator
would otherwise sit through). The random kills' delays are seeded by VETVOL_CRASH_SEED when set, printed
otherwise. A random kill rarely lands inside a transaction, so each unit of work is also killed there on
purpose: a fail point (`core.failpoints`, VETVOL_FAILPOINTS) holds the process after the unit's rows are
written and before its commit, and the test kills it once the point's marker file appears.

No stored upload outlives the work: after the kills and the resume the imports folder is empty (the copies
a killed run orphaned are swept by the next `import_volunteers`, or by `vetvol sweep_imports` after the kill
at the fail point between a job's committed end and the deletion of its file).
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
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("VETVOL_FAILPOINT")
    }
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
    yield env, book, folder
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


def killed_at(env: dict, command: list[str], point: str, marker: Path, timeout: float = 300) -> str:
    """Run the command with the fail point set, SIGKILL it once it holds there (inside the unit's
    transaction); what its marker said ("point pid")."""
    marker.unlink(missing_ok=True)
    log = marker.with_name(marker.name + ".log")
    with log.open("w") as err:
        proc = subprocess.Popen(
            command,
            env={**env, "VETVOL_FAILPOINTS": point, "VETVOL_FAILPOINT_MARKER": str(marker)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    deadline = time.monotonic() + timeout
    try:
        while not marker.exists():
            assert proc.poll() is None, f"ended before its fail point: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{point} not reached in {timeout} s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return marker.read_text().strip()


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


def assert_whole_rounds(state: dict) -> None:
    for incident in state["incidents"]:
        assert {str(k): v for k, v in incident["rounds"].items()} == {
            str(k): v for k, v in incident["audited"].items()
        }, incident
        assert incident["audit_rows"] == len(incident["audited"]), incident  # one record per round
    assert state["twice"] == 0


def open_incidents(state: dict) -> list[dict]:
    return [incident for incident in state["incidents"] if incident["open"]]


def test_a_killed_import_leaves_whole_chunks_and_running_it_again_finishes_it(scratch):
    env, book, _ = scratch
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
    assert state["files"] == []  # no copy of the roster left behind by a killed run
    print({"kills": outcomes, "jobs": state["jobs"]})


def test_an_import_killed_inside_a_chunk_leaves_nothing_of_it_and_its_resume_writes_it_once(scratch):
    env, _, folder = scratch
    book = folder / "名册二.xlsx"  # other people: the first roster is imported already
    scenario(env, "book", str(book), str(ROWS + 1), str(ROWS))
    held = killed_at(env, import_command(book), "registry.import.chunk@3", folder / "chunk.marker")
    assert held.split()[0] == "registry.import.chunk"
    state = scenario(env, "check-import", str(ROWS))
    assert_whole_chunks(state)
    (job,) = [job for job in state["jobs"] if job["filename"] == book.name]
    # Chunks 1 and 2 committed; chunk 3 was written and audited but never committed: none of it is there.
    assert (job["status"], job["chunks"], job["volunteers"], job["audited"]) == ("importing", 2, 4000, 4000)
    assert state["volunteers"] == ROWS + 4000
    scenario(env, "age")
    # Resumed, and killed again right after the job's end committed, before its file was deleted.
    killed_at(env, import_command(book), "registry.import.finished", folder / "finish.marker")
    state = scenario(env, "check-import", str(ROWS))
    assert_whole_chunks(state)
    (job,) = [job for job in state["jobs"] if job["filename"] == book.name]  # resumed, not a second job
    assert (job["status"], job["chunks"], job["volunteers"], job["audited"]) == ("done", 5, ROWS, ROWS)
    assert state["volunteers"] == 2 * ROWS
    assert state["files"] == [f"{job['id']}.xlsx"]  # the roster's copy, which no job will read again
    scenario(env, "age")
    swept = subprocess.run([VETVOL, "sweep_imports"], env=env, capture_output=True, text=True, timeout=600)
    assert (swept.returncode, swept.stdout.strip()) == (0, "removed 1 orphaned import file(s)"), swept.stderr
    assert scenario(env, "check-import", str(ROWS))["files"] == []


def test_a_killed_dispatch_round_leaves_whole_rounds_and_the_next_tick_finishes_it(scratch):
    env, book, _ = scratch
    subprocess.run(import_command(book), env=env, capture_output=True, timeout=600, check=False)
    scenario(env, "setup-dispatch")
    random_delay = rng()
    outcomes = []
    for _ in range(KILLS):
        delay = random_delay.uniform(1.5, 6.0)
        code = killed(env, [VETVOL, "dispatch_tick"], delay)
        state = scenario(env, "check-dispatch")
        outcomes.append({"after_s": round(delay, 2), "exit": code, "invitations": state["invitations"]})
        assert_whole_rounds(state)
    start = time.monotonic()
    done = subprocess.run([VETVOL, "dispatch_tick"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes.append({"full_tick_s": round(time.monotonic() - start, 1)})
    state = scenario(env, "check-dispatch")
    assert_whole_rounds(state)
    for incident in open_incidents(state):
        assert sum(incident["rounds"].values()) == incident["slots"], incident  # every slot invited
    print({"kills": outcomes, "incidents": state["incidents"]})


@pytest.mark.parametrize("count", [3, 1], ids=["batch_round", "single_round"])
def test_a_dispatch_round_killed_before_its_commit_leaves_nothing_and_the_next_tick_runs_it_once(
    scratch, count
):
    env, book, folder = scratch
    subprocess.run(import_command(book), env=env, capture_output=True, timeout=600, check=False)
    created = scenario(env, "setup-dispatch", str(count))["incidents"]
    before = scenario(env, "check-dispatch")["invitations"]
    held = killed_at(env, [VETVOL, "dispatch_tick"], "dispatch.round", folder / "round.marker")
    assert held.split()[0] == "dispatch.round"
    state = scenario(env, "check-dispatch")
    assert_whole_rounds(state)
    waiting = open_incidents(state)
    assert [incident["id"] for incident in waiting] == created
    # The round's invitations and audit rows were written; none of them committed.
    assert [(incident["rounds"], incident["audit_rows"]) for incident in waiting] == [({}, 0)] * count
    assert state["invitations"] == before
    done = subprocess.run([VETVOL, "dispatch_tick"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    state = scenario(env, "check-dispatch")
    assert_whole_rounds(state)
    for incident in open_incidents(state):
        slots = incident["slots"]
        assert (incident["rounds"], incident["audit_rows"]) == ({"1": slots}, 1), incident
    assert state["invitations"] == before + sum(incident["slots"] for incident in open_incidents(state))
