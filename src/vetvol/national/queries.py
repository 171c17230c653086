"""Reads for the national-system page: who may export, where, and the batches already made."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vetvol.core.scoping import Action, allowed_prefixes, covers, get_for_user, minimal_prefixes
from vetvol.national.models import ExportBatch
from vetvol.regions.models import Region


def export_roots(user: Any) -> list[str] | None:
    """The region codes at whose subtree the user may export with ID numbers (export and unmask both), as
    few prefixes as possible; None for everywhere."""
    export = allowed_prefixes(user, Action.EXPORT)
    unmask = allowed_prefixes(user, Action.UNMASK)
    if export is None and unmask is None:
        return None
    both = [p for p in export or [] if covers(unmask, p)] + [p for p in unmask or [] if covers(export, p)]
    return minimal_prefixes(both)


def may_export(user: Any) -> bool:
    roots = export_roots(user)
    return roots is None or bool(roots)


def export_regions(user: Any) -> list[Region]:
    """The regions offered on the page: the user's export roots (the province for a superuser)."""
    roots = export_roots(user)
    if roots is None:
        return list(Region.objects.filter(level="province"))
    return list(Region.objects.filter(code__in=roots))


def get_region_for_export(user: Any, code: str) -> Region:
    """The region to export, or 404 when it is missing or outside the user's export grants."""
    return get_for_user(Region.objects.all(), user, Action.EXPORT, code=code)


def batches_for_user(user: Any) -> QuerySet[ExportBatch]:
    """Batches of the regions the user may export in, newest first."""
    return (
        ExportBatch.objects.restrict(user, Action.EXPORT)  # type: ignore[attr-defined]
        .select_related("region", "previous", "created_by")
        .order_by("-as_of", "-id")
    )
