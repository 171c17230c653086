"""Reads of the region tree, always through the scoping primitive, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Substr

from vetvol.core.scoping import Action, allowed_prefixes, covers, get_for_user, minimal_prefixes, subtree_q
from vetvol.regions.models import LiaisonPoint, Region, RegionLevel, ServiceCentre

LEVEL_ORDER = [c.value for c in RegionLevel]


def get_region_for_user(user: Any, code: str, action: str = Action.VIEW) -> Region:
    """The region node `code` if `user` may see it; 404 for malformed, missing and not-yours alike."""
    return get_for_user(Region.objects.select_related("parent"), user, action, code=str(code))


def get_service_centre_for_user(user: Any, pk: int, action: str = Action.VIEW) -> ServiceCentre:
    return get_for_user(ServiceCentre.objects.select_related("region"), user, action, pk=pk)


def get_liaison_point_for_user(user: Any, pk: int, action: str = Action.VIEW) -> LiaisonPoint:
    return get_for_user(LiaisonPoint.objects.select_related("service_centre"), user, action, pk=pk)


def root_regions(user: Any) -> list[Region]:
    """The top-most nodes the user may see: the province for a superuser, else each grant's node."""
    prefixes = allowed_prefixes(user, Action.VIEW)
    if prefixes is None:
        return list(Region.objects.filter(parent__isnull=True))
    return list(Region.objects.filter(code__in=minimal_prefixes(prefixes)).select_related("parent"))


@dataclass
class ChildRow:
    region: Region
    descendants: int
    has_centre: bool
    liaison_points: int


@dataclass
class RegionPage:
    region: Region
    ancestors: list[Region]
    visible_ancestor_codes: set[str]
    level_counts: dict[str, int]
    children: list[ChildRow]
    centre: ServiceCentre | None
    liaison_points: list[LiaisonPoint]
    centres_in_subtree: int
    liaison_points_in_subtree: int
    can_change: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _group_counts(queryset: Any, field_name: str, length: int) -> dict[str, int]:
    rows = queryset.annotate(head=Substr(field_name, 1, length)).values("head").annotate(n=Count("pk"))
    return {r["head"]: r["n"] for r in rows}


def region_page(user: Any, code: str) -> RegionPage:
    """Everything the region page shows: the node, its ancestors, counts per level, its children with their
    own counts, its centre or station and liaison points. At most ten queries whatever the node's size:
    subtree counts are grouped by the children's code prefix in one query per table."""
    region = get_region_for_user(user, code)
    ancestors = list(Region.objects.filter(code__in=region.ancestor_codes()))
    view_prefixes = allowed_prefixes(user, Action.VIEW)
    visible = {a.code for a in ancestors if covers(view_prefixes, a.code)}
    subtree = [region.code]
    below = Region.objects.filter(subtree_q("code", subtree)).exclude(code=region.code)
    level_counts = dict(below.values_list("level").annotate(n=Count("code")).values_list("level", "n"))
    children = list(region.children.order_by("code"))
    # Everything below a child starts with the child's code; the node's own rows group under its own code.
    head = len(children[0].code) if children else len(region.code)
    below_counts = _group_counts(below, "code", head)
    centre_counts = _group_counts(
        ServiceCentre.objects.filter(subtree_q("region_code", subtree)), "region_code", head
    )
    active_points = LiaisonPoint.objects.filter(subtree_q("region_code", subtree), is_active=True)
    point_counts = _group_counts(active_points, "region_code", head)
    centre = (
        ServiceCentre.objects.filter(region=region)
        .prefetch_related(Prefetch("liaison_points", queryset=LiaisonPoint.objects.filter(is_active=True)))
        .first()
    )
    return RegionPage(
        region=region,
        ancestors=ancestors,
        visible_ancestor_codes=visible,
        level_counts={lvl: level_counts[lvl] for lvl in LEVEL_ORDER if level_counts.get(lvl)},
        children=[
            ChildRow(c, below_counts.get(c.code, 1) - 1, c.code in centre_counts, point_counts.get(c.code, 0))
            for c in children
        ],
        centre=centre,
        liaison_points=list(centre.liaison_points.all()) if centre else [],
        centres_in_subtree=sum(centre_counts.values()),
        liaison_points_in_subtree=sum(point_counts.values()),
        can_change=covers(allowed_prefixes(user, Action.CHANGE), region.code),
    )


def search_regions(user: Any, text: str, limit: int = 20) -> list[Region]:
    """Nodes in the user's scope whose name contains `text` (or whose code starts with it)."""
    text = text.strip()
    if not text:
        return []
    matches = Q(code__startswith=text) if text.isdigit() else Q(name__contains=text)
    return list(
        Region.objects.restrict(user, Action.VIEW)
        .filter(matches)
        .select_related("parent")
        .order_by("code")[:limit]
    )
