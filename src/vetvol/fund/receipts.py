"""Donation receipts (捐赠收据): the PDF printed from the signed snapshot, and its public verification.

A receipt's content is the snapshot `fund.actions.receipt_content` signed at issue with the certificates'
key under `RECEIPT_DOMAIN` (a certificate's signature never verifies as a receipt, nor the reverse). The PDF
is rendered from that snapshot on each download through the certificates' rendering path (data: URIs only),
so what is printed is what was signed: number, donor, amount in figures and in Chinese capitals (大写), form
(money, or goods with their description and acceptance number), purpose, restricted region, date received,
issuer, and the check code with a QR code leading to `/public/fund/receipts/<number>/?s=<check code>`.
The snapshot (version 2) holds every name it prints, written in Chinese at signing whatever the language of
whoever recorded the donation: the anonymous donor's label, the purpose, the fund credited, the region and
the issuer (the fund of the holder region, the province's or a city's). Version 1 snapshots (without
the names) still verify; their names are looked up when printed.

A receipt is authentic when its signature holds, the donation's columns say what the snapshot says and the
ledger booked that amount as a donation. A reversed donation (`Donation.is_reversed`) stays authentic but is
void: the PDF carries a 已作废 stamp and the public page says 已作废 with the date of the reversal.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation

from vetvol.activities.certificates import CHECK_CODE_LENGTH, cn_date, qr_data_uri, render, signature_matches
from vetvol.core.masking import mask
from vetvol.core.money import format_fen
from vetvol.fund.actions import RECEIPT_DOMAIN, RECEIPT_LANGUAGE
from vetvol.fund.models import Donation, DonationForm, Donor, DonorKind, Purpose, TxnKind
from vetvol.regions.models import Region

logger = logging.getLogger(__name__)

CONTENT_VERSIONS = (1, 2)
NUMBER_RE = re.compile(r"^[0-9A-Z]{1,20}$", re.ASCII)  # JZ2026000001; anything else is never looked up
PDF_LANGUAGE = RECEIPT_LANGUAGE  # an official document: Chinese whatever the interface language


class ReceiptTampered(Http404):
    """The receipt fails verification and is not printed (unhandled, a page answers 404)."""


# Amount in Chinese capitals -------------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿")
CAPITALS_LIMIT = 10**12 * 100  # fen: up to 9999 亿 yuan (the fund refuses anything above 1 亿)


def amount_in_capitals(fen: int) -> str:
    """An amount in fen written in Chinese capitals as on a bill (大写金额), e.g. 10000000 → 壹拾万元整.

    The rules of the payment-settlement regulations: 拾 always carries its digit (壹拾); a run of zeros
    between two non-zero digits is written as one 零, also where it spans the 万 or 元 place or the 角
    (壹拾万零柒仟元, 壹仟陆佰捌拾元零叁角贰分, 叁佰贰拾伍元零肆分); an amount ending at 元 or 角 ends with 整,
    one with 分 does not; an amount under one yuan has no 元 (伍角整, 伍分); nothing at all is 零元整.
    """
    if not isinstance(fen, int) or isinstance(fen, bool) or fen < 0 or fen >= CAPITALS_LIMIT:
        raise ValueError(f"amount out of range: {fen!r}")
    if fen == 0:
        return "零元整"
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    out: list[str] = []
    zero = False  # zeros seen since the last non-zero digit, to be written as one 零 before the next one
    digits = str(yuan) if yuan else ""
    for i, char in enumerate(digits):
        place = len(digits) - 1 - i
        digit = int(char)
        if digit:
            if zero:
                out.append("零")
                zero = False
            out.append(_DIGITS[digit] + _PLACES[place % 4])
        else:
            zero = True
        if place % 4 == 0 and place and (yuan // 10**place) % 10_000:
            out.append(_SECTIONS[place // 4])
    if yuan:
        out.append("元")
    for digit, unit in ((jiao, "角"), (cents, "分")):
        if digit:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_DIGITS[digit] + unit)
        else:
            zero = True
    if not cents:
        out.append("整")
    return "".join(out)


def amount_figures(fen: int) -> str:
    return f"¥{format_fen(fen)}"


# Authenticity ---------------------------------------------------------------------------------------------


def check_code(donation: Donation) -> str:
    return donation.signature[:CHECK_CODE_LENGTH]


def verify_path(donation: Donation) -> str:
    return f"{reverse('portal:fund_receipt', args=[donation.number])}?s={check_code(donation)}"


def verify_url(donation: Donation) -> str:
    return settings.VETVOL_PUBLIC_URL + verify_path(donation)


def _columns_agree(donation: Donation, content: dict[str, Any]) -> bool:
    """The donation's columns say what the signed content says (a changed column is as bad as a changed
    snapshot)."""
    try:
        return (
            content["v"] in CONTENT_VERSIONS
            and content["number"] == donation.number
            and content["amount_fen"] == donation.amount
            and isinstance(content["amount_fen"], int)
            and content["form"] == donation.form
            and content["purpose"] == donation.purpose
            and content["region_code"] == donation.region_code
            and content["received_on"] == donation.received_on.isoformat()
            and content["goods"] == donation.goods_description
            and content["goods_receipt"] == donation.goods_receipt
            and content["donor_kind"] in DonorKind.values
            and isinstance(content["donor"], str)
            and bool(datetime.fromisoformat(content["issued_at"]))
            and (
                content["v"] == 1
                or all(isinstance(content[k], str) for k in ("purpose_name", "region_name", "issuer"))
            )
        )
    except (KeyError, TypeError, ValueError):
        return False


def _booked(donation: Donation) -> bool:
    """The ledger booked this amount as a donation (its debits sum to the receipt's amount)."""
    txn = donation.transaction
    if txn.kind != TxnKind.DONATION:
        return False
    debits = [leg.amount for leg in txn.legs.all() if leg.amount > 0]
    return sum(debits) == donation.amount


def is_authentic(donation: Donation) -> bool:
    """Signed by our key under the receipts' domain, nothing changed since, and booked as it says."""
    return (
        signature_matches(donation.content, donation.signature, donation.signed_with, domain=RECEIPT_DOMAIN)
        and _columns_agree(donation, donation.content)
        and _booked(donation)
    )


def voided_on(donation: Donation) -> date | None:
    """The day the donation was reversed (local time): its receipt is void from then on."""
    if not donation.is_reversed:
        return None
    return timezone.localdate(donation.transaction.reversed_by.at)


# Labels -------------------------------------------------------------------------------------------------


def region_label(code: str) -> str:
    """The restricted region as printed: the province for province-wide money, else the city's name."""
    name = Region.objects.filter(code=code).values_list("name", flat=True).first() or code
    return f"{name}（全省范围）" if len(code) == 2 else name


def issuer_of(content: dict[str, Any]) -> str:
    """Who issues the receipt: as signed; a version 1 snapshot names none, so the certificates' issuer."""
    signed = content.get("issuer")
    if isinstance(signed, str) and signed:
        return signed
    return str(settings.VETVOL_CERTIFICATE_ISSUER)


def _signed_or(content: dict[str, Any], key: str, fallback: Any) -> str:
    """A name as signed in the snapshot (version 2), else `fallback()` (version 1)."""
    value = content.get(key)
    return value if isinstance(value, str) and value else str(fallback())


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# PDF ----------------------------------------------------------------------------------------------------


def pdf_context(donation: Donation) -> dict[str, Any]:
    content = donation.content
    fen = content["amount_fen"]
    url = verify_url(donation)
    void = voided_on(donation)
    return {
        "number": content["number"],
        "donor": content["donor"],
        "donor_kind": _label(DonorKind, content["donor_kind"]),
        "goods_form": content["form"] == DonationForm.GOODS,
        "form": _label(DonationForm, content["form"]),
        "goods": content["goods"],
        "goods_receipt": content["goods_receipt"],
        "purpose": _signed_or(content, "purpose_name", lambda: _label(Purpose, content["purpose"])),
        "region": _signed_or(content, "region_name", lambda: region_label(content["region_code"])),
        "amount": amount_figures(fen),
        "amount_in_words": amount_in_capitals(fen),
        "received_on": cn_date(content["received_on"]),
        "issued_on": cn_date(timezone.localdate(datetime.fromisoformat(content["issued_at"]))),
        "issuer": issuer_of(content),
        "check_code": check_code(donation),
        "verify_url": url,
        "qr": qr_data_uri(url),
        "void": void is not None,
        "voided_on": cn_date(void) if void else "",
        "site_name": str(settings.VETVOL_SITE_NAME),
    }


def render_pdf(donation: Donation) -> bytes:
    """The receipt as an A4 PDF in Chinese, from its signed snapshot; a void one carries a 已作废 stamp.
    A receipt that fails verification is never printed: `ReceiptTampered` (an Http404) is raised."""
    donation = (
        Donation.objects.select_related("donor", "transaction__reversed_by")
        .prefetch_related("transaction__legs")
        .get(pk=donation.pk)
    )
    if not is_authentic(donation):
        logger.error("receipt %s fails verification: not printed", donation.number)
        raise ReceiptTampered("receipt fails verification")
    with translation.override(PDF_LANGUAGE):
        return render("fund/receipt_pdf.html", pdf_context(donation))


# Verification -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptVerification:
    """The answer of the public page: valid or not, and then only what may be shown to anyone (the donor's
    name masked unless they agreed to be named). A void receipt is not valid; its public facts are shown
    with `voided_on`, so the holder of the paper sees which receipt was withdrawn and when."""

    valid: bool
    number: str = ""
    donor: str = ""
    form: str = ""
    amount: str = ""
    amount_in_words: str = ""
    purpose: str = ""
    region: str = ""
    received_on: date | None = None
    issuer: str = ""
    issued_on: date | None = None
    voided_on: date | None = None

    @property
    def void(self) -> bool:
        return self.voided_on is not None


def public_donor(donor: Donor, printed: str) -> str:
    """The donor as the verification page shows it: the printed name if the donor agreed to be named (or
    gave none: anonymous), masked otherwise."""
    if donor.anonymous or (donor.publish_consent and printed == donor.name):
        return printed
    return mask(printed, "name")


def verify(number: str, check: str) -> ReceiptVerification:
    """Check a receipt as its QR code (or the number and check code printed on it) presents it: the number
    must exist, the check code must be the start of its signature, and the receipt must be authentic.
    An unknown number, a wrong code and a tampered receipt give the same answer."""
    fragment = (check or "").strip()
    if (
        not isinstance(number, str)
        or not NUMBER_RE.match(number)
        or not CHECK_CODE_LENGTH <= len(fragment) <= 100
    ):
        return ReceiptVerification(valid=False)
    donation = (
        Donation.objects.select_related("donor", "transaction__reversed_by")
        .prefetch_related("transaction__legs")
        .filter(number=number)
        .first()
    )
    if donation is None:
        return ReceiptVerification(valid=False)
    if not hmac.compare_digest(fragment.encode(), donation.signature[: len(fragment)].encode()):
        return ReceiptVerification(valid=False)
    if not is_authentic(donation):
        return ReceiptVerification(valid=False)
    content = donation.content
    void = voided_on(donation)
    fen = content["amount_fen"]
    return ReceiptVerification(
        valid=void is None,
        voided_on=void,
        number=donation.number,
        donor=public_donor(donation.donor, content["donor"]),
        form=_label(DonationForm, content["form"]),
        amount=amount_figures(fen),
        amount_in_words=amount_in_capitals(fen),
        purpose=_signed_or(content, "purpose_name", lambda: _label(Purpose, content["purpose"])),
        region=_signed_or(content, "region_name", lambda: region_label(content["region_code"])),
        received_on=date.fromisoformat(content["received_on"]),
        issuer=issuer_of(content),
        issued_on=timezone.localdate(datetime.fromisoformat(content["issued_at"])),
    )
