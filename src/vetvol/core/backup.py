"""Backups of the whole database and their restore (`vetvol backup`, `vetvol restore`).

PostgreSQL: `pg_dump -Fc` (custom archive) and `pg_restore` in one transaction, so a failed restore leaves
the target as it was. SQLite: the online backup API, which copies a consistent snapshot page by page while
the site keeps running (WAL included), and restores the same way into the configured database file.

The field-encryption and lookup keys are not in the database: a backup restores readable data only where
the same VETVOL_DATA_KEY and VETVOL_LOOKUP_KEY are configured.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db import connections

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why in words an operator can act on."""


def _connection(alias: str) -> Any:
    return connections[alias]


def backup(path: str | Path, *, alias: str = "default", overwrite: bool = False) -> Path:
    """Write a backup of database `alias` to `path` (written aside, then moved in place). Returns the path."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists (use --force to overwrite it)")
    if not target.parent.is_dir():
        raise BackupError(f"directory {target.parent} does not exist")
    connection = _connection(alias)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if connection.vendor == "postgresql":
            _pg_backup(connection, tmp)
        elif connection.vendor == "sqlite":
            _sqlite_backup(connection, tmp)
        else:
            raise BackupError(f"backups of {connection.vendor} databases are not supported")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def restore(path: str | Path, *, alias: str = "default", force: bool = False) -> None:
    """Restore the backup at `path` into database `alias`. A database that already holds tables is refused
    unless `force` (then its tables are replaced by the backup's)."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    with source.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    connection = _connection(alias)
    if connection.vendor == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{source} is not a PostgreSQL backup (pg_dump -Fc archive); {_kind(head)}")
        _refuse_non_empty(connection, force)
        _pg_restore(connection, source, clean=force)
    elif connection.vendor == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite backup; {_kind(head)}")
        _refuse_non_empty(connection, force)
        _sqlite_restore(connection, source)
    else:
        raise BackupError(f"restores into {connection.vendor} databases are not supported")


def _kind(head: bytes) -> str:
    if head.startswith(PG_MAGIC):
        return "it is a PostgreSQL archive"
    if head == SQLITE_MAGIC:
        return "it is a SQLite database"
    return "its content is not a database backup"


def _tables(connection: Any) -> list[str]:
    with connection.cursor() as cursor:
        return list(connection.introspection.table_names(cursor))


def _refuse_non_empty(connection: Any, force: bool) -> None:
    tables = _tables(connection)
    if tables and not force:
        raise BackupError(
            f"the target database {connection.settings_dict['NAME']} is not empty ({len(tables)} tables); "
            "restore into an empty database, or use --force to replace its content"
        )


# -- SQLite ----------------------------------------------------------------------------------------------


def _sqlite_backup(connection: Any, tmp: Path) -> None:
    connection.ensure_connection()
    if connection.connection.in_transaction:
        # SQLite's backup waits for the source's write lock to go: from inside a transaction, forever.
        raise BackupError("cannot back up from inside an open transaction")
    dest = sqlite3.connect(tmp)
    try:
        connection.connection.backup(dest)
        # One self-contained file: the copy would otherwise carry the live database's WAL mode.
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()


def _sqlite_restore(connection: Any, source: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        row = src.execute("PRAGMA quick_check").fetchone()
        if not row or row[0] != "ok":
            raise BackupError(f"{source} is damaged: {row[0] if row else 'no answer'}")
        names = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "django_migrations" not in names:
            raise BackupError(f"{source} is a SQLite database but not a vetvol backup (no django_migrations)")
        connection.close()
        connection.ensure_connection()
        src.backup(connection.connection)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} cannot be read as a SQLite database: {exc}") from exc
    finally:
        src.close()
        connection.close()


# -- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_env(settings: Mapping[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    pairs = {
        "PGHOST": settings.get("HOST"),
        "PGPORT": settings.get("PORT"),
        "PGUSER": settings.get("USER"),
        "PGPASSWORD": settings.get("PASSWORD"),
        "PGDATABASE": settings.get("NAME"),
    }
    env.update({key: str(value) for key, value in pairs.items() if value})
    sslmode = (settings.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def _pg_tool(name: str, connection: Any) -> str:
    """The path of `name` (pg_dump, pg_restore), refused when missing or older than the server."""
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(f"{name} is not on PATH (install the PostgreSQL client of the server's version)")
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if match is None:
        raise BackupError(f"cannot read the version of {tool}: {out!r}")
    client_major = int(match.group(1))
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    if client_major < server_major:
        raise BackupError(
            f"{tool} is version {client_major} but the server is PostgreSQL {server_major}: "
            f"install the client tools of version {server_major} (or newer)"
        )
    return tool


def _run(args: list[str], settings: Mapping[str, Any], what: str) -> None:
    result = subprocess.run(args, env=_pg_env(settings), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _pg_backup(connection: Any, tmp: Path) -> None:
    tool = _pg_tool("pg_dump", connection)
    _run([tool, "--format=custom", "--no-password", f"--file={tmp}"], connection.settings_dict, "pg_dump")


def _pg_restore(connection: Any, source: Path, *, clean: bool) -> None:
    tool = _pg_tool("pg_restore", connection)
    settings = dict(connection.settings_dict)
    connection.close()  # nothing of ours holds a lock on the tables being replaced
    args = [tool, "--no-password", "--single-transaction", "--no-owner", "--no-privileges"]
    if clean:
        args += ["--clean", "--if-exists"]
    args += [f"--dbname={settings['NAME']}", str(source)]
    _run(args, settings, "pg_restore")
