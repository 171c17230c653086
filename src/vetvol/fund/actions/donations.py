"""Donors and their consent; donations (money or goods) with their signed receipts, and their reversal."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation

from vetvol.activities.certificates import sign
from vetvol.core import audit, events
from vetvol.core.scoping import Action, require
from vetvol.fund import ledger
from vetvol.fund.actions.common import (
    RECEIPT_DOMAIN,
    RECEIPT_LANGUAGE,
    _amount,
    _number,
    _region,
    _text,
    chart,
    holder_of,
)
from vetvol.fund.models import (
    Account,
    Donation,
    DonationForm,
    Donor,
    DonorKind,
    LedgerTransaction,
    Purpose,
    TxnKind,
)
from vetvol.regions.models import Region
from vetvol.registry.validation import normalise_phone

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


def receipt_content(donation: Donation, donor: Donor, account: Account) -> dict[str, Any]:
    """What a receipt says, signed at issue (the PDF is rendered from it). Every name in it is written in
    Chinese whatever the language of the person recording the donation: the signed text must not depend on
    who looked at it (`account` is the fund credited)."""
    names = dict(
        Region.objects.filter(code__in={donation.region_code, holder_of(donation.region_code)}).values_list(
            "code", "name"
        )
    )
    holder = holder_of(donation.region_code)
    region = names.get(donation.region_code, donation.region_code)
    with translation.override(RECEIPT_LANGUAGE):
        return {
            "v": 2,
            "number": donation.number,
            "donor": donor.name if not donor.anonymous else str(donor.public_name),
            "donor_kind": donor.kind,
            "form": donation.form,
            "amount_fen": donation.amount,
            "goods": donation.goods_description,
            "goods_receipt": donation.goods_receipt,
            "purpose": donation.purpose,
            "purpose_name": str(Purpose(donation.purpose).label),
            "account": account.name,
            "region_code": donation.region_code,
            "region_name": f"{region}（全省范围）" if len(donation.region_code) == 2 else region,
            "received_on": donation.received_on.isoformat(),
            "issuer": f"{names.get(holder, holder)}退役军人志愿服务专项基金",
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
    with translation.override(RECEIPT_LANGUAGE):  # the ledger's memo, like the receipt, in Chinese
        memo = f"{DonationForm(form).label}捐赠 {donor.public_name}"[:200]
    with transaction.atomic():
        (txn,) = ledger.post(
            actor,
            [
                ledger.Posting(
                    kind=TxnKind.DONATION,
                    legs=[(debit, fen), (credit, -fen)],
                    region_code=region_code,
                    purpose=purpose,
                    memo=memo,
                    income=fen,
                    on=received_on,
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
        donation.content = receipt_content(donation, donor, credit)
        donation.signature, donation.signed_with = sign(donation.content, RECEIPT_DOMAIN)
        donation.save()
        audit.record(
            "fund.donation.record", actor=actor, obj=donation, detail={"amount_fen": fen, "form": form}
        )
        events.emit("fund.donation.recorded", donation_id=donation.pk, region_code=region_code, amount=fen)
    return donation


def reverse_donation(actor: Any, donation: Donation, reason: str) -> LedgerTransaction:
    """A donation booked wrongly is undone by a reversing transaction (never an edit); its receipt then
    verifies as void. The donation's row is locked first, so of two reversals at once the second waits
    and is told the donation is already reversed."""
    require(actor, Action.CHANGE_FUND, donation.region_code, what="fund.donation.reverse")
    reason = _text(reason, "reason", "冲正原因", 200)
    with transaction.atomic():
        donation = Donation.objects.select_for_update().select_related("transaction").get(pk=donation.pk)
        if LedgerTransaction.objects.filter(reverses_id=donation.transaction_id).exists():
            raise ValidationError({"donation": ["该捐赠已冲正"]})
        posting = ledger.reversal(donation.transaction, f"冲正 {donation.number}：{reason}"[:200])
        (txn,) = ledger.post(actor, [posting])
        audit.record("fund.donation.reverse", actor=actor, obj=donation, detail={"reason": reason})
    return txn
