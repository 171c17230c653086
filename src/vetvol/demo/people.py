"""The demo's volunteers: one seeded generator per person, so person `i` of seed `s` is always the same.

`person(seed, i, geo)` builds everything about one volunteer (name, ID number, phone, home, service record,
skills, certificates, availability, consent). `Population.plan` runs it over everyone once and keeps the
few facts the team plan needs in compact arrays (a million people fit in a few tens of megabytes), and
makes ID numbers unique: two people with the same county and birthday get different sequence numbers.
The writing pass runs `person` again, chunk by chunk, and turns each into an import row.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import random
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from vetvol.core.idcard import generate_id_number
from vetvol.demo import names
from vetvol.demo.geography import YONGHE, Geography

# The day the demo data describes: certificates are issued and people join teams up to it.
REFERENCE_DAY = date(2025, 6, 30)
TAXONOMY = json.loads(
    (Path(__file__).resolve().parents[1] / "registry" / "data" / "taxonomy.json").read_text(encoding="utf-8")
)
SKILLS: list[str] = [code for code, _name, _category in TAXONOMY["skills"]]
SKILL_CATEGORY: dict[str, str] = {code: category for code, _name, category in TAXONOMY["skills"]}
SKILL_BIT = {code: 1 << n for n, code in enumerate(SKILLS)}

_SKILL_WEIGHT = {
    "water_rescue": 6,
    "diving": 2,
    "boat_operation": 2,
    "swift_water": 1.5,
    "mountain_search": 3,
    "rope_rescue": 2,
    "firefighting": 3,
    "first_aid": 10,
    "emt": 2,
    "medical_doctor": 1,
    "nursing": 1.5,
    "tcm": 1.5,
    "counselling": 2,
    "legal_aid": 1.5,
    "policy_lecture": 4,
    "patriotic_education": 4,
    "tutoring": 2,
    "performance": 2.5,
    "calligraphy": 2,
    "photography": 2.5,
    "driving": 12,
    "heavy_vehicle": 3,
    "drone": 2,
    "electrician": 3,
    "communications": 3,
    "it": 2,
    "agriculture": 2,
    "crowd_control": 8,
    "traffic_guidance": 7,
    "patrol": 8,
    "elderly_care": 5,
    "home_visit": 6,
    "logistics": 6,
}
_SKILL_COUNT = [(0, 15), (1, 35), (2, 30), (3, 15), (4, 5)]
_LEVELS = [(1, 40), (2, 45), (3, 15)]

# Certificate types per skill: (type code, probability of holding it given the skill, years valid or None).
_CERTS: dict[str, list[tuple[str, float, int | None]]] = {
    "water_rescue": [("lifeguard", 0.5, 2)],
    "diving": [("diver", 0.7, 3)],
    "boat_operation": [("boat_licence", 0.7, 5)],
    "first_aid": [("first_aider", 0.45, 3)],
    "emt": [("emt", 0.8, 2)],
    "medical_doctor": [("doctor", 0.9, None)],
    "nursing": [("nurse", 0.9, 5)],
    "counselling": [("counsellor", 0.6, None)],
    "legal_aid": [("lawyer", 0.5, 1)],
    "electrician": [("electrician", 0.7, 6)],
    "driving": [("driving_c1", 0.85, 10)],
    "heavy_vehicle": [("driving_b2", 0.6, 6), ("driving_a1", 0.3, 6)],
    "drone": [("drone_pilot", 0.6, 2)],
    "mountain_search": [("rescuer", 0.5, 4)],
    "firefighting": [("fire_operator", 0.5, 5)],
    "policy_lecture": [("lecturer", 0.4, 2)],
    "performance": [("performer", 0.2, None)],
}
_ISSUERS = {
    "lifeguard": "广东省游泳协会",
    "diver": "中国潜水打捞行业协会",
    "boat_licence": "广东海事局",
    "first_aider": "{city}红十字会",
    "emt": "广东省急救医疗指挥中心",
    "doctor": "{city}卫生健康局",
    "nurse": "{city}卫生健康局",
    "counsellor": "人力资源和社会保障部职业技能鉴定中心",
    "lawyer": "广东省司法厅",
    "electrician": "广东省应急管理厅",
    "driving_c1": "{city}公安局交通警察支队",
    "driving_b2": "{city}公安局交通警察支队",
    "driving_a1": "{city}公安局交通警察支队",
    "drone_pilot": "中国民用航空局",
    "rescuer": "广东省应急管理厅",
    "fire_operator": "广东省消防救援总队",
    "lecturer": "{city}退役军人事务局",
    "performer": "广东省文化和旅游厅",
}
_PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
_BRANCHES = [
    ("army", 58),
    ("navy", 9),
    ("air_force", 9),
    ("armed_police", 14),
    ("rocket_force", 4),
    ("strategic_support", 2),
    ("other", 4),
]
_ENLIST_AGE = [(17, 15), (18, 35), (19, 25), (20, 12), (21, 8), (22, 5)]
_SERVICE_YEARS = [
    (2, 30),
    (3, 14),
    (4, 9),
    (5, 9),
    (6, 6),
    (7, 5),
    (8, 6),
    (9, 3),
    (10, 3),
    (11, 2),
    (12, 3),
    (13, 2),
    (14, 2),
    (15, 2),
    (16, 4),
]
FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR = 1945, 2003
FIRST_DISCHARGE, LAST_DISCHARGE = 1965, 2024


def _birth_weight(year: int) -> float:
    """Weighted to older veterans: most volunteers were born in the 1950s-1970s."""
    for upto, weight in ((1949, 1.5), (1959, 3.0), (1969, 4.5), (1979, 4.5), (1989, 3.5), (1999, 2.5)):
        if year <= upto:
            return weight
    return 1.2


class _Weighted:
    """Fast weighted choice over a fixed table."""

    def __init__(self, pairs: list[tuple[object, float]]) -> None:
        self.values = [v for v, _ in pairs]
        self.cumulative = list(itertools.accumulate(w for _, w in pairs))

    def pick(self, rng: random.Random) -> object:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


_BIRTH_YEARS = _Weighted([(y, _birth_weight(y)) for y in range(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1)])
_ENLIST = _Weighted(list(_ENLIST_AGE))
_SERVICE = _Weighted(list(_SERVICE_YEARS))
_BRANCH = _Weighted(list(_BRANCHES))
_SKILL_N = _Weighted(list(_SKILL_COUNT))
_LEVEL = _Weighted(list(_LEVELS))


@dataclass(slots=True)
class CertificatePlan:
    type_code: str
    issuer: str
    number: str
    issued_on: date
    valid_until: date | None


@dataclass(slots=True)
class Person:
    index: int
    town: int
    name: str
    gender: str
    birth: date
    id_number: str
    phone: str
    address: str
    lng: float
    lat: float
    is_veteran: bool
    service_branch: str
    enlistment_year: int | None
    discharge_year: int | None
    is_retired_cadre: bool
    is_party_member: bool
    availability: int
    publicity: bool
    skills: dict[str, int] = field(default_factory=dict)
    certificates: list[CertificatePlan] = field(default_factory=list)

    def row(self, geo: Geography) -> dict[str, object]:
        """The person as an import row (the columns an Excel import carries)."""
        return {
            "name": self.name,
            "id_number": self.id_number,
            "phone": self.phone,
            "home_region": geo.towns[self.town].code,
            "address": self.address,
            "lng": self.lng,
            "lat": self.lat,
            "is_veteran": self.is_veteran,
            "service_branch": self.service_branch,
            "enlistment_year": self.enlistment_year or "",
            "discharge_year": self.discharge_year or "",
            "is_retired_cadre": self.is_retired_cadre,
            "is_party_member": self.is_party_member,
            "availability": self.availability,
        }


def _service(rng: random.Random, birth_year: int) -> tuple[int, int]:
    """Enlistment at 17-22, two to sixteen years of service, discharged 1965-2024."""
    enlist = min(birth_year + int(_ENLIST.pick(rng)), LAST_DISCHARGE - 2)  # type: ignore[call-overload]
    longest = min(16, LAST_DISCHARGE - enlist)
    years = int(_SERVICE.pick(rng))  # type: ignore[call-overload]
    if years > longest:
        years = 2 + int(rng.random() * (longest - 1))
    return enlist, max(enlist + years, FIRST_DISCHARGE)


@functools.cache
def _skill_table(gender: str, older: bool, younger: bool, branch: str) -> list[float]:
    """Cumulative skill weights for one kind of person (a few dozen kinds in all)."""
    weights = []
    for code in SKILLS:
        w = float(_SKILL_WEIGHT[code])
        if branch == "navy" and code in {"water_rescue", "diving", "boat_operation", "swift_water"}:
            w *= 4
        if branch in {"rocket_force", "strategic_support"} and code in {"communications", "it", "drone"}:
            w *= 3
        if older and code in {"policy_lecture", "patriotic_education", "calligraphy", "home_visit"}:
            w *= 3
        if younger and SKILL_CATEGORY[code] == "rescue":
            w *= 1.5
        if gender == "F" and code in {"nursing", "performance", "elderly_care", "counselling", "tcm"}:
            w *= 2.5
        weights.append(w)
    return list(itertools.accumulate(weights))


def _skills(rng: random.Random, gender: str, age: int, branch: str) -> dict[str, int]:
    count = int(_SKILL_N.pick(rng))  # type: ignore[call-overload]
    if not count:
        return {}
    cumulative = _skill_table(gender, age >= 60, age < 45, branch)
    total = cumulative[-1]
    chosen: dict[str, int] = {}
    while len(chosen) < count:
        code = SKILLS[bisect.bisect_right(cumulative, rng.random() * total)]
        if code not in chosen:
            chosen[code] = int(_LEVEL.pick(rng))  # type: ignore[call-overload]
    return dict(sorted(chosen.items()))


def _certificates(
    rng: random.Random, skills: dict[str, int], city: str, since_year: int
) -> list[CertificatePlan]:
    result = []
    for code, level in skills.items():
        for type_code, chance, years in _CERTS.get(code, []):
            if rng.random() >= chance * (0.7 + 0.2 * level):
                continue
            first = date(max(since_year, 2005), 1, 1)
            span = max((REFERENCE_DAY - first).days, 1)
            if years is not None and rng.random() < 0.8:  # renewed in time: valid on the reference day
                span = min(span, years * 365 - 30)
            issued = REFERENCE_DAY - timedelta(days=int(rng.random() * span))
            valid_until = None
            if years is not None:
                valid_until = date(issued.year + years, issued.month, min(issued.day, 28)) - timedelta(days=1)
            number = f"{type_code[:2].upper()}{issued.year}{int(rng.random() * 1e8):08d}"
            issuer = _ISSUERS[type_code].format(city=city)
            result.append(CertificatePlan(type_code, issuer, number, issued, valid_until))
    return result


def _availability(rng: random.Random, age: int) -> int:
    def bit(day: int, period: int) -> int:
        return 1 << (day * 3 + period)

    roll = rng.random()
    if age >= 60 and roll < 0.6:  # retired: weekday daytimes, often the weekend too
        mask = sum(bit(d, p) for d in range(5) for p in (0, 1))
        return mask | (sum(bit(d, p) for d in (5, 6) for p in (0, 1)) if rng.random() < 0.5 else 0)
    if roll < 0.4:
        return sum(bit(d, p) for d in (5, 6) for p in range(3))
    if roll < 0.65:
        return sum(bit(d, 2) for d in range(5)) | sum(bit(d, p) for d in (5, 6) for p in (0, 1))
    mask = 0
    for _ in range(rng.randint(1, 6)):
        mask |= bit(rng.randrange(7), rng.randrange(3))
    return mask


def person(seed: int, index: int, geo: Geography, *, forced_town: int | None = None) -> Person:
    """Volunteer `index` of the province built from `seed` (ID sequence numbers not yet de-duplicated)."""
    rng = random.Random(seed * 10_000_019 + index)
    town_index = geo.pick_town(rng)
    if forced_town is not None:
        town_index = forced_town
    town = geo.towns[town_index]
    is_veteran = forced_town is not None or rng.random() < 0.95
    gender = "M" if rng.random() < (0.93 if is_veteran else 0.5) else "F"
    birth_year = int(_BIRTH_YEARS.pick(rng))  # type: ignore[call-overload]
    birth = date(birth_year, 1, 1) + timedelta(days=int(rng.random() * 365))
    age = REFERENCE_DAY.year - birth_year
    branch, enlist, discharge, cadre = "", None, None, False
    if is_veteran:
        enlist, discharge = _service(rng, birth_year)
        branch = str(_BRANCH.pick(rng))
        if branch in {"rocket_force", "strategic_support"} and discharge < 2016:
            branch = "army"
        cadre = rng.random() < (0.55 if discharge - enlist >= 12 and birth_year <= 1968 else 0.02)
    party = rng.random() < ((0.7 if age >= 50 else 0.5) if is_veteran else 0.3)
    seq = int(rng.random() * 1000)
    id_number = generate_id_number(town.code[:6], birth, seq, gender)
    phone = _PHONE_PREFIXES[int(rng.random() * len(_PHONE_PREFIXES))] + f"{int(rng.random() * 1e8):08d}"
    lng, lat = geo.home_base(town, rng)
    skills = _skills(rng, gender, age, branch)
    city_name = geo.city_by_code[town.city].name if town.city in geo.city_by_code else ""
    certificates = _certificates(rng, skills, city_name, discharge or birth_year + 18)
    return Person(
        index=index,
        town=town_index,
        name=names.person_name(rng, gender, birth_year),
        gender=gender,
        birth=birth,
        id_number=id_number,
        phone=phone,
        address=names.address(rng, town.name),
        lng=lng,
        lat=lat,
        is_veteran=is_veteran,
        service_branch=branch,
        enlistment_year=enlist,
        discharge_year=discharge,
        is_retired_cadre=cadre,
        is_party_member=party,
        availability=_availability(rng, age),
        publicity=rng.random() < 0.7,
        skills=skills,
        certificates=certificates,
    )


@dataclass
class Population:
    """Everyone's planning facts in compact arrays, and the de-duplicated ID numbers."""

    seed: int
    geo: Geography
    size: int
    forced: dict[int, int]  # person index → town index (the Yonghe veterans)
    town: array = field(default_factory=lambda: array("i"))
    birth_year: array = field(default_factory=lambda: array("h"))
    discharge: array = field(default_factory=lambda: array("h"))  # 0: not a veteran
    skill_mask: array = field(default_factory=lambda: array("q"))
    party: array = field(default_factory=lambda: array("b"))
    id_numbers: list[str] = field(default_factory=list)

    @classmethod
    def plan(
        cls, seed: int, size: int, geo: Geography, *, yonghe: int = 0, reserved: list[str] | None = None
    ) -> Population:
        """Run every person once; `yonghe` people are placed in 永和街道 (veterans all). ID numbers in
        `reserved` belong to someone else (the demo logins' own records)."""
        forced: dict[int, int] = {}
        index = geo.town_index
        if yonghe and YONGHE in index and size:
            step = max(1, size // yonghe)
            forced = {min(k * step + step // 2, size - 1): index[YONGHE] for k in range(min(yonghe, size))}
        pop = cls(seed, geo, size, forced)
        taken = {number[:17] for number in reserved or []}
        for i in range(size):
            p = person(seed, i, geo, forced_town=forced.get(i))
            pop.town.append(p.town)
            pop.birth_year.append(p.birth.year)
            pop.discharge.append(p.discharge_year or 0)
            mask = 0
            for code in p.skills:
                mask |= SKILL_BIT[code]
            pop.skill_mask.append(mask)
            pop.party.append(1 if p.is_party_member else 0)
            pop.id_numbers.append(unique_id(p, taken))
        return pop

    def person(self, index: int) -> Person:
        p = person(self.seed, index, self.geo, forced_town=self.forced.get(index))
        p.id_number = self.id_numbers[index]
        return p


def unique_id(p: Person, taken: set[str]) -> str:
    """The person's ID number, with the sequence moved on while the first 17 digits are taken."""
    number = p.id_number
    seq = int(number[14:17])
    for _ in range(501):
        if number[:17] not in taken:
            break
        seq = (seq + 2) % 1000
        number = generate_id_number(number[:6], p.birth, seq, p.gender)
    else:
        raise RuntimeError(f"no free ID sequence number for {number[:14]}")
    taken.add(number[:17])
    return number
