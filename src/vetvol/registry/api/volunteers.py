"""Volunteer endpoints: register, read (masked), reveal (audited), update, lifecycle, skills, certificates,
talent search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.registry import actions, queries
from vetvol.registry.models import Volunteer

router = Router(tags=["volunteers"])
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class VolunteerIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
    home_region: Annotated[str, StringConstraints(pattern=r"^\d{9}(\d{3})?$")]
    address: Text = ""
    lng: float | None = Field(None, ge=109, le=118)
    lat: float | None = Field(None, ge=20, le=26)
    is_veteran: bool = True
    service_branch: str = ""
    enlistment_year: int | None = None
    discharge_year: int | None = None
    is_retired_cadre: bool = False
    is_party_member: bool = False
    guardian_name: Text = ""
    publicity_consent: bool = False
    location_consent: bool = False


class VolunteerPatch(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)] | None = None
    home_region: Annotated[str, StringConstraints(pattern=r"^\d{9}(\d{3})?$")] | None = None
    address: Text | None = None
    service_branch: str | None = None
    enlistment_year: int | None = None
    discharge_year: int | None = None
    is_retired_cadre: bool | None = None
    is_party_member: bool | None = None


class SkillOut(Schema):
    code: str
    name: str
    level: int


class VolunteerOut(Schema):
    id: int
    number: str
    name: str
    id_number: str
    phone: str
    address: str
    gender: str
    birth_year: int
    home_region: str
    home_region_name: str
    status: str
    is_veteran: bool
    service_branch: str
    enlistment_year: int | None
    discharge_year: int | None
    is_retired_cadre: bool
    is_party_member: bool
    publicity_consent: bool
    location_consent: bool
    skills: list[SkillOut]
    can_reveal: bool


class RevealIn(Schema):
    field: Literal["id_number", "phone", "address"]


class RevealOut(Schema):
    field: str
    value: str


class StatusIn(Schema):
    status: Annotated[str, StringConstraints(pattern=r"^(active|suspended|left)$")]
    reason: Text = ""


class SkillsIn(Schema):
    skills: dict[str, Annotated[int, Field(ge=1, le=3)]]


class CertificateIn(Schema):
    type: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    issuer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    issued_on: date | None = None
    valid_until: date | None = None


class SearchParams(Schema):
    region: Annotated[str, StringConstraints(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})?$")] = ""
    # codes as the page filter takes them (filters.SLUG_RE): anything else is a 422, never a query
    skill: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]] = Field(
        default_factory=list, max_length=10
    )
    min_level: int = Field(1, ge=1, le=3)
    certificate: Annotated[str, StringConstraints(pattern=r"^([a-z0-9_-]{1,40})?$")] = ""
    valid_on: date | None = None
    available: int = Field(0, ge=0, le=(1 << 21) - 1)
    party_member: bool | None = None
    team: int | None = None
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    discharge_from: int | None = None
    discharge_to: int | None = None
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=50, pattern=r"^[^\x00-\x1f]*$")
    ] = ""
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class SearchOut(Schema):
    results: list[VolunteerOut]
    has_more: bool


def present(user: Any, volunteer: Volunteer) -> dict[str, Any]:
    """The API's view of a volunteer: identifiers always masked (with the one masking pattern); the full
    value is one audited reveal away for those who may unmask in that region (`can_reveal`)."""
    return {
        "id": volunteer.pk,
        "number": volunteer.number,
        "name": volunteer.name,
        "id_number": mask(volunteer.id_number, "id_number"),
        "phone": mask(volunteer.phone, "phone"),
        "address": mask(volunteer.address, "address"),
        "gender": volunteer.gender,
        "birth_year": volunteer.birth_date.year,
        "home_region": volunteer.home_region_id,
        "home_region_name": volunteer.home_region.name,
        "status": volunteer.status,
        "is_veteran": volunteer.is_veteran,
        "service_branch": volunteer.service_branch,
        "enlistment_year": volunteer.enlistment_year,
        "discharge_year": volunteer.discharge_year,
        "is_retired_cadre": volunteer.is_retired_cadre,
        "is_party_member": volunteer.is_party_member,
        "publicity_consent": volunteer.publicity_consent,
        "location_consent": volunteer.location_consent,
        "skills": [
            {"code": s.skill.code, "name": s.skill.name, "level": s.level} for s in volunteer.skills.all()
        ],
        "can_reveal": covers(allowed_prefixes(user, Action.UNMASK), volunteer.region_code),
    }


def _load(user: Any, pk: int, action: str = Action.VIEW) -> Volunteer:
    return queries.get_volunteer_for_user(user, pk, action)


@router.post("/", response={201: VolunteerOut}, summary="Register a volunteer (staff)")
def register(request: HttpRequest, payload: VolunteerIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    consents = {k: data.pop(k) for k in ("publicity_consent", "location_consent")}
    volunteer = actions.register_volunteer(request.user, data, **consents)
    return Status(201, present(request.user, _load(request.user, volunteer.pk)))


@router.get("/search", response=SearchOut, summary="Talent pool search (人才库)")
def search(request: HttpRequest, params: Query[SearchParams]):  # type: ignore[no-untyped-def]
    f = queries.TalentFilter(
        region=params.region,
        skills=params.skill,
        min_level=params.min_level,
        certificate=params.certificate,
        valid_on=params.valid_on,
        available=params.available,
        party_member=params.party_member,
        team=params.team,
        age_min=params.age_min,
        age_max=params.age_max,
        discharge_from=params.discharge_from,
        discharge_to=params.discharge_to,
        name=params.name,
    )
    rows = list(queries.talent_search(request.user, f)[params.offset : params.offset + params.limit + 1])
    return {
        "results": [present(request.user, v) for v in rows[: params.limit]],
        "has_more": len(rows) > params.limit,
    }


@router.get("/{volunteer_id}", response=VolunteerOut, summary="One volunteer, identifiers masked")
def detail(request: HttpRequest, volunteer_id: int):  # type: ignore[no-untyped-def]
    return present(request.user, _load(request.user, volunteer_id))


@router.post(
    "/{volunteer_id}/reveal", response=RevealOut, summary="The full value of one identifier (audited)"
)
def reveal(request: HttpRequest, volunteer_id: int, payload: RevealIn) -> dict:
    volunteer = _load(request.user, volunteer_id)
    return {"field": payload.field, "value": actions.reveal(request.user, volunteer, payload.field)}


@router.patch("/{volunteer_id}", response=VolunteerOut, summary="Change contact, home or veteran details")
def update(request: HttpRequest, volunteer_id: int, payload: VolunteerPatch):  # type: ignore[no-untyped-def]
    volunteer = _load(request.user, volunteer_id, Action.CHANGE)
    raw = payload.dict(exclude_unset=True)
    actions.update_volunteer(request.user, volunteer, raw)
    return present(request.user, _load(request.user, volunteer_id))


@router.post(
    "/{volunteer_id}/status", response=VolunteerOut, summary="Verify, suspend, reinstate or mark as left"
)
def status(request: HttpRequest, volunteer_id: int, payload: StatusIn):  # type: ignore[no-untyped-def]
    volunteer = _load(request.user, volunteer_id, Action.CHANGE)
    actions.change_status(request.user, volunteer, payload.status, payload.reason)
    return present(request.user, _load(request.user, volunteer_id))


@router.put("/{volunteer_id}/skills", response=VolunteerOut, summary="Replace the volunteer's skills")
def skills(request: HttpRequest, volunteer_id: int, payload: SkillsIn):  # type: ignore[no-untyped-def]
    volunteer = _load(request.user, volunteer_id, Action.CHANGE)
    actions.set_skills(request.user, volunteer, payload.skills)
    return present(request.user, _load(request.user, volunteer_id))


@router.post("/{volunteer_id}/certificates", response={201: dict}, summary="Add a certificate")
def certificates(request: HttpRequest, volunteer_id: int, payload: CertificateIn):  # type: ignore[no-untyped-def]
    volunteer = _load(request.user, volunteer_id, Action.CHANGE)
    cert = actions.add_certificate(
        request.user,
        volunteer,
        payload.type,
        issuer=payload.issuer,
        number=payload.number,
        issued_on=payload.issued_on,
        valid_until=payload.valid_until,
    )
    return Status(201, {"id": cert.pk, "type": payload.type, "valid_until": cert.valid_until})
