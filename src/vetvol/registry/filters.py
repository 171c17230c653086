"""The talent-pool filter from query parameters, shared by the volunteer list page and the exports.

`talent_filter_from_params(request.GET)` returns a `TalentFilter`, or raises `FilterError` (a
`ValidationError`, so the API answers it with 422 and the field) whose `errors` maps each bad parameter to
a Simplified Chinese message, all bad parameters at once. Parameters, all optional (the
names are those of the API's talent search):

    region          region subtree code (2, 4, 6, 9 or 12 digits)
    skill           skill code; repeat it (or separate codes by commas) to require several skills
    min_level       1 初级, 2 熟练, 3 专家 (default 1)
    certificate     certificate type code
    valid_on        certificate valid on this day, YYYY-MM-DD
    available       weekly availability bitmask (0 … 2^21-1): any of these slots
    party_member    是/否 (also 1/0, true/false, yes/no)
    veteran         是/否
    team            team id: current members of this team
    age_min age_max           whole years, 0 … 120
    discharge_from discharge_to   years of discharge
    name            name prefix or volunteer number, at most 50 characters
    status          pending / active / suspended / left, or "all" (default active)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from vetvol.registry.models import TeamSpecialty, VolunteerStatus
from vetvol.registry.queries import TalentFilter

CODE_RE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")
SLUG_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
TRUE = {"1", "true", "yes", "on", "是", "y"}
FALSE = {"0", "false", "no", "off", "否", "n"}
FIELDS = (
    "region",
    "skill",
    "min_level",
    "certificate",
    "valid_on",
    "available",
    "party_member",
    "veteran",
    "team",
    "age_min",
    "age_max",
    "discharge_from",
    "discharge_to",
    "name",
    "status",
)


class FilterError(ValidationError):
    """Bad filter parameters; `errors` is {parameter: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__({key: [message] for key, message in errors.items()})
        self.errors = errors


def _get(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()


def _getlist(params: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    values = getlist(key) if getlist is not None else params.get(key, [])
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def talent_filter_from_params(params: Mapping[str, Any], today: date | None = None) -> TalentFilter:
    """A `TalentFilter` from GET parameters; FilterError({param: message}) for bad values."""
    errors: dict[str, str] = {}
    f = TalentFilter(today=today)

    def fail(key: str, message: str) -> None:
        errors.setdefault(key, message)

    def integer(key: str, low: int, high: int, message: str) -> int | None:
        text = _get(params, key)
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            fail(key, message)
            return None
        if not low <= value <= high:
            fail(key, message)
            return None
        return value

    def boolean(key: str, label: str) -> bool | None:
        text = _get(params, key).lower()
        if not text or text in {"all", "全部"}:
            return None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        fail(key, f"{label}应为“是”或“否”")
        return None

    region = _get(params, "region")
    if region and not CODE_RE.match(region):
        fail("region", "区划代码应为 2、4、6、9 或 12 位数字")
    else:
        f.region = region
    skills = _getlist(params, "skill")
    bad = [s for s in skills if not SLUG_RE.match(s)]
    if bad:
        fail("skill", "技能代码无效：" + "、".join(bad[:5]))
    elif len(skills) > 10:
        fail("skill", "最多同时筛选 10 项技能")
    else:
        f.skills = list(dict.fromkeys(skills))
    f.min_level = integer("min_level", 1, 3, "技能水平应为 1（初级）、2（熟练）或 3（专家）") or 1
    certificate = _get(params, "certificate")
    if certificate and not SLUG_RE.match(certificate):
        fail("certificate", "证书类型代码无效")
    else:
        f.certificate = certificate
    valid_on = _get(params, "valid_on")
    if valid_on:
        try:
            f.valid_on = date.fromisoformat(valid_on)
        except ValueError:
            fail("valid_on", "日期格式应为 YYYY-MM-DD，例如 2026-05-01")
    f.available = integer("available", 0, (1 << 21) - 1, "可服务时段参数无效") or 0
    f.party_member = boolean("party_member", "是否中共党员")
    f.veteran = boolean("veteran", "是否退役军人")
    f.team = integer("team", 1, 2**63 - 1, "队伍编号无效")
    f.age_min = integer("age_min", 0, 120, "最小年龄应为 0 到 120 之间的整数")
    f.age_max = integer("age_max", 0, 120, "最大年龄应为 0 到 120 之间的整数")
    if f.age_min is not None and f.age_max is not None and f.age_min > f.age_max:
        fail("age_max", "最大年龄不能小于最小年龄")
    f.discharge_from = integer("discharge_from", 1940, 2100, "退役年份应为四位年份，例如 1998")
    f.discharge_to = integer("discharge_to", 1940, 2100, "退役年份应为四位年份，例如 1998")
    if f.discharge_from is not None and f.discharge_to is not None and f.discharge_from > f.discharge_to:
        fail("discharge_to", "退役年份止不能早于退役年份起")
    name = _get(params, "name")
    if len(name) > 50:
        fail("name", "姓名或编号最多 50 个字")
    else:
        f.name = name
    status = _get(params, "status")
    if status in {"all", "全部"}:
        f.status = ""
    elif status and status not in VolunteerStatus.values:
        fail("status", "状态应为：" + "、".join(VolunteerStatus.labels) + "，或“全部”")
    elif status:
        f.status = status
    if errors:
        raise FilterError(errors)
    return f


def talent_filter_summary(f: TalentFilter) -> dict[str, Any]:
    """The filter's non-default values, for audit rows (no personal data: a name prefix is cut to its
    first character, which is what the masked name shows anyway)."""
    summary: dict[str, Any] = {}
    defaults = TalentFilter()
    for key in (
        "region",
        "skills",
        "min_level",
        "certificate",
        "valid_on",
        "available",
        "party_member",
        "veteran",
        "team",
        "age_min",
        "age_max",
        "discharge_from",
        "discharge_to",
        "status",
    ):
        value = getattr(f, key)
        if value != getattr(defaults, key):
            summary[key] = value.isoformat() if isinstance(value, date) else value
    if f.name:
        summary["name"] = f.name[:1] + "*"
    return summary


def team_filters_from_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Keyword arguments for `queries.teams_for_user` from GET parameters (region, brand, specialty, text);
    FilterError({param: message}) for bad values."""
    errors: dict[str, str] = {}
    region = _get(params, "region")
    if region and not CODE_RE.match(region):
        errors["region"] = "区划代码应为 2、4、6、9 或 12 位数字"
    brand = _get(params, "brand")
    if len(brand) > 30:
        errors["brand"] = "品牌最多 30 字"
    specialty = _get(params, "specialty")
    labels = {label: value for value, label in TeamSpecialty.choices}
    specialty = labels.get(specialty, specialty)
    if specialty and specialty not in TeamSpecialty.values:
        errors["specialty"] = "类型应为：" + "、".join(TeamSpecialty.labels)
    text = _get(params, "text") or _get(params, "q")
    if len(text) > 50:
        errors["text"] = "队伍名称关键词最多 50 字"
    if errors:
        raise FilterError(errors)
    return {"region": region, "brand": brand, "specialty": specialty, "text": text}
