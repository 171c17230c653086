"""Region endpoints: the tree as the caller may see it, and the service centres and liaison points on it."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from vetvol.core.scoping import Action
from vetvol.regions import actions, queries
from vetvol.regions.models import Region

router = Router(tags=["regions"])
Code = Annotated[str, StringConstraints(pattern=r"^\d{2,12}$")]


class RegionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent_code: str | None = Field(None, alias="parent_id")
    lng: float | None
    lat: float | None


class LiaisonPointOut(Schema):
    id: int
    name: str
    room: str
    is_active: bool
    region_code: str


class ServiceCentreOut(Schema):
    id: int
    kind: str
    name: str
    address: str
    phone: str
    opening_hours: str
    region_code: str


class ChildOut(Schema):
    region: RegionOut
    descendants: int
    has_centre: bool
    liaison_points: int


class RegionDetailOut(Schema):
    region: RegionOut
    level_counts: dict[str, int]
    children: list[ChildOut]
    centre: ServiceCentreOut | None
    liaison_points: list[LiaisonPointOut]
    centres_in_subtree: int
    liaison_points_in_subtree: int


class ServiceCentreIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    opening_hours: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


class ServiceCentrePatch(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    opening_hours: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


class LiaisonPointIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    room: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    is_active: bool = True


class LiaisonPointPatch(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    room: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    is_active: bool | None = None


@router.get("/", response=list[RegionOut], summary="Top-most regions the caller may see")
def list_roots(request: HttpRequest) -> list[Region]:
    return queries.root_regions(request.user)


@router.get("/search", response=list[RegionOut], summary="Regions in scope by name or code prefix")
def search(
    request: HttpRequest, q: Annotated[str, StringConstraints(min_length=1, max_length=30)]
) -> list[Region]:
    return queries.search_regions(request.user, q)


@router.get("/{code}", response=RegionDetailOut, summary="A region node with its children and counts")
def detail(request: HttpRequest, code: Code) -> queries.RegionPage:
    return queries.region_page(request.user, code)


@router.put(
    "/{code}/centre", response=ServiceCentreOut, summary="Create or replace the node's centre/station"
)
def put_centre(request: HttpRequest, code: Code, payload: ServiceCentreIn):  # type: ignore[no-untyped-def]
    region = queries.get_region_for_user(request.user, code, Action.CHANGE)
    centre = getattr(region, "service_centre", None)
    if centre is None:
        return actions.create_service_centre(request.user, region, **payload.dict())
    return actions.update_service_centre(request.user, centre, **payload.dict())


@router.patch(
    "/centres/{centre_id}", response=ServiceCentreOut, summary="Change some fields of a centre/station"
)
def patch_centre(request: HttpRequest, centre_id: int, payload: ServiceCentrePatch):  # type: ignore[no-untyped-def]
    centre = queries.get_service_centre_for_user(request.user, centre_id, Action.CHANGE)
    return actions.update_service_centre(request.user, centre, **payload.dict(exclude_none=True))


@router.post("/{code}/liaison-points", response={201: LiaisonPointOut}, summary="Add a liaison point")
def add_liaison_point(request: HttpRequest, code: Code, payload: LiaisonPointIn):  # type: ignore[no-untyped-def]
    region = queries.get_region_for_user(request.user, code, Action.CHANGE)
    centre = getattr(region, "service_centre", None)
    if centre is None:
        raise ValidationError({"code": gettext("该区划尚未设立服务中心（站），请先创建")})
    return Status(201, actions.create_liaison_point(request.user, centre, **payload.dict()))


@router.patch("/liaison-points/{point_id}", response=LiaisonPointOut, summary="Change a liaison point")
def patch_liaison_point(request: HttpRequest, point_id: int, payload: LiaisonPointPatch):  # type: ignore[no-untyped-def]
    point = queries.get_liaison_point_for_user(request.user, point_id, Action.CHANGE)
    return actions.update_liaison_point(request.user, point, **payload.dict(exclude_none=True))
