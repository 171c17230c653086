"""Demo activities: projects of district service centres (the districts of the demo logins among them) with
a shift under way now (volunteers signed up and checked in, so the live board shows activity sites and
people on site) and shifts recruiting in the coming weeks; their past shifts and hours are
`vetvol.demo.hours`. Built through the activities actions, deterministically from the seed; skipped when
the database already holds activities."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.actions.attendance import ecard_token
from vetvol.activities.models import Activity, CheckMethod
from vetvol.demo.accounts import LOGIN_DISTRICTS
from vetvol.regions.models import Region, ServiceCentre
from vetvol.registry.models import Volunteer

# (domain, project name, description, risk statement, shift title, place)
PROJECTS = [
    (
        "spring_travel",
        "春运暖途志愿服务",
        "火车站、汽车站旅客引导与重点旅客帮扶",
        "人流密集，注意防踩踏、防走失",
        "车站旅客引导",
        "客运站",
    ),
    (
        "event_order",
        "大型活动秩序维护",
        "协助公安维护大型活动现场秩序",
        "人员密集，注意防踩踏和中暑",
        "活动现场秩序维护",
        "体育中心",
    ),
    (
        "holiday_visit",
        "节日走访慰问",
        "走访慰问困难退役军人和烈属",
        "入户走访注意交通安全",
        "入户走访慰问",
        "社区服务站",
    ),
    (
        "policy_lecture",
        "老兵宣讲团进校园",
        "向中小学生讲述革命传统和国防知识",
        "注意往返交通安全",
        "国防教育宣讲",
        "中学礼堂",
    ),
    (
        "free_clinic",
        "老兵义诊",
        "退役军医为社区居民义诊",
        "注意医疗操作规范和个人防护",
        "社区义诊",
        "社区卫生服务站",
    ),
    (
        "public_welfare",
        "河道清洁行动",
        "清理河道垃圾，宣传防溺水知识",
        "临水作业注意防溺水，须穿救生衣",
        "河道清洁",
        "河堤",
    ),
]


def _place(region: Region, rng: random.Random) -> tuple[float, float]:
    assert region.lat is not None and region.lng is not None
    return region.lat + rng.uniform(-0.03, 0.03), region.lng + rng.uniform(-0.03, 0.03)


def build(
    actor: Any,
    *,
    seed: int,
    districts: int = 30,
    cities: list[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Create demo projects and shifts in `districts` county-level divisions (of `cities`, if given); returns
    the shifts created."""
    if Activity.objects.exists():
        return 0
    rng = random.Random(seed)
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    counties = [
        c
        for c in Region.objects.filter(level="county", lat__isnull=False).order_by("code")
        if not cities or c.code[:4] in cities
    ]
    centres = {c.region_id: c for c in ServiceCentre.objects.filter(region__in=counties)}
    logins = [c for c in counties if c.code in LOGIN_DISTRICTS]
    others = [c for c in counties if c.code not in LOGIN_DISTRICTS]
    created = 0
    for county in logins + rng.sample(others, max(0, min(districts - len(logins), len(others)))):
        people = list(Volunteer.objects.within(county.code).filter(status="active").order_by("pk")[:60])
        centre = centres.get(county.code)
        if centre is None or len(people) < 5:
            continue
        domain, name, description, risk, title, place = rng.choice(PROJECTS)
        project = actions.create_project(
            actor,
            region=county,
            owner_centre=centre,
            name=f"{county.name}{name}",
            domain=domain,
            description=description,
            risk_statement=risk,
        )
        shifts = [
            (now - timedelta(hours=rng.randint(1, 3)), 4, True),  # under way: people check in
            (now + timedelta(days=rng.randint(2, 6), hours=rng.randint(0, 5)), 4, False),
            (now + timedelta(days=rng.randint(7, 20)), 3, False),
        ]
        for starts_at, hours, under_way in shifts:
            lat, lng = _place(county, rng)
            activity = actions.create_activity(
                actor,
                project,
                title=title,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours),
                place_name=f"{county.name}{place}",
                lat=lat,
                lng=lng,
                geofence_m=500,
                capacity=rng.choice([20, 30, 40]),
                signup_opens_at=now - timedelta(days=3),
                signup_closes_at=starts_at + timedelta(hours=hours),
            )
            created += 1
            for volunteer in rng.sample(people, rng.randint(5, min(25, len(people)))):
                try:
                    signup = actions.sign_up(actor, activity, volunteer)
                except ValidationError:
                    continue  # not eligible: as in real recruitment
                if under_way and signup.status == "confirmed" and rng.random() < 0.75:
                    actions.check_in(
                        actor,
                        activity,
                        method=CheckMethod.ORGANISER_SCAN,
                        ecard=ecard_token(volunteer),
                        at=starts_at + timedelta(minutes=rng.randint(0, 40)),
                    )
    return created
