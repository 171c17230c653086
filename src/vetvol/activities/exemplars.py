"""Model volunteers (先进典型): the figures candidates are ranked on, and the reads of nominations.

For a region and a period, each active volunteer living in the region's subtree has four figures:
- service hours served in the period that count (`activities.queries.counting_q`, by service date);
- stars: the highest standing (not revoked) star award, whenever it was made (`activities.stars`);
- dispatch missions done in the period (assignments finished, by the day they were accepted);
- care visits made in the period (`care.Visit`, by visit date: pairings, cases, campaigns, help requests).

A ranking orders by the figure asked for, then by the others in that order, then by volunteer number, and
lists only volunteers whose chosen figure is above zero. It is one query per page (the figures are
correlated subqueries, each an index range scan per volunteer), whatever the size of the region.

Who decides: the city (the first four digits of the volunteer's home) decides county- and city-level
honours, the province provincial ones. Nominations are made by admins whose grant sits at county level or
above; a station's staff do not nominate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, OuterRef, PositiveIntegerField, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from vetvol.activities.models import (
    Exemplar,
    ExemplarStatus,
    ExemplarTier,
    HourRecord,
    NameForm,
    StarAward,
)
from vetvol.activities.queries import counting_q
from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers, subtree_q
from vetvol.registry.models import Volunteer, VolunteerStatus

# The sort keys of a ranking and the annotation each one orders by, in tie-break order.
# (`care`, not `care_visits`: that name is the volunteer's relation to their visits.)
ORDERS = {
    "hours": ("minutes", "stars", "missions", "care"),
    "stars": ("stars", "minutes", "missions", "care"),
    "missions": ("missions", "minutes", "stars", "care"),
    "care": ("care", "minutes", "stars", "missions"),
}
NOMINATOR_CODE_LENGTH = 6  # a grant on a county-level node or above nominates
DECIDER_CODE_LENGTH = {ExemplarTier.COUNTY: 4, ExemplarTier.CITY: 4, ExemplarTier.PROVINCE: 2}


@dataclass(frozen=True)
class Figures:
    minutes: int
    stars: int
    missions: int
    care_visits: int


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _figure_subqueries(since: date, until: date) -> dict[str, Any]:
    """The four figures of the volunteer `OuterRef("pk")`, as annotations."""
    from vetvol.care.models import Visit
    from vetvol.dispatch.models import Assignment, AssignmentStatus

    def scalar(qs: QuerySet[Any], aggregate: Any) -> Coalesce:
        value = qs.order_by().values("volunteer_id").annotate(v=aggregate).values("v")
        return Coalesce(Subquery(value, output_field=PositiveIntegerField()), Value(0))

    hours = HourRecord.objects.filter(
        counting_q(), volunteer_id=OuterRef("pk"), service_date__gte=since, service_date__lte=until
    )
    stars = StarAward.objects.filter(volunteer_id=OuterRef("pk"), revocation__isnull=True)
    missions = Assignment.objects.filter(
        volunteer_id=OuterRef("pk"),
        status=AssignmentStatus.DONE,
        accepted_at__gte=_day_start(since),
        accepted_at__lt=_day_start(until + timedelta(days=1)),
    )
    visits = Visit.objects.filter(volunteer_id=OuterRef("pk"), visited_on__gte=since, visited_on__lte=until)
    return {
        "minutes": scalar(hours, Sum("minutes")),
        "stars": scalar(stars, Max("stars")),
        "missions": scalar(missions, Count("pk")),
        "care": scalar(visits, Count("pk")),
    }


def ranking(user: Any, region_code: str, since: date, until: date, order: str = "hours") -> QuerySet[Any]:
    """Active volunteers of the region's subtree that `user` may see, with their figures for the period,
    best first by `order` (see ORDERS). Rows are dicts: id, number, name, region_code and the figures."""
    keys = ORDERS[order]
    volunteers = (
        Volunteer.objects.restrict(user, Action.VIEW)
        .filter(subtree_q("region_code", [region_code]), status=VolunteerStatus.ACTIVE)
        .annotate(**_figure_subqueries(since, until))
        .filter(**{f"{keys[0]}__gt": 0})
    )
    return volunteers.values("id", "number", "name", "region_code", *ORDERS["hours"]).order_by(
        *(f"-{k}" for k in keys), "number"
    )


def figures_for(volunteer: Volunteer | int, since: date, until: date) -> Figures:
    """One volunteer's figures for the period (one query)."""
    volunteer_id = volunteer if isinstance(volunteer, int) else volunteer.pk
    row = (
        Volunteer.objects.filter(pk=volunteer_id)
        .annotate(**_figure_subqueries(since, until))
        .values(*ORDERS["hours"])
        .get()
    )
    return Figures(int(row["minutes"]), int(row["stars"]), int(row["missions"]), int(row["care"]))


