"""The special fund: a double-entry ledger in integer fen, donors and donations, disbursements.

The ledger (`Account`, `LedgerTransaction`, `Leg`) is written only by `fund/ledger.py`. Its rules hold in the
database as well as in code (see `fund/ledger_sql.py`): a transaction's legs sum to zero and are at least
two; a transaction and its legs are append-only; an account's balance moves with each leg it receives and
never goes below zero where the account forbids it. Corrections are reversing transactions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.money import FenField
from vetvol.core.scoping import Action, ScopedManager


class FundScoped:
    """Fund rows are read with `view_fund` and changed with `change_fund` grants (admins; the auditor
    reads)."""

    region_actions = {Action.VIEW: Action.VIEW_FUND, Action.CHANGE: Action.CHANGE_FUND}


class AccountKind(models.TextChoices):
    ASSET = "asset", _("资产")
    LIABILITY = "liability", _("负债")
    FUND = "fund", _("基金（净资产）")
    EXPENSE = "expense", _("支出")


class Purpose(models.TextChoices):
    """What restricted money may be spent on (the report's four uses), or unrestricted."""

    MECHANISM = "mechanism", _("机制建设")
    RESOURCES = "resources", _("资源链接")
    PUBLICITY = "publicity", _("品牌宣传")
    SAFEGUARDS = "safeguards", _("服务保障（保险、装备）")
    GENERAL = "general", _("非限定用途")


class Account(FundScoped, RegionScopedModel):
    """An account of the chart. `balance` is in the account's normal direction (debit for assets and
    expenses, credit for liabilities and funds) and is moved only by the database, leg by leg."""

    code = models.CharField(_("科目代码"), max_length=40, unique=True)
    name = models.CharField(_("科目名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=10, choices=AccountKind.choices)
    purpose = models.CharField(_("用途"), max_length=12, choices=Purpose.choices, blank=True)
    normal = models.SmallIntegerField(default=1)  # +1 debit-normal, -1 credit-normal
    allow_negative = models.BooleanField(default=False)
    balance = FenField(_("余额（分）"), default=0)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0), name="fund_account_not_negative"
            ),
            models.CheckConstraint(condition=Q(normal__in=[1, -1]), name="fund_account_normal"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TxnKind(models.TextChoices):
    DONATION = "donation", _("捐赠收入")
    APPROVAL = "approval", _("支出审批")
    PAYMENT = "payment", _("支付")
    REVERSAL = "reversal", _("冲正")
    ADJUSTMENT = "adjustment", _("调整")


class LedgerTransaction(FundScoped, models.Model):
    """A posted transaction: its legs go in first, then this row, which the database accepts only if they
    balance. Hash-chained like the audit log (`chain`, `seq`, `prev_hash`, `entry_hash`). `at` is when it
    was booked, `on` the day it happened (what the monthly disclosure counts by)."""

    id = models.BigIntegerField(primary_key=True)  # allocated before the legs (core.ids)
    chain = models.PositiveSmallIntegerField(default=1)
    seq = models.BigIntegerField()
    at = models.DateTimeField(db_index=True)
    # The economic date (a donation's day received, a payment's day paid), which the disclosure's months
    # follow; null on rows posted before it existed, which count on their booking day.
    on = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=12, choices=TxnKind.choices)
    purpose = models.CharField(max_length=12, choices=Purpose.choices, blank=True)
    region_code = models.CharField(max_length=12, db_index=True)
    memo = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="fund_txn_chain_seq")]

    def __str__(self) -> str:
        return f"T{self.pk}"


class Leg(models.Model):
    """One side of a transaction: a signed amount in fen (debit positive, credit negative)."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="legs")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="legs")
    amount = FenField()

    class Meta:
        indexes = [models.Index(fields=["account", "transaction"], name="fund_leg_account")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="fund_leg_not_zero")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


class LedgerHead(models.Model):
    """The head of one ledger hash chain (see core.chains)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return self.last_hash


