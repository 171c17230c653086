"""The demo province's care work: service recipients in the communities where the teams live, open cases
from life events (some past their limits), party-member pairings with visits logged and some missed, a
running holiday campaign assigned to nearby volunteers and partly done, and help requests in each state.

Built through the care actions (recipients through the Excel import's engine), so it is audited like real
use; only the dates are moved back afterwards, to give the demo a history. Deterministic from the seed;
running it again adds nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from vetvol.care import actions
from vetvol.care.actions.imports import check_recipient_rows, write_recipient_rows
from vetvol.care.models import (
    Case,
    HelpCategory,
    Need,
    Pairing,
    Recipient,
    RecipientCategory,
)
from vetvol.core.idcard import generate_id_number
from vetvol.demo import names
from vetvol.regions.models import Region
from vetvol.registry.models import Volunteer

CATEGORY_WEIGHTS = [
    (RecipientCategory.VETERAN, 55),
    (RecipientCategory.VETERAN_FAMILY, 12),
    (RecipientCategory.MARTYR_FAMILY, 6),
    (RecipientCategory.DISABLED_VETERAN, 8),
    (RecipientCategory.SERVING_FAMILY, 10),
    (RecipientCategory.DECEASED_FAMILY, 4),
    (RecipientCategory.OTHER_ENTITLED, 5),
]
HEALTH = ["高血压，需按时服药", "糖尿病，行动不便", "腿部旧伤，上下楼困难", "身体状况良好", "轻度听力障碍"]
HARDSHIP = ["", "", "独居，子女在外地", "家庭收入较低", "配偶长期患病"]
EVENTS = [
    ("holiday", 3, "节日走访，了解近况"),
    ("illness", 1, "突发疾病住院治疗"),
    ("hardship", 2, "家庭经济困难，需要帮扶"),
    ("disaster", 1, "台风导致房屋漏水受损"),
    ("emotional", 2, "老伴去世后情绪低落"),
    ("employment", 3, "退役后求职不顺"),
    ("rights", 2, "优待政策落实问题咨询"),
    ("merit", 3, "子女在部队荣立三等功"),
    ("death", 1, "家属病故，需慰问协助"),
    ("enlist_discharge", 3, "家中子女光荣入伍"),
]


def build(
    actor: Any, *, seed: int, recipients: int = 3000, cities: list[str] | None = None
) -> dict[str, int]:
    """Create the care demo; returns counts (all zero when it exists already)."""
    if Recipient.objects.exists():
        return {}
    rng = random.Random(seed + 10)
    today = timezone.localdate()
    towns = _towns_with_party_members(cities)
    if not towns:
        return {}
    villages: dict[str, list[str]] = {}
    for code in Region.objects.filter(level="village", parent_id__in=list(towns)).values_list(
        "code", flat=True
    ):
        villages.setdefault(code[:9], []).append(code)
    town_list = sorted(towns)
    for town in town_list:  # a tree loaded without communities: the household is placed on its street
        villages.setdefault(town, [town])
    raws = []
    for i in range(recipients):
        town = town_list[i % len(town_list)] if i < len(town_list) else rng.choice(town_list)
        raws.append((i + 2, _raw(rng, i, rng.choice(villages[town]), today)))
    report, checked = check_recipient_rows(actor, raws, "demo-care")
    write_recipient_rows(actor, checked, report, batch="demo-care")
    people = list(Recipient.objects.order_by("id"))
    counts = {"recipients": len(people)}
    counts["pairings"] = _pairings(actor, rng, people, towns, today)
    counts["cases"] = _cases(actor, rng, people, today)
    counts["campaign_tasks"] = _campaign(actor, rng, today)
    counts["help_requests"] = _help(actor, rng, people, today)
    return counts


def _towns_with_party_members(cities: list[str] | None) -> dict[str, list[int]]:
    qs = Volunteer.objects.filter(status="active", is_party_member=True, lat__isnull=False)
    towns: dict[str, list[int]] = {}
    for pk, code in qs.values_list("pk", "region_code").order_by("pk"):
        if not cities or code[:4] in cities:
            towns.setdefault(code[:9], []).append(pk)
    return towns


def _raw(rng: random.Random, i: int, village: str, today: date) -> dict[str, Any]:
    gender = "M" if rng.random() < 0.85 else "F"
    birth = date(rng.randint(1932, 1990), rng.randint(1, 12), rng.randint(1, 28))
    category = rng.choices([c for c, _ in CATEGORY_WEIGHTS], [w for _, w in CATEGORY_WEIGHTS])[0]
    needs = rng.sample(list(Need.values), rng.randint(0, 2))
    return {
        "name": names.person_name(rng, gender, birth.year),
        "id_number": generate_id_number(village[:6], birth, i % 1000, gender),
        "category": category,
        "region": village,
        "phone": f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        "address": names.address(rng, "")
        + f"{rng.randint(1, 30)} 栋 {rng.randint(1, 30)}0{rng.randint(1, 4)}",
        "household_size": rng.randint(1, 6),
        "lives_alone": rng.random() < 0.15,
        "needs": needs,
        "health_notes": rng.choice(HEALTH),
        "hardship_notes": rng.choice(HARDSHIP),
        "has_honour_plaque": rng.random() < 0.6,
        "service_consent": True,
    }


def _pairings(
    actor: Any, rng: random.Random, people: list[Recipient], towns: dict[str, list[int]], today: date
) -> int:
    wanted = max(1, len(people) // 6)
    free = {town: list(pks) for town, pks in towns.items()}
    volunteers = Volunteer.objects.in_bulk([pk for pks in towns.values() for pk in pks])
    made = 0
    for recipient in rng.sample(people, min(wanted, len(people))):
        pool = free.get(recipient.region_code[:9]) or []
        if not pool:
            continue
        volunteer = volunteers[pool.pop(rng.randrange(len(pool)))]
        started = today - timedelta(days=rng.randint(60, 400))
        pairing = actions.create_pairing(actor, volunteer, recipient, frequency_days=30, started_on=started)
        made += 1
        roll = rng.random()
        if roll < 0.7:  # visits kept up
            visited = today - timedelta(days=rng.randint(1, 25))
            actions.log_pairing_visit(
                actor,
                pairing,
                visited_on=visited,
                mode=rng.choice(["home", "home", "phone"]),
                minutes=60,
                summary="了解近况，帮助打扫卫生，送去生活用品",
            )
        else:  # the last visit was too long ago: shows up as missed
            Pairing.objects.filter(pk=pairing.pk).update(
                last_visit_on=today - timedelta(days=50), next_visit_due=today - timedelta(days=20)
            )
    return made


def _cases(actor: Any, rng: random.Random, people: list[Recipient], today: date) -> int:
    made = 0
    for recipient in rng.sample(people, min(300, len(people))):
        event_type, level, text = rng.choice(EVENTS)
        occurred = today - timedelta(days=min(rng.randint(0, 30), rng.randint(0, 30)))
        case = actions.record_life_event(
            actor, recipient, event_type=event_type, level=level, occurred_on=occurred, description=text
        )
        made += 1
        age = timedelta(days=(today - occurred).days)
        Case.objects.filter(pk=case.pk).update(
            opened_at=case.opened_at - age,
            first_contact_due=case.first_contact_due - age,
            deadline=case.deadline - age,
        )
        case.tasks.update(due_at=F("due_at") - age)
        roll = rng.random()
        case.refresh_from_db()
        if roll < 0.75:
            actions.log_case_visit(
                actor, case, volunteer=None, visited_on=occurred, mode="home", summary="上门了解情况"
            )
        if roll < 0.2:
            actions.close_case(actor, case, outcome=rng.choice(["resolved", "improved", "referred"]))
    return made


def _campaign(actor: Any, rng: random.Random, today: date) -> int:
    campaign = actions.create_campaign(
        actor,
        name=f"{today.year + 1}年元旦春节走访慰问",
        kind="spring_festival",
        region_code="44",
        categories=list(RecipientCategory.values),
        starts_on=today - timedelta(days=5),
        ends_on=today + timedelta(days=75),
        max_visits_per_volunteer=5,
    )
    actions.assign_campaign(actor, campaign)
    tasks = list(
        campaign.tasks.filter(status="assigned").select_related("recipient", "volunteer", "campaign")
    )
    for task in rng.sample(tasks, len(tasks) // 3):
        actions.log_campaign_visit(
            actor,
            task,
            visited_on=today - timedelta(days=rng.randint(0, 4)),
            mode="home",
            minutes=45,
            summary="送去慰问金和春联，了解生活情况",
        )
    return campaign.tasks.count()


def _help(actor: Any, rng: random.Random, people: list[Recipient], today: date) -> int:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    made = 0
    for i, recipient in enumerate(rng.sample(people, min(24, len(people)))):
        category = list(HelpCategory.values)[i % len(HelpCategory.values)]
        request = actions.submit_help_request(
            actor,
            recipient,
            category=category,
            description="需要志愿者上门协助" + HelpCategory(category).label,
            wanted_from=now + timedelta(days=1 + i % 5),
            wanted_until=now + timedelta(days=1 + i % 5, hours=3),
        )
        made += 1
        stage = i % 4  # submitted, verified, inviting, accepted
        if stage >= 1:
            actions.verify_help_request(actor, request, approved=True)
        if stage >= 2:
            try:
                invitations = actions.invite_volunteers(actor, request)
            except ValidationError:  # nobody near enough: it stays verified, as it would in real life
                continue
            answering = [inv for inv in invitations if inv.volunteer.user_id]
            if stage == 3 and answering:
                actions.accept_help(answering[0].volunteer.user, answering[0])
    return made
