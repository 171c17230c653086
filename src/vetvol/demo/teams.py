"""The demo's team tree and who belongs to which team, planned in memory before anything is written.

Per city, in this order while its share of the teams lasts (shares follow population): the city corps
(总队) under the city's brand, one team per district (队), the corps' specialised teams, one team (分队) per
street or town (the most populous first), specialised teams of the districts and of the streets; what is
left of the share becomes squads (班), cut by discharge year from the street teams' members with
`squads.propose` when the members exist. Huizhou's corps has its "战旗" salvage team (打捞队); Guangzhou's
永和街道 team has 543 veterans in 30 squads.

Membership: about 80% of the people join the team of their street (or of their district, where their
street has none); people whose skills fit a specialised team nearby may join it too. Every team gets one
leader and one or two deputies from its members, preferring party members of working age; a district team
(and the city corps) also takes in the leaders of the teams under it.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from vetvol.demo.geography import FUTIAN, NANYUAN, YONGHE, City, Geography
from vetvol.demo.people import REFERENCE_DAY, SKILL_BIT, SKILL_CATEGORY, Population

TOTAL_TEAMS = 4023
CIVIL_TEAMS = 622
YONGHE_MEMBERS, YONGHE_SQUADS = 543, 30
MIN_SQUAD = 6

LABELS = {
    "rescue": "应急救援队",
    "commando": "突击队",
    "professional": "专业队",
    "lecturer": "讲师团",
    "art": "艺术团",
    "clinic": "义诊团",
}
BRANDED_CORPS_SPECIALS = ["rescue", "commando", "professional", "lecturer", "art", "clinic"]
CORPS_SPECIALS = ["rescue", "commando", "lecturer"]
DISTRICT_SPECIALS = ["rescue", "commando", "professional", "lecturer", "art", "clinic"]
STREET_SPECIALS = ["commando", "rescue"]
SALVAGE = "salvage"  # Huizhou's 战旗打捞队: a rescue team of divers and boatmen


def _mask(pred: Callable[[str], bool]) -> int:
    return sum(bit for code, bit in SKILL_BIT.items() if pred(code))


KIND_SKILLS = {
    "rescue": _mask(lambda c: SKILL_CATEGORY[c] == "rescue" or c in {"first_aid", "emt"}),
    "professional": _mask(
        lambda c: (
            SKILL_CATEGORY[c] in {"technical", "medical", "legal", "psychology"}
            or c in {"heavy_vehicle", "drone"}
        )
    ),
    "lecturer": _mask(lambda c: SKILL_CATEGORY[c] == "education"),
    "art": _mask(lambda c: SKILL_CATEGORY[c] == "culture"),
    "clinic": _mask(lambda c: SKILL_CATEGORY[c] == "medical" or c == "counselling"),
    SALVAGE: _mask(lambda c: c in {"water_rescue", "diving", "boat_operation", "swift_water"}),
}


@dataclass
class TeamSpec:
    key: int
    name: str
    tier: str  # corps, district, corps_special, street, district_special, street_special
    specialty: str
    kind: str  # what the team does: a specialty, or "salvage"
    region: str
    city: str
    parent: int | None
    brand: str
    founded_on: date
    description: str
    room: str = ""  # name of the liaison point the centres step made for this team, if any
    civil_status: str = "none"
    civil_number: str = ""
    civil_date: date | None = None
    squads: int = 0
    reserved_leader: bool = False  # the demo's hongxing_leader account leads it

    @property
    def fields(self) -> dict[str, object]:
        """The fields `create_team` takes."""
        return {
            "name": self.name,
            "brand": self.brand,
            "specialty": self.specialty,
            "founded_on": self.founded_on,
            "civil_status": self.civil_status,
            "civil_number": self.civil_number,
            "civil_date": self.civil_date,
            "description": self.description,
        }


@dataclass
class Tree:
    teams: list[TeamSpec]
    members: dict[int, list[tuple[int, str]]]  # team key → [(person index, role)] in joining order
    quota: dict[str, int]
    yonghe_team: int | None = None
    nanyuan_team: int | None = None
    futian_team: int | None = None

    @property
    def planned_total(self) -> int:
        return len(self.teams) + sum(t.squads for t in self.teams)

    def joined_on(self, key: int, person: int) -> date:
        """A join date between the team's founding and the reference day (a cheap deterministic hash)."""
        start = self.teams[key].founded_on
        span = max((REFERENCE_DAY - start).days, 1)
        return start + timedelta(days=(person * 2654435761 + key * 40503) % span)

    def memberships(self) -> list[tuple[int, int, str]]:
        """(person index, team key, role), by person."""
        rows = [(p, key, role) for key, members in self.members.items() for p, role in members]
        rows.sort()
        return rows


