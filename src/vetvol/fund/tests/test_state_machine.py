"""A hypothesis state machine of the fund: donations (money or goods, restricted to a purpose, to the province
or a city), their reversals, disbursement requests, approvals, rejections, withdrawals and payments, all
through the actions, against a model of what every account must hold. After each step: every transaction's
legs sum to zero, every balance is the sum of its legs, no forbidden balance is negative, the accounts
equal the model (restricted funds + committed + spent = the money donations that stand), the monthly
totals equal what stands and what was paid, and `ledger.verify()` is clean. SQLite and PostgreSQL alike.

Each example runs in a savepoint rolled back at its end, so examples share the fixtures and not the data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from vetvol.fund import actions, ledger
from vetvol.fund.actions.common import holder_of
from vetvol.fund.models import (
    Account,
    Disbursement,
    DisbursementStatus,
    Donation,
    MonthlyTotal,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RESTRICTED = ["mechanism", "resources", "publicity", "safeguards"]
PURPOSES = [*RESTRICTED, "general"]
HOLDERS = ["44", "4403", "4401"]  # the province's fund and two cities'
# Where a disbursement is asked for, and by whom (never the province admin, who approves and pays).
REQUEST_REGIONS = {"440304": "futian_admin", "440106": "tianhe_admin", "4403": "sz_admin"}
GIFTS = st.integers(min_value=100_000, max_value=2_000_000)  # fen: 1,000 to 20,000 yuan
MAX_GIFTS = 6  # donations per example
WHICH = st.integers(min_value=0, max_value=10**6)
ASKS = st.integers(min_value=1, max_value=300_000)  # up to 3,000 yuan: funds run short now and then


def run_fund_machine(people: Any, examples: int, steps: int) -> None:
    class FundMachine(RuleBasedStateMachine):
        donations = Bundle("donations")

        def __init__(self) -> None:
            super().__init__()
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self.expected: dict[str, int] = defaultdict(int)  # account code → balance
            self.money: dict[str, int] = defaultdict(int)  # holder → money donations that stand
            self.paid: dict[str, int] = defaultdict(int)  # holder → money paid out
            self.income = self.spending = 0
            self.asked: list[int] = []  # every disbursement requested
            self.gifts = 0

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

        @initialize()
        def donors(self) -> None:
            admin = people.province_admin
            self.unit = actions.create_donor(
                admin, kind="unit", name="某集团", region_code="44", publish_consent=True
            )
            self.anonymous = actions.create_donor(
                admin, kind="individual", name="某人", region_code="44", anonymous=True
            )

        # Donations --------------------------------------------------------------------------------------

        @precondition(lambda self: self.gifts < MAX_GIFTS)  # leave the steps to what follows
        @rule(
            target=donations,
            goods=st.booleans(),
            anonymous=st.booleans(),
            purpose=st.sampled_from([*RESTRICTED, *RESTRICTED, "general"]),
            holder=st.sampled_from(HOLDERS),
            fen=GIFTS,
            days_ago=st.integers(min_value=0, max_value=40),
        )
        def donate(
            self, goods: bool, anonymous: bool, purpose: str, holder: str, fen: int, days_ago: int
        ) -> int:
            donation = actions.record_donation(
                people.province_admin,
                self.anonymous if anonymous else self.unit,
                form="goods" if goods else "money",
                amount=f"{fen // 100}.{fen % 100:02d}",
                purpose=purpose,
                region_code=holder,
                received_on=timezone.localdate() - timedelta(days=days_ago),
                goods_description="物资一批" if goods else "",
                goods_receipt="YS-1" if goods else "",
            )
            if goods:
                self.expected[f"1401-{holder}"] += fen
                self.expected[f"3102-{holder}"] += fen
            else:
                self.expected[f"1001-{holder}"] += fen
                self.expected[f"3101-{purpose}-{holder}"] += fen
                self.money[holder] += fen
            self.income += fen
            self.gifts += 1
            return donation.pk

        @rule(pk=donations, standing=st.integers(min_value=0, max_value=10**6))
        def reverse(self, pk: int, standing: int) -> None:
            """A third of the time a donation that stands (at random); otherwise the one drawn again if it
            was reversed already (the second reversal is refused), else nothing (so that money stays)."""
            donation = Donation.objects.select_related("transaction").get(pk=pk)
            if standing % 3 == 0:
                left = list(
                    Donation.objects.filter(transaction__reversed_by__isnull=True).values_list(
                        "pk", flat=True
                    )
                )
                if left:
                    donation = Donation.objects.select_related("transaction").get(
                        pk=left[standing % len(left)]
                    )
            elif not donation.is_reversed:
                return
            holder, fen = holder_of(donation.region_code), donation.amount
            fund = f"3101-{donation.purpose}-{holder}" if donation.form == "money" else f"3102-{holder}"
            was_reversed = donation.is_reversed
            try:
                actions.reverse_donation(people.province_admin, donation, "录入错误")
            except ValidationError as exc:
                if was_reversed:
                    assert exc.message_dict == {"donation": ["该捐赠已冲正"]}
                else:  # its money is already committed to disbursements
                    assert self.expected[fund] < fen and "余额不足" in str(exc)
                    event("reversal refused: money committed")
                return
            event("reversed")
            assert not was_reversed and self.expected[fund] >= fen
            self.expected[fund] -= fen
            self.expected[f"1001-{holder}" if donation.form == "money" else f"1401-{holder}"] -= fen
            if donation.form == "money":
                self.money[holder] -= fen
            self.income -= fen

        # Disbursements ----------------------------------------------------------------------------------

        @precondition(lambda self: self.money["44"] or self.money["4403"])  # something to draw on
        @rule(
            region=st.sampled_from(sorted(REQUEST_REGIONS)),
            purpose=st.sampled_from(RESTRICTED),
            choice=WHICH,
            fen=ASKS,
        )
        def request(self, region: str, purpose: str, choice: int, fen: int) -> None:
            if choice % 4:  # mostly for a purpose that the region's funds hold money for
                payable = [
                    p
                    for p in RESTRICTED
                    if any(self.expected[a.code] > 0 for a in actions.source_accounts(region, p))
                ]
                purpose = payable[choice % len(payable)] if payable else purpose
            sources = actions.source_accounts(region, purpose)
            requester = getattr(people, REQUEST_REGIONS[region])
            kwargs: dict[str, Any] = {
                "region_code": region,
                "purpose": purpose,
                "amount": f"{fen // 100}.{fen % 100:02d}",
                "recipient_org": "某志愿服务队",
                "title": "装备采购",
                "description": "用途说明",
                "evidence": [actions.Upload("申请.pdf", PDF)],
            }
            if not sources:  # nothing was ever given that it could draw on
                with pytest.raises(ValidationError) as exc:
                    actions.request_disbursement(requester, account=None, **kwargs)
                assert "account" in exc.value.message_dict
                return
            funded = [a for a in sources if self.expected[a.code] > 0] or sources  # mostly affordable
            account = funded[choice % len(funded)]
            d = actions.request_disbursement(requester, account=account, **kwargs)
            assert d.status == DisbursementStatus.REQUESTED
            self.asked.append(d.pk)

        def _pick(self, status: str, which: int) -> Disbursement:
            """Mostly one in `status` (at random), now and then any request (to try the wrong state)."""
            ready = list(Disbursement.objects.filter(status=status).values_list("pk", flat=True))
            pk = ready[which % len(ready)] if ready and which % 4 else self.asked[which % len(self.asked)]
            return Disbursement.objects.select_related("account", "requested_by").get(pk=pk)

        def _asked(self) -> bool:
            return bool(self.asked)

        @precondition(_asked)
        @rule(which=WHICH, step=st.sampled_from(["approve", "approve_city", "reject", "withdraw", "pay"]))
        def advance(self, which: int, step: str) -> None:
            """One step of a request's life (one rule for all, so that each is tried as often)."""
            if step == "pay":
                self.pay(which)
            elif step == "withdraw":
                self.withdraw(which, approved=bool(which % 2))
            else:
                self.decide(which, approve=step != "reject", by_city=step == "approve_city")

        def decide(self, which: int, approve: bool, by_city: bool) -> None:
            d = self._pick(DisbursementStatus.REQUESTED, which)
            approver = people.sz_admin if by_city else people.province_admin
            before = d.status
            try:
                actions.decide_disbursement(approver, d, approve=approve, note="意见")
            except PermissionDenied:
                assert not actions.may_approve(approver, d)
                return
            except ValidationError as exc:
                if before != DisbursementStatus.REQUESTED:
                    assert "status" in exc.message_dict
                else:
                    assert approve and self.expected[d.account.code] < d.amount and "余额不足" in str(exc)
                    event("approval refused: shortfall")
                return
            assert before == DisbursementStatus.REQUESTED and actions.may_approve(approver, d)
            if approve:
                self._commit(d, d.amount)
            event(f"{'approved' if approve else 'rejected'}")

        def _commit(self, d: Disbursement, fen: int) -> None:
            holder = d.account.region_code
            self.expected[d.account.code] -= fen
            self.expected[f"3201-{holder}"] += fen
            self.expected[f"5101-{d.purpose}-{holder}"] += fen
            self.expected[f"2202-{holder}"] += fen

        def withdraw(self, which: int, approved: bool) -> None:
            status = DisbursementStatus.APPROVED if approved else DisbursementStatus.REQUESTED
            d = self._pick(status, which)
            actor = d.requested_by if d.status == DisbursementStatus.REQUESTED else people.province_admin
            before = d.status
            try:
                actions.withdraw_disbursement(actor, d, "项目取消")
            except ValidationError as exc:
                assert before not in (DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)
                assert "status" in exc.message_dict
                return
            if before == DisbursementStatus.APPROVED:
                self._commit(d, -d.amount)
                event("approved withdrawn")

        def pay(self, which: int) -> None:
            d = self._pick(DisbursementStatus.APPROVED, which)
            before = d.status
            try:
                actions.pay_disbursement(people.province_admin, d, reference="YH1")
            except ValidationError as exc:
                assert before != DisbursementStatus.APPROVED and "status" in exc.message_dict
                return
            assert before == DisbursementStatus.APPROVED
            holder = d.account.region_code
            self.expected[f"2202-{holder}"] -= d.amount
            self.expected[f"1001-{holder}"] -= d.amount
            self.paid[holder] += d.amount
            self.spending += d.amount
            event("paid")

        # Invariants -------------------------------------------------------------------------------------

        @invariant()
        def legs_balance(self) -> None:
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT transaction_id FROM fund_leg GROUP BY transaction_id "
                    "HAVING sum(amount) <> 0 OR count(*) < 2"
                )
                assert cur.fetchall() == []
                cur.execute(
                    "SELECT count(*) FROM fund_leg l LEFT JOIN fund_ledgertransaction t "
                    "ON t.id = l.transaction_id WHERE t.id IS NULL"
                )
                assert cur.fetchone() == (0,)

        @invariant()
        def balances_are_their_legs_and_the_model(self) -> None:
            sums = dict(Account.objects.annotate(total=Sum("legs__amount")).values_list("code", "total"))
            for a in Account.objects.all():
                assert a.balance == (sums[a.code] or 0) * a.normal, a.code
                assert a.allow_negative or a.balance >= 0, a.code
                assert a.balance == self.expected[a.code], a.code
            for holder in HOLDERS:
                funds = sum(self.expected[f"3101-{p}-{holder}"] for p in PURPOSES)
                committed = self.expected[f"2202-{holder}"]
                assert funds + committed + self.paid[holder] == self.money[holder]
                assert self.expected[f"1001-{holder}"] == funds + committed
                spent = sum(self.expected[f"5101-{p}-{holder}"] for p in PURPOSES)
                assert spent == self.expected[f"3201-{holder}"] == committed + self.paid[holder]

        @invariant()
        def disclosure_and_verification(self) -> None:
            totals = MonthlyTotal.objects.aggregate(i=Sum("income"), s=Sum("spending"))
            assert (totals["i"] or 0, totals["s"] or 0) == (self.income, self.spending)
            result = ledger.verify()
            assert result.ok, result.problems

    run_state_machine_as_test(
        FundMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


def test_the_fund_holds_its_invariants_through_any_sequence(people):
    run_fund_machine(people, examples=15, steps=25)
