"""The ledger's rules, in code and in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from vetvol.fund import actions, ledger
from vetvol.fund.models import Account, Disbursement, Donation, LedgerTransaction, Leg, MonthlyTotal

pytestmark = pytest.mark.django_db


def balance(code: str) -> int:
    return Account.objects.get(code=code).balance


def test_a_donation_moves_bank_and_fund_and_verifies(people, funded):
    assert balance("1001-44") == 20_000_000
    assert balance("3101-safeguards-44") == 20_000_000
    assert balance("1001-4403") == 10_000_000
    assert balance("3101-mechanism-4403") == 10_000_000
    assert sum(MonthlyTotal.objects.values_list("income", flat=True)) == 30_000_000
    result = ledger.verify()
    assert result.ok, result.problems
    assert result.checked == 2
    call_command("verify_ledger")
    d = Donation.objects.get(region_code="4403")
    assert d.number.startswith("JZ") and d.signature
    assert d.content["amount_fen"] == 10_000_000


def test_bad_amounts_are_refused_with_field_errors(people, donor):
    for amount, message in (("abc", "金额"), ("0", "大于零"), ("1.234", "两位小数"), ("-5", "大于零")):
        with pytest.raises(ValidationError) as exc:
            actions.record_donation(
                people.province_admin,
                donor,
                form="money",
                amount=amount,
                purpose="safeguards",
                region_code="44",
                received_on=date(2026, 11, 2),
            )
        assert message in str(exc.value.message_dict["amount"])
    with pytest.raises(ValidationError) as exc:
        actions.record_donation(
            people.province_admin,
            donor,
            form="goods",
            amount="100",
            purpose="safeguards",
            region_code="44",
            received_on=date(2026, 11, 2),
        )
    assert {"goods_description", "goods_receipt"} <= set(exc.value.message_dict)
    assert not LedgerTransaction.objects.exists() and not Donation.objects.exists()


def test_the_database_refuses_an_unbalanced_transaction(people, funded):
    bank, fund = Account.objects.get(code="1001-44"), Account.objects.get(code="3101-safeguards-44")
    with pytest.raises(ValidationError):
        ledger.post(people.province_admin, [ledger.Posting("adjustment", [(bank, 100), (fund, -99)], "44")])
    # Past the code: legs then a header, by hand.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO fund_leg (transaction_id, account_id, amount) VALUES (999, %s, 100)", [bank.pk]
        )
        cur.execute(
            "INSERT INTO fund_leg (transaction_id, account_id, amount) VALUES (999, %s, -99)", [fund.pk]
        )
        cur.execute(
            "INSERT INTO fund_ledgertransaction (id, chain, seq, at, kind, purpose, region_code, memo, "
            "prev_hash, entry_hash) VALUES (999, 1, 999, %s, 'adjustment', '', '44', '', '', '')",
            [LedgerTransaction.objects.first().at],
        )
    assert balance("1001-44") == 20_000_000


def test_no_leg_can_be_added_to_a_posted_transaction(people, funded):
    txn = LedgerTransaction.objects.order_by("id").first()
    bank = Account.objects.get(code="1001-44")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO fund_leg (transaction_id, account_id, amount) VALUES (%s, %s, 100)",
            [txn.pk, bank.pk],
        )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE fund_leg SET amount = amount + 1",
        "DELETE FROM fund_leg",
        "UPDATE fund_ledgertransaction SET memo = 'x'",
        "DELETE FROM fund_ledgertransaction",
    ],
)
def test_entries_are_append_only(people, funded, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)


def test_the_database_refuses_a_negative_balance(people, funded):
    """Legs that balance but overdraw the bank: the account's CHECK refuses them, whoever writes."""
    bank, expense = Account.objects.get(code="1001-44"), Account.objects.get(code="5101-safeguards-44")
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        ledger.post(
            people.province_admin,
            [ledger.Posting("adjustment", [(expense, 30_000_000), (bank, -30_000_000)], "44")],
        )
    assert "余额不足" in str(exc.value)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO fund_leg (transaction_id, account_id, amount) VALUES (777, %s, -30000000)", [bank.pk]
        )
    assert balance("1001-44") == 20_000_000


def test_reversal_undoes_a_donation_once(people, funded):
    donation = Donation.objects.get(region_code="44")
    actions.reverse_donation(people.province_admin, donation, "金额录入错误")
    assert balance("1001-44") == 0 and balance("3101-safeguards-44") == 0
    assert sum(MonthlyTotal.objects.values_list("income", flat=True)) == 10_000_000
    with pytest.raises(ValidationError) as exc:
        actions.reverse_donation(people.province_admin, donation, "再冲一次")
    assert exc.value.message_dict == {"donation": ["该捐赠已冲正"]}
    assert LedgerTransaction.objects.filter(kind="reversal").count() == 1
    assert ledger.verify().ok