def city_quotas(cities: list[City], total: int) -> dict[str, int]:
    """Largest-remainder split of `total` by population."""
    population = sum(c.population for c in cities)
    raw = {c.code: total * c.population / population for c in cities}
    quota = {code: int(v) for code, v in raw.items()}
    rest = total - sum(quota.values())
    for code in sorted(raw, key=lambda c: (quota[c] - raw[c], c))[:rest]:
        quota[code] += 1
    return quota


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=int(rng.random() * max((end - start).days, 1)))


class _Planner:
    def __init__(self, seed: int, geo: Geography, pop: Population, total: int, yonghe: bool) -> None:
        self.rng = random.Random(f"teams-{seed}")
        self.geo, self.pop, self.total, self.yonghe = geo, pop, total, yonghe
        self.teams: list[TeamSpec] = []
        self.residents = Counter(geo.towns[t].code for t in pop.town)

    def add(self, **kw: object) -> TeamSpec:
        spec = TeamSpec(key=len(self.teams), **kw)  # type: ignore[arg-type]
        self.teams.append(spec)
        return spec

    def plan_city(self, city: City, quota: int) -> None:
        rng = self.rng
        quoted = f"“{city.brand}”" if city.brand else ""
        budget = quota
        corps_name = f"{city.short}{quoted}退役军人志愿服务总队"
        corps = self.add(
            name=corps_name,
            tier="corps",
            specialty="general",
            kind="general",
            region=city.code,
            city=city.code,
            parent=None,
            brand=city.brand,
            founded_on=_day(rng, date(2018, 8, 1), date(2019, 6, 30)),
            description=f"{city.name}退役军人志愿服务的总队，统筹全市各区（县）队伍，开展应急救援、关爱帮扶、"
            "政策宣讲和社区治理志愿服务。",
            room=f"{quoted}退役军人志愿服务总队联络室"
            if city.brand
            else f"{city.name}退役军人志愿服务总队联络室",
        )
        budget -= 1
        districts: dict[str, TeamSpec] = {}
        for district in city.districts:
            if budget <= 0:
                break
            districts[district.code] = self.add(
                name=f"{district.name}{quoted}退役军人志愿服务队",
                tier="district",
                specialty="general",
                kind="general",
                region=district.code,
                city=city.code,
                parent=corps.key,
                brand=city.brand,
                founded_on=_day(rng, date(2019, 1, 1), date(2020, 12, 31)),
                description=f"{district.name}退役军人志愿服务队，联系辖区各街道（镇）分队。",
                room=f"{district.name}退役军人志愿服务队联络室",
                reserved_leader=district.code == FUTIAN,
            )
            budget -= 1
        kinds = BRANDED_CORPS_SPECIALS if city.brand else CORPS_SPECIALS
        specials = [(kind, f"{city.short}{quoted}退役军人{LABELS[kind]}") for kind in kinds]
        if city.code == "4413":
            specials.append((SALVAGE, f"{city.short}{quoted}打捞队"))
        for kind, name in specials:
            if budget <= 0:
                break
            self.add(
                name=name,
                tier="corps_special",
                specialty="rescue" if kind == SALVAGE else kind,
                kind=kind,
                region=city.code,
                city=city.code,
                parent=corps.key,
                brand=city.brand,
                founded_on=_day(rng, date(2019, 3, 1), date(2022, 12, 31)),
                description=(
                    "水域打捞、水上搜救专业队伍，队员多为潜水、船艇驾驶技能的退役军人。"
                    if kind == SALVAGE
                    else f"{city.name}退役军人志愿服务总队直属{LABELS[kind]}。"
                ),
            )
            budget -= 1
        # Streets and towns: the demo's own streets first, then by population.
        first = {NANYUAN: 0, YONGHE: 1}
        towns = sorted(city.towns, key=lambda t: (first.get(t.code, 2), -self.residents[t.code], t.code))
        streets: list[TeamSpec] = []
        for town in towns:
            if budget <= 0:
                break
            parent = districts.get(town.district, corps)
            streets.append(
                self.add(
                    name=f"{town.name}退役军人志愿服务分队",
                    tier="street",
                    specialty="general",
                    kind="general",
                    region=town.code,
                    city=city.code,
                    parent=parent.key,
                    brand=city.brand,
                    founded_on=_day(rng, date(2019, 6, 1), date(2022, 12, 31)),
                    description=f"{town.name}的退役军人志愿服务分队，以本街道（镇）退役军人为主。",
                    room=f"{town.name}退役军人志愿服务分队联络点" if town.kind == "street" else "",
                )
            )
            budget -= 1
        # Specialised teams of the districts, one kind at a time across the districts.
        for kind in DISTRICT_SPECIALS:
            for code, district_team in districts.items():
                if budget <= 0:
                    break
                district = self.geo.districts[code]
                self.add(
                    name=f"{district.name}退役军人{LABELS[kind]}",
                    tier="district_special",
                    specialty=kind,
                    kind=kind,
                    region=code,
                    city=city.code,
                    parent=district_team.key,
                    brand=city.brand,
                    founded_on=_day(rng, date(2020, 1, 1), date(2023, 12, 31)),
                    description=f"{district.name}退役军人志愿服务队下设的{LABELS[kind]}。",
                )
                budget -= 1
        # Street specialised teams take a quarter of what is left; squads the rest.
        # 永和街道's team stays the 543 veterans of its squads.
        by_size = sorted(
            (s for s in streets if not (self.yonghe and s.region == YONGHE)),
            key=lambda s: (-self.residents[s.region], s.region),
        )
        street_specials = min(max(budget, 0) // 4, len(STREET_SPECIALS) * len(by_size))
        for n in range(street_specials):
            street = by_size[n % len(by_size)]
            kind = STREET_SPECIALS[n // len(by_size)]
            town_name = street.name.removesuffix("退役军人志愿服务分队")
            self.add(
                name=f"{town_name}退役军人{LABELS[kind]}",
                tier="street_special",
                specialty=kind,
                kind=kind,
                region=street.region,
                city=city.code,
                parent=street.key,
                brand=city.brand,
                founded_on=_day(rng, date(2020, 6, 1), date(2024, 6, 30)),
                description=f"{town_name}退役军人志愿服务分队下设的{LABELS[kind]}。",
            )
            budget -= 1
        self.squad_budget[city.code] = max(budget, 0)

    def plan(self) -> Tree:
        self.squad_budget: dict[str, int] = {}
        quota = city_quotas(self.geo.cities, self.total)
        for city in self.geo.cities:
            self.plan_city(city, quota[city.code])
        tree = Tree(self.teams, {}, quota)
        for spec in self.teams:
            if spec.tier == "street" and spec.region == YONGHE:
                tree.yonghe_team = spec.key
            if spec.tier == "street" and spec.region == NANYUAN:
                tree.nanyuan_team = spec.key
            if spec.tier == "district" and spec.region == FUTIAN:
                tree.futian_team = spec.key
        self.assign_members(tree)
        self.choose_leaders(tree)
        self.plan_squads(tree)
        self.plan_civil(tree)
        return tree

    # -- membership ------------------------------------------------------------------------------------

    def assign_members(self, tree: Tree) -> None:
        geo, pop, rng = self.geo, self.pop, random.Random(f"members-{self.rng.random()}")
        street_of: dict[str, TeamSpec] = {}
        district_of: dict[str, TeamSpec] = {}
        corps_of: dict[str, TeamSpec] = {}
        specials: dict[str, list[TeamSpec]] = defaultdict(list)  # region code → specialised teams there
        for spec in self.teams:
            if spec.tier == "street":
                street_of[spec.region] = spec
            elif spec.tier == "district":
                district_of[spec.region] = spec
            elif spec.tier == "corps":
                corps_of[spec.region] = spec
            else:
                specials[spec.region].append(spec)
        scale = max(1.0, math.sqrt(pop.size / 65000))
        caps = {"street_special": 30 * scale, "district_special": 50 * scale, "corps_special": 80 * scale}
        chance = {"street_special": 0.5, "district_special": 0.2, "corps_special": 0.05}
        members: dict[int, list[tuple[int, str]]] = defaultdict(list)
        yonghe_left = YONGHE_MEMBERS if (self.yonghe and tree.yonghe_team is not None) else 0
        for i in range(pop.size):
            town = geo.towns[pop.town[i]]
            street = street_of.get(town.code)
            district = district_of.get(town.district)
            base = street or district or corps_of.get(town.city)
            roll = rng.random()
            if town.code == YONGHE and tree.yonghe_team is not None and self.yonghe:
                # 永和街道's team is the one with 543 veterans; other residents join the district's team.
                if yonghe_left and pop.discharge[i] and i in pop.forced:
                    members[tree.yonghe_team].append((i, "member"))
                    yonghe_left -= 1
                    base = None
                else:
                    base = district
            if base is not None and roll < 0.8:
                members[base.key].append((i, "member"))
            mask, age = pop.skill_mask[i], REFERENCE_DAY.year - pop.birth_year[i]
            for region in dict.fromkeys((town.code, town.district, town.city)):
                for spec in specials.get(region, ()):
                    if spec.kind == "commando":
                        fits = bool(pop.discharge[i]) and age <= 50
                    else:
                        fits = bool(mask & KIND_SKILLS[spec.kind])
                    if fits and len(members[spec.key]) < caps[spec.tier] and rng.random() < chance[spec.tier]:
                        members[spec.key].append((i, "member"))
        tree.members = members

    def _score(self, i: int) -> tuple[int, int]:
        pop = self.pop
        age = REFERENCE_DAY.year - pop.birth_year[i]
        return (pop.party[i] + (1 if pop.discharge[i] else 0) + (1 if 40 <= age <= 68 else 0), -i)

    def choose_leaders(self, tree: Tree) -> None:
        """Leaders bottom-up: streets and specialised teams, then districts, then the corps."""
        rng = random.Random(f"leaders-{self.rng.random()}")
        residents: dict[str, list[int]] = defaultdict(list)  # first residents of each town, district, city
        for i in range(self.pop.size):
            town = self.geo.towns[self.pop.town[i]]
            for area in dict.fromkeys((town.code, town.district, town.city)):
                if len(residents[area]) < 50:
                    residents[area].append(i)
        children: dict[int, list[int]] = defaultdict(list)
        for spec in self.teams:
            if spec.parent is not None:
                children[spec.parent].append(spec.key)
        leaders: dict[int, list[int]] = {}
        order = {"street_special": 0, "street": 1, "district_special": 2, "district": 3, "corps_special": 4}
        for spec in sorted(self.teams, key=lambda s: (order.get(s.tier, 5), s.key)):
            current = tree.members.setdefault(spec.key, [])
            inside = {p for p, _ in current}
            pool = [p for p, _ in current]
            for child in children[spec.key]:  # leaders of the teams under it join it
                for p in leaders.get(child, [])[:1]:
                    if p not in inside:
                        current.append((p, "member"))
                        inside.add(p)
                        pool.append(p)
            if len(pool) < 3:  # too few members: recruit residents of the team's area, then of its district
                for area in (spec.region, spec.region[:6] if len(spec.region) > 6 else spec.region[:4]):
                    for p in residents.get(area, [])[:50]:
                        if len(pool) < 3 and p not in inside:
                            current.append((p, "member"))
                            inside.add(p)
                            pool.append(p)
            ranked = sorted(pool[:200], key=self._score, reverse=True)
            deputies = 1 + (rng.random() < 0.5)
            chosen = ranked[: deputies + (0 if spec.reserved_leader else 1)]
            roles = {}
            for n, p in enumerate(chosen):
                roles[p] = "leader" if n == 0 and not spec.reserved_leader else "deputy"
            tree.members[spec.key] = [(p, roles.get(p, "member")) for p, _ in current]
            leaders[spec.key] = [p for p in chosen if roles[p] == "leader"] or chosen[:1]

    # -- squads, civil registration, dates ----------------------------------------------------------------

    def plan_squads(self, tree: Tree) -> None:
        for city in self.geo.cities:
            budget = self.squad_budget.get(city.code, 0)
            streets = [s for s in self.teams if s.city == city.code and s.tier == "street"]
            sizes = {s.key: len(tree.members.get(s.key, [])) for s in streets}
            if tree.yonghe_team in sizes and self.yonghe:
                take = min(YONGHE_SQUADS, budget, sizes[tree.yonghe_team] // 2)
                self.teams[tree.yonghe_team].squads = take
                budget -= take
                del sizes[tree.yonghe_team]
            caps = {k: n // MIN_SQUAD for k, n in sizes.items()}
            total = sum(sizes[k] for k in caps if caps[k]) or 1
            wanted = min(budget, sum(caps.values()))
            shares = {k: wanted * sizes[k] / total if caps[k] else 0.0 for k in caps}
            given = {k: min(int(v), caps[k]) for k, v in shares.items()}
            left = wanted - sum(given.values())
            while left > 0:
                open_ = [k for k in caps if given[k] < caps[k]]
                if not open_:
                    break
                open_.sort(key=lambda k: (given[k] - shares[k], k))
                for k in open_[:left]:
                    given[k] += 1
                    left -= 1
            for key, count in given.items():
                self.teams[key].squads = count

    def plan_civil(self, tree: Tree) -> None:
        """622 teams (at the full size) registered (登记) or filed (备案) with civil affairs."""
        rng = random.Random(f"civil-{self.rng.random()}")
        wanted = round(CIVIL_TEAMS * self.total / TOTAL_TEAMS)
        registered = [s for s in self.teams if s.tier in {"corps", "district"}][:wanted]
        others = [s for s in self.teams if s.tier not in {"corps", "district"}]
        rng.shuffle(others)
        filed = others[: max(0, wanted - len(registered))]
        cities = self.geo.city_by_code
        counters: Counter[tuple[str, int]] = Counter()
        for spec in sorted(registered, key=lambda s: s.key):
            day = spec.founded_on + timedelta(days=rng.randint(30, 240))
            counters[("粤", day.year)] += 1
            spec.civil_status, spec.civil_date = "registered", day
            spec.civil_number = f"粤民登字〔{day.year}〕第{counters[('粤', day.year)]:04d}号"
        for spec in sorted(filed, key=lambda s: s.key):
            day = spec.founded_on + timedelta(days=rng.randint(15, 180))
            abbr = cities[spec.city].abbr
            counters[(abbr, day.year)] += 1
            spec.civil_status, spec.civil_date = "filed", day
            spec.civil_number = f"{abbr}民社备〔{day.year}〕{counters[(abbr, day.year)]:04d}号"


def plan(seed: int, geo: Geography, pop: Population, total: int = TOTAL_TEAMS, *, yonghe: bool) -> Tree:
    return _Planner(seed, geo, pop, total, yonghe).plan()
