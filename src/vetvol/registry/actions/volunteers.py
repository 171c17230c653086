"""Volunteer registration and lifecycle."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vetvol.core import audit, events, ids
from vetvol.core.scoping import Action, require, require_object
from vetvol.regions.models import Region
from vetvol.registry.models import (
    Certificate,
    CertificateType,
    Consent,
    ConsentKind,
    Skill,
    StatusChange,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from vetvol.registry.models.volunteers import RegisteredVia
from vetvol.registry.validation import clean_volunteer

CONSENT_VERSION = "2026.1"
DUPLICATE_MESSAGE = (
    "该身份证号码已经登记为志愿者，不能重复注册。如忘记编号或密码，请携带身份证到居住地退役军人服务站找回，"
    "或联系所在志愿服务队队长。"
)

# Allowed lifecycle moves, and whether a reason is required.
TRANSITIONS: dict[tuple[str, str], bool] = {
    (VolunteerStatus.PENDING, VolunteerStatus.ACTIVE): False,
    (VolunteerStatus.PENDING, VolunteerStatus.LEFT): True,
    (VolunteerStatus.ACTIVE, VolunteerStatus.SUSPENDED): True,
    (VolunteerStatus.ACTIVE, VolunteerStatus.LEFT): True,
    (VolunteerStatus.SUSPENDED, VolunteerStatus.ACTIVE): False,
    (VolunteerStatus.SUSPENDED, VolunteerStatus.LEFT): True,
}
VOLUNTEER_FIELDS = (
    "name",
    "phone",
    "phone_hash",
    "home_region_id",
    "address",
    "is_veteran",
    "service_branch",
    "enlistment_year",
    "discharge_year",
    "is_retired_cadre",
    "is_party_member",
    "guardian_name",
)


class DuplicateVolunteer(ValidationError):
    """The ID number is registered already (one person, one record)."""


def home_regions_for(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=[c for c in codes if c]).values_list("code", "level"))


def new_volunteer_number(region_code: str, count: int = 1) -> list[str]:
    """Public volunteer numbers: V + province code + 9-digit sequence (V44000012345)."""
    province = region_code[:2]
    return [f"V{province}{n:09d}" for n in ids.allocate(f"volunteer_number_{province}", count)]


def _home_base(region: Region) -> tuple[float | None, float | None]:
    """Without a point picked on the map, the home base is the nearest known centre up the tree."""
    for code in reversed([*region.ancestor_codes(), region.code]):
        node = Region.objects.filter(code=code, lng__isnull=False).values_list("lng", "lat").first()
        if node:
            return node
    return None, None


def register_volunteer(
    actor: Any,
    raw: dict[str, Any],
    *,
    via: str = RegisteredVia.STAFF,
    publicity_consent: bool = False,
    location_consent: bool = False,
    today: date | None = None,
) -> Volunteer:
    """Register one volunteer. Staff need change-people rights on the home region; self-registration
    (`via="self"`, actor anonymous or the person's own new account) creates a pending record."""
    today = today or timezone.localdate()
    data, errors = clean_volunteer(raw, today, home_regions_for([str(raw.get("home_region") or "")]))
    if errors:
        raise ValidationError(errors)
    if via != RegisteredVia.SELF:
        require(actor, Action.CHANGE_PEOPLE, data["home_region_id"], what="registry.volunteer.register")
    if Volunteer.objects.filter(id_hash=data["id_hash"]).exists():
        raise DuplicateVolunteer({"id_number": [DUPLICATE_MESSAGE]})
    region = Region.objects.get(code=data["home_region_id"])
    lng, lat = raw.get("lng"), raw.get("lat")
    if lng is None or lat is None:
        lng, lat = _home_base(region)
    volunteer = Volunteer(
        number=new_volunteer_number(region.code)[0],
        region_code=region.code,
        status=VolunteerStatus.ACTIVE if via == RegisteredVia.STAFF else VolunteerStatus.PENDING,
        registered_via=via,
        lng=lng,
        lat=lat,
        publicity_consent=publicity_consent,
        location_consent=location_consent,
        **data,
    )
    user = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            volunteer.save(force_insert=True)
            StatusChange.objects.create(
                volunteer=volunteer, to_status=volunteer.status, by=user, reason="登记"
            )
            Consent.objects.bulk_create(
                [
                    Consent(
                        volunteer=volunteer,
                        kind=kind,
                        granted=granted,
                        version=CONSENT_VERSION,
                        recorded_by=user,
                    )
                    for kind, granted in (
                        (ConsentKind.SENSITIVE, True),
                        (ConsentKind.PUBLICITY, publicity_consent),
                        (ConsentKind.LOCATION, location_consent),
                        *([(ConsentKind.GUARDIAN, True)] if volunteer.guardian_name else []),
                    )
                ]
            )
            audit.record("registry.volunteer.register", actor=user, obj=volunteer, detail={"via": via})
            events.emit("registry.volunteer.registered", id=volunteer.pk, region_code=volunteer.region_code)
    except IntegrityError as exc:  # two registrations of one ID number racing: the constraint decides
        raise DuplicateVolunteer({"id_number": [DUPLICATE_MESSAGE]}) from exc
    return volunteer


def update_volunteer(
    actor: Any, volunteer: Volunteer, raw: dict[str, Any], today: date | None = None
) -> Volunteer:
    """Change contact, home and veteran details. The ID number (and so birth date and gender) is fixed."""
    require_object(actor, Action.CHANGE, volunteer, what="registry.volunteer.update")
    today = today or timezone.localdate()
    merged = {
        "id_number": volunteer.id_number,
        "home_region": volunteer.home_region_id,
        "name": volunteer.name,
        "phone": volunteer.phone,
        **raw,
    }
    data, errors = clean_volunteer(merged, today, home_regions_for([str(merged.get("home_region") or "")]))
    if errors:
        raise ValidationError(errors)
    if data["home_region_id"] != volunteer.home_region_id:
        require(actor, Action.CHANGE_PEOPLE, data["home_region_id"], what="registry.volunteer.move")
    changes = {k: data[k] for k in VOLUNTEER_FIELDS if getattr(volunteer, k) != data[k]}
    if not changes:
        return volunteer
    previous_region_code = volunteer.region_code  # in the event, so statistics move the volunteer's figures
    for key, value in changes.items():
        setattr(volunteer, key, value)
    fields = [*changes, "updated_at"]
    if "home_region_id" in changes:
        volunteer.region_code = data["home_region_id"]
        fields.append("region_code")
    with transaction.atomic():
        volunteer.save(update_fields=fields)
        if "home_region_id" in changes:
            VolunteerSkill.objects.filter(volunteer=volunteer).update(region_code=volunteer.region_code)
            Certificate.objects.filter(volunteer=volunteer).update(region_code=volunteer.region_code)
        audit.record(
            "registry.volunteer.update",
            actor=actor,
            obj=volunteer,
            detail={"fields": sorted(k.removesuffix("_id") for k in changes if not k.endswith("_hash"))},
        )
        events.emit(
            "registry.volunteer.updated",
            id=volunteer.pk,
            region_code=volunteer.region_code,
            previous_region_code=previous_region_code,
        )
    return volunteer


def change_status(actor: Any, volunteer: Volunteer, to_status: str, reason: str = "") -> Volunteer:
    """Move along the lifecycle (verify, suspend, reinstate, leave); suspensions and leaving need a reason."""
    require(actor, Action.CHANGE_PEOPLE, volunteer.region_code, what="registry.volunteer.status")
    reason = reason.strip()[:200]
    key = (volunteer.status, to_status)
    if key not in TRANSITIONS:
        raise ValidationError(
            {
                "status": [
                    f"不能从“{volunteer.get_status_display()}”变更为“{VolunteerStatus(to_status).label}”"
                ]
            }
        )
    if TRANSITIONS[key] and not reason:
        raise ValidationError({"reason": ["请填写原因"]})
    with transaction.atomic():
        updated = Volunteer.objects.filter(pk=volunteer.pk, status=volunteer.status).update(
            status=to_status, status_reason=reason, updated_at=timezone.now()
        )
        if updated != 1:
            raise ValidationError({"status": ["该志愿者状态刚被他人修改，请刷新后重试"]})
        StatusChange.objects.create(
            volunteer=volunteer, from_status=volunteer.status, to_status=to_status, reason=reason, by=actor
        )
        audit.record(
            "registry.volunteer.status",
            actor=actor,
            obj=volunteer,
            detail={"from": volunteer.status, "to": to_status, "reason": reason},
        )
        events.emit("registry.volunteer.status_changed", id=volunteer.pk, status=to_status)
    volunteer.status, volunteer.status_reason = to_status, reason
    return volunteer


def set_skills(actor: Any, volunteer: Volunteer, skills: dict[str, int]) -> None:
    """Replace the volunteer's skills with `{skill code: level}`."""
    require_object(actor, Action.CHANGE, volunteer, what="registry.volunteer.skills")
    known = {s.code: s for s in Skill.objects.filter(code__in=list(skills), is_active=True)}
    unknown = sorted(set(skills) - set(known))
    if unknown:
        raise ValidationError({"skills": [f"未知技能：{'、'.join(unknown)}"]})
    if any(level not in (1, 2, 3) for level in skills.values()):
        raise ValidationError({"skills": ["技能水平应为 1（初级）、2（熟练）或 3（专家）"]})
    with transaction.atomic():
        VolunteerSkill.objects.filter(volunteer=volunteer).delete()
        VolunteerSkill.objects.bulk_create(
            [
                VolunteerSkill(
                    volunteer=volunteer, skill=known[c], level=lvl, region_code=volunteer.region_code
                )
                for c, lvl in sorted(skills.items())
            ]
        )
        audit.record(
            "registry.volunteer.skills", actor=actor, obj=volunteer, detail={"skills": sorted(skills)}
        )
        events.emit("registry.volunteer.updated", id=volunteer.pk, region_code=volunteer.region_code)


def add_certificate(
    actor: Any,
    volunteer: Volunteer,
    type_code: str,
    *,
    issuer: str,
    number: str = "",
    issued_on: date | None = None,
    valid_until: date | None = None,
) -> Certificate:
    require_object(actor, Action.CHANGE, volunteer, what="registry.volunteer.certificate")
    ctype = CertificateType.objects.filter(code=type_code, is_active=True).first()
    errors: dict[str, list[str]] = {}
    if ctype is None:
        errors["type"] = ["未知证书类型"]
    if not issuer.strip():
        errors["issuer"] = ["请填写发证机构"]
    if ctype is not None and ctype.expires and valid_until is None:
        errors["valid_until"] = [f"{ctype.name}有有效期，请填写有效期至"]
    if issued_on and valid_until and valid_until < issued_on:
        errors["valid_until"] = ["有效期不能早于发证日期"]
    if errors or ctype is None:
        raise ValidationError(errors)
    with transaction.atomic():
        cert = Certificate.objects.create(
            volunteer=volunteer,
            type=ctype,
            issuer=issuer.strip()[:100],
            number=number.strip()[:50],
            issued_on=issued_on,
            valid_until=valid_until,
            region_code=volunteer.region_code,
        )
        audit.record("registry.volunteer.certificate", actor=actor, obj=volunteer, detail={"type": type_code})
    return cert


def set_consent(actor: Any, volunteer: Volunteer, kind: str, granted: bool) -> None:
    """Give or withdraw a consent; the volunteer's own account or staff of the region may record it."""
    require_object(actor, Action.CHANGE, volunteer, what="registry.volunteer.consent")
    flag = {ConsentKind.PUBLICITY: "publicity_consent", ConsentKind.LOCATION: "location_consent"}.get(
        ConsentKind(kind)
    )
    with transaction.atomic():
        Consent.objects.create(
            volunteer=volunteer, kind=kind, granted=granted, version=CONSENT_VERSION, recorded_by=actor
        )
        if flag:
            setattr(volunteer, flag, granted)
            volunteer.save(update_fields=[flag, "updated_at"])
        audit.record(
            "registry.volunteer.consent",
            actor=actor,
            obj=volunteer,
            detail={"kind": kind, "granted": granted},
        )


REVEALABLE = {"id_number", "phone", "address"}


def reveal(actor: Any, volunteer: Volunteer, field: str) -> str:
    """The full value of a masked identifier, for a viewer with the unmask right; every reveal is audited."""
    if field not in REVEALABLE:
        raise PermissionDenied(field)
    require(actor, Action.UNMASK, volunteer.region_code, what="registry.volunteer.unmask")
    audit.record("registry.volunteer.unmask", actor=actor, obj=volunteer, detail={"field": field})
    return str(getattr(volunteer, field))


def self_register(
    raw: dict[str, Any],
    *,
    password: str,
    skills: dict[str, int] | None = None,
    publicity_consent: bool = False,
    location_consent: bool = False,
) -> Volunteer:
    """A person registers on their phone: a pending record (staff verify it) and their own login, whose
    user name is the volunteer number. Everything is checked before anything is written."""
    from django.contrib.auth import get_user_model, password_validation

    User = get_user_model()
    today = timezone.localdate()
    data, errors = clean_volunteer(raw, today, home_regions_for([str(raw.get("home_region") or "")]))
    try:
        password_validation.validate_password(
            password, User(username="volunteer", first_name=data.get("name", ""))
        )
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        volunteer = register_volunteer(
            None,
            raw,
            via=RegisteredVia.SELF,
            publicity_consent=publicity_consent,
            location_consent=location_consent,
            today=today,
        )
        user = User(username=volunteer.number, display_name=volunteer.name)
        user.set_password(password)
        user.save(force_insert=True)
        Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
        volunteer.user = user
        audit.record(
            "accounts.user.create",
            actor=user,
            subject=user.get_username(),
            obj=volunteer,
            detail={"via": "self_register"},
        )
        if skills:
            set_skills(user, volunteer, skills)
    return volunteer
