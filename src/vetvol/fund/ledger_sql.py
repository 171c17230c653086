# ruff: noqa: S608 - table names are constants of this module, no values are interpolated
"""The ledger's rules in the database, for SQLite and PostgreSQL (installed by the fund's migrations).

- A leg may only be added to a transaction not yet posted (the header goes in after its legs).
- A transaction header is accepted only if its legs are at least two and sum to zero. On PostgreSQL a
  deferred constraint trigger checks each touched transaction again at commit, so legs slipped in by a
  concurrent session are refused as well.
- Each leg moves its account's balance (in the account's normal direction); the account's CHECK constraint
  then refuses a negative balance where the account forbids one.
- Headers and legs are append-only (core.append_only).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from vetvol.core import append_only

TXN = "fund_ledgertransaction"
LEG = "fund_leg"
ACCOUNT = "fund_account"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS fund_leg_posted BEFORE INSERT ON {LEG}
    WHEN EXISTS (SELECT 1 FROM {TXN} WHERE id = NEW.transaction_id)
    BEGIN SELECT RAISE(ABORT, 'ledger transaction already posted'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS fund_leg_balance AFTER INSERT ON {LEG}
    BEGIN UPDATE {ACCOUNT} SET balance = balance + NEW.amount * normal WHERE id = NEW.account_id; END;""",
    f"""CREATE TRIGGER IF NOT EXISTS fund_txn_balanced BEFORE INSERT ON {TXN}
    WHEN (SELECT count(*) FROM {LEG} WHERE transaction_id = NEW.id) < 2
      OR (SELECT coalesce(sum(amount), 0) FROM {LEG} WHERE transaction_id = NEW.id) <> 0
    BEGIN SELECT RAISE(ABORT, 'ledger transaction does not balance'); END;""",
]

_PG = [
    "CREATE SEQUENCE IF NOT EXISTS fund_txn_id;",  # transaction ids, taken before the legs go in
    f"""CREATE OR REPLACE FUNCTION fund_leg_posted() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM {TXN} WHERE id = NEW.transaction_id) THEN
        RAISE EXCEPTION USING MESSAGE = 'ledger transaction already posted',
          ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;""",
    f"DROP TRIGGER IF EXISTS fund_leg_posted ON {LEG};",
    f"CREATE TRIGGER fund_leg_posted BEFORE INSERT ON {LEG} FOR EACH ROW EXECUTE FUNCTION fund_leg_posted();",
    f"""CREATE OR REPLACE FUNCTION fund_leg_balance() RETURNS trigger AS $$
    BEGIN
      UPDATE {ACCOUNT} SET balance = balance + NEW.amount * normal WHERE id = NEW.account_id;
      RETURN NULL;
    END $$ LANGUAGE plpgsql;""",
    f"DROP TRIGGER IF EXISTS fund_leg_balance ON {LEG};",
    f"CREATE TRIGGER fund_leg_balance AFTER INSERT ON {LEG} FOR EACH ROW "
    "EXECUTE FUNCTION fund_leg_balance();",
    """CREATE OR REPLACE FUNCTION fund_leg_balanced_at_commit() RETURNS trigger AS $$
    BEGIN
      PERFORM fund_txn_balanced_check(NEW.transaction_id);
      RETURN NULL;
    END $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE FUNCTION fund_txn_balanced_now() RETURNS trigger AS $$
    BEGIN
      PERFORM fund_txn_balanced_check(NEW.id);
      RETURN NEW;
    END $$ LANGUAGE plpgsql;""",
    f"""CREATE OR REPLACE FUNCTION fund_txn_balanced_check(txn bigint) RETURNS void AS $$
    DECLARE n integer; total bigint;
    BEGIN
      SELECT count(*), coalesce(sum(amount), 0) INTO n, total FROM {LEG} WHERE transaction_id = txn;
      IF n < 2 OR total <> 0 THEN
        RAISE EXCEPTION USING MESSAGE = 'ledger transaction ' || txn || ' does not balance',
          ERRCODE = 'integrity_constraint_violation';
      END IF;
    END $$ LANGUAGE plpgsql;""",
    f"DROP TRIGGER IF EXISTS fund_txn_balanced ON {TXN};",
    f"CREATE TRIGGER fund_txn_balanced BEFORE INSERT ON {TXN} FOR EACH ROW "
    "EXECUTE FUNCTION fund_txn_balanced_now();",
    f"DROP TRIGGER IF EXISTS fund_leg_balanced_at_commit ON {LEG};",
    f"""CREATE CONSTRAINT TRIGGER fund_leg_balanced_at_commit AFTER INSERT ON {LEG}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_leg_balanced_at_commit();""",
]

_PG_DROP = [
    f"DROP TRIGGER IF EXISTS fund_leg_posted ON {LEG};",
    f"DROP TRIGGER IF EXISTS fund_leg_balance ON {LEG};",
    f"DROP TRIGGER IF EXISTS fund_txn_balanced ON {TXN};",
    f"DROP TRIGGER IF EXISTS fund_leg_balanced_at_commit ON {LEG};",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS fund_leg_posted;",
    "DROP TRIGGER IF EXISTS fund_leg_balance;",
    "DROP TRIGGER IF EXISTS fund_txn_balanced;",
]


def install_sql(vendor: str) -> list[str]:
    rules = _PG if vendor == "postgresql" else _SQLITE
    return [*rules, *append_only.install_sql(vendor, TXN), *append_only.install_sql(vendor, LEG)]


def uninstall_sql(vendor: str) -> list[str]:
    rules = _PG_DROP if vendor == "postgresql" else _SQLITE_DROP
    return [*rules, *append_only.uninstall_sql(vendor, TXN), *append_only.uninstall_sql(vendor, LEG)]


def migration_operation() -> migrations.RunPython:
    def forward(apps: Any, schema_editor: Any) -> None:
        for sql in install_sql(schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        for sql in uninstall_sql(schema_editor.connection.vendor):
            schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)
