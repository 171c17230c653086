"""Disbursements: requested with evidence, approved by tier (or rejected, withdrawn), paid, use reported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from vetvol.core import audit, events
from vetvol.core.scoping import Action, allowed_prefixes, require
from vetvol.fund import ledger
from vetvol.fund.actions.common import (
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    TIER_PREFIX,
    TIERS,
    _amount,
    _number,
    _region,
    _text,
    chart,
    holder_of,
)
from vetvol.fund.models import (
    Account,
    Disbursement,
    DisbursementStatus,
    Evidence,
    EvidenceStage,
    Purpose,
    Tier,
    TxnKind,
)

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
    account: Account | int | None,
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
    else:
        wanted = getattr(account, "pk", account)  # the account or its id, as a form or the API sends it
        account = next((a for a in source_accounts(region_code, purpose) if a.pk == wanted), None)
        if account is None:
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
    if errors or not isinstance(account, Account):
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
