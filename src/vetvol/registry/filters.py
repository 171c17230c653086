"""Talent-pool filters from query parameters (list page, exports, API share this one parser)."""

from __future__ import annotations

from datetime import date
from typing import Any

from vetvol.registry.models import VolunteerStatus
from vetvol.registry.queries import TalentFilter


class FilterError(ValueError):
    """A parameter that makes no sense; `errors` maps the parameter to a Chinese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def _int(params: Any, key: str, label: str, errors: dict[str, str], lo: int, hi: int) -> int | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[key] = f"{label}应为整数"
        return None
    if not lo <= value <= hi:
        errors[key] = f"{label}应在 {lo} 到 {hi} 之间"
        return None
    return value


def _bool(params: Any, key: str) -> bool | None:
    raw = (params.get(key) or "").strip()
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(raw)


def talent_filter_from_params(params: Any, today: date | None = None) -> TalentFilter:
    """Build a TalentFilter from GET parameters; raises FilterError naming each bad parameter."""
    today = today or date.today()
    errors: dict[str, str] = {}
    region = (params.get("region") or "").strip()
    if region and (not region.isdigit() or len(region) not in (2, 4, 6, 9, 12)):
        errors["region"] = "区划代码应为 2、4、6、9 或 12 位数字"
    valid_on = None
    raw_day = (params.get("valid_on") or "").strip()
    if raw_day:
        try:
            valid_on = date.fromisoformat(raw_day)
        except ValueError:
            errors["valid_on"] = "日期格式应为 2026-01-31"
    status = (params.get("status") or VolunteerStatus.ACTIVE).strip()
    if status not in VolunteerStatus.values and status != "all":
        errors["status"] = "未知状态"
    f = TalentFilter(
        region=region,
        skills=[s for s in params.getlist("skill") if s][:5] if hasattr(params, "getlist") else [],
        min_level=_int(params, "min_level", "技能水平", errors, 1, 3) or 1,
        certificate=(params.get("certificate") or "").strip()[:40],
        valid_on=valid_on,
        available=_int(params, "available", "可服务时段", errors, 0, (1 << 21) - 1) or 0,
        party_member=_bool(params, "party_member"),
        veteran=_bool(params, "veteran"),
        team=_int(params, "team", "队伍", errors, 1, 2**62),
        age_min=_int(params, "age_min", "最小年龄", errors, 0, 120),
        age_max=_int(params, "age_max", "最大年龄", errors, 0, 120),
        discharge_from=_int(params, "discharge_from", "退役年份起", errors, 1940, today.year),
        discharge_to=_int(params, "discharge_to", "退役年份止", errors, 1940, today.year),
        name=(params.get("name") or "").strip()[:50],
        status="" if status == "all" else status,
        today=today,
    )
    if errors:
        raise FilterError(errors)
    return f
