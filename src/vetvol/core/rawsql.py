"""Hand-written SQL for the few hottest paths (a big event's check-ins, bulk imports, the dispatch
location index), where compiling an ORM query costs more CPU than the database spends running it. Each
such query keeps its ORM twin's meaning and is tested on SQLite and PostgreSQL alike: double-quoted
identifiers, `%s` parameters, table names from the models (never from input, hence the `noqa: S608` on
those f-strings).

On PostgreSQL they go through `cursor()`: psycopg's RawCursor, server-side binding. Django's own cursors
bind client-side, so every statement is parsed for `%s` and each value quoted into its text in Python, and
psycopg caches that parsing only for statements of at most 50 parameters: a batch of check-ins' inserts
has more. Here the values travel apart from the text, whose `$n` form is worked out once per statement
(a batch size is one statement), and the server prepares a statement it has seen five times
(settings.py; DATABASE_PREPARED_STATEMENTS=false turns it off). In the
check-in benchmark this took a third off the server's CPU spent in the check-in's own statements.

`pipeline()` sends the statements of a block without waiting for each one's answer (PostgreSQL's pipeline
mode): a statement whose rows are read waits for its answer, the others (inserts, `send`) travel together
and their errors surface when the block ends. A batch of check-ins makes six round trips instead of
eleven."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from vetvol.core.crypto import EncryptedTextField

M = TypeVar("M", bound=models.Model)

_PLACEHOLDER = re.compile(r"%[s%]")


@functools.lru_cache(maxsize=1024)
def _numbered(sql: str) -> str:
    """`%s` placeholders as PostgreSQL's `$1, $2, …` (and `%%` as `%`)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _default() -> BaseDatabaseWrapper:
    """This thread's default connection itself: `django.db.connection` looks it up on every attribute."""
    return connections[DEFAULT_DB_ALIAS]


def cursor(db: BaseDatabaseWrapper | None = None) -> CursorWrapper:
    """A cursor for hand-written statements with `%s` placeholders: Django's own, except on PostgreSQL,
    where the values are bound server-side (see the module's docstring). Still a Django cursor wrapper:
    errors become Django's, and tests counting queries see these."""
    db = db or _default()
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        raw = _server_bound_cursor()(db.connection)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)


@functools.cache
def _server_bound_cursor() -> type:
    import psycopg

    class ServerBound(psycopg.RawCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(_numbered(query), params, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            return super().executemany(_numbered(query), params_seq, **kwargs)

    return ServerBound


_pipelined: ContextVar[bool] = ContextVar("vetvol_rawsql_pipelined", default=False)


@contextlib.contextmanager
def pipeline(when: bool = True) -> Iterator[None]:
    """Inside, on PostgreSQL, statements are sent without waiting for their answers (see the module's
    docstring); elsewhere, or with `when` false, nothing changes. Only for blocks whose statements read no
    row count from a cursor (an ORM `update()` does): a pipelined statement's count is not known until the
    block ends. `execute()` waits for its own. Errors of statements not waited for are raised, as Django's
    errors, when the block ends: inside a transaction, before it commits."""
    db = _default()
    if not when or db.vendor != "postgresql" or _pipelined.get():
        yield
        return
    db.ensure_connection()
    token = _pipelined.set(True)
    try:
        with db.wrap_database_errors, db.connection.pipeline():
            yield
    finally:
        _pipelined.reset(token)


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
    return _default().ops.adapt_datetimefield_value(value)


def fetch_one(sql: str, params: list[Any]) -> tuple | None:
    with cursor() as c:
        c.execute(sql, params)
        return c.fetchone()


def fetch_all(sql: str, params: list[Any]) -> list[tuple]:
    with cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def builder(model: type[M], columns: tuple[str, ...]) -> Callable[[Sequence[Any]], M]:
    """A function making an instance of `model` from a hand-written row whose first values are those of
    `columns` (database column names): what `model.objects.raw()` gives, the columns' conversions (dates on
    SQLite, encrypted fields) worked out once per model and column list instead of on every row. Fields
    not among `columns` are deferred, as with `only()`."""
    db = _default()
    order, attnames, converters = _loader(model, columns, db)
    alias = db.alias

    def build(row: Sequence[Any]) -> M:
        values = [row[i] for i in order]
        for i, functions, expression in converters:
            for convert in functions:
                values[i] = convert(values[i], expression, db)
        return model.from_db(alias, attnames, values)

    return build


@functools.lru_cache(maxsize=256)  # per connection (each thread has its own): converters are its methods
def _loader(
    model: type[models.Model], columns: tuple[str, ...], db: BaseDatabaseWrapper
) -> tuple[list[int], list[str], list]:
    """How to build instances from rows of these columns: which column goes where (`from_db` takes the
    values in the model's field order), and the conversions of each."""
    position = {f.column: i for i, f in enumerate(model._meta.concrete_fields)}
    order = sorted(range(len(columns)), key=lambda i: position[columns[i]])
    fields = [model._meta.concrete_fields[position[columns[i]]] for i in order]
    converters = []
    for i, f in enumerate(fields):
        expression = f.get_col(model._meta.db_table)
        functions = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
        if functions:
            converters.append((i, functions, expression))
    return order, [f.attname for f in fields], converters


def execute(sql: str, params: list[Any]) -> int:
    """Run one statement; the number of rows it changed (in a pipeline, once its answer is back)."""
    db = _default()
    waits = db.connection.pipeline() if _pipelined.get() else contextlib.nullcontext()
    with cursor(db) as c:
        with db.wrap_database_errors, waits:
            c.execute(sql, params)
        return c.rowcount


def send(sql: str, params: list[Any]) -> None:
    """Run one statement whose answer nobody reads: in a pipeline, sent without waiting for it."""
    with cursor() as c:
        c.execute(sql, params)


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
    db = _default()
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    with cursor(db) as c:
        c.execute(sql, params)
        if auto_pk:
            obj.pk = c.fetchone()[0]
    obj._state.adding = False
    obj._state.db = db.alias


def insert_new(objs: list[models.Model], unique: tuple[str, ...]) -> list[bool]:
    """INSERT new instances of one model in one statement, skipping each that would break the unique
    constraint on the `unique` columns (ON CONFLICT DO NOTHING): already there, or written by a concurrent
    transaction, or a second instance with the same key in `objs`. Returns, per instance, whether it was
    written; those written get their primary key (RETURNING; PostgreSQL, SQLite 3.35+)."""
    if not objs:
        return []
    meta = objs[0]._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    keys = [cast(models.Field, meta.get_field(name)) for name in unique]
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = ", ".join(f'"{f.column}"' for f in keys)
    returning = ", ".join(f'"{f.column}"' for f in [pk, *keys])  # type: ignore[list-item]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = (
        f'INSERT INTO "{meta.db_table}" ({columns}) VALUES {", ".join([placeholders] * len(objs))}'  # noqa: S608
        f" ON CONFLICT ({conflict}) DO NOTHING RETURNING {returning}"
    )
    db = _default()
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for obj in objs for f in fields]
    with cursor(db) as c:
        c.execute(sql, params)
        ids = {tuple(row[1:]): row[0] for row in c.fetchall()}
    written = []
    for obj in objs:
        key = tuple(getattr(obj, f.attname) for f in keys)
        new = key in ids
        if new:
            obj.pk = ids.pop(key)  # popped: a twin later in `objs` was not written
            obj._state.adding = False
            obj._state.db = db.alias
        written.append(new)
    return written


