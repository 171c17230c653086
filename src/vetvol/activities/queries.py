"""Activities reads. Service hours are counted here and nowhere else.

A record counts when it is
- not superseded: no later correction references it (the correction is the record that counts instead);
- not rejected at any level;
- needs no approval (`required_level` empty), or has an approval at its required level or above.
Pending records (waiting for approval) do not count yet.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from vetvol.activities.models import (
    Activity,
    ActivityStatus,
    Attendance,
    HourApproval,
    HourRecord,
    SignUp,
    StarAward,
    StarRequest,
)
from vetvol.core.scoping import Action, get_for_user, subtree_q
from vetvol.registry.models import Volunteer


def counting_q() -> Q:
    """The condition that makes a record count (see the module docstring), for any HourRecord queryset."""
    superseded = HourRecord.objects.filter(corrects=OuterRef("pk"))
    rejected = HourApproval.objects.filter(record=OuterRef("pk"), approved=False)
    approved = HourApproval.objects.filter(
        record=OuterRef("pk"), approved=True, level__gte=OuterRef("required_level")
    )
    needs_none_or_has_it = Q(required_level__isnull=True) | Q(Exists(approved))
    return Q(~Exists(superseded)) & Q(~Exists(rejected)) & needs_none_or_has_it


def effective_records(
    volunteer: Volunteer | int, *, since: date | None = None, until: date | None = None
) -> QuerySet[HourRecord]:
    """The volunteer's records that count, by service date (optionally from `since` to `until`, inclusive)."""
    volunteer_id = volunteer if isinstance(volunteer, int) else volunteer.pk
    qs = HourRecord.objects.filter(volunteer_id=volunteer_id).filter(counting_q())
    if since is not None:
        qs = qs.filter(service_date__gte=since)
    if until is not None:
        qs = qs.filter(service_date__lte=until)
    return qs.order_by("service_date", "id")


def effective_minutes(
    volunteer: Volunteer | int, until: date | None = None, *, since: date | None = None
) -> int:
    """Total minutes that count for the volunteer, served on or before `until` (all of them by default)."""
    total = effective_records(volunteer, since=since, until=until).order_by().aggregate(total=Sum("minutes"))
    return int(total["total"] or 0)


def hours_label(minutes: int) -> str:
    """Minutes as hours for people to read, never rounded up: 6000 → "100", 5999 → "99.98", 90 → "1.5"."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    text = format(hours, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def get_activity_for_user(user: Any, pk: int, action: str = Action.VIEW) -> Activity:
    return get_for_user(Activity.objects.select_related("project"), user, action, pk=pk)


def volunteer_of(user: Any) -> Volunteer | None:
    """The volunteer record linked to a login, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(user_id=user.pk).select_related("home_region").first()


def open_activities(region_prefix: str = "", now: Any = None) -> QuerySet[Activity]:
    """Activities recruiting now (public information: time, place, seats, the project's risk statement)."""
    now = now or timezone.now()
    qs = Activity.objects.filter(
        status=ActivityStatus.SCHEDULED, signup_opens_at__lte=now, signup_closes_at__gte=now
    )
    if region_prefix:
        qs = qs.filter(subtree_q("region_code", [region_prefix]))
    return qs.select_related("project").order_by("starts_at")


def my_signups(volunteer: Volunteer) -> QuerySet[SignUp]:
    return (
        SignUp.objects.filter(volunteer=volunteer)
        .select_related("activity", "activity__project")
        .order_by("-activity__starts_at")
    )


def my_attendance(volunteer: Volunteer, activity: Activity) -> Attendance | None:
    return Attendance.objects.filter(volunteer=volunteer, activity=activity).first()


def my_hours(volunteer: Volunteer) -> QuerySet[HourRecord]:
    """Every record of the volunteer with its standing, newest first (the phone page's "my hours")."""
    approved = HourApproval.objects.filter(
        record=OuterRef("pk"), approved=True, level__gte=OuterRef("required_level")
    )
    rejected = HourApproval.objects.filter(record=OuterRef("pk"), approved=False)
    superseded = HourRecord.objects.filter(corrects=OuterRef("pk"))
    return (
        HourRecord.objects.filter(volunteer=volunteer)
        .annotate(
            is_approved=Exists(approved), is_rejected=Exists(rejected), is_superseded=Exists(superseded)
        )
        .select_related("activity")
        .order_by("-service_date", "-id")
    )


def in_progress(now: Any = None) -> QuerySet[Activity]:
    """Activities under way now (not cancelled): the live board's activity sites. Not scoped: callers
    narrow by region through the scoping primitive or publish per region group."""
    now = now or timezone.now()
    return Activity.objects.filter(starts_at__lte=now, ends_at__gt=now).exclude(
        status=ActivityStatus.CANCELLED
    )


def on_site(now: Any = None) -> QuerySet[Attendance]:
    """Volunteers checked in and not yet out at activities under way now."""
    now = now or timezone.now()
    return Attendance.objects.filter(checked_out_at=None, activity__in=in_progress(now).values("pk"))


# Star requests --------------------------------------------------------------------------------------------


def pending_star_requests() -> QuerySet[StarRequest]:
    """Requests waiting for a decision: not rejected, not awarded in their attempt, and not overtaken by a
    standing award of the same level or higher (a 1-star request left over once 3 stars were awarded)."""
    awarded = StarAward.objects.filter(
        volunteer=OuterRef("volunteer"), stars=OuterRef("stars"), attempt=OuterRef("attempt")
    )
    overtaken = StarAward.objects.filter(
        volunteer=OuterRef("volunteer"), stars__gte=OuterRef("stars"), revocation__isnull=True
    )
    return StarRequest.objects.filter(rejection__isnull=True).filter(~Exists(awarded), ~Exists(overtaken))


def _decidable(user: Any) -> QuerySet[StarRequest]:
    """Pending requests at a level the user's grants cover (region scope itself comes from `restrict`)."""
    from vetvol.activities.stars import approvable_q
    from vetvol.core.scoping import allowed_prefixes

    return pending_star_requests().filter(approvable_q(allowed_prefixes(user, Action.CHANGE)))


def star_requests_to_decide(user: Any) -> QuerySet[StarRequest]:
    """The approver's list, oldest first. Their own stars and the requests they made are left out: nobody
    decides those (the actions refuse them, audited, if tried anyway)."""
    return (
        _decidable(user)
        .restrict(user, Action.CHANGE)  # type: ignore[attr-defined]
        .exclude(volunteer__user_id=user.pk)
        .exclude(requested_by_id=user.pk)
        .select_related("volunteer", "volunteer__home_region", "requested_by")
        .order_by("requested_at", "id")
    )


def get_star_request_for_decision(user: Any, pk: int) -> StarRequest:
    """A request the user's grants let them decide now; 404 for anything else (another region, a level
    above them, already decided)."""
    return get_for_user(_decidable(user).select_related("volunteer"), user, Action.CHANGE, pk=pk)
