"""Check-ins written in batches (core.groupcommit): each request gets its own answer, nothing is written
twice, every success is audited once and the audit chain verifies."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections, connection
from django.http import Http404
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.models import Attendance
from vetvol.core import audit, idempotency
from vetvol.core.models import AuditEntry, IdempotencyKey

SITE = {"lat": 22.5366, "lng": 114.0507}


@pytest.fixture
def event(make_activity, volunteer_with_login):
    """An activity under way with capacity 40, and a volunteer maker that signs them up."""
    activity = make_activity(
        capacity=40,
        starts_in=timedelta(minutes=-20),
        hours=3,
        signup_closes_at=timezone.now() + timedelta(hours=2),
    )

    def volunteer(seq, signed_up=True):
        v = volunteer_with_login(seq)
        if signed_up:
            actions.sign_up(v.user, activity, v)
        return v

    return activity, volunteer


def test_a_batch_answers_each_request_on_its_own(people, event):
    activity, volunteer = event
    a, b, c, outsider = volunteer(1), volunteer(2), volunteer(3), volunteer(4, signed_up=False)
    requests = [
        actions.CheckIn(a.user, activity.pk, "gps", **SITE),
        actions.CheckIn(b.user, activity.pk, "gps", lat=22.55, lng=114.0507),  # 1.5 km out: flagged
        actions.CheckIn(a.user, activity.pk, "gps", **SITE),  # a, twice in one batch
        actions.CheckIn(outsider.user, activity.pk, "gps", **SITE),
        actions.CheckIn(c.user, activity.pk, "volunteer_scan", code=actions.rotating_code(activity)),
        actions.CheckIn(c.user, 999999, "gps", **SITE),
        actions.CheckIn(people.tianhe_admin, activity.pk, "gps", **SITE),  # no volunteer record
    ]
    answers = actions.check_in_many(requests)
    assert isinstance(answers[0], Attendance) and answers[0].volunteer_id == a.pk
    assert answers[1].outside_fence and answers[1].needs_review  # flagged, as the activity says
    assert answers[2].message_dict == {"volunteer": ["已经签到过了"]}
    assert answers[3].message_dict == {"volunteer": ["该志愿者未被录取参加本活动"]}
    assert isinstance(answers[4], Attendance) and answers[4].in_method == "volunteer_scan"
    assert isinstance(answers[5], Http404)
    assert isinstance(answers[6], PermissionDenied)
    assert sorted(Attendance.objects.values_list("volunteer_id", flat=True)) == [a.pk, b.pk, c.pk]
    entries = AuditEntry.objects.filter(action="activities.check_in").order_by("seq")
    assert [e.detail["volunteer"] for e in entries] == [a.number, b.number, c.number]
    assert [e.actor_id for e in entries] == [a.user_id, b.user_id, c.user_id]
    assert audit.verify().ok


def test_keys_in_one_batch_run_once_and_a_reused_key_is_refused(event):
    activity, volunteer = event
    a, b = volunteer(1), volunteer(2)
    body = {"method": "gps", **SITE}
    scope = f"check_in:{activity.pk}"
    keys = [
        idempotency.Request(a.user, scope, "batch-key-a", body),
        idempotency.Request(a.user, scope, "batch-key-a", body),  # a retry overlapping the first
        idempotency.Request(a.user, scope, "batch-key-a", {**body, "lat": 22.0}),  # the key, another body
        idempotency.Request(b.user, scope, "short", body),
        idempotency.Request(b.user, scope, "batch-key-b", body),
    ]
    calls = []

    def handler(pending):
        calls.append([r.key for r in pending])
        return [(201, {"n": r.user.username}) for r in pending]

    answers = idempotency.run_many(keys, handler)
    assert calls == [["batch-key-a", "batch-key-b"]]
    assert answers[0] == answers[1] == (201, {"n": a.number})
    assert isinstance(answers[2], idempotency.KeyReused)
    assert isinstance(answers[3], idempotency.BadKey)
    assert answers[4] == (201, {"n": b.number})
    # and later, from the database
    again = idempotency.run_many(keys[:1] + keys[4:], handler)
    assert again == [(201, {"n": a.number}), (201, {"n": b.number})] and len(calls) == 1
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.skipif(
    "sqlite" in settings.DATABASES["default"]["ENGINE"],
    reason="real concurrency needs PostgreSQL; SQLite serialises writers by design",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_api_check_ins_are_batched_once_each(event):
    """Thirty phones check in at once through the API's group commit, a third of them twice with the same
    key: one attendance each, retries answered like the first, one audit row per check-in."""
    from vetvol.activities.api import CHECK_INS

    activity, volunteer = event
    people = [volunteer(100 + i) for i in range(30)]
    sends = [(v, f"phone-{v.pk}-000") for v in people] + [(v, f"phone-{v.pk}-000") for v in people[:10]]
    barrier = threading.Barrier(len(sends))
    answers, errors = {}, []
    batches = []
    write = CHECK_INS.apply

    def counting(batch):
        batches.append(len(batch))
        return write(batch)

    def go(n, v, key):
        try:
            body = {"method": "gps", "code": "", "ecard": "", **SITE}
            request = idempotency.Request(v.user, f"check_in:{activity.pk}", key, body)
            barrier.wait()
            answers[n] = CHECK_INS.submit((request, actions.CheckIn(v.user, activity.pk, **body)))
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    CHECK_INS.apply = counting
    try:
        threads = [threading.Thread(target=go, args=(n, v, k)) for n, (v, k) in enumerate(sends)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        CHECK_INS.apply = write
    assert errors == []
    assert sum(batches) >= len(sends) and max(batches) > 1
    by_volunteer = {}
    for n, (v, _) in enumerate(sends):
        status, body = answers[n]
        assert status == 201 and body["volunteer_number"] == v.number
        assert by_volunteer.setdefault(v.pk, body) == body  # a retry gets the first answer
    assert Attendance.objects.filter(activity=activity).count() == 30
    assert AuditEntry.objects.filter(action="activities.check_in").count() == 30
    assert IdempotencyKey.objects.filter(scope=f"check_in:{activity.pk}").count() == 30
    assert audit.verify().ok
