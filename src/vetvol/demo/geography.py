"""The demo's view of Guangdong: cities with their population and brand, districts, streets and towns.

Population figures are the 7th national census (2020, 10,000 persons); they spread volunteers and teams over
the 21 cities. Inside a city, streets weigh more than towns (denser), each with a seeded jitter, since the
region tree carries no population below the city. Township rows have no coordinates: a home base is the
district centre (the city centre where a city has no districts) with a small seeded offset.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field

from vetvol.regions.models import Region, RegionLevel

# City code: (population in 10,000, one-character abbreviation used in filing numbers).
CITIES = {
    "4401": (1867.66, "穗"),
    "4402": (285.51, "韶"),
    "4403": (1756.01, "深"),
    "4404": (243.96, "珠"),
    "4405": (550.20, "汕"),
    "4406": (949.89, "佛"),
    "4407": (479.81, "江"),
    "4408": (698.12, "湛"),
    "4409": (617.41, "茂"),
    "4412": (411.36, "肇"),
    "4413": (604.29, "惠"),
    "4414": (387.32, "梅"),
    "4415": (267.22, "汕尾"),
    "4416": (283.77, "河"),
    "4417": (260.28, "阳"),
    "4418": (396.95, "清"),
    "4419": (1046.66, "莞"),
    "4420": (441.81, "中"),
    "4451": (256.87, "潮"),
    "4452": (557.76, "揭"),
    "4453": (238.33, "云"),
}
# City brands of the veteran volunteer teams, as the province's report names them.
CITY_BRANDS = {"4403": "红星", "4401": "红棉老兵", "4406": "南狮", "4413": "战旗"}
TOWN_KIND_WEIGHT = {"street": 1.6, "town": 1.0, "township": 0.6, "other_township": 0.3}
YONGHE = "440112015"  # 广州市黄埔区永和街道
NANYUAN = "440304001"  # 深圳市福田区南园街道
FUTIAN = "440304"


@dataclass
class Town:
    code: str
    name: str
    kind: str
    district: str  # county code, or the city code where the city has no districts
    weight: float
    city: str = ""


@dataclass
class District:
    code: str
    name: str
    lng: float
    lat: float
    is_city: bool = False  # a city without districts stands in for its own district


@dataclass
class City:
    code: str
    name: str
    population: float
    abbr: str
    lng: float
    lat: float
    brand: str = ""
    districts: list[District] = field(default_factory=list)
    towns: list[Town] = field(default_factory=list)

    @property
    def short(self) -> str:
        return self.name.removesuffix("市")


@dataclass
class Geography:
    cities: list[City]
    towns: list[Town]
    districts: dict[str, District]
    _cumulative: list[float] = field(default_factory=list)
    town_index: dict[str, int] = field(default_factory=dict)
    city_by_code: dict[str, City] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.town_index = {t.code: i for i, t in enumerate(self.towns)}
        self.city_by_code = {c.code: c for c in self.cities}
        shares: list[float] = []
        for city in self.cities:
            total = sum(t.weight for t in city.towns) or 1.0
            shares.extend(city.population * t.weight / total for t in city.towns)
        self._cumulative = list(itertools.accumulate(shares))

    def pick_town(self, rng: random.Random) -> int:
        """Index of a street or town, drawn by population."""
        return bisect.bisect_right(self._cumulative, rng.random() * self._cumulative[-1])

    def home_base(self, town: Town, rng: random.Random, radius_km: float = 3.0) -> tuple[float, float]:
        """The district centre moved by at most `radius_km`, uniformly over the disc."""
        centre = self.districts[town.district]
        distance = radius_km * math.sqrt(rng.random())
        angle = rng.random() * 2 * math.pi
        dlat = distance * math.cos(angle) / 111.32
        dlng = distance * math.sin(angle) / (111.32 * math.cos(math.radians(centre.lat)))
        return round(centre.lng + dlng, 6), round(centre.lat + dlat, 6)


def distance_km(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def load(seed: int, city_codes: list[str] | None = None) -> Geography:
    """Read the tree (cities, districts, streets and towns) of the chosen cities from the database."""
    wanted = sorted(city_codes or CITIES)
    nodes = Region.objects.filter(
        level__in=[RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP]
    ).order_by("code")
    by_city: dict[str, list[Region]] = {code: [] for code in wanted}
    for node in nodes:
        if node.code[:4] in by_city:
            by_city[node.code[:4]].append(node)
    cities, towns, districts = [], [], {}
    for code in wanted:
        city_node = next((n for n in by_city[code] if n.code == code), None)
        if city_node is None or city_node.lng is None or city_node.lat is None:
            continue
        population, abbr = CITIES[code]
        city = City(
            code, city_node.name, population, abbr, city_node.lng, city_node.lat, CITY_BRANDS.get(code, "")
        )
        for node in by_city[code]:
            if node.level == RegionLevel.COUNTY:
                district = District(
                    node.code,
                    node.name,
                    node.lng if node.lng is not None else city.lng,
                    node.lat if node.lat is not None else city.lat,
                )
                city.districts.append(district)
                districts[node.code] = district
        for node in by_city[code]:
            if node.level != RegionLevel.TOWNSHIP:
                continue
            district_code = node.code[:6] if node.code[:6] in districts else code
            if district_code == code and code not in districts:
                districts[code] = District(code, city.name, city.lng, city.lat, is_city=True)
            jitter = random.Random(f"town-{seed}-{node.code}").lognormvariate(0, 0.5)
            weight = TOWN_KIND_WEIGHT.get(node.kind, 0.5) * jitter
            town = Town(node.code, node.name, node.kind, district_code, weight, code)
            city.towns.append(town)
            towns.append(town)
        if city.towns:
            cities.append(city)
    return Geography(cities, towns, districts)
