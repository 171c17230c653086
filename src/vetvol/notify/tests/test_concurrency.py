"""Two transactions enqueueing the same message at once, on PostgreSQL (SQLite serialises writers by
design, so this skips there): the second one's insert waits on the first one's uncommitted row, then skips
it. Neither fails and the person is told once, with one set of deliveries."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from vetvol.notify.actions import Message, enqueue
from vetvol.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 20


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers by design")


def _message(user: Any) -> Message:
    return Message(
        user.pk,
        "care.task.due",
        "task:7",
        {"task": "上门", "recipient": "张*", "due": "12-07"},
        url="/care/me/",
        region_code="440304001",
    )


def _backend_waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_two_concurrent_enqueues_of_one_message_write_it_once(people):
    """The first transaction writes the notification and, before committing, waits until the second one
    is blocked on it inside its insert (seen in pg_stat_activity): the second read found nothing, so
    this is the race, not a second enqueue after the first committed."""
    user = people.volunteer
    written: dict[str, list[Notification]] = {}
    errors: dict[str, BaseException] = {}
    first_wrote, second_pid = threading.Event(), []
    second_started = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                written["first"] = enqueue([_message(user)])
                first_wrote.set()
                if not second_started.wait(WAIT_SECONDS):
                    raise AssertionError("the second transaction never started")
                deadline = time.monotonic() + WAIT_SECONDS
                while not _backend_waits_on_a_lock(second_pid[0]):
                    if time.monotonic() > deadline:
                        raise AssertionError("the second insert never waited on the first")
                    time.sleep(0.02)
        except BaseException as exc:
            errors["first"] = exc
            first_wrote.set()
        finally:
            close_old_connections()
            connection.close()

    def second() -> None:
        try:
            first_wrote.wait(WAIT_SECONDS)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                second_pid.append(cursor.fetchone()[0])
            second_started.set()
            with transaction.atomic():
                written["second"] = enqueue([_message(user)])
        except BaseException as exc:
            errors["second"] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * WAIT_SECONDS)
    assert errors == {}
    assert len(written["first"]) == 1 and written["second"] == []
    note = Notification.objects.get(user=user)
    assert note.pk == written["first"][0].pk
    assert list(Delivery.objects.values_list("notification_id", "channel")) == [(note.pk, "sms")]


def test_many_concurrent_enqueues_of_one_message_write_it_once(people):
    """Eight transactions let go at once with the same message (and the same second message): no error,
    one notification of each, one delivery of each."""
    user = people.volunteer
    start = threading.Barrier(8, timeout=WAIT_SECONDS)
    results: list[Any] = []
    other = Message(user.pk, "care.task.due", "task:8", {"task": "电话", "recipient": "李*", "due": "12-08"})

    def run() -> None:
        try:
            start.wait()
            with transaction.atomic():
                results.append(len(enqueue([_message(user), other])))
        except BaseException as exc:
            results.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * WAIT_SECONDS)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sum(results) == 2 and len(results) == 8
    keys = sorted(Notification.objects.filter(user=user).values_list("key", flat=True))
    assert keys == ["task:7", "task:8"]
    assert Delivery.objects.count() == 2