class MonthlyTotal(models.Model):
    """Income and spending by month, purpose and region, kept with each posting (the disclosure report)."""

    month = models.DateField()
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    region_code = models.CharField(max_length=12)
    income = FenField(default=0)
    spending = FenField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "purpose", "region_code"], name="fund_monthly_key")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.purpose} {self.region_code}"


# Donors and donations -----------------------------------------------------------------------------------


class DonorKind(models.TextChoices):
    UNIT = "unit", _("单位")
    INDIVIDUAL = "individual", _("个人")


class Donor(FundScoped, RegionScopedModel):
    kind = models.CharField(_("捐赠方类型"), max_length=10, choices=DonorKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    anonymous = models.BooleanField(_("匿名捐赠"), default=False)
    publish_consent = models.BooleanField(_("同意公开名称和金额"), default=False)
    plaque = models.BooleanField(_("设立纪念牌"), default=False)
    plaque_text = models.CharField(_("纪念牌文字"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def public_name(self) -> str:
        """The name the public may read: only with consent, never for an anonymous donor."""
        if self.anonymous or not self.publish_consent:
            return str(_("爱心人士")) if self.kind == DonorKind.INDIVIDUAL else str(_("爱心单位"))
        return self.name


class DonationForm(models.TextChoices):
    MONEY = "money", _("资金")
    GOODS = "goods", _("物资")


class Donation(FundScoped, RegionScopedModel):
    """Money or goods received; `region_code` is the region the donor restricted it to (44: the province)."""

    number = models.CharField(_("收据编号"), max_length=20, unique=True)
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="donations")
    form = models.CharField(_("形式"), max_length=6, choices=DonationForm.choices)
    amount = FenField(_("金额（分）"))
    goods_description = models.CharField(_("物资说明"), max_length=200, blank=True)
    goods_receipt = models.CharField(_("物资验收单号"), max_length=50, blank=True)
    purpose = models.CharField(_("限定用途"), max_length=12, choices=Purpose.choices)
    received_on = models.DateField(_("到账日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="donation")
    content = models.JSONField(default=dict)  # the receipt's signed snapshot
    signature = models.CharField(max_length=100)
    signed_with = models.CharField(max_length=32)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def is_reversed(self) -> bool:
        return hasattr(self.transaction, "reversed_by")


# Disbursements ------------------------------------------------------------------------------------------


class DisbursementStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    PAID = "paid", _("已支付")
    REPORTED = "reported", _("已报告使用情况")
    CANCELLED = "cancelled", _("已撤回")


class Tier(models.TextChoices):
    """Who approves, by amount (see fund.actions.TIERS)."""

    COUNTY = "county", _("区县审批")
    CITY = "city", _("地市审批")
    PROVINCE = "province", _("省级审批")


class Disbursement(FundScoped, RegionScopedModel):
    number = models.CharField(_("编号"), max_length=20, unique=True)
    purpose = models.CharField(_("用途"), max_length=12, choices=Purpose.choices)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("资金来源")
    )
    amount = FenField(_("金额（分）"))
    recipient_org = models.CharField(_("收款单位"), max_length=100)
    title = models.CharField(_("项目名称"), max_length=100)
    description = models.TextField(_("用途说明"), max_length=2000)
    project = models.ForeignKey(
        "activities.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "registry.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=10, choices=DisbursementStatus.choices)
    tier = models.CharField(_("审批层级"), max_length=10, choices=Tier.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    approval_txn = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(_("支付凭证号"), max_length=60, blank=True)
    payment_txn = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    report = models.TextField(_("使用情况报告"), max_length=2000, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "region_code"], name="fund_disb_status")]

    def __str__(self) -> str:
        return self.number


class EvidenceStage(models.TextChoices):
    REQUEST = "request", _("申请材料")
    PAYMENT = "payment", _("支付凭证")
    REPORT = "report", _("使用情况佐证")


class Evidence(models.Model):
    """An attachment (PDF or image, kept in the database, never edited)."""

    disbursement = models.ForeignKey(Disbursement, on_delete=models.PROTECT, related_name="evidence")
    stage = models.CharField(max_length=10, choices=EvidenceStage.choices)
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
