"""Demo model volunteers (先进典型): in a few districts where volunteers served hours in the past year (see
`vetvol.demo.hours`), the best-ranked volunteers who agreed to have their name published are nominated (by
the system account), approved by the province admin (never the nominator) and published with their
consent recorded from a signed form, so the portal's page is not empty. Built through the activities
actions, deterministically from the seed; skipped when the database already holds nominations."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from vetvol.accounts.models import User
from vetvol.activities import actions
from vetvol.activities import exemplars as rules
from vetvol.activities.models import Exemplar, ExemplarCategory, HourRecord, NameForm
from vetvol.activities.queries import counting_q
from vetvol.demo.accounts import LOGIN_DISTRICTS
from vetvol.registry.models import Volunteer, VolunteerStatus

APPROVER = "gd_admin"  # the demo's province admin (seed_demo creates it before this step)
FEATURED = LOGIN_DISTRICTS  # Futian and Tianhe first: the demo's logins live there
PER_DISTRICT = 2
CITATIONS = {
    ExemplarCategory.SERVICE: "退役不褪色，常年在社区开展志愿服务，带动身边老兵参与公益活动。",
    ExemplarCategory.RESCUE: "多次参加防汛抢险和水上救援，冲锋在前，协助转移受困群众。",
    ExemplarCategory.CARE: "结对帮扶困难退役军人，定期上门探访，帮助解决就医和生活困难。",
    ExemplarCategory.LECTURE: "走进学校和社区宣讲革命传统和国防知识，听众逾万人次。",
}


def _picks(region_code: str, actor: Any, since: date, until: date, count: int) -> list[Volunteer]:
    """The best-ranked consenting volunteers of a district, else the first consenting ones."""
    chosen: list[int] = []
    for order in ("hours", "care", "missions"):
        for row in rules.ranking(actor, region_code, since, until, order)[:50]:
            if row["id"] not in chosen:
                chosen.append(row["id"])
    consenting = Volunteer.objects.within(region_code).filter(
        status=VolunteerStatus.ACTIVE,
        publicity_consent=True,
        user__isnull=True,
    )
    ranked = list(consenting.filter(pk__in=chosen))
    ranked.sort(key=lambda v: chosen.index(v.pk))
    if len(ranked) < count:
        ranked += list(consenting.exclude(pk__in=chosen).order_by("pk")[: count - len(ranked)])
    return ranked[:count]


def build(actor: Any, *, seed: int, districts: int = 6, cities: list[str] | None = None) -> int:
    """Nominate, approve and publish model volunteers in `districts` county-level divisions (the featured
    ones first, if built); returns how many were published."""
    if Exemplar.objects.exists():
        return 0
    approver = User.objects.filter(username=APPROVER).first()
    if approver is None or approver.pk == actor.pk:
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    since = today - timedelta(days=364)  # the past year, which the demo's hours cover on any day of it
    counties = sorted(
        {
            code[:6]
            for code in Volunteer.objects.filter(status=VolunteerStatus.ACTIVE, publicity_consent=True)
            .order_by()
            .values_list("region_code", flat=True)
            .distinct()
            if len(code) >= 6 and (not cities or code[:4] in cities)
        }
    )
    served = {
        code[:6]
        for code in HourRecord.objects.filter(counting_q(), service_date__gte=since)
        .order_by()
        .values_list("volunteer_region_code", flat=True)
        .distinct()
    }
    counties = [c for c in counties if c in served] or counties  # where people have hours to show
    chosen = [c for c in FEATURED if c in counties]
    rest = [c for c in counties if c not in chosen]
    chosen += rng.sample(rest, min(len(rest), max(0, districts - len(chosen))))
    published = 0
    categories = list(CITATIONS)
    for n, county in enumerate(chosen):
        for k, volunteer in enumerate(_picks(county, actor, since, today, PER_DISTRICT)):
            category = categories[(n + k) % len(categories)]
            exemplar = actions.nominate_exemplar(
                actor,
                volunteer,
                tier="city" if k == 0 else "county",
                category=category,
                year=today.year,
                citation=CITATIONS[category],
                since=since,
                until=today,
            )
            actions.approve_exemplar(approver, exemplar)
            name_form = NameForm.FULL if rng.random() < 0.5 else NameForm.MASKED
            actions.set_exemplar_consent(actor, exemplar, granted=True, name_form=name_form)
            published += 1
    return published