def test_the_months_follow_the_day_received_and_paid(people, donor, evidence):
    """A donation received last month and booked today counts in last month, its reversal too; a payment
    counts in the month it is paid."""
    from django.utils import timezone

    this_month = timezone.localdate().replace(day=1)
    last_day = this_month - timedelta(days=1)
    d1 = actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount="1000",
        purpose="mechanism",
        region_code="4403",
        received_on=last_day,
    )
    actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount="500",
        purpose="mechanism",
        region_code="4403",
        received_on=timezone.localdate(),
    )
    assert d1.transaction.on == last_day and timezone.localdate(d1.transaction.at) == timezone.localdate()
    months = dict(MonthlyTotal.objects.values_list("month", "income"))
    assert months == {last_day.replace(day=1): 100_000, this_month: 50_000}
    d = actions.decide_disbursement(
        people.sz_admin, _request(people, evidence, amount="300"), approve=True, note="同意"
    )
    actions.pay_disbursement(people.sz_admin, d, reference="YH1")
    actions.reverse_donation(people.province_admin, d1, "误录")
    rows = set(MonthlyTotal.objects.values_list("month", "region_code", "income", "spending"))
    assert rows == {
        (last_day.replace(day=1), "4403", 0, 0),
        (this_month, "4403", 50_000, 0),
        (this_month, "440304", 0, 30_000),  # spending in the region it went to
    }
    assert LedgerTransaction.objects.get(reverses=d1.transaction).on == last_day
    result = ledger.verify()
    assert result.ok, result.problems
    # The recount is by month: a total moved to another month is found.
    MonthlyTotal.objects.filter(month=this_month).update(month=last_day.replace(day=1) - timedelta(days=31))
    assert any("monthly totals of" in p for p in ledger.verify().problems)


def test_a_posting_dated_in_the_future_is_refused(people, funded):
    from django.utils import timezone

    bank, fund = Account.objects.get(code="1001-44"), Account.objects.get(code="3101-safeguards-44")
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        ledger.post(
            people.province_admin, [ledger.Posting("adjustment", [(bank, 1), (fund, -1)], "44", on=tomorrow)]
        )
    assert "on" in exc.value.message_dict


def _request(people, evidence, amount="30000", region="440304", actor=None):
    account = Account.objects.get(code="3101-mechanism-4403")
    return actions.request_disbursement(
        actor or people.futian_admin,
        region_code=region,
        purpose="mechanism",
        account=account,
        amount=amount,
        recipient_org="福田区退役军人志愿服务队",
        title="联络站建设",
        description="联络站设备与制度建设",
        evidence=evidence(),
    )


def test_disbursement_through_its_states(people, funded, evidence):
    d = _request(people, evidence)
    assert d.tier == "county" and d.status == "requested"
    with pytest.raises(PermissionDenied):  # nobody approves their own request
        actions.decide_disbursement(people.futian_admin, d, approve=True)
    with pytest.raises(PermissionDenied):  # the auditor reads and changes nothing
        actions.decide_disbursement(people.auditor, d, approve=True)
    d = actions.decide_disbursement(people.sz_admin, d, approve=True, note="同意")
    assert d.status == "approved"
    assert balance("3101-mechanism-4403") == 7_000_000
    assert balance("2202-4403") == 3_000_000 and balance("5101-mechanism-4403") == 3_000_000
    with pytest.raises(ValidationError):  # decided once
        actions.decide_disbursement(people.province_admin, d, approve=False, note="重复")
    d = actions.pay_disbursement(people.sz_admin, d, reference="YH20261105001")
    assert balance("1001-4403") == 7_000_000 and balance("2202-4403") == 0
    d = actions.report_use(people.futian_admin, d, report="已完成联络站建设", evidence=evidence("照片.pdf"))
    assert d.status == "reported" and d.evidence.count() == 2
    assert sum(MonthlyTotal.objects.values_list("spending", flat=True)) == 3_000_000
    assert ledger.verify().ok


def test_tiers_by_amount(people, funded, evidence):
    d = _request(people, evidence, amount="80000", actor=people.sz_admin)
    assert d.tier == "city"
    with pytest.raises(PermissionDenied):
        actions.decide_disbursement(people.futian_admin, d, approve=True)
    actions.decide_disbursement(people.province_admin, d, approve=True)
    assert Disbursement.objects.get(pk=d.pk).status == "approved"


