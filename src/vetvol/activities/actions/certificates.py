"""Issuing service certificates: free, on request, truthful (only hours that count), self-service.

The volunteer asks on their phone, or staff who may change the volunteer's record ask for them. The same
request twice on one day (same kind, period and hours) returns the certificate already issued; at most
VETVOL_CERTIFICATES_PER_DAY (default 10) new ones a day per volunteer."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vetvol.activities import certificates
from vetvol.activities.models import CertificateKind, ServiceCertificate
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
