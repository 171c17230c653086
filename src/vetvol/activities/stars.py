"""Star ratings (星级志愿者): which star level a volunteer has earned, and who approves it.

Levels (Shenzhen's rule, the default): 100 / 300 / 600 / 1000 / 1500 hours that count (see
`activities.queries`) for one to five stars, and a minimum time since registration (the volunteer record's
`created_at`): 6 months for one and two stars, one year for three and four, two years for five. The periods
come from the setting VETVOL_STAR_MIN_MONTHS ({stars: months}, merged over the default), read at each call.

Approval by region level: the county-level division of the volunteer's home for one and two stars, the city
for three and four, the province for five. Dongguan and Zhongshan have no county level; their city approves.
An award that was revoked no longer counts: the volunteer's stars are those of the awards still standing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from vetvol.activities.models import StarAward
from vetvol.activities.queries import effective_minutes
from vetvol.core.scoping import Action, allowed_prefixes, subtree_q
from vetvol.regions.models import Region
from vetvol.registry.models import Volunteer

LEVELS = (1, 2, 3, 4, 5)
THRESHOLD_MINUTES = {1: 100 * 60, 2: 300 * 60, 3: 600 * 60, 4: 1000 * 60, 5: 1500 * 60}
DEFAULT_MIN_MONTHS = {1: 6, 2: 6, 3: 12, 4: 12, 5: 24}
APPROVER_CODE_LENGTH = {1: 6, 2: 6, 3: 4, 4: 4, 5: 2}  # county, city, province


def min_registration_months() -> dict[int, int]:
    configured = getattr(settings, "VETVOL_STAR_MIN_MONTHS", None) or {}
    return {**DEFAULT_MIN_MONTHS, **{int(k): int(v) for k, v in configured.items()}}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day if it has none (31 August + 6 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def registered_on(volunteer: Volunteer) -> date:
    return timezone.localtime(volunteer.created_at).date()


def earliest_date(volunteer: Volunteer, stars: int) -> date:
    """The first day the registration period allows `stars`."""
    return add_months(registered_on(volunteer), min_registration_months()[stars])


def stars_for(minutes: int, registered: date, today: date) -> int:
    """The highest level whose hours and registration period are both met (0: none yet)."""
    months = min_registration_months()
    met = [
        s for s in LEVELS if minutes >= THRESHOLD_MINUTES[s] and today >= add_months(registered, months[s])
    ]
    return max(met, default=0)


def eligible_stars(volunteer: Volunteer, today: date | None = None) -> int:
    """The star level earned by `today`: hours served up to that day, and the registration period."""
    today = today or timezone.localdate()
    return stars_for(effective_minutes(volunteer, until=today), registered_on(volunteer), today)


def standing_awards(volunteer: Volunteer | int) -> QuerySet[StarAward]:
    """The volunteer's awards that have not been revoked."""
    volunteer_id = volunteer if isinstance(volunteer, int) else volunteer.pk
    return StarAward.objects.filter(volunteer_id=volunteer_id, revocation__isnull=True)


def awarded_stars(volunteer: Volunteer | int) -> int:
    """The highest star level awarded so far and not revoked (0: none)."""
    return standing_awards(volunteer).aggregate(top=Max("stars"))["top"] or 0


def approving_region(volunteer: Volunteer, stars: int) -> str:
    """The region node whose staff approve `stars` for this volunteer: county, city or province."""
    return approving_code(volunteer.region_code, stars)


def approving_code(region_code: str, stars: int) -> str:
    code = region_code[: APPROVER_CODE_LENGTH[stars]]
    if len(code) == 6 and not Region.objects.filter(code=code).exists():
        code = code[:4]  # a town directly under its city (Dongguan, Zhongshan)
    return code


def approvable_q(prefixes: Iterable[str] | None, field: str = "region_code") -> Q:
    """Star requests (or awards) whose approving level lies under one of `prefixes` (a user's grants;
    None: everywhere): a grant on a county covers 1–2 stars in its subtree, a city 1–4, the province all.

    A grant below the county level covers none. In Dongguan and Zhongshan, which have no county level, no
    grant sits on a 6-digit code, so their city's grant is the first that covers 1–2 stars: the same rule
    as `approving_region`, with no look-up per row."""
    if prefixes is None:
        return Q()
    q = Q(pk__in=[])
    for prefix in set(prefixes):
        covered = [s for s in LEVELS if len(prefix) <= APPROVER_CODE_LENGTH[s]]
        if covered:
            q |= subtree_q(field, [prefix]) & Q(stars__in=covered)
    return q


def may_decide(user: Any) -> bool:
    """Whether any of the user's grants allowing changes sits high enough to decide some star level (the
    approvers' page and its menu entry)."""
    prefixes = allowed_prefixes(user, Action.CHANGE)
    return prefixes is None or any(len(p) <= max(APPROVER_CODE_LENGTH.values()) for p in prefixes)


@dataclass(frozen=True)
class StarStatus:
    """What a volunteer's page says about stars: what they have, what they may ask for, what comes next."""

    awarded: int
    eligible: int
    minutes: int
    registered_on: date
    next_stars: int | None  # the next level above both awarded and eligible
    next_minutes: int | None  # hours (in minutes) still needed for it
    next_date: date | None  # the first day the registration period allows it

    @property
    def may_request(self) -> bool:
        return self.eligible > self.awarded


def star_status(volunteer: Volunteer, today: date | None = None) -> StarStatus:
    today = today or timezone.localdate()
    minutes = effective_minutes(volunteer, until=today)
    registered = registered_on(volunteer)
    awarded = awarded_stars(volunteer)
    eligible = stars_for(minutes, registered, today)
    nxt = max(awarded, eligible) + 1
    if nxt > LEVELS[-1]:
        return StarStatus(awarded, eligible, minutes, registered, None, None, None)
    return StarStatus(
        awarded,
        eligible,
        minutes,
        registered,
        nxt,
        max(0, THRESHOLD_MINUTES[nxt] - minutes),
        add_months(registered, min_registration_months()[nxt]),
    )