# Who nominates and decides -------------------------------------------------------------------------------


def decider_code(region_code: str, tier: str) -> str:
    """The node whose staff decide a nomination of this tier for a volunteer living in `region_code`."""
    return region_code[: DECIDER_CODE_LENGTH[ExemplarTier(tier)]]


def nominating_prefixes(user: Any) -> list[str] | None:
    """The user's grants that may nominate: `change_people` at county level or above (None: everywhere)."""
    prefixes = allowed_prefixes(user, Action.CHANGE_PEOPLE)
    if prefixes is None:
        return None
    return [p for p in prefixes if len(p) <= NOMINATOR_CODE_LENGTH]


def may_nominate(user: Any, region_code: str | None = None) -> bool:
    """Whether the user nominates at all (the menu), or in `region_code`."""
    prefixes = nominating_prefixes(user)
    if region_code is None:
        return prefixes is None or bool(prefixes)
    return covers(prefixes, region_code)


def may_decide(user: Any, exemplar: Exemplar) -> bool:
    """Whether the user's grants cover the deciding node and they are neither the nominator nor the
    volunteer (the actions check the same and audit a refusal)."""
    if exemplar.status != ExemplarStatus.NOMINATED:
        return False
    if user.pk in (exemplar.nominated_by_id, exemplar.volunteer.user_id):
        return False
    return covers(allowed_prefixes(user, Action.CHANGE_PEOPLE), exemplar.approver_code)


# Reads of nominations ------------------------------------------------------------------------------------


def exemplars_for(user: Any, status: str = "") -> QuerySet[Exemplar]:
    """Nominations the user may see (of volunteers in their scope), newest first."""
    qs = Exemplar.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("volunteer", "volunteer__home_region", "nominated_by", "decided_by")


def to_decide_q(user: Any) -> Q:
    """Nominations waiting at a node the user's grants cover (their own nominations excluded)."""
    prefixes = allowed_prefixes(user, Action.CHANGE_PEOPLE)
    waiting = (
        Q(status=ExemplarStatus.NOMINATED) & ~Q(nominated_by_id=user.pk) & ~Q(volunteer__user_id=user.pk)
    )
    return waiting if prefixes is None else waiting & subtree_q("approver_code", prefixes)


def my_exemplars(volunteer: Volunteer) -> QuerySet[Exemplar]:
    return Exemplar.objects.filter(volunteer=volunteer).exclude(status=ExemplarStatus.REJECTED)


# What the portal may show --------------------------------------------------------------------------------


def published_q(prefix: str = "") -> Q:
    """Published: approved, the volunteer's consent to this publication in force, their general consent to
    publish their name and service (registry) not withdrawn, and still an active volunteer. Withdrawing
    either consent, or leaving, takes the entry off the portal at once (the next uncached request)."""
    q = Q(
        status=ExemplarStatus.APPROVED,
        consent_granted=True,
        volunteer__publicity_consent=True,
        volunteer__status=VolunteerStatus.ACTIVE,
    )
    return q & subtree_q("region_code", [prefix]) if prefix else q


def public_name(name: str, name_form: str) -> str:
    """The name as the volunteer agreed to show it."""
    return name if name_form == NameForm.FULL else mask(name, "name")
