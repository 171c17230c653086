"""Hand-written SQL for the few hottest paths (a big event's check-ins), where compiling an ORM query costs
more CPU than the database spends running it. Each such query keeps its ORM twin's meaning and is tested on
SQLite and PostgreSQL alike: double-quoted identifiers, `%s` parameters, table names from the models (never
from input, hence the `noqa: S608` on those f-strings)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.utils.dateparse import parse_datetime


def aware(value: Any) -> datetime | None:
    """A datetime column read through a raw cursor: aware from PostgreSQL, naive UTC (or text) from SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def db_datetime(value: datetime) -> Any:
    """An aware datetime as a query parameter, in the form the ORM would store it."""
    return connection.ops.adapt_datetimefield_value(value)


def fetch_one(sql: str, params: list[Any]) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(sql: str, params: list[Any]) -> int:
    """Run one statement; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert(obj: models.Model) -> None:
    """INSERT a new model instance, as `obj.save(force_insert=True)` would, without compiling the query.

    Each field prepares its own value (`pre_save` for auto_now_add, `get_db_prep_save` for the database's
    form), exactly as the ORM's INSERT does; only the SQL text is built here. An auto primary key comes back
    through RETURNING (PostgreSQL, SQLite 3.35+). No model signals are sent: the project uses none."""
    meta = obj._meta
    pk = meta.pk
    auto_pk = isinstance(pk, models.AutoField) and obj.pk is None
    fields = [f for f in meta.concrete_fields if not (auto_pk and f is pk)]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({", ".join(["%s"] * len(fields))})'  # noqa: S608
    if auto_pk:
        sql += f' RETURNING "{pk.column}"'  # type: ignore[union-attr]
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if auto_pk:
            obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