# Values of these fields go to the driver as they are (no conversion in get_db_prep_save).
_PLAIN_FIELDS: tuple[type[models.Field], ...] = (models.CharField, models.TextField, models.IntegerField)
_PLAIN_FIELDS = (*_PLAIN_FIELDS, models.BooleanField, models.FloatField, models.ForeignKey)


COPY_FROM_ROWS = 50  # insert_many: COPY from this many rows on (PostgreSQL), one INSERT up to it


def insert_many(model: type[models.Model], rows: list[dict[str, Any]], batch_size: int = 1000) -> None:
    """INSERT `rows` ({attname: value}): COPY on PostgreSQL (INSERTs of 50 rows in a pipeline, which
    cannot COPY), executemany elsewhere. Missing values take the
    field's default (now, for auto_now and auto_now_add fields); values go through the field's own
    conversion (encryption, dates) unless it is a plain type the driver takes. Conversions other than
    encryption are remembered per value (the chunk's timestamp, birth dates). Constraints, foreign keys and
    triggers hold as for any INSERT; a violation raises Django's IntegrityError."""
    if not rows:
        return
    db = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    getters = [
        (
            f.attname,
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default(),
        )
        for f in fields
    ]
    converted = [
        (i, f, isinstance(f, EncryptedTextField))
        for i, f in enumerate(fields)
        if not isinstance(f, _PLAIN_FIELDS) or isinstance(f, EncryptedTextField)
    ]
    memo: dict[tuple[int, Any], Any] = {}

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = [row.get(name, default) for name, default in getters]
        for i, f, encrypted in converted:
            value = values[i]
            if value is None:
                continue
            if encrypted:  # a fresh nonce each time: never remembered
                values[i] = f.get_db_prep_save(value, db)
                continue
            try:
                values[i] = memo[(i, value)]
            except KeyError:
                values[i] = memo[(i, value)] = f.get_db_prep_save(value, db)
            except TypeError:  # unhashable (a JSON value): converted every time
                values[i] = f.get_db_prep_save(value, db)
        return values

    quote = db.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with cursor(db) as c, db.wrap_database_errors:
        if db.vendor == "postgresql" and len(rows) > COPY_FROM_ROWS and not _pipelined.get():
            # COPY: one statement per table and chunk, rows formatted in psycopg's C code. Against one
            # pipelined executemany execution per row, the inserts of 20,000 imported volunteers (73,000
            # rows) took 1.7 s instead of 5.6 s, and 0.7 s of the client's CPU instead of 1.7 s.
            with c.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(values_of(row))
            return
        # A few rows (a batch of check-ins' audit rows and answers): one INSERT of them all, a single round
        # trip where COPY takes three. In a pipeline, where COPY is not possible, INSERTs of that many.
        row_sql = f"({', '.join(['%s'] * len(fields))})"
        if len(rows) <= COPY_FROM_ROWS or db.vendor == "postgresql":
            for start in range(0, len(rows), COPY_FROM_ROWS):
                chunk = rows[start : start + COPY_FROM_ROWS]
                sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(chunk))}"  # noqa: S608
                c.execute(sql, [v for row in chunk for v in values_of(row)])
            return
        # Elsewhere one row per statement, executemany: the statement is prepared once. Several rows per
        # statement measured no faster on SQLite.
        sql = f"INSERT INTO {table} ({columns}) VALUES {row_sql}"  # noqa: S608
        for start in range(0, len(rows), batch_size):
            c.executemany(sql, [values_of(row) for row in rows[start : start + batch_size]])
