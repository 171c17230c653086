"""What the fund's actions share: limits, the chart of accounts per fund holder, field checks."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from vetvol.core import ids
from vetvol.core.money import yuan_to_fen
from vetvol.fund.models import (
    Account,
    AccountKind,
    Purpose,
    Tier,
)

RECEIPT_DOMAIN = b"vetvol-fund-receipt-v1\n"
# Receipts, account names and ledger memos are official records: written in Chinese whatever the language
# of the person whose request made them.
RECEIPT_LANGUAGE = "zh-hans"
# Approval tiers, in fen: up to 50,000 yuan a county (district) admin, up to 500,000 a city admin, above that
# the province. An approver's grant must sit at that level or above and cover the request's region.
TIERS = ((5_000_000, Tier.COUNTY), (50_000_000, Tier.CITY))
TIER_PREFIX = {Tier.COUNTY: 6, Tier.CITY: 4, Tier.PROVINCE: 2}
MAX_AMOUNT = 10_000_000_000  # 100 million yuan: anything above is a typing error
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def holder_of(region_code: str) -> str:
    """The fund that holds money for a region: its city's, or the province's for province-wide money."""
    return region_code[:4] if len(region_code) >= 4 else region_code[:2]


CHART = (
    ("1001", AccountKind.ASSET, "", "银行存款"),
    ("1401", AccountKind.ASSET, "", "受赠物资"),
    ("2202", AccountKind.LIABILITY, "", "应付款项"),
    ("3102", AccountKind.FUND, "", "受赠物资基金"),
    ("3201", AccountKind.FUND, "", "已解除限定的净资产"),
)


def chart(holder: str) -> dict[str, Account]:
    """The accounts of a fund holder, made on first use: {code prefix or prefix-purpose: account}."""
    wanted = [(f"{c}-{holder}", c, kind, "", name) for c, kind, _, name in CHART]
    for purpose in Purpose.values:
        with translation.override(RECEIPT_LANGUAGE):
            label = str(Purpose(purpose).label)
        wanted.append(
            (f"3101-{purpose}-{holder}", f"3101-{purpose}", AccountKind.FUND, purpose, f"专项基金·{label}")
        )
        wanted.append(
            (f"5101-{purpose}-{holder}", f"5101-{purpose}", AccountKind.EXPENSE, purpose, f"公益支出·{label}")
        )
    have = {a.code: a for a in Account.objects.filter(code__in=[w[0] for w in wanted])}
    missing = [w for w in wanted if w[0] not in have]
    if missing:
        try:
            with transaction.atomic():
                Account.objects.bulk_create(
                    [
                        Account(
                            code=code,
                            name=name,
                            kind=kind,
                            purpose=purpose,
                            region_code=holder,
                            normal=1 if kind in (AccountKind.ASSET, AccountKind.EXPENSE) else -1,
                        )
                        for code, _, kind, purpose, name in missing
                    ]
                )
        except IntegrityError:
            pass  # made at the same moment by another request
        have = {a.code: a for a in Account.objects.filter(code__in=[w[0] for w in wanted])}
    return {key: have[code] for code, key, *_ in wanted}


def _region(code: Any, levels: tuple[str, ...] = ()) -> str | None:
    """The error for a region code that is not a node of the tree (or not of one of `levels`), else None."""
    from vetvol.regions.models import Region

    if not isinstance(code, str) or not code.isdigit():
        return "请填写有效的行政区划代码"
    level = Region.objects.filter(code=code).values_list("level", flat=True).first()
    if level is None:
        return "行政区划代码不存在"
    if levels and level not in levels:
        return "限定地区只能是全省或一个地市"
    return None


def _amount(text: Any, field: str = "amount") -> int:
    if isinstance(text, int):
        fen = text
    else:
        try:
            fen = yuan_to_fen(text)
        except ValueError:
            raise ValidationError({field: ["请填写金额（元），最多两位小数"]}) from None
    if fen <= 0:
        raise ValidationError({field: ["金额必须大于零"]})
    if fen > MAX_AMOUNT:
        raise ValidationError({field: ["金额超出上限（1 亿元），请核对"]})
    return fen


def _number(prefix: str) -> str:
    year = timezone.localdate().year
    return f"{prefix}{year}{ids.allocate(f'fund_{prefix.lower()}_{year}')[0]:06d}"


def _text(value: Any, field: str, label: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationError({field: [f"请填写{label}"]})
    if len(text) > limit:
        raise ValidationError({field: [f"{label}最多 {limit} 字"]})
    return text
