"""The fund under concurrent writers, on PostgreSQL (SQLite serialises writers by design, so these skip
there): 100 disbursements approved and paid at once against a restricted fund that covers only some of
them, and two reversals of one donation at once.

The 100 approvals run on a pool of WRITERS threads, each with its own connection (PostgreSQL's default
`max_connections` is 100 and the machine is shared, so not 100 connections at once); they start together
and queue on the fund's row lock, which is the contention that matters.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from vetvol.fund import actions, ledger
from vetvol.fund.models import Account, Disbursement, DisbursementStatus, Donation, LedgerTransaction

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REQUESTS = 100
WRITERS = 24
EACH_FEN = 300_000  # 3,000 yuan per request
AFFORDABLE = 37  # the fund holds 37 requests' worth and a little more


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers by design")


def _at_once(fn: Any, items: list[Any], writers: int) -> list[Any]:
    """`fn(item)` for every item on `writers` threads, each with its own connection, all let go at once;
    the answer or the exception of each, in order."""
    start = threading.Event()

    def run(item: Any) -> Any:
        start.wait()
        try:
            return fn(item)
        except Exception as exc:
            return exc
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(run, item) for item in items]
        start.set()
        return [f.result() for f in futures]


def test_concurrent_approvals_and_payments_pay_exactly_what_the_fund_holds(people):
    donor = actions.create_donor(
        people.province_admin, kind="unit", name="某集团", region_code="44", publish_consent=True
    )
    actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount=f"{AFFORDABLE * EACH_FEN // 100}.45",  # and 0.45 yuan over
        purpose="safeguards",
        region_code="44",
        received_on=date(2026, 11, 2),
    )
    fund = Account.objects.get(code="3101-safeguards-44")
    pks = [
        actions.request_disbursement(
            people.futian_admin,
            region_code="440304",
            purpose="safeguards",
            account=fund,
            amount=str(EACH_FEN // 100),
            recipient_org=f"福田区志愿服务队{i}",
            title="保险",
            description="志愿者保险",
            evidence=[actions.Upload("申请.pdf", PDF)],
        ).pk
        for i in range(REQUESTS)
    ]

    def approve_and_pay(pk: int) -> str:
        d = Disbursement.objects.select_related("account").get(pk=pk)
        try:
            d = actions.decide_disbursement(people.province_admin, d, approve=True, note="同意")
        except ValidationError as exc:
            assert "余额不足" in str(exc), exc
            return "shortfall"
        actions.pay_disbursement(people.province_admin, d, reference=f"YH{pk}")
        return "paid"

    answers = _at_once(approve_and_pay, pks, WRITERS)
    unexpected = [a for a in answers if not isinstance(a, str)]
    assert unexpected == []
    assert answers.count("paid") == AFFORDABLE and answers.count("shortfall") == REQUESTS - AFFORDABLE
    statuses = list(Disbursement.objects.values_list("status", flat=True))
    assert statuses.count(DisbursementStatus.PAID) == AFFORDABLE
    assert statuses.count(DisbursementStatus.REQUESTED) == REQUESTS - AFFORDABLE
    assert Account.objects.get(pk=fund.pk).balance == 45
    assert Account.objects.get(code="2202-44").balance == 0
    assert Account.objects.get(code="1001-44").balance == 45
    assert not Account.objects.filter(allow_negative=False, balance__lt=0).exists()
    result = ledger.verify()
    assert result.ok, result.problems
    assert result.checked == 1 + 2 * AFFORDABLE


def test_two_reversals_at_once_reverse_once_and_tell_the_second(people):
    donor = actions.create_donor(people.province_admin, kind="unit", name="某集团", region_code="44")
    donation = actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount="1000",
        purpose="general",
        region_code="44",
        received_on=date(2026, 11, 2),
    )

    def reverse(_: int) -> Any:
        return actions.reverse_donation(
            people.province_admin, Donation.objects.get(pk=donation.pk), "重复录入"
        )

    answers = _at_once(reverse, [1, 2], 2)
    done = [a for a in answers if isinstance(a, LedgerTransaction)]
    refused = [a for a in answers if isinstance(a, ValidationError)]
    assert len(done) == 1 and len(refused) == 1, answers
    assert refused[0].message_dict == {"donation": ["该捐赠已冲正"]}
    assert LedgerTransaction.objects.filter(kind="reversal").count() == 1
    assert Account.objects.get(code="1001-44").balance == 0
    assert ledger.verify().ok
