"""The one writer of the fund's ledger: `post()` a batch of balanced transactions, `reversal()` of one, and
`verify()` of the whole ledger (`vetvol verify_ledger`).

`post` runs inside the caller's transaction (an action's). Lock order, the same for every writer so
concurrent postings never deadlock: a ledger chain head (the first free one, core.chains), then the
accounts by id (`SELECT … FOR UPDATE`), then the monthly totals by key. Balances are checked in code on the
locked rows, so a shortfall is a clear error; the database checks the same again (ledger_sql.py).

A transaction has two dates: `at`, when it was booked, and `on`, the day it happened (a donation's day
received, a payment's day paid; the booking day unless the posting says otherwise). The disclosure's
monthly totals follow `on`: a donation received last month and booked today counts in last month. A
reversal takes its original's `on`, so it takes back what the original added in the month it added it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from vetvol.core import chains, ids
from vetvol.core.money import format_fen
from vetvol.fund.models import (
    Account,
    LedgerHead,
    LedgerTransaction,
    Leg,
    MonthlyTotal,
    Purpose,
    TxnKind,
)

CHAINS_SETTING = "VETVOL_LEDGER_CHAINS"


@dataclass
class Posting:
    """A transaction to post: legs as (account, signed fen; debit positive); `on` the day it happened
    (default: the booking day)."""

    kind: str
    legs: list[tuple[Account, int]]
    region_code: str
    purpose: str = ""
    memo: str = ""
    reverses: LedgerTransaction | None = None
    income: int = 0  # what it adds to the month's income and spending (disclosure)
    spending: int = 0
    on: date | None = None


class Shortfall(ValidationError):
    """An account would go below zero."""


def _new_ids(count: int) -> list[int]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT nextval('fund_txn_id') FROM generate_series(1, %s)", [count])
            return [row[0] for row in cur.fetchall()]
    return list(ids.allocate("fund.ledger", count))


def _fields(txn: LedgerTransaction, legs: list[tuple[int, int]]) -> dict[str, Any]:
    """The hashed content of a transaction, in the form it reads back from the database. `on` is hashed
    when set (rows from before it existed have none and keep their hashes)."""
    fields = {
        "id": txn.pk,
        "chain": txn.chain,
        "seq": txn.seq,
        "at": txn.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "kind": txn.kind,
        "purpose": txn.purpose,
        "region": txn.region_code,
        "memo": txn.memo,
        "actor": txn.actor_id,
        "reverses": txn.reverses_id,
        "legs": sorted([a, amount] for a, amount in legs),
    }
    if txn.on is not None:
        fields["on"] = txn.on.isoformat()
    return fields


def post(actor: Any, postings: list[Posting]) -> list[LedgerTransaction]:
    """Post the transactions in order, all or none. Raises ValidationError (`Shortfall` for a balance that
    would go negative) before anything is written."""
    for p in postings:
        amounts = [amount for _, amount in p.legs]
        if len(amounts) < 2 or sum(amounts) != 0 or any(a == 0 for a in amounts):
            raise ValidationError({"amount": ["记账分录必须借贷平衡（至少两笔、合计为零、不含零金额）"]})
        if len(p.memo) > 200:
            raise ValidationError({"memo": ["摘要最多 200 字"]})
    if not postings:
        return []
    today = timezone.localdate()
    if any(p.on is not None and p.on > today for p in postings):
        raise ValidationError({"on": ["业务日期不能晚于今天"]})
    with transaction.atomic(savepoint=False):
        chain, last_hash, last_seq = chains.lock_head(LedgerHead, chains.count(CHAINS_SETTING, 16))
        account_ids = sorted({a.pk for p in postings for a, _ in p.legs})
        locked = {
            a.pk: a for a in Account.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
        }
        balance = {pk: a.balance for pk, a in locked.items()}
        for p in postings:
            for account, amount in p.legs:
                a = locked[account.pk]
                balance[a.pk] += amount * a.normal
                if balance[a.pk] < 0 and not a.allow_negative:
                    raise Shortfall(
                        {"amount": [f"{a.name}余额不足：可用 {format_fen(a.balance)} 元"]}, code="shortfall"
                    )
        at = timezone.now()
        txns: list[LedgerTransaction] = []
        legs: list[Leg] = []
        for txn_id, p in zip(_new_ids(len(postings)), postings, strict=True):
            last_seq += 1
            txn = LedgerTransaction(
                id=txn_id,
                chain=chain,
                seq=last_seq,
                at=at,
                on=p.on or timezone.localdate(at),
                kind=p.kind,
                purpose=p.purpose,
                region_code=p.region_code,
                memo=p.memo,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                reverses=p.reverses,
                prev_hash=last_hash,
            )
            pairs = [(a.pk, amount) for a, amount in p.legs]
            txn.entry_hash = last_hash = chains.digest(last_hash, _fields(txn, pairs))
            txns.append(txn)
            legs += [Leg(transaction_id=txn_id, account_id=a, amount=amount) for a, amount in pairs]
        Leg.objects.bulk_create(legs)
        LedgerTransaction.objects.bulk_create(txns)
        chains.set_head(LedgerHead, chain, last_hash, last_seq)
        for pk, value in balance.items():
            locked[pk].balance = value
        _add_monthly(txns, postings)
    return txns


def _add_monthly(txns: list[LedgerTransaction], postings: list[Posting]) -> None:
    """Add the postings' income and spending to the months of their economic dates (keys in sorted
    order: the lock order)."""
    totals: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for txn, p in zip(txns, postings, strict=True):
        if p.income or p.spending:
            assert txn.on is not None
            t = totals[(txn.on.replace(day=1), p.purpose or Purpose.GENERAL, p.region_code)]
            t[0] += p.income
            t[1] += p.spending
    if not totals:
        return
    table = MonthlyTotal._meta.db_table
    keys = sorted(totals)  # one statement; its rows are taken in this order, the lock order
    params: list[Any] = []
    for key in keys:
        params += [*key, *totals[key]]
    with connection.cursor() as cur:
        cur.execute(
            f'INSERT INTO "{table}" ("month", "purpose", "region_code", "income", "spending") '  # noqa: S608
            f"VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(keys))} "
            "ON CONFLICT (month, purpose, region_code) DO UPDATE SET "
            f'"income" = "{table}"."income" + excluded."income", '
            f'"spending" = "{table}"."spending" + excluded."spending"',
            params,
        )


def reversal(txn: LedgerTransaction, memo: str) -> Posting:
    """The posting that undoes `txn` (its legs negated); the income or spending it added is taken back."""
    if txn.kind == TxnKind.REVERSAL:
        raise ValidationError({"transaction": ["冲正分录不能再被冲正"]})
    if LedgerTransaction.objects.filter(reverses=txn).exists():
        raise ValidationError({"transaction": ["该笔分录已被冲正"]})
    original = list(txn.legs.select_related("account").order_by("id"))
    total = sum(leg.amount for leg in original if leg.amount > 0)
    return Posting(
        kind=TxnKind.REVERSAL,
        legs=[(leg.account, -leg.amount) for leg in original],
        region_code=txn.region_code,
        purpose=txn.purpose,
        memo=memo,
        reverses=txn,
        income=-total if txn.kind == TxnKind.DONATION else 0,
        spending=-total if txn.kind == TxnKind.PAYMENT else 0,
        on=txn.on or timezone.localdate(txn.at),
    )


# Verification -------------------------------------------------------------------------------------------


@dataclass
class LedgerCheck:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(batch_size: int = 5000) -> LedgerCheck:
    """Every transaction balances and hashes to its chain; every balance is the sum of its legs; the
    monthly totals equal a recount."""
    result = LedgerCheck()
    heads = {h.id: h for h in LedgerHead.objects.all()}
    chain_ids = sorted({*heads, *LedgerTransaction.objects.values_list("chain", flat=True).distinct()})
    for chain in chain_ids:
        if not _verify_chain(chain, heads.get(chain), batch_size, result):
            break
    sums = dict(
        Leg.objects.values_list("account").annotate(total=Sum("amount")).values_list("account", "total")
    )
    for account in Account.objects.order_by("pk"):
        expected = sums.get(account.pk, 0) * account.normal
        if account.balance != expected:
            result.problems.append(
                f"account {account.code}: balance {account.balance} ≠ sum of legs {expected}"
            )
    orphans = Leg.objects.exclude(transaction_id__in=LedgerTransaction.objects.values("id")).count()
    if orphans:
        result.problems.append(f"{orphans} legs belong to no posted transaction")
    result.problems += _verify_monthly()
    return result


def _verify_chain(chain: int, head: LedgerHead | None, batch_size: int, result: LedgerCheck) -> bool:
    prev_hash, expected_seq = chains.GENESIS, 1
    rows = LedgerTransaction.objects.filter(chain=chain).order_by("seq")
    while True:
        batch = list(rows.filter(seq__gte=expected_seq)[:batch_size])
        if not batch:
            break
        legs: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for txn_id, account_id, amount in Leg.objects.filter(
            transaction__in=[t.pk for t in batch]
        ).values_list("transaction", "account", "amount"):
            legs[txn_id].append((account_id, amount))
        for txn in batch:
            where = f"chain {chain} seq {txn.seq} (T{txn.pk})"
            if txn.seq != expected_seq:
                result.problems.append(f"chain {chain}: transaction seq {expected_seq} is missing")
                return False
            if txn.prev_hash != prev_hash:
                result.problems.append(f"{where}: link to the previous transaction is broken")
                return False
            mine = legs.get(txn.pk, [])
            if len(mine) < 2 or sum(a for _, a in mine) != 0:
                result.problems.append(f"{where}: legs do not balance")
                return False
            if chains.digest(txn.prev_hash, _fields(txn, mine)) != txn.entry_hash:
                result.problems.append(f"{where}: content does not match its hash")
                return False
            prev_hash, expected_seq = txn.entry_hash, txn.seq + 1
            result.checked += 1
    if (
        head is not None
        and head.last_seq
        and (head.last_hash != prev_hash or head.last_seq != expected_seq - 1)
    ):
        result.problems.append(f"chain {chain}: the newest transactions are missing")
        return False
    return True


def _verify_monthly() -> list[str]:
    """The monthly totals, by month (of the economic date), purpose and region, against a recount from the
    transactions: income is what donations debited, spending what payments debited, each net of their
    reversals."""
    recount: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    day = Coalesce("transaction__on", TruncDate("transaction__at"))  # old rows: their booking day
    debits = Leg.objects.filter(amount__gt=0).annotate(day=day).order_by()
    counted = [TxnKind.DONATION, TxnKind.PAYMENT]
    for kind_field, sign, rows in (
        ("transaction__kind", 1, debits.filter(transaction__kind__in=counted)),
        ("transaction__reverses__kind", -1, debits.filter(transaction__reverses__kind__in=counted)),
    ):
        for on, purpose, region, kind, total in (
            rows.values_list("day", "transaction__purpose", "transaction__region_code", kind_field)
            .annotate(total=Sum("amount"))
            .values_list("day", "transaction__purpose", "transaction__region_code", kind_field, "total")
        ):
            key = (on.replace(day=1), purpose or Purpose.GENERAL, region)
            recount[key][0 if kind == TxnKind.DONATION else 1] += sign * total
    stored: dict[tuple[date, str, str], list[int]] = {
        (month, purpose, region): [income, spending]
        for month, purpose, region, income, spending in MonthlyTotal.objects.values_list(
            "month", "purpose", "region_code", "income", "spending"
        )
    }
    problems = []
    for key in sorted({*recount, *stored}):
        have, want = stored.get(key, [0, 0]), recount.get(key, [0, 0])
        if list(have) != list(want):
            problems.append(f"monthly totals of {key[0]:%Y-%m} {key[1]} in {key[2]}: {have} ≠ recount {want}")
    return problems
