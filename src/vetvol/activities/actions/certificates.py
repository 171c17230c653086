"""Issuing service certificates: free, on request, truthful (only hours that count), self-service.

The volunteer asks on their phone, or staff who may change the volunteer's record ask for them. The same
request twice on one day (same kind, period and hours) returns the certificate already issued; at most
VETVOL_CERTIFICATES_PER_DAY (default 10) new ones a day per volunteer.

A certificate found wrong is revoked by staff who may change the volunteer's record in their region (not by
the volunteer), with a reason kept internal: a revocation row is added, the certificate stays as signed."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from vetvol.activities import certificates
from vetvol.activities.actions.stars import clean_reason
from vetvol.activities.models import CertificateKind, CertificateRevocation, ServiceCertificate
from vetvol.activities.queries import effective_records
from vetvol.core import audit, events, ids
from vetvol.core.scoping import Action, require, require_object
from vetvol.regions.models import ServiceCentre
from vetvol.registry.models import Volunteer

Period = tuple[date | None, date | None]


def certificate_number(year: int) -> str:
    """ZM + year + 8-digit sequence of that year: ZM202600000001."""
    return f"ZM{year}{ids.allocate(f'certificate_number_{year}')[0]:08d}"


def issue_certificate(
    actor: Any,
    volunteer: Volunteer,
    kind: str,
    period: Period | None = None,
    *,
    centre: ServiceCentre | None = None,
) -> ServiceCertificate:
    """Issue a certificate of `kind` (record / hours) over `period` (from, to; either may be None: from the
    first record that counts, to today). The issuer is the platform operator (VETVOL_CERTIFICATE_ISSUER),
    or `centre` when its staff issue it."""
    require_object(actor, Action.CHANGE, volunteer, what="activities.certificate.issue")
    if centre is not None:
        require(actor, Action.CHANGE, centre.region_code, what="activities.certificate.issue")
    issuer = centre.name if centre is not None else str(settings.VETVOL_CERTIFICATE_ISSUER)
    today = timezone.localdate()
    since, until = period or (None, None)
    until = until or today
    errors: dict[str, list[str]] = {}
    if kind not in CertificateKind.values:
        errors["kind"] = ["请选择证明类型"]
    if until > today:
        errors["period"] = ["截止日期不能晚于今天"]
    elif since is not None and since > until:
        errors["period"] = ["起始日期不能晚于截止日期"]
    if errors:
        raise ValidationError(errors)
    records = list(effective_records(volunteer, since=since, until=until).select_related("activity__project"))
    if not records:
        raise ValidationError({"period": ["所选期间内没有已认定的服务时长记录"]})
    since = since or records[0].service_date
    minutes = sum(r.minutes for r in records)
    day_start = timezone.make_aware(datetime.combine(today, time.min))
    issued_today = ServiceCertificate.objects.filter(volunteer=volunteer, issued_at__gte=day_start)
    rows = [[r.service_date.isoformat(), certificates.record_text(r), int(r.minutes)] for r in records]
    for same in issued_today.filter(
        kind=kind, period_from=since, period_to=until, minutes=minutes, issuer=issuer
    ):
        if same.content.get("records") == rows:
            return same
    limit = int(getattr(settings, "VETVOL_CERTIFICATES_PER_DAY", 10))
    if issued_today.count() >= limit:
        raise ValidationError({"kind": [f"每天最多出具 {limit} 份证明，请明天再申请"]})
    issued_at = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        number = certificate_number(timezone.localtime(issued_at).year)
        content = certificates.snapshot(
            number=number,
            kind=kind,
            volunteer=volunteer,
            records=records,
            period_from=since,
            period_to=until,
            issuer=issuer,
            issued_at=issued_at,
        )
        signature, key_id = certificates.sign(content)
        cert = ServiceCertificate.objects.create(
            number=number,
            volunteer=volunteer,
            kind=kind,
            issued_at=issued_at,
            issuer=issuer,
            minutes=content["minutes"],
            period_from=since,
            period_to=until,
            content=content,
            signature=signature,
            key_id=key_id,
            issued_by=actor,
        )
        audit.record(
            "activities.certificate.issue",
            actor=actor,
            obj=volunteer,
            detail={"number": number, "kind": kind, "minutes": minutes, "records": len(records)},
        )
        events.emit(
            "activities.certificate.issued",
            number=number,
            volunteer_id=volunteer.pk,
            region_code=volunteer.region_code,
        )
    return cert


def revoke_certificate(actor: Any, cert: ServiceCertificate, reason: str) -> CertificateRevocation:
    """Withdraw a certificate found wrong. Public verification then says "revoked on <date>" (never the
    reason), and the PDF is no longer served."""
    volunteer = cert.volunteer
    require(actor, Action.CHANGE_PEOPLE, volunteer.region_code, what="activities.certificate.revoke")
    text = clean_reason(reason, "reason", gettext("请填写撤销理由"))
    done = CertificateRevocation.objects.filter(certificate=cert).first()
    if done is not None:
        raise ValidationError({"reason": [_already_revoked(cert, done)]})
    try:
        with transaction.atomic():
            revocation = CertificateRevocation.objects.create(
                certificate=cert, reason=text, revoked_by=actor, region_code=volunteer.region_code
            )
            audit.record(
                "activities.certificate.revoke",
                actor=actor,
                obj=volunteer,
                detail={"number": cert.number, "kind": cert.kind, "reason": text},
            )
            events.emit(
                "activities.certificate.revoked",
                number=cert.number,
                volunteer_id=volunteer.pk,
                region_code=volunteer.region_code,
            )
    except IntegrityError as exc:  # revoked a moment ago by someone else
        done = CertificateRevocation.objects.get(certificate=cert)
        raise ValidationError({"reason": [_already_revoked(cert, done)]}) from exc
    return revocation


def _already_revoked(cert: ServiceCertificate, done: CertificateRevocation) -> str:
    return gettext("证明 %(number)s 已于 %(date)s 撤销，不能重复撤销") % {
        "number": cert.number,
        "date": f"{timezone.localtime(done.revoked_at):%Y-%m-%d}",
    }
