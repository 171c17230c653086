"""Backup drill: data made through the actions is backed up with `vetvol backup`, restored with `vetvol
restore` into an empty database (a scratch database on PostgreSQL, a new file on SQLite), and the copy passes
`verify_audit` and `verify_ledger`, holds the same rows and counts the same service hours; the append-only
triggers come back with it. The restored side runs in separate `vetvol` processes, as an operator would."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from vetvol.core import backup
from vetvol.core.tests.proofs import drill, world

SNAPSHOT = "from vetvol.core.tests.proofs.drill import main; main()"


def vetvol(args: list[str], database_url: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=database_url, VETVOL_ENV="test", VETVOL_VAR_DIR=str(tmp))
    return subprocess.run(
        [sys.executable, "-m", "vetvol", *args], env=env, capture_output=True, text=True, timeout=300
    )


@contextmanager
def empty_database(tmp: Path):
    """The restore target: a new SQLite file, or a scratch PostgreSQL database dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp / 'restored.sqlite3'}"
        return
    s = connection.settings_dict
    name = f"{s['NAME']}_restore"
    with connection.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    try:
        yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
    finally:
        with connection.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_restored_copy_verifies_and_holds_every_row(people, tmp_path):
    w = world.build(people)
    before = drill.snapshot()
    assert before["counts"]["registry_volunteer"] == 3
    assert before["counts"]["activities_hourrecord"] == 3
    assert before["counts"]["fund_donation"] == 1
    assert before["counts"]["core_auditentry"] >= 20
    assert before["counted_minutes"] == {v.number: 180 for v in w.volunteers}
    assert {"core_auditentry", "activities_hourrecord"} <= set(before["append_only"])

    path = tmp_path / "vetvol.backup"
    call_command("backup", str(path))
    assert path.stat().st_size > 100_000
    with path.open("rb") as fh:
        assert fh.read(5) == (b"PGDMP" if connection.vendor == "postgresql" else b"SQLit")

    with empty_database(tmp_path) as url:
        restored = vetvol(["restore", str(path)], url, tmp_path)
        assert restored.returncode == 0, restored.stderr
        for command, says in (
            ("verify_audit", "audit log intact"),
            ("verify_hours", "hours intact"),
            ("verify_ledger", "ledger intact"),
        ):
            result = vetvol([command], url, tmp_path)
            assert result.returncode == 0, result.stderr
            assert says in result.stdout
        audit_rows = before["counts"]["core_auditentry"]
        assert f"{audit_rows} rows verified" in vetvol(["verify_audit"], url, tmp_path).stdout
        after = vetvol(["shell", "-c", SNAPSHOT], url, tmp_path)
        assert after.returncode == 0, after.stderr
        assert json.loads(after.stdout.splitlines()[-1]) == before

        again = vetvol(["restore", str(path)], url, tmp_path)
        assert again.returncode == 1
        assert "is not empty" in again.stderr and "--force" in again.stderr
        forced = vetvol(["restore", "--force", str(path)], url, tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert json.loads(vetvol(["shell", "-c", SNAPSHOT], url, tmp_path).stdout.splitlines()[-1]) == before
        assert vetvol(["verify_audit"], url, tmp_path).returncode == 0


def test_backup_refuses_to_overwrite_a_file(db, tmp_path):
    path = tmp_path / "exists.backup"
    path.write_bytes(b"old")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(path))
    assert path.read_bytes() == b"old"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", str(tmp_path / "no-such-dir" / "x.backup"))


def test_restore_refuses_missing_and_wrong_files(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.backup"))
    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n")
    with pytest.raises(CommandError, match="its content is not a database backup"):
        call_command("restore", str(text))
    other = tmp_path / "other.backup"
    if connection.vendor == "sqlite":
        other.write_bytes(backup.PG_MAGIC + b"\x01\x0e" + b"\0" * 100)
        expected = "not a SQLite backup; it is a PostgreSQL archive"
    else:
        other.write_bytes(backup.SQLITE_MAGIC + b"\0" * 100)
        expected = "not a PostgreSQL backup .* it is a SQLite database"
    with pytest.raises(CommandError, match=expected):
        call_command("restore", str(other))


def test_restore_refuses_a_database_that_is_not_empty(db, tmp_path):
    path = tmp_path / "vetvol.backup"  # a file of the right kind: the refusal comes before it is read
    if connection.vendor == "sqlite":
        sqlite3.connect(path).execute("CREATE TABLE django_migrations (id INTEGER)").connection.close()
    else:
        path.write_bytes(backup.PG_MAGIC + b"\0" * 100)
    with pytest.raises(CommandError, match=r"is not empty \(\d+ tables\).*--force"):
        call_command("restore", str(path))
