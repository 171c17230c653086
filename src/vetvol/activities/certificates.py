"""Service certificates (志愿服务记录证明, 服务时长证明): signed snapshot, verification, PDF.

A certificate's `content` is a snapshot taken at issue: volunteer name, masked ID number, volunteer number,
the records that count in the period (date, service content, minutes), the total, issuer, date and number.
It is signed with Ed25519 over its canonical JSON (sorted keys, no spaces, UTF-8) under the key
VETVOL_SIGNING_KEY, so checking it needs only the public key; a row whose content or columns were changed,
or one made up without the key, fails. The PDF is rendered from the snapshot on each download, so what is
printed is exactly what was signed.

The QR code (and the check code printed beside it) lead to the public page
`/public/certificates/<number>/?s=<check code>`; the check code is the start of the signature, so numbers,
which are sequential, cannot be walked to read other people's certificates.

A revoked certificate (a `CertificateRevocation` row) stays authentic but is no longer valid: the public page
says so with the date of revocation (the reason stays internal), and its PDF is no longer served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from vetvol.activities.models import CertificateKind, HourRecord, ServiceCertificate
from vetvol.activities.queries import hours_label
from vetvol.core.masking import mask
from vetvol.registry.models import Volunteer

CONTENT_VERSION = 1
CHECK_CODE_LENGTH = 16  # base64url characters of the signature: 96 bits, not guessable
_DOMAIN = b"vetvol-certificate-v1\n"  # a signature over a certificate is never valid for anything else


# Keys ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _private_key(raw: str) -> Ed25519PrivateKey:
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("VETVOL_SIGNING_KEY must be base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("VETVOL_SIGNING_KEY must be a 32-byte Ed25519 private key once decoded")
    return Ed25519PrivateKey.from_private_bytes(key)


def signing_key() -> Ed25519PrivateKey:
    return _private_key(settings.VETVOL_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_raw(key: Ed25519PublicKey | None = None) -> bytes:
    return (key or public_key()).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey | None = None) -> str:
    return hashlib.sha256(public_key_raw(key)).hexdigest()[:16]


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(content: dict[str, Any], domain: bytes = _DOMAIN) -> tuple[str, str]:
    """(signature, key id) of a snapshot. `domain` separates kinds of signed documents (certificates,
    the fund's receipts): a signature over one kind is never valid for another."""
    return _b64(signing_key().sign(domain + canonical(content))), key_id()


def signature_matches(content: Any, signature: str, signed_with: str, domain: bytes = _DOMAIN) -> bool:
    """Whether `signature` is the configured key's signature over `content` (any error: it is not)."""
    if not isinstance(content, dict) or not hmac.compare_digest(signed_with, key_id()):
        return False
    try:
        public_key().verify(_unb64(signature), domain + canonical(content))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# Snapshot -----------------------------------------------------------------------------------------------


def record_text(record: HourRecord) -> str:
    """What the service was: the activity (with its project) or the content entered with the hours."""
    if record.activity is not None:
        project = record.activity.project.name
        text = record.content or record.activity.title
        return text if project in text else f"{project} · {text}"
    return record.content


def snapshot(
    *,
    number: str,
    kind: str,
    volunteer: Volunteer,
    records: list[HourRecord],
    period_from: date,
    period_to: date,
    issuer: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The signed content. Only JSON strings and integers, so it reads back identically from any database."""
    rows = [[r.service_date.isoformat(), record_text(r), int(r.minutes)] for r in records]
    return {
        "v": CONTENT_VERSION,
        "number": number,
        "kind": kind,
        "title": CertificateKind(kind).label,
        "volunteer": {
            "name": volunteer.name,
            "id_number": mask(volunteer.id_number, "id_number"),
            "number": volunteer.number,
        },
        "minutes": sum(row[2] for row in rows),
        "period": [period_from.isoformat(), period_to.isoformat()],
        "issuer": issuer,
        "issued_at": timezone.localtime(issued_at).isoformat(),
        "records": rows,
    }


def _columns_agree(cert: ServiceCertificate, content: dict[str, Any]) -> bool:
    """The row's columns say what the signed content says (a changed column is as bad as changed content)."""
    try:
        rows = content["records"]
        return (
            content["number"] == cert.number
            and content["kind"] == cert.kind
            and content["minutes"] == cert.minutes == sum(int(r[2]) for r in rows)
            and content["period"] == [cert.period_from.isoformat(), cert.period_to.isoformat()]
            and content["issuer"] == cert.issuer
            and datetime.fromisoformat(content["issued_at"]) == cert.issued_at
            and content["volunteer"]["number"] == cert.volunteer.number
        )
    except (KeyError, TypeError, ValueError, IndexError):
        return False


def is_authentic(cert: ServiceCertificate) -> bool:
    """Signed by our key, and nothing changed since."""
    return signature_matches(cert.content, cert.signature, cert.key_id) and _columns_agree(cert, cert.content)


# Verification -------------------------------------------------------------------------------------------


def check_code(cert: ServiceCertificate) -> str:
    return cert.signature[:CHECK_CODE_LENGTH]


def verify_path(cert: ServiceCertificate) -> str:
    return f"{reverse('portal:certificate', args=[cert.number])}?s={check_code(cert)}"


def verify_url(cert: ServiceCertificate) -> str:
    return settings.VETVOL_PUBLIC_URL + verify_path(cert)


@dataclass(frozen=True)
class Verification:
    """The answer of the public page: valid or not, and then only what may be shown to anyone. A revoked
    certificate is not valid; its public facts are shown with `revoked_on`, so the holder of the paper can
    see which certificate was withdrawn and when."""

    valid: bool
    number: str = ""
    title: str = ""
    masked_name: str = ""
    hours: str = ""
    period_from: date | None = None
    period_to: date | None = None
    issuer: str = ""
    issued_on: date | None = None
    revoked_on: date | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_on is not None


def revoked_on(cert: ServiceCertificate) -> date | None:
    """The day the certificate was revoked (local time), or None while it stands."""
    revocation = getattr(cert, "revocation", None)
    return timezone.localtime(revocation.revoked_at).date() if revocation is not None else None


NUMBER_RE = re.compile(r"^[0-9A-Z]{1,20}$", re.ASCII)  # ZM202600000001; anything else is never looked up


def verify(number: str, signature_fragment: str) -> Verification:
    """Check a certificate as its QR code (or the number and check code printed on it) presents it: the
    number must exist, the fragment must be the start of its signature, and the signature must hold."""
    fragment = (signature_fragment or "").strip()
    if not NUMBER_RE.match(number or "") or not CHECK_CODE_LENGTH <= len(fragment) <= 100:
        return Verification(valid=False)
    cert = ServiceCertificate.objects.select_related("volunteer", "revocation").filter(number=number).first()
    if cert is None:
        return Verification(valid=False)
    if not hmac.compare_digest(fragment.encode(), cert.signature[: len(fragment)].encode()):
        return Verification(valid=False)
    if not is_authentic(cert):
        return Verification(valid=False)
    content = cert.content
    withdrawn = revoked_on(cert)
    return Verification(
        valid=withdrawn is None,
        revoked_on=withdrawn,
        number=cert.number,
        title=content["title"],
        masked_name=mask(content["volunteer"]["name"], "name"),
        hours=hours_label(content["minutes"]),
        period_from=date.fromisoformat(content["period"][0]),
        period_to=date.fromisoformat(content["period"][1]),
        issuer=content["issuer"],
        issued_on=datetime.fromisoformat(content["issued_at"]).date(),
    )


# PDF ----------------------------------------------------------------------------------------------------


def cn_date(value: date | str) -> str:
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=1, border=0, dark="#000")


def _summary(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Records grouped by service content, in order of first service (the hours certificate's table)."""
    groups: dict[str, dict[str, Any]] = {}
    for day, text, minutes in rows:
        g = groups.setdefault(text, {"text": text, "first": day, "last": day, "count": 0, "minutes": 0})
        g["last"], g["count"], g["minutes"] = day, g["count"] + 1, g["minutes"] + minutes
    return [
        {**g, "hours": hours_label(g["minutes"]), "first": cn_date(g["first"]), "last": cn_date(g["last"])}
        for g in groups.values()
    ]


def pdf_context(cert: ServiceCertificate) -> dict[str, Any]:
    content = cert.content
    rows = content["records"]
    url = verify_url(cert)
    return {
        "kind": content["kind"],
        "title": content["title"],
        "number": content["number"],
        "name": content["volunteer"]["name"],
        "id_number": content["volunteer"]["id_number"],
        "volunteer_number": content["volunteer"]["number"],
        "period_from": cn_date(content["period"][0]),
        "period_to": cn_date(content["period"][1]),
        "hours": hours_label(content["minutes"]),
        "count": len(rows),
        "rows": [
            {"index": i, "date": day, "text": text, "hours": hours_label(minutes)}
            for i, (day, text, minutes) in enumerate(rows, start=1)
        ],
        "summary": _summary(rows) if content["kind"] == CertificateKind.HOURS else [],
        "issuer": content["issuer"],
        "issued_on": cn_date(datetime.fromisoformat(content["issued_at"]).date()),
        "check_code": check_code(cert),
        "verify_url": url,
        "qr": qr_data_uri(url),
        "site_name": str(settings.VETVOL_SITE_NAME),
    }


def render(template: str, context: dict[str, Any]) -> bytes:
    """A document template rendered to PDF (fonts from the system). It loads only data: URIs (its own QR
    code): no file and no network, whatever the printed text holds. Shared by the fund's receipts."""
    import weasyprint  # heavy import, only where a PDF is made
    from weasyprint.urls import URLFetcher

    html = render_to_string(template, context)
    fetcher = URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()  # type: ignore[no-any-return]


def render_pdf(cert: ServiceCertificate) -> bytes:
    """The certificate as an A4 PDF in Chinese (Noto Serif CJK SC), from its signed snapshot."""
    return render("activities/certificate_pdf.html", pdf_context(cert))
