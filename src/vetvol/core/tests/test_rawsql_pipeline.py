"""core.rawsql.pipeline: statements sent without waiting still behave as if they were waited for (row
counts, inserts of many rows, errors raised as Django's before the transaction commits). On SQLite the
block changes nothing, and the same tests hold."""

import pytest
from django.db import IntegrityError, transaction

from vetvol.core import rawsql
from vetvol.core.models import IdempotencyKey
from vetvol.stats.models import DirtyMark

pytestmark = pytest.mark.django_db(transaction=True)


def _key_row(user, key="key-00000001"):
    return {
        "key": key,
        "user_id": user.pk,
        "scope": "t",
        "request_hash": "h",
        "status_code": 201,
        "response": {},
    }


def test_a_pipelined_error_is_django_s_and_rolls_the_transaction_back(django_user_model):
    user = django_user_model.objects.create(username="pipe")
    rawsql.insert_many(IdempotencyKey, [_key_row(user)])
    with pytest.raises(IntegrityError), transaction.atomic(), rawsql.pipeline():
        rawsql.insert_many(DirtyMark, [{"region_code": "440304", "family": "volunteers", "year": ""}])
        rawsql.insert_many(IdempotencyKey, [_key_row(user)])  # the same key again: refused
    assert not DirtyMark.objects.exists()  # sent before the refused one, rolled back with it
    assert IdempotencyKey.objects.count() == 1


def test_row_counts_and_many_rows_in_a_pipeline(django_user_model):
    user = django_user_model.objects.create(username="pipe")
    rows = [_key_row(user, f"key-{i:08d}") for i in range(120)]  # more rows than one INSERT takes
    with transaction.atomic(), rawsql.pipeline():
        rawsql.insert_many(IdempotencyKey, rows)
        changed = rawsql.execute(
            f'UPDATE "{IdempotencyKey._meta.db_table}" SET "status_code" = %s WHERE "user_id" = %s',
            [200, user.pk],
        )
        rawsql.send(f'DELETE FROM "{IdempotencyKey._meta.db_table}" WHERE "key" = %s', ["key-00000000"])
        found = rawsql.fetch_all(f'SELECT COUNT(*) FROM "{IdempotencyKey._meta.db_table}"', [])
    assert changed == 120
    assert found == [(119,)]
    assert set(IdempotencyKey.objects.values_list("status_code", flat=True)) == {200}


def test_hot_statements_are_prepared_by_the_server():
    """On PostgreSQL a hand-written statement seen five times on a connection is prepared there, so it is
    parsed and planned once (Django itself turns psycopg's prepared statements off; settings turn them on
    unless DATABASE_PREPARED_STATEMENTS=false)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    sql = 'SELECT COUNT(*) FROM "core_idempotencykey" WHERE "scope" = %s'
    for _ in range(6):
        assert rawsql.fetch_one(sql, ["prepared"]) == (0,)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [rawsql._numbered(sql)]
        )
        assert cur.fetchone()[0] == 1
