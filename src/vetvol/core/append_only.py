"""Database-enforced append-only tables (audit log now; hour records and ledger entries later).

Triggers refuse UPDATE and DELETE on both SQLite and PostgreSQL, so even code that bypasses the ORM, or a
raw SQL session, cannot rewrite history. Migrations install them with `migration_operation(table)`.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION vetvol_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = 'table ' || TG_TABLE_NAME || ' is append-only',
    ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
"""


def install_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            _PG_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION vetvol_refuse_change();",
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END;",
        ]
    raise NotImplementedError(f"append-only triggers for {vendor}")


def uninstall_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def migration_operation(table: str) -> migrations.RunPython:
    def forward(apps: Any, schema_editor: Any) -> None:
        for sql in install_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        for sql in uninstall_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)


def reinstall_operations(*tables: str) -> tuple[migrations.RunPython, migrations.RunPython]:
    """For a migration that changes an append-only table's constraints: on SQLite that rebuilds the table
    (new table, copy, drop, rename) and the triggers go with the old one. Put the first operation first and
    the second last: they reinstall the triggers after the change, and again when it is reversed."""

    def reinstall(apps: Any, schema_editor: Any) -> None:
        for table in tables:
            for sql in install_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(sql)

    noop = migrations.RunPython.noop
    return migrations.RunPython(noop, reinstall), migrations.RunPython(reinstall, noop)
