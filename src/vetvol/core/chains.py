"""Hash chains for tamper-evident tables (the audit log, the fund's ledger).

Each row's hash covers its content and the previous row's hash in its chain. A table may be several
interleaved chains (one head row each): an append locks the first head no other transaction holds
(PostgreSQL `FOR UPDATE SKIP LOCKED`), so concurrent writers do not queue behind one lock until they
commit. SQLite transactions hold the database's write lock from BEGIN: one chain there.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from django.conf import settings
from django.db import connection, models

from vetvol.core import rawsql

GENESIS = "0" * 64


def digest(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def count(setting: str, default: int = 8) -> int:
    """How many chains a table uses: the setting (1–64) on PostgreSQL, 1 on SQLite."""
    if connection.vendor == "sqlite":
        return 1
    return max(1, min(64, int(getattr(settings, setting, default))))


def lock_head(head_model: type[models.Model], chains: int) -> tuple[int, str, int]:
    """(chain, its last hash, its last seq) of a head row of `head_model` (fields id, last_hash,
    last_seq), locked until the transaction ends: the first head nobody holds, else wait for a random
    one. Written by hand: every audited change runs it."""
    table = head_model._meta.db_table
    chain = 1
    if chains > 1 and connection.features.has_select_for_update_skip_locked:
        row = rawsql.fetch_one(
            f'SELECT "id", "last_hash", "last_seq" FROM "{table}" WHERE "id" <= %s '  # noqa: S608
            'ORDER BY "id" LIMIT 1 FOR UPDATE SKIP LOCKED',
            [chains],
        )
        if row is not None:
            return row[0], row[1], row[2]
        chain = random.randint(1, chains)  # every head is held: queue behind one of them
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    row = rawsql.fetch_one(f'SELECT "last_hash", "last_seq" FROM "{table}" WHERE "id" = %s{lock}', [chain])  # noqa: S608
    if row is None:  # an empty database (a flushed test database): its first append makes the head
        head, _ = head_model._default_manager.select_for_update().get_or_create(
            id=chain, defaults={"last_hash": GENESIS, "last_seq": 0}
        )
        return chain, head.last_hash, head.last_seq  # type: ignore[attr-defined]
    return chain, row[0], row[1]


def set_head(head_model: type[models.Model], chain: int, last_hash: str, last_seq: int) -> None:
    rawsql.send(
        f'UPDATE "{head_model._meta.db_table}" SET "last_hash" = %s, "last_seq" = %s WHERE "id" = %s',  # noqa: S608
        [last_hash, last_seq, chain],
    )
