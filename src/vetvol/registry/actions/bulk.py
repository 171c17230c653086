"""Bulk registration: the engine behind Excel imports and the demo province.

Every row goes through the same cleaning as a single registration. Nothing is written until every row has
been checked; then either all valid rows are written (mode "valid") or nothing unless all rows are valid
(mode "all"). Rows already written by an earlier run of the same batch are recognised by their ID hash and
skipped, so a crashed import can be run again without duplicates.

A row may also carry `skills` (names or codes separated by 、 or commas, each optionally followed by its
level in brackets: 急救（专家）) and `_errors` ({field: [message]}: problems the file reader already found in
a cell, such as an ID number Excel stored as a number and cut to 15 digits), which replace the cleaning's
message for that field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from vetvol.core import audit, events, failpoints
from vetvol.core.rawsql import insert_many
from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.regions.models import Region
from vetvol.registry.actions.volunteers import CONSENT_VERSION, DUPLICATE_MESSAGE, new_volunteer_number
from vetvol.registry.models import (
    Consent,
    ConsentKind,
    Skill,
    StatusChange,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from vetvol.registry.models.volunteers import RegisteredVia, SkillLevel
from vetvol.registry.validation import clean_volunteer

CHUNK = 2000


@dataclass
class RowError:
    row: int  # the row number the user sees (as in the spreadsheet)
    field: str
    message: str


@dataclass
class BulkReport:
    total: int = 0
    valid: int = 0
    already_imported: int = 0
    written: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass
class _Checked:
    row: int
    data: dict[str, Any]
    skills: list[tuple[int, int]] = field(default_factory=list)  # (skill id, level)
    point: tuple[float, float] | None = None  # home base given in the row (lng, lat)


_SKILL_SPLIT = re.compile(r"[、,，;；/\n]+")
_SKILL_LEVEL = re.compile(r"^(.+?)\s*[（(]\s*(.+?)\s*[)）]$")
_LEVELS = {label: value for value, label in SkillLevel.choices} | {str(v): v for v in SkillLevel.values}


def _consents(volunteer: dict[str, Any]) -> tuple[str, ...]:
    """Consents an import records: sensitive data, and the guardian's for a minor (as registration does)."""
    if volunteer.get("guardian_name"):
        return (ConsentKind.SENSITIVE, ConsentKind.GUARDIAN)
    return (ConsentKind.SENSITIVE,)


def _skill_index() -> dict[str, int]:
    index: dict[str, int] = {}
    for pk, code, name in Skill.objects.filter(is_active=True).values_list("pk", "code", "name"):
        index[code] = index[name] = pk
    return index


def _parse_skills(text: Any, index: dict[str, int]) -> tuple[list[tuple[int, int]], list[str]]:
    """'急救（专家）、水上救援' → [(id, 3), (id, 2)], with messages for unknown names and levels."""
    found: dict[int, int] = {}
    unknown: list[str] = []
    bad_levels: list[str] = []
    for part in _SKILL_SPLIT.split(str(text or "")):
        part = part.strip()
        if not part:
            continue
        level = SkillLevel.SKILLED.value
        match = _SKILL_LEVEL.match(part)
        if match:
            part, label = match.group(1).strip(), match.group(2)
            if label not in _LEVELS:
                bad_levels.append(label)
                continue
            level = _LEVELS[label]
        if part not in index:
            unknown.append(part)
            continue
        found[index[part]] = level
    messages = []
    if unknown:
        messages.append(f"未知技能：{'、'.join(unknown[:5])}（请使用系统技能目录中的名称）")
    if bad_levels:
        messages.append("技能水平应为“初级”“熟练”或“专家”")
    return sorted(found.items()), messages


def _point(raw: dict[str, Any]) -> tuple[tuple[float, float] | None, list[str]]:
    """A home base given in the row (`lng`, `lat`), as a single registration accepts one."""
    lng, lat = raw.get("lng"), raw.get("lat")
    if lng in (None, "") and lat in (None, ""):
        return None, []
    try:
        point = (round(float(lng), 6), round(float(lat), 6))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, ["常驻点经纬度应为数字"]
    if not (73 <= point[0] <= 136 and 3 <= point[1] <= 54):
        return None, ["常驻点经纬度不在中国境内"]
    return point, []


def _centres(codes: set[str]) -> dict[str, tuple[float | None, float | None]]:
    """Home base of each region without its own point: the nearest ancestor's centre."""
    wanted = {c[:n] for c in codes for n in (2, 4, 6, 9, 12) if n <= len(c)}
    known = dict(
        (
            (code, (lng, lat))
            for code, lng, lat in Region.objects.filter(code__in=wanted, lng__isnull=False).values_list(
                "code", "lng", "lat"
            )
        )
    )
    result = {}
    for code in codes:
        for n in (12, 9, 6, 4, 2):
            if code[:n] in known and n <= len(code):
                result[code] = known[code[:n]]
                break
        else:
            result[code] = (None, None)
    return result


