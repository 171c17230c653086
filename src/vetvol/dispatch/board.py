"""Reads of the live board: who may watch which node, its initial state, per-district counters, the journal.

The board shows where volunteers are, so watching a node needs `view_people` there (`BoardEvent` maps its
view to that grant). Everything goes through `restrict()`; `subtree_q` narrows to the watched node.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.db.models.functions import Length
from django.utils import timezone

from vetvol.activities.models import Activity
from vetvol.activities.queries import in_progress, on_site
from vetvol.core.scoping import Action, get_for_user, subtree_q
from vetvol.dispatch.locations import live_max_age
from vetvol.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    BoardEvent,
    Incident,
    IncidentStatus,
    InvitationStatus,
    LocationSource,
    Need,
    VolunteerLocation,
)
from vetvol.dispatch.queries import incident_row
from vetvol.regions.models import Region

REPLAY_LIMIT = 500
RECENTLY_CLOSED = timedelta(hours=2)
COUNTER_LEVELS = ("province", "city", "county")
COUNTER_FIELDS = ("incidents", "responders", "activities", "attendees")


# -- who watches what ---------------------------------------------------------------------------------------
def home_region(user: Any) -> Region | None:
    """The widest node the user may watch (their first grant that covers people), or None."""
    return Region.objects.restrict(user, Action.VIEW_PEOPLE).order_by(Length("code"), "code").first()


def watchable(user: Any, code: str) -> Region:
    """The node `code` if the user may watch it; 404 otherwise (missing and not-yours alike)."""
    return get_for_user(Region.objects.all(), user, Action.VIEW_PEOPLE, code=code)


def may_watch(user: Any, code: str) -> bool:
    return Region.objects.restrict(user, Action.VIEW_PEOPLE).filter(code=code).exists()


def roots(user: Any) -> list[Region]:
    """The user's own top nodes, for the board's region switcher."""
    visible = Region.objects.restrict(user, Action.VIEW_PEOPLE)
    shortest = visible.order_by(Length("code"), "code").first()
    if shortest is None:
        return []
    tops = list(visible.filter(level=shortest.level).order_by("code")[:50])
    return tops


# -- incidents ---------------------------------------------------------------------------------------------
def _needs_by_incident(incident_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        Need.objects.filter(incident_id__in=incident_ids)
        .annotate(pending=Count("invitations", filter=Q(invitations__status=InvitationStatus.PENDING)))
        .order_by("incident_id", "id")
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for n in rows:
        out[n.incident_id].append(
            {"id": n.pk, "name": n.name, "count": n.count, "filled": n.filled, "pending": n.pending}
        )
    return out


def _summaries(incidents: list[Incident]) -> list[dict[str, Any]]:
    needs = _needs_by_incident([i.pk for i in incidents])
    out = []
    for incident in incidents:
        own = needs.get(incident.pk, [])
        out.append(
            {
                **incident_row(incident),
                "type_label": incident.get_type_display(),
                "status_label": incident.get_status_display(),
                "needs": own,
                "count": sum(n["count"] for n in own),
                "filled": sum(n["filled"] for n in own),
            }
        )
    return out


def incident_summary(incident_id: int) -> dict[str, Any] | None:
    """One incident with its fill state, as the board shows it (sent with every event about it)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    return _summaries([incident])[0] if incident else None


# -- counters ----------------------------------------------------------------------------------------------
def _raw_counts(now: Any, prefix: str | None = None) -> dict[str, list[int]]:
    """Counts by exact region code: open incidents, responders on duty, activities under way, volunteers
    checked in at them."""
    narrow = (lambda field: subtree_q(field, [prefix])) if prefix else (lambda field: Q())
    raw: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    queries = (
        Incident.objects.exclude(status=IncidentStatus.CLOSED)
        .filter(narrow("region_code"))
        .values_list("region_code"),
        Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT)
        .filter(narrow("region_code"))
        .values_list("region_code"),
        in_progress(now).filter(narrow("region_code")).values_list("region_code"),
        on_site(now).filter(narrow("activity__region_code")).values_list("activity__region_code"),
    )
    for index, qs in enumerate(queries):
        for code, n in qs.annotate(n=Count("pk")).order_by():
            raw[code][index] += n
    return raw


_children_cache: tuple[float, dict[str, list[tuple[str, str]]]] = (0.0, {})


def _children() -> dict[str, list[tuple[str, str]]]:
    """Children (code, name) of every province, city and county node; regions change rarely, so the map
    is kept for ten minutes."""
    global _children_cache
    stamp, cached = _children_cache
    if cached and time.monotonic() - stamp < 600:
        return cached
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, name, parent in (
        Region.objects.filter(parent__level__in=COUNTER_LEVELS)
        .order_by("code")
        .values_list("code", "name", "parent_id")
    ):
        children[parent].append((code, name))
    _children_cache = (time.monotonic(), dict(children))
    return _children_cache[1]


