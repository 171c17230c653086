"""Every change to the special fund: donors and their consent, donations (money or goods) and their
reversal, disbursements requested → approved (or rejected, or withdrawn) → paid → use reported.

Booking rules (accounts per fund holder: the province, or a city with its own fund):
- money donation:  Dr 1001 bank            Cr 3101 fund[purpose]
- goods donation:  Dr 1401 goods received  Cr 3102 goods fund (valued goods are not cash: no
                   disbursement, which is paid from the bank, can draw on them)
- approval:        Dr 3101 fund[purpose]   Cr 3201 released net assets
                   Dr 5101 expense[purpose] Cr 2202 payables
  (the restricted fund never goes negative, so nothing is approved that the fund does not hold)
- payment:         Dr 2202 payables        Cr 1001 bank
- corrections:     reversing transactions (ledger.reversal).
Approval tiers by amount; nobody approves their own request; the auditor holds `view_fund` only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.activities.certificates import sign
from vetvol.core import audit, events, ids
from vetvol.core.money import format_fen, yuan_to_fen
from vetvol.core.scoping import Action, allowed_prefixes, require
from vetvol.fund import ledger
from vetvol.fund.models import (
    Account,
    AccountKind,
    Disbursement,
    DisbursementStatus,
    Donation,
    DonationForm,
    Donor,
    DonorKind,
    Evidence,
    EvidenceStage,
    LedgerTransaction,
    Purpose,
    Tier,
    TxnKind,
)
from vetvol.registry.validation import normalise_phone

RECEIPT_DOMAIN = b"vetvol-fund-receipt-v1\n"
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


# Donors -------------------------------------------------------------------------------------------------


def create_donor(
    actor: Any,
    *,
    kind: str,
    name: str,
    region_code: str,
    phone: str = "",
    anonymous: bool = False,
    publish_consent: bool = False,
    plaque: bool = False,
    plaque_text: str = "",
) -> Donor:
    require(actor, Action.CHANGE_FUND, region_code, what="fund.donor.create")
    errors: dict[str, list[str]] = {}
    if problem := _region(region_code):
        errors["region"] = [problem]
    if kind not in DonorKind.values:
        errors["kind"] = ["请选择捐赠方类型"]
    try:
        name = _text(name, "name", "捐赠方名称", 100)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    phone = (phone or "").strip()
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    plaque_text = (plaque_text or "").strip()
    if plaque and not plaque_text:
        errors["plaque_text"] = ["设立纪念牌需填写纪念牌文字"]
    if len(plaque_text) > 200:
        errors["plaque_text"] = ["纪念牌文字最多 200 字"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        donor = Donor.objects.create(
            kind=kind,
            name=name,
            phone=phone,
            region_code=region_code,
            anonymous=anonymous,
            publish_consent=publish_consent and not anonymous,
            plaque=plaque,
            plaque_text=plaque_text,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            "fund.donor.create",
            actor=actor,
            obj=donor,
            detail={"kind": kind, "consent": donor.publish_consent},
        )
    return donor


def set_donor_consent(
    actor: Any, donor: Donor, *, publish_consent: bool, plaque: bool, plaque_text: str
) -> Donor:
    """The donor's consent to be named in public (and a memorial plaque), given or withdrawn."""
    require(actor, Action.CHANGE_FUND, donor.region_code, what="fund.donor.consent")
    plaque_text = (plaque_text or "").strip()
    if plaque and not plaque_text:
        raise ValidationError({"plaque_text": ["设立纪念牌需填写纪念牌文字"]})
    if len(plaque_text) > 200:
        raise ValidationError({"plaque_text": ["纪念牌文字最多 200 字"]})
    with transaction.atomic():
        donor.publish_consent = publish_consent and not donor.anonymous
        donor.plaque = plaque
        donor.plaque_text = (plaque_text or "").strip()
        donor.save(update_fields=["publish_consent", "plaque", "plaque_text", "updated_at"])
        audit.record(
            "fund.donor.consent",
            actor=actor,
            obj=donor,
            detail={"consent": donor.publish_consent, "plaque": plaque},
        )
    return donor


# Donations ----------------------------------------------------------------------------------------------


def receipt_content(donation: Donation, donor: Donor) -> dict[str, Any]:
    """What a receipt says, signed at issue (the PDF is rendered from it)."""
    return {
        "v": 1,
        "number": donation.number,
        "donor": donor.name if not donor.anonymous else str(donor.public_name),
        "donor_kind": donor.kind,
        "form": donation.form,
        "amount_fen": donation.amount,
        "goods": donation.goods_description,
        "goods_receipt": donation.goods_receipt,
        "purpose": donation.purpose,
        "region_code": donation.region_code,
        "received_on": donation.received_on.isoformat(),
        "issued_at": timezone.now().isoformat(timespec="seconds"),
    }


