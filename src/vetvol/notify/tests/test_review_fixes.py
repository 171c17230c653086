"""Edge cases: the offline queue's timestamp, gateway answers kept without numbers, fund notices in the
delivery log, and a cancelled invitation is not "seen"."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from vetvol.core.pages import queued_at
from vetvol.notify.worker import scrub


@pytest.mark.parametrize("raw", ["²", "9" * 40, "-5", "abc", ""])
def test_a_malformed_queue_time_is_ignored(raw):
    assert queued_at(RequestFactory().post("/", {"queued_at": raw})) is None


def test_gateway_answers_are_kept_without_phone_numbers():
    text = scrub("invalid mobile 13800138000 / +86 138 0013 8001, HTTP 500 at 2026-12-07")
    assert "13800138000" not in text and "0013 8001" not in text
    assert "****8000" in text and "HTTP 500" in text and "2026-12-07" in text


@pytest.mark.django_db
def test_fund_notices_stay_out_of_the_delivery_log_of_those_without_fund_access(people):
    from vetvol.notify.actions import Message, enqueue
    from vetvol.notify.queries import delivery_log

    enqueue(
        [
            Message(
                people.sz_admin.pk,
                "fund.disbursement.requested",
                "1",
                {"number": "ZC1", "title": "秘密项目", "amount": "1.00"},
                region_code="440106",
            ),
            Message(
                people.sz_admin.pk,
                "registry.import.finished",
                "1",
                {"name": "x.xlsx", "status": "完成", "written": 1},
                region_code="440106",
            ),
        ]
    )
    kinds = {d.notification.kind for d in delivery_log(people.social_worker)}
    assert kinds == {"registry.import.finished"}
    kinds = {d.notification.kind for d in delivery_log(people.province_admin)}
    assert "fund.disbursement.requested" in kinds