def _bucket(
    code: str, name: str, children: list[tuple[str, str]], raw: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """Raw counts summed per child of `code` (a row for the node itself when something sits right on it)."""
    by_child = {c: [0, 0, 0, 0] for c, _ in children}
    own = [0, 0, 0, 0]
    lengths = sorted({len(c) for c in by_child})
    for rc, counts in raw.items():
        if not rc.startswith(code):
            continue
        target = own
        for n in lengths:
            if rc[:n] in by_child:
                target = by_child[rc[:n]]
                break
        for i, v in enumerate(counts):
            target[i] += v
    rows = [
        {"code": c, "name": n, **dict(zip(COUNTER_FIELDS, by_child[c], strict=True))} for c, n in children
    ]
    if any(own):
        rows.insert(0, {"code": code, "name": name, **dict(zip(COUNTER_FIELDS, own, strict=True))})
    return rows


def counters(region: Region, now: Any = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    children = _children().get(region.code)
    if children is None:
        children = list(Region.objects.filter(parent=region).order_by("code").values_list("code", "name"))
    return _bucket(region.code, region.name, children, _raw_counts(now, region.code))


def all_counters(now: Any = None) -> dict[str, list[dict[str, Any]]]:
    """Counters of every province, city and county node, from one set of counting queries."""
    now = now or timezone.now()
    raw = _raw_counts(now)
    children = _children()
    names = dict(Region.objects.filter(level__in=COUNTER_LEVELS).values_list("code", "name"))
    return {code: _bucket(code, name, children.get(code, []), raw) for code, name in names.items()}


# -- the board's initial state -----------------------------------------------------------------------------
def positions(user: Any, region: Region, now: Any = None) -> list[dict[str, Any]]:
    """Volunteers on duty in the node with their latest shared position (fresh ones only)."""
    now = now or timezone.now()
    active = list(
        Assignment.objects.restrict(user, Action.VIEW)
        .filter(subtree_q("region_code", [region.code]), status__in=ACTIVE_ASSIGNMENT)
        .values_list("id", "volunteer_id", "incident_id", "status", "volunteer__number")[:5000]
    )
    live = {
        v: (lat, lng, at)
        for v, lat, lng, at in VolunteerLocation.objects.filter(
            source=LocationSource.LIVE,
            volunteer_id__in=[a[1] for a in active],
            updated_at__gte=now - live_max_age(),
        ).values_list("volunteer_id", "lat", "lng", "updated_at")
    }
    out = []
    for assignment_id, volunteer_id, incident_id, status, number in active:
        if volunteer_id in live:
            lat, lng, at = live[volunteer_id]
            out.append(
                {
                    "assignment_id": assignment_id,
                    "volunteer_id": volunteer_id,
                    "number": number,
                    "incident_id": incident_id,
                    "status": status,
                    "lat": lat,
                    "lng": lng,
                    "at": at.isoformat(),
                }
            )
    return out


def sites(user: Any, region: Region, now: Any = None) -> list[dict[str, Any]]:
    """Activities under way in the node, with how many volunteers are checked in."""
    now = now or timezone.now()
    rows = (
        Activity.objects.restrict(user, Action.VIEW)
        .filter(pk__in=in_progress(now).values("pk"))
        .filter(subtree_q("region_code", [region.code]), lat__isnull=False)
        .annotate(on_site=Count("attendances", filter=Q(attendances__checked_out_at=None)))
        .order_by("starts_at")
        .values("id", "title", "place_name", "lat", "lng", "region_code", "on_site", "capacity", "ends_at")[
            :1000
        ]
    )
    return [{**r, "ends_at": r["ends_at"].isoformat()} for r in rows]


def state(user: Any, region: Region, now: Any = None) -> dict[str, Any]:
    """Everything a board shows when it opens, and the journal position (`seq`) it continues from."""
    now = now or timezone.now()
    seq = BoardEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    incidents = list(
        Incident.objects.restrict(user, Action.VIEW)
        .filter(subtree_q("region_code", [region.code]))
        .filter(~Q(status=IncidentStatus.CLOSED) | Q(closed_at__gte=now - RECENTLY_CLOSED))
        .order_by("-opened_at")[:300]
    )
    return {
        "seq": seq,
        "at": now.isoformat(),
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "incidents": _summaries(incidents),
        "positions": positions(user, region, now),
        "sites": sites(user, region, now),
        "counters": counters(region, now),
    }


# -- the journal -------------------------------------------------------------------------------------------
def replay(user: Any, region: Region, since: int) -> tuple[list[dict[str, Any]], bool]:
    """Journal rows after `since` in the node, oldest first, and whether there were too many to replay
    (the board then reloads its state instead)."""
    rows = list(
        BoardEvent.objects.restrict(user, Action.VIEW)
        .filter(subtree_q("region_code", [region.code]), seq__gt=since)
        .order_by("seq")
        .values("seq", "name", "at", "payload", "incident_id")[: REPLAY_LIMIT + 1]
    )
    if len(rows) > REPLAY_LIMIT:
        return [], True
    return [
        {
            "type": "event",
            "seq": r["seq"],
            "name": r["name"],
            "at": r["at"].isoformat(),
            "incident_id": r["incident_id"],
            "data": r["payload"],
        }
        for r in rows
    ], False


def touched_incidents(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {e["incident_id"] for e in events if e.get("incident_id")}
    return _summaries(list(Incident.objects.filter(pk__in=ids)))


def timeline(incident: Incident) -> list[dict[str, Any]]:
    return [
        {"seq": r["seq"], "name": r["name"], "at": r["at"].isoformat(), "data": r["payload"]}
        for r in BoardEvent.objects.filter(incident_id=incident.pk)
        .order_by("seq")
        .values("seq", "name", "at", "payload")
    ]