def record_donation(
    actor: Any,
    donor: Donor,
    *,
    form: str,
    amount: Any,
    purpose: str,
    region_code: str,
    received_on: date | None,
    goods_description: str = "",
    goods_receipt: str = "",
    note: str = "",
) -> Donation:
    """Money or goods received, booked to the restricted fund of its purpose and region, with a signed
    receipt."""
    require(actor, Action.CHANGE_FUND, region_code, what="fund.donation.record")
    if not Donor.objects.restrict(actor, Action.VIEW).filter(pk=donor.pk).exists():
        raise PermissionDenied("donor not visible")
    errors: dict[str, list[str]] = {}
    fen = 0
    try:
        fen = _amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if form not in DonationForm.values:
        errors["form"] = ["请选择捐赠形式"]
    if purpose not in Purpose.values:
        errors["purpose"] = ["请选择用途"]
    if problem := _region(region_code, ("province", "city")):
        errors["region_code"] = [problem]
    if received_on is None:
        errors["received_on"] = ["请填写到账日期"]
    elif received_on > timezone.localdate():
        errors["received_on"] = ["到账日期不能晚于今天"]
    if form == DonationForm.GOODS:
        if not (goods_description or "").strip():
            errors["goods_description"] = ["物资捐赠需填写物资说明"]
        if not (goods_receipt or "").strip():
            errors["goods_receipt"] = ["物资捐赠需填写验收单号"]
    for field, value, limit in (
        ("goods_description", goods_description, 200),
        ("goods_receipt", goods_receipt, 50),
        ("note", note, 200),
    ):
        if len(value or "") > limit:
            errors[field] = [f"最多 {limit} 字"]
    if errors or received_on is None:
        raise ValidationError(errors)
    accounts = chart(holder_of(region_code))
    debit, credit = (
        (accounts["1001"], accounts[f"3101-{purpose}"])
        if form == DonationForm.MONEY
        else (accounts["1401"], accounts["3102"])
    )
    with transaction.atomic():
        (txn,) = ledger.post(
            actor,
            [
                ledger.Posting(
                    kind=TxnKind.DONATION,
                    legs=[(debit, fen), (credit, -fen)],
                    region_code=region_code,
                    purpose=purpose,
                    memo=f"{DonationForm(form).label}捐赠 {donor.public_name}"[:200],
                    income=fen,
                )
            ],
        )
        donation = Donation(
            number=_number("JZ"),
            donor=donor,
            form=form,
            amount=fen,
            goods_description=(goods_description or "").strip(),
            goods_receipt=(goods_receipt or "").strip(),
            purpose=purpose,
            region_code=region_code,
            received_on=received_on,
            note=(note or "").strip(),
            transaction=txn,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        donation.content = receipt_content(donation, donor)
        donation.signature, donation.signed_with = sign(donation.content, RECEIPT_DOMAIN)
        donation.save()
        audit.record(
            "fund.donation.record", actor=actor, obj=donation, detail={"amount_fen": fen, "form": form}
        )
        events.emit("fund.donation.recorded", donation_id=donation.pk, region_code=region_code, amount=fen)
    return donation


def reverse_donation(actor: Any, donation: Donation, reason: str) -> LedgerTransaction:
    """A donation booked wrongly is undone by a reversing transaction (never an edit); its receipt then
    verifies as void."""
    require(actor, Action.CHANGE_FUND, donation.region_code, what="fund.donation.reverse")
    reason = _text(reason, "reason", "冲正原因", 200)
    with transaction.atomic():
        posting = ledger.reversal(donation.transaction, f"冲正 {donation.number}：{reason}"[:200])
        (txn,) = ledger.post(actor, [posting])
        audit.record("fund.donation.reverse", actor=actor, obj=donation, detail={"reason": reason})
    return txn


# Disbursements ------------------------------------------------------------------------------------------


def tier_for(fen: int) -> str:
    for limit, tier in TIERS:
        if fen <= limit:
            return tier
    return Tier.PROVINCE


def may_approve(user: Any, d: Disbursement) -> bool:
    """Whether `user` holds `change_fund` at the request's tier or above over its region, and is not the
    one who asked."""
    if d.requested_by_id == getattr(user, "pk", None):
        return False
    prefixes = allowed_prefixes(user, Action.CHANGE_FUND)
    if prefixes is None:
        return True
    return any(d.region_code.startswith(p) and len(p) <= TIER_PREFIX[Tier(d.tier)] for p in prefixes)


def source_accounts(region_code: str, purpose: str) -> list[Account]:
    """The restricted funds a disbursement in a region for a purpose may draw on: its city's and the
    province's, of that purpose or unrestricted."""
    holders = sorted({holder_of(region_code), region_code[:2]}, key=len, reverse=True)
    codes = [f"3101-{p}-{h}" for h in holders for p in dict.fromkeys([purpose, Purpose.GENERAL])]
    found = {a.code: a for a in Account.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found]


@dataclass
class Upload:
    name: str
    data: bytes


def _evidence(actor: Any, d: Disbursement, stage: str, files: list[Upload]) -> list[Evidence]:
    rows = []
    for f in files:
        kind = next((t for magic, t in EVIDENCE_TYPES.items() if f.data.startswith(magic)), None)
        if kind is None:
            raise ValidationError({"evidence": [f"{f.name}：只接受 PDF、JPEG 或 PNG 文件"]})
        if len(f.data) > EVIDENCE_MAX_BYTES:
            raise ValidationError({"evidence": [f"{f.name}：文件超过 10 MB"]})
        rows.append(
            Evidence(
                disbursement=d,
                stage=stage,
                name=(f.name or "evidence")[-120:],
                content_type=kind,
                size=len(f.data),
                sha256=hashlib.sha256(f.data).hexdigest(),
                data=f.data,
                uploaded_by=actor,
            )
        )
    return rows


def request_disbursement(
    actor: Any,
    *,
    region_code: str,
    purpose: str,
    account: Account | None,
    amount: Any,
    recipient_org: str,
    title: str,
    description: str,
    project: Any = None,
    team: Any = None,
    evidence: list[Upload] | None = None,
) -> Disbursement:
    require(actor, Action.CHANGE_FUND, region_code, what="fund.disbursement.request")
    errors: dict[str, list[str]] = {}
    if problem := _region(region_code):
        errors["region_code"] = [problem]
    fen = 0
    try:
        fen = _amount(amount)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if purpose not in Purpose.values or purpose == Purpose.GENERAL:
        errors["purpose"] = ["请选择用途（机制建设、资源链接、品牌宣传或服务保障）"]
    elif account is None or account.pk not in {a.pk for a in source_accounts(region_code, purpose)}:
        errors["account"] = ["请选择可用于该地区和用途的资金来源"]
    for field, value, label, limit in (
        ("recipient_org", recipient_org, "收款单位", 100),
        ("title", title, "项目名称", 100),
        ("description", description, "用途说明", 2000),
    ):
        try:
            _text(value, field, label, limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if project is not None and not project.region_code.startswith(region_code):
        errors["project"] = ["项目不在该地区"]
    if team is not None and not team.region_code.startswith(region_code):
        errors["team"] = ["队伍不在该地区"]
    if not evidence:
        errors["evidence"] = ["请上传申请材料（PDF 或图片）"]
    if errors or account is None:
        raise ValidationError(errors)
    with transaction.atomic():
        d = Disbursement.objects.create(
            number=_number("ZC"),
            region_code=region_code,
            purpose=purpose,
            account=account,
            amount=fen,
            recipient_org=recipient_org.strip(),
            title=title.strip(),
            description=description.strip(),
            project=project,
            team=team,
            status=DisbursementStatus.REQUESTED,
            tier=tier_for(fen),
            requested_by=actor,
        )
        Evidence.objects.bulk_create(_evidence(actor, d, EvidenceStage.REQUEST, evidence or []))
        audit.record(
            "fund.disbursement.request", actor=actor, obj=d, detail={"amount_fen": fen, "tier": d.tier}
        )
        events.emit("fund.disbursement.requested", disbursement_id=d.pk, region_code=region_code, tier=d.tier)
    return d


def _locked(d: Disbursement, *statuses: str) -> Disbursement:
    fresh = Disbursement.objects.select_for_update().get(pk=d.pk)
    if fresh.status not in statuses:
        raise ValidationError(
            {"status": [f"该申请当前状态为「{fresh.get_status_display()}」，不能进行此操作"]}
        )
    return fresh


def decide_disbursement(actor: Any, d: Disbursement, *, approve: bool, note: str = "") -> Disbursement:
    """Approve (commits the money: the restricted fund is released to the expense and a payable) or reject
    with a reason."""
    require(actor, Action.CHANGE_FUND, d.region_code, what="fund.disbursement.decide")
    if d.requested_by_id == actor.pk:
        raise PermissionDenied("不能审批自己提交的申请")
    if not may_approve(actor, d):
        raise PermissionDenied(f"该申请需{Tier(d.tier).label}")
    note = _text(note, "note", "审批意见", 500, required=not approve)
    with transaction.atomic():
        d = _locked(d, DisbursementStatus.REQUESTED)
        d.decided_by, d.decided_at, d.decision_note = actor, timezone.now(), note
        if approve:
            accounts = chart(d.account.region_code)
            (d.approval_txn,) = ledger.post(
                actor,
                [
                    ledger.Posting(
                        kind=TxnKind.APPROVAL,
                        legs=[
                            (d.account, d.amount),
                            (accounts["3201"], -d.amount),
                            (accounts[f"5101-{d.purpose}"], d.amount),
                            (accounts["2202"], -d.amount),
                        ],
                        region_code=d.region_code,
                        purpose=d.purpose,
                        memo=f"批准 {d.number} {d.title}"[:200],
                    )
                ],
            )
            d.status = DisbursementStatus.APPROVED
        else:
            d.status = DisbursementStatus.REJECTED
        d.save()
        audit.record(
            "fund.disbursement.approve" if approve else "fund.disbursement.reject",
            actor=actor,
            obj=d,
            detail={"amount_fen": d.amount, "note": note},
        )
        events.emit(
            "fund.disbursement.decided",
            disbursement_id=d.pk,
            region_code=d.region_code,
            approved=approve,
            requested_by=d.requested_by_id,
        )
    return d


def withdraw_disbursement(actor: Any, d: Disbursement, reason: str) -> Disbursement:
    """The requester withdraws a request not yet decided; an approved one not yet paid is withdrawn by an
    approver, reversing the commitment."""
    require(actor, Action.CHANGE_FUND, d.region_code, what="fund.disbursement.withdraw")
    reason = _text(reason, "reason", "撤回原因", 200)
    with transaction.atomic():
        d = _locked(d, DisbursementStatus.REQUESTED, DisbursementStatus.APPROVED)
        if d.status == DisbursementStatus.REQUESTED and d.requested_by_id != actor.pk:
            raise PermissionDenied("只有申请人可以撤回待审批的申请")
        if d.status == DisbursementStatus.APPROVED:
            if not may_approve(actor, d):
                raise PermissionDenied("撤回已批准的申请需有审批权限")
            assert d.approval_txn is not None
            ledger.post(actor, [ledger.reversal(d.approval_txn, f"撤回 {d.number}：{reason}"[:200])])
        d.status, d.withdrawn_by, d.withdraw_reason = DisbursementStatus.CANCELLED, actor, reason
        d.save(update_fields=["status", "withdrawn_by", "withdraw_reason", "updated_at"])
        audit.record("fund.disbursement.withdraw", actor=actor, obj=d, detail={"reason": reason})
    return d


def pay_disbursement(
    actor: Any, d: Disbursement, *, reference: str, evidence: list[Upload] | None = None
) -> Disbursement:
    """The payment out of the bank, with its voucher number: by someone who may move the money of the fund
    that holds it (its bank's region), and not by the one who asked for it."""
    require(actor, Action.CHANGE_FUND, d.account.region_code, what="fund.disbursement.pay")
    if d.requested_by_id == actor.pk:
        raise PermissionDenied("申请人不能支付自己申请的款项")
    reference = _text(reference, "reference", "支付凭证号", 60)
    with transaction.atomic():
        d = _locked(d, DisbursementStatus.APPROVED)
        accounts = chart(d.account.region_code)
        (d.payment_txn,) = ledger.post(
            actor,
            [
                ledger.Posting(
                    kind=TxnKind.PAYMENT,
                    legs=[(accounts["2202"], d.amount), (accounts["1001"], -d.amount)],
                    region_code=d.region_code,
                    purpose=d.purpose,
                    memo=f"支付 {d.number} 至 {d.recipient_org}"[:200],
                    spending=d.amount,
                )
            ],
        )
        d.status, d.paid_by, d.paid_at, d.payment_reference = (
            DisbursementStatus.PAID,
            actor,
            timezone.now(),
            reference,
        )
        d.save()
        Evidence.objects.bulk_create(_evidence(actor, d, EvidenceStage.PAYMENT, evidence or []))
        audit.record(
            "fund.disbursement.pay",
            actor=actor,
            obj=d,
            detail={"amount_fen": d.amount, "reference": reference},
        )
        events.emit("fund.disbursement.paid", disbursement_id=d.pk, region_code=d.region_code)
    return d


def report_use(
    actor: Any, d: Disbursement, *, report: str, evidence: list[Upload] | None = None
) -> Disbursement:
    """How the money was used, with evidence (photos, invoices, the activity's record)."""
    require(actor, Action.CHANGE_FUND, d.region_code, what="fund.disbursement.report")
    report = _text(report, "report", "使用情况", 2000)
    if not evidence:
        raise ValidationError({"evidence": ["请上传使用情况佐证材料（PDF 或图片）"]})
    with transaction.atomic():
        d = _locked(d, DisbursementStatus.PAID)
        d.status, d.report, d.reported_by, d.reported_at = (
            DisbursementStatus.REPORTED,
            report,
            actor,
            timezone.now(),
        )
        d.save()
        Evidence.objects.bulk_create(_evidence(actor, d, EvidenceStage.REPORT, evidence))
        audit.record("fund.disbursement.report", actor=actor, obj=d, detail={})
    return d


def amount_label(fen: int) -> str:
    return f"{format_fen(fen)} 元"