def check_rows(
    actor: Any, rows: Iterable[tuple[int, dict[str, Any]]], *, batch: str, today: date | None = None
) -> tuple[BulkReport, list[_Checked]]:
    """Clean every row, find duplicates in the file and in the database, check the actor's scope."""
    today = today or timezone.localdate()
    report = BulkReport()
    regions = dict(Region.objects.filter(level__in=["township", "village"]).values_list("code", "level"))
    scope = allowed_prefixes(actor, Action.CHANGE_PEOPLE)
    checked: list[_Checked] = []
    seen: dict[str, int] = {}
    skill_index: dict[str, int] | None = None
    for number, raw in rows:
        report.total += 1
        data, errors = clean_volunteer(raw, today, regions)
        for key, messages in (raw.get("_errors") or {}).items():
            errors[key] = list(messages)
        skills: list[tuple[int, int]] = []
        if raw.get("skills"):
            if skill_index is None:
                skill_index = _skill_index()
            skills, skill_errors = _parse_skills(raw["skills"], skill_index)
            if skill_errors:
                errors["skills"] = skill_errors
        point, point_errors = _point(raw)
        if point_errors:
            errors["lng"] = point_errors
        if not errors and not covers(scope, data["home_region_id"]):
            errors = {"home_region": ["您无权在该区划登记志愿者"]}
        if not errors and data["id_hash"] in seen:
            errors = {"id_number": [f"与第 {seen[data['id_hash']]} 行的身份证号码重复"]}
        for key, messages in errors.items():
            report.errors.extend(RowError(number, key, m) for m in messages)
        if not errors:
            seen[data["id_hash"]] = number
            checked.append(_Checked(number, data, skills, point))
    fresh = split_registered(Volunteer, checked, report, batch=batch, duplicate=DUPLICATE_MESSAGE)
    return report, fresh


def split_registered(
    model: Any, checked: list[Any], report: BulkReport, *, batch: str, duplicate: str
) -> list[Any]:
    """The checked rows (`.row`, `.data["id_hash"]`) whose person `model` does not hold yet. A person this
    batch wrote before (a resumed run) counts as already imported; anyone else's record is a duplicate
    error on the row. Sorts the report's errors and sets its valid count."""
    hashes = [item.data["id_hash"] for item in checked]
    existing: dict[str, str] = {}
    for i in range(0, len(hashes), CHUNK):
        existing.update(
            model.objects.filter(id_hash__in=hashes[i : i + CHUNK]).values_list("id_hash", "import_batch")
        )
    fresh = []
    for item in checked:
        found = existing.get(item.data["id_hash"])
        if found is None:
            fresh.append(item)
        elif batch and found == batch:
            report.already_imported += 1
        else:
            report.errors.append(RowError(item.row, "id_number", duplicate))
    report.errors.sort(key=lambda e: (e.row, e.field))
    report.valid = len(fresh)
    return fresh


def write_rows(
    actor: Any,
    checked: list[_Checked],
    report: BulkReport,
    *,
    batch: str,
    via: str = RegisteredVia.IMPORT,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Write checked rows in chunks, each chunk one transaction with its audit row.

    Rows go in with `_insert` (COPY on PostgreSQL, executemany elsewhere) rather than `bulk_create`: the
    same values, converted by the same fields, without the ORM's per-value compilation, which was most of
    the time of a 100,000-row import. The database's constraints (one record per ID hash, the check
    constraints, the foreign keys) still hold: a row someone registered since the check fails its chunk,
    which is rolled back with its audit row and event, and a run resumed later skips the chunks written."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    user_id = user.pk if user is not None else None
    centres = _centres({c.data["home_region_id"] for c in checked})
    for i in range(0, len(checked), CHUNK):
        chunk = checked[i : i + CHUNK]
        region = chunk[0].data["home_region_id"]
        numbers = new_volunteer_number(region, len(chunk))
        now = timezone.now()
        volunteers = []
        for item, number in zip(chunk, numbers, strict=True):
            lng, lat = item.point or centres[item.data["home_region_id"]]
            volunteers.append(
                {
                    **item.data,
                    "number": number,
                    "region_code": item.data["home_region_id"],
                    "status": VolunteerStatus.ACTIVE,
                    "registered_via": via,
                    "import_batch": batch,
                    "lng": lng,
                    "lat": lat,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with transaction.atomic():
            insert_many(Volunteer, volunteers)
            saved = dict(
                Volunteer.objects.filter(number__gte=numbers[0], number__lte=numbers[-1]).values_list(
                    "number", "pk"
                )
            )
            insert_many(
                StatusChange,
                [
                    {
                        "volunteer_id": saved[v["number"]],
                        "to_status": v["status"],
                        "by_id": user_id,
                        "reason": f"批量导入 {batch}",
                        "at": now,
                    }
                    for v in volunteers
                ],
            )
            insert_many(
                Consent,
                [
                    {
                        "volunteer_id": saved[v["number"]],
                        "kind": kind,
                        "granted": True,
                        "version": CONSENT_VERSION,
                        "recorded_by_id": user_id,
                        "at": now,
                    }
                    for v in volunteers
                    for kind in _consents(v)
                ],
            )
            insert_many(
                VolunteerSkill,
                [
                    {
                        "volunteer_id": saved[v["number"]],
                        "skill_id": skill,
                        "level": level,
                        "region_code": v["region_code"],
                    }
                    for v, item in zip(volunteers, chunk, strict=True)
                    for skill, level in item.skills
                ],
            )
            audit.record(
                "registry.volunteer.import",
                actor=user,
                region_code=region,
                detail={"batch": batch, "rows": len(volunteers), "first": numbers[0], "last": numbers[-1]},
            )
            events.emit(
                "registry.volunteers.imported",
                batch=batch,
                count=len(volunteers),
                ids=[saved[v["number"]] for v in volunteers],
            )
            failpoints.pause("registry.import.chunk")  # a crash test's kill: the chunk written, not committed
        report.written += len(volunteers)
        if progress is not None:
            progress(report.written)
    return report


def bulk_register(
    actor: Any,
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    batch: str,
    mode: str = "valid",
    dry_run: bool = False,
    via: str = RegisteredVia.IMPORT,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Check all rows, then write: mode "valid" writes the valid rows; "all" writes only if no row is bad."""
    report, checked = check_rows(actor, rows, batch=batch)
    if dry_run or (mode == "all" and report.errors):
        return report
    return write_rows(actor, checked, report, batch=batch, via=via, progress=progress)