def test_approval_cannot_overdraw_the_fund(people, funded, evidence):
    d = _request(people, evidence, amount="100000.01", actor=people.sz_admin)
    with pytest.raises(ValidationError) as exc:
        actions.decide_disbursement(people.province_admin, d, approve=True)
    assert "余额不足" in str(exc.value)
    assert Disbursement.objects.get(pk=d.pk).status == "requested"
    assert balance("3101-mechanism-4403") == 10_000_000


def test_rejection_needs_a_reason_and_withdrawal_reverses_the_commitment(people, funded, evidence):
    d = _request(people, evidence)
    with pytest.raises(ValidationError):
        actions.decide_disbursement(people.sz_admin, d, approve=False, note="")
    d = actions.decide_disbursement(people.sz_admin, d, approve=True)
    actions.withdraw_disbursement(people.sz_admin, d, "项目取消")
    assert balance("3101-mechanism-4403") == 10_000_000 and balance("2202-4403") == 0
    assert ledger.verify().ok


def test_a_request_outside_the_grant_is_refused(people, funded, evidence):
    with pytest.raises(PermissionDenied):
        _request(people, evidence, region="440106", actor=people.futian_admin)
    with pytest.raises(ValidationError) as exc:
        actions.request_disbursement(
            people.futian_admin,
            region_code="440304",
            purpose="mechanism",
            account=None,
            amount="1",
            recipient_org="x",
            title="x",
            description="x",
            evidence=[actions.Upload("a.exe", b"MZ\x90\x00")],
        )
    assert "account" in exc.value.message_dict


def test_hostile_evidence_is_refused(people, funded):
    account = Account.objects.get(code="3101-mechanism-4403")
    with pytest.raises(ValidationError) as exc:
        actions.request_disbursement(
            people.futian_admin,
            region_code="440304",
            purpose="mechanism",
            account=account,
            amount="1",
            recipient_org="x",
            title="x",
            description="x",
            evidence=[actions.Upload("a.pdf", b"\x7fELF\x02")],
        )
    assert "PDF" in str(exc.value.message_dict["evidence"])
    assert not Disbursement.objects.exists()


def test_verify_ledger_names_tampering(people, funded):
    from vetvol.fund import ledger_sql

    with connection.cursor() as cur:
        for sql in ledger_sql.uninstall_sql(connection.vendor):
            cur.execute(sql)
        cur.execute("UPDATE fund_ledgertransaction SET memo = 'changed' WHERE seq = 1")
    with pytest.raises(CommandError, match="content does not match"):
        call_command("verify_ledger")
    with connection.cursor() as cur:
        cur.execute("UPDATE fund_account SET balance = balance + 1 WHERE code = '1001-4403'")
    problems = ledger.verify().problems
    assert any("1001-4403" in p for p in problems)
    assert Leg.objects.count() == 4


def test_approvers_and_the_requester_are_told(people, funded, evidence):
    from vetvol.notify.models import Notification

    d = _request(people, evidence)
    told = set(Notification.objects.filter(kind="fund.disbursement.requested").values_list("user", flat=True))
    assert told == {
        people.sz_admin.pk,
        people.province_admin.pk,
    }  # the county tier and above, not the requester
    actions.decide_disbursement(people.sz_admin, d, approve=False, note="材料不全")
    n = Notification.objects.get(kind="fund.disbursement.decided")
    assert n.user_id == people.futian_admin.pk and "未获批准" in n.body


def test_payment_by_someone_over_the_bank_and_not_the_requester(people, funded, evidence):
    d = _request(people, evidence, actor=people.sz_admin)
    actions.decide_disbursement(people.province_admin, d, approve=True)
    with pytest.raises(PermissionDenied):  # the requester
        actions.pay_disbursement(people.sz_admin, d, reference="YH1")
    d2 = _request(people, evidence)
    actions.decide_disbursement(people.sz_admin, d2, approve=True)
    with pytest.raises(PermissionDenied):  # a district admin cannot move the city's money
        actions.pay_disbursement(people.futian_admin, d2, reference="YH2")
    actions.pay_disbursement(people.province_admin, d, reference="YH1")
    assert Disbursement.objects.get(pk=d.pk).status == "paid"


def test_goods_are_not_cash(people, donor, evidence):
    actions.record_donation(
        people.province_admin,
        donor,
        form="goods",
        amount="50000",
        purpose="mechanism",
        region_code="4403",
        received_on=date(2026, 11, 2),
        goods_description="救生衣 500 件",
        goods_receipt="WZ-1",
    )
    assert balance("3102-4403") == 5_000_000 and balance("3101-mechanism-4403") == 0
    d = _request(people, evidence)
    with pytest.raises(ValidationError) as exc:
        actions.decide_disbursement(people.sz_admin, d, approve=True)
    assert "余额不足" in str(exc.value)
