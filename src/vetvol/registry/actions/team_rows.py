"""Team lists from Excel: every row checked against the file itself and the database (nothing written),
then written through `create_team`, all in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.regions.models import Region
from vetvol.registry.actions.bulk import BulkReport, RowError
from vetvol.registry.actions.teams import create_team
from vetvol.registry.imports import parse_date
from vetvol.registry.models import (
    CivilStatus,
    ImportMode,
    Team,
    TeamSpecialty,
)


def _merge(report: BulkReport, errors: list[RowError]) -> None:
    report.errors.extend(errors)
    report.errors.sort(key=lambda e: (e.row, e.field))


# ---------------------------------------------------------------------------------------------------------
# Teams: checked and written through create_team, all in one transaction


SPECIALTIES = {label: value for value, label in TeamSpecialty.choices} | {v: v for v in TeamSpecialty.values}
CIVIL = {label: value for value, label in CivilStatus.choices} | {v: v for v in CivilStatus.values}
TEAM_REGION_LEVELS = {"province", "city", "county", "township", "village"}


@dataclass
class TeamRow:
    row: int
    name: str
    region: Region
    fields: dict[str, Any]
    parent_row: int | None = None
    parent_id: int | None = None


@dataclass
class _TeamCheck:
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def check_team_rows(
    actor: Any, rows: Iterable[tuple[int, dict[str, Any]]], today: date | None = None
) -> tuple[BulkReport, list[TeamRow]]:
    """Every row of a team list checked against the file itself and the database; nothing written."""
    today = today or timezone.localdate()
    items = list(rows)
    report = BulkReport(total=len(items))
    codes = {str(raw.get("region") or "") for _, raw in items}
    regions = Region.objects.in_bulk([c for c in codes if c])
    change_scope = allowed_prefixes(actor, Action.CHANGE)
    parent_names = {str(raw.get("parent")) for _, raw in items if raw.get("parent")}
    names = {str(raw.get("name") or "") for _, raw in items}
    visible: dict[str, list[Team]] = {}
    for team in Team.objects.restrict(actor, Action.VIEW).filter(name__in=parent_names, is_active=True):
        visible.setdefault(team.name, []).append(team)
    changeable = set(
        Team.objects.restrict(actor, Action.CHANGE)
        .filter(pk__in=[t.pk for ts in visible.values() for t in ts])
        .values_list("pk", flat=True)
    )
    taken_under: set[tuple[int, str]] = set()  # (parent id, name) of existing teams
    taken_top: set[tuple[str, str]] = set()  # (name, region code) of existing top-level teams
    for parent_id, name, code in Team.objects.filter(name__in=names).values_list(
        "parent_id", "name", "region_code"
    ):
        if parent_id is None:
            taken_top.add((name, code))
        else:
            taken_under.add((parent_id, name))
    in_file: dict[str, list[int]] = {}  # name → rows (valid or not) that define it
    for number, raw in items:
        in_file.setdefault(str(raw.get("name") or ""), []).append(number)
    good: dict[int, TeamRow] = {}
    seen: dict[tuple[str, str], int] = {}
    exists: set[int] = set()  # rows naming a team that exists already: children may hang under that one
    for number, raw in items:
        check = _TeamCheck()
        name = str(raw.get("name") or "").strip()
        if not name:
            check.add("name", "请填写队伍名称")
        elif len(name) > 100:
            check.add("name", "队伍名称最多 100 字")
        code = str(raw.get("region") or "")
        region = regions.get(code)
        if not code:
            check.add("region", "请填写所属区划代码")
        elif region is None or region.level not in TEAM_REGION_LEVELS:
            check.add("region", "所属区划代码不是有效的行政区划代码")
        elif not covers(change_scope, code):
            check.add("region", "您无权在该区划创建队伍")
        fields: dict[str, Any] = {"brand": str(raw.get("brand") or "").strip()}
        if len(fields["brand"]) > 30:
            check.add("brand", "品牌最多 30 字")
        specialty = str(raw.get("specialty") or "").strip()
        fields["specialty"] = SPECIALTIES.get(specialty, "") if specialty else TeamSpecialty.GENERAL
        if not fields["specialty"]:
            check.add("specialty", "类型应为：" + "、".join(TeamSpecialty.labels))
        status = str(raw.get("civil_status") or "").strip()
        fields["civil_status"] = CIVIL.get(status, "") if status else CivilStatus.NONE
        if not fields["civil_status"]:
            check.add("civil_status", "民政登记状态应为：" + "、".join(CivilStatus.labels))
        fields["civil_number"] = str(raw.get("civil_number") or "").strip()
        if len(fields["civil_number"]) > 50:
            check.add("civil_number", "登记（备案）编号最多 50 个字符")
        for date_key, label in (("civil_date", "登记（备案）日期"), ("founded_on", "成立日期")):
            try:
                day = parse_date(raw.get(date_key)) if raw.get(date_key) not in (None, "") else None
            except ValueError:
                check.add(date_key, f"{label}格式不正确，请填写如 2023-05-01 的日期")
                day = None
            if day and day > today:
                check.add(date_key, f"{label}不能晚于今天")
            fields[date_key] = day
        if fields["civil_status"] not in ("", CivilStatus.NONE):
            if not fields["civil_number"]:
                check.add("civil_number", "已登记或已备案的队伍须填写登记（备案）编号")
            if not fields["civil_date"] and "civil_date" not in check.errors:
                check.add("civil_date", "请填写登记（备案）日期")
        item = TeamRow(number, name, region, fields) if region is not None else None
        parent_name = str(raw.get("parent") or "").strip()
        parent_key = parent_name
        parent_region = ""
        if parent_name:
            earlier = [n for n in in_file.get(parent_name, []) if n < number and n not in exists]
            existing = visible.get(parent_name, [])
            if len(earlier) + len(existing) > 1:
                check.add("parent", f"上级队伍“{parent_name}”有多支同名队伍，无法确定是哪一支")
            elif earlier:
                parent = good.get(earlier[0])
                if parent is None:
                    check.add("parent", f"上级队伍（第 {earlier[0]} 行）有误，请先修改该行")
                else:
                    parent_region = parent.region.code
                    parent_key = f"row:{earlier[0]}"
                    if item is not None:
                        item.parent_row = earlier[0]
            elif existing:
                parent_team = existing[0]
                parent_region = parent_team.region_code
                parent_key = f"id:{parent_team.pk}"
                if parent_team.pk not in changeable:
                    check.add("parent", f"您无权在“{parent_name}”下创建队伍")
                elif (parent_team.pk, name) in taken_under:
                    check.add("name", f"“{parent_name}”下已有同名队伍")
                    exists.add(number)
                elif item is not None:
                    item.parent_id = parent_team.pk
            else:
                check.add("parent", f"找不到上级队伍“{parent_name}”（须为已有队伍，或写在本行之前）")
            if parent_region and region is not None and not code.startswith(parent_region):
                check.add("region", "下级队伍的区划须在上级队伍的区划范围内")
        elif name and (name, code) in taken_top:
            check.add("name", "该区划已有同名的顶级队伍")
            exists.add(number)
        key = (parent_key, name)
        if name and key in seen:
            check.add("name", f"与第 {seen[key]} 行的队伍重名")
        for field_name, messages in check.errors.items():
            report.errors.extend(RowError(number, field_name, m) for m in messages)
        if not check.errors and item is not None:
            seen[key] = number
            good[number] = item
    report.errors.sort(key=lambda e: (e.row, e.field))
    report.valid = len(good)
    return report, list(good.values())


def write_team_rows(
    actor: Any,
    checked: list[TeamRow],
    report: BulkReport,
    *,
    mode: str,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Create the checked teams through `create_team`, all in one transaction. In mode "valid" a row the
    action still refuses is reported and skipped (its savepoint rolled back); in mode "all" it undoes all."""
    created: dict[int, Team] = {}
    parents = Team.objects.in_bulk([i.parent_id for i in checked if i.parent_id])
    late: list[RowError] = []
    with transaction.atomic():
        for item in checked:
            parent = created.get(item.parent_row) if item.parent_row else parents.get(item.parent_id or 0)
            if (item.parent_row or item.parent_id) and parent is None:
                late.append(RowError(item.row, "parent", "上级队伍未能创建，本行未导入"))
                continue
            try:
                with transaction.atomic():
                    team = create_team(
                        actor, region=item.region, parent=parent, name=item.name, **item.fields
                    )
            except ValidationError as exc:
                late.extend(
                    RowError(item.row, key if key != "__all__" else "name", message)
                    for key, messages in exc.message_dict.items()
                    for message in messages
                )
                if mode == ImportMode.ALL:
                    break
                continue
            created[item.row] = team
            report.written += 1
            if progress is not None and report.written % 50 == 0:
                progress(report.written)
        if late and mode == ImportMode.ALL:
            transaction.set_rollback(True)
            report.written = 0
    _merge(report, late)
    report.valid -= len({e.row for e in late})
    return report
