from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from vetvol.core import audit
from vetvol.core.append_only import install_sql, uninstall_sql
from vetvol.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _rows(n: int) -> None:
    for i in range(n):
        audit.record("test.event", subject=f"s{i}", region_code="440304", detail={"i": i})


def test_chain_of_untouched_rows_verifies():
    _rows(5)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == "audit log intact: 5 rows verified"


def test_database_refuses_update_and_delete_of_audit_rows():
    _rows(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditentry SET subject = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditentry")
    assert AuditEntry.objects.get().subject == "s0"


def _raw(sql: str, params: list) -> None:
    """Rewrite history the way a DBA with full rights could: lift the triggers, change, restore them."""
    vendor = connection.vendor
    with connection.cursor() as cur:
        for stmt in uninstall_sql(vendor, "core_auditentry"):
            cur.execute(stmt)
        cur.execute(sql, params)
        for stmt in install_sql(vendor, "core_auditentry"):
            cur.execute(stmt)


def test_row_altered_by_raw_sql_fails_verification_and_is_named():
    _rows(6)
    _raw("UPDATE core_auditentry SET subject = %s WHERE seq = %s", ["forged", 4])
    with pytest.raises(CommandError) as err:
        call_command("verify_audit")
    assert str(err.value).startswith("audit log broken at row 4 of chain 1: content does not match its hash")
    assert audit.verify().bad_seq == 4


def test_deleted_middle_row_is_named():
    _rows(5)
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [3])
    result = audit.verify()
    assert (result.bad_seq, result.reason) == (3, "row 3 is missing")


def test_deleted_newest_row_is_detected():
    _rows(3)
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [3])
    result = audit.verify()
    assert (result.bad_seq, result.reason) == (3, "the newest rows are missing")


def test_audit_never_holds_secrets_or_full_id_numbers():
    entry = audit.record(
        "test.event", detail={"password": "hunter2", "note": "ID 440301199001011234 given", "token": "abc"}
    )
    entry.refresh_from_db()
    assert entry.detail == {"note": "ID 440***********1234 given"}


def test_rolled_back_change_leaves_no_audit_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.event")
        raise RuntimeError("boom")
    assert AuditEntry.objects.count() == 0
    assert audit.verify().ok


@pytest.mark.skipif(
    "sqlite" in settings.DATABASES["default"]["ENGINE"],
    reason="real concurrency needs PostgreSQL; SQLite serialises writers by design",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_use_several_chains_and_all_verify():
    """Transactions that hold their audit row for a while do not queue on one lock: each takes a free
    chain head, and every chain still verifies with nothing lost."""
    import threading
    import time

    from vetvol.core.models import AuditChainHead

    if not AuditChainHead.objects.exists():  # a flushed database: the migration's heads are gone
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(id=i, last_hash=audit.GENESIS, last_seq=0) for i in range(1, 65)]
        )
    barrier = threading.Barrier(6)
    errors = []

    def append(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    audit.record("test.concurrent", subject=f"t{n}-{i}")
                    time.sleep(0.02)  # hold the head, as a real change does until it commits
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert AuditEntry.objects.filter(action="test.concurrent").count() == 30
    assert AuditEntry.objects.values("chain").distinct().count() > 1
    result = audit.verify()
    assert result.ok, result
    assert result.checked == AuditEntry.objects.count()
