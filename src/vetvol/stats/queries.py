"""Statistics reads, scoped by `restrict()`: the dashboard's data for a node and a period, the team league
and the civilisation-evaluation rows. Who may read: the holders of `STATS_ACTION` on a node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vetvol.core.scoping import Action, get_for_user
from vetvol.regions.models import Region
from vetvol.stats import rollup
from vetvol.stats.figures import FAMILY_OF, SNAPSHOT_FAMILIES
from vetvol.stats.models import VeteranPopulation

# The admins of a region and the auditor hold this grant and nobody else; a dedicated `view_stats` action in
# accounts/roles.py would name it better.
STATS_ACTION = Action.VIEW_FUND
CHILD_LENGTH = {2: 4, 4: 6, 6: 9, 9: 12}


@dataclass(frozen=True)
class Figure:
    name: str
    label: Any
    unit: Any = ""


FIGURES = [
    Figure("volunteers", _("注册志愿者")),
    Figure("veteran_volunteers", _("其中退役军人")),
    Figure("star_volunteers", _("星级志愿者")),
    Figure("pending_volunteers", _("待审核志愿者")),
    Figure("teams", _("志愿服务队")),
    Figure("civil_teams", _("已登记（备案）队伍")),
    Figure("service_hours", _("服务时长"), _("小时")),
    Figure("active_volunteers", _("活跃志愿者")),
    Figure("projects", _("新建项目")),
    Figure("activities", _("活动场次")),
    Figure("participants", _("参与人次")),
    Figure("missions", _("应急任务")),
    Figure("closed_missions", _("已结束任务")),
    Figure("rescued", _("救出人数")),
    Figure("recovered", _("打捞遗体")),
    Figure("served", _("服务人次")),
    Figure("cases_opened", _("关爱立案")),
    Figure("cases_closed", _("关爱办结")),
    Figure("cases_overdue", _("逾期案件（当前）")),
    Figure("visits", _("探访次数")),
    Figure("fund_income", _("基金收入"), _("元")),
    Figure("fund_spending", _("基金支出"), _("元")),
]
FIGURE_BY_NAME = {f.name: f for f in FIGURES}
MAP_FIGURES = [
    f.name for f in FIGURES if f.name not in {"pending_volunteers", "fund_income", "fund_spending"}
]


def hours(minutes: int) -> Decimal:
    """Minutes as hours, two decimals, never rounded up (the certificates' rule)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def parse_period(text: str | None) -> str:
    """ "2025" or "2025-03"; anything else (or nothing) is the current year."""
    text = (text or "").strip()
    if len(text) == 4 and text.isdigit() and 2000 <= int(text) <= 2100:
        return text
    is_month = len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit()
    if is_month and 2000 <= int(text[:4]) <= 2100 and 1 <= int(text[5:]) <= 12:
        return text
    return f"{timezone.localdate():%Y}"


def roots(user: Any) -> list[Region]:
    """The user's top nodes for statistics (their grants), shortest codes first."""
    visible = Region.objects.restrict(user, STATS_ACTION)
    shortest = visible.order_by(Length("code"), "code").first()
    if shortest is None:
        return []
    return list(visible.filter(level=shortest.level).order_by("code")[:50])


def may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or bool(user.region_prefixes(STATS_ACTION))
    )


def get_region_for_stats(user: Any, code: str) -> Region:
    """The node if the user may see its statistics; 404 otherwise (missing and not-yours alike)."""
    if not code.isdigit():
        raise Http404
    return get_for_user(Region.objects.all(), user, STATS_ACTION, code=code)


def _value(values: dict[tuple[str, str], int], name: str, period: str) -> int:
    if name == "service_hours":
        name = "minutes"
    family = FAMILY_OF.get(name)
    return values.get(("" if family in SNAPSHOT_FAMILIES else period, name), 0)


def _display(name: str, raw: int) -> Any:
    if name == "service_hours":
        return hours(raw)
    if name.startswith("fund_"):
        return yuan(raw)
    return raw


def _months(period: str) -> list[str]:
    return [f"{period[:4]}-{m:02d}" for m in range(1, 13)]


def _overdue(user: Any, region: Region) -> dict[str, int]:
    """Overdue care cases now, per child and for the node (live: overdue changes with the clock)."""
    from vetvol.care.queries import overdue_rollup

    rows = overdue_rollup(user, region.code)
    out = {row["child"]: row["overdue"] for row in rows}
    out[region.code] = sum(row["overdue"] for row in rows)
    return out


def _fund(user: Any, region: Region, period: str, child_len: int) -> dict[str, dict[str, int]]:
    """Fund income and spending (fen) in the period, per child and for the node, from the ledger's
    monthly totals (kept with each posting)."""
    from vetvol.fund.models import MonthlyTotal

    if not (user.is_superuser or user.region_prefixes(Action.VIEW_FUND)):
        return {}
    y = int(period[:4])
    if len(period) == 7:
        months = Q(month=date(y, int(period[5:]), 1))
    else:
        months = Q(month__gte=date(y, 1, 1), month__lt=date(y + 1, 1, 1))
    qs = MonthlyTotal.objects.filter(months, region_code__gte=region.code, region_code__lt=region.code + ":")
    rows = (
        qs.annotate(child=Substr("region_code", 1, child_len))
        .values("child")
        .annotate(income=Sum("income"), spending=Sum("spending"))
    )
    out: dict[str, dict[str, int]] = {region.code: {"fund_income": 0, "fund_spending": 0}}
    for row in rows.order_by():
        child = row["child"]
        values = {"fund_income": int(row["income"] or 0), "fund_spending": int(row["spending"] or 0)}
        if child != region.code:
            out[child] = values
        for k, v in values.items():
            out[region.code][k] += v
    return out


def dashboard(user: Any, region: Region, period: str) -> dict[str, Any]:
    """Everything the dashboard shows for a node: its figures, its children's (the map and the league
    table) and the months of the period's year (the trend)."""
    children = list(Region.objects.filter(parent=region).order_by("code").values_list("code", "name"))
    child_len = CHILD_LENGTH.get(len(region.code), 12)
    codes = [region.code, *(c for c, _ in children)]
    months = _months(period)
    stored = rollup.totals(codes, {"", period, *months}, region.code)
    overdue = _overdue(user, region)
    fund = _fund(user, region, period, child_len)

    def values_of(code: str, p: str) -> dict[str, int]:
        values = stored.get(code, {})
        out = {f.name: _value(values, f.name, p) for f in FIGURES if f.name != "cases_overdue"}
        out["cases_overdue"] = overdue.get(code, 0)
        out.update(fund.get(code, {}))
        return out

    trend: dict[str, list[Any]] = {
        name: []
        for name in (
            "service_hours",
            "active_volunteers",
            "activities",
            "participants",
            "missions",
            "cases_opened",
            "visits",
        )
    }
    for month in months:
        values = stored.get(region.code, {})
        for name in trend:
            trend[name].append(_display(name, _value(values, name, month)))
    return {
        "region": region,
        "period": period,
        "totals": {k: _display(k, v) for k, v in values_of(region.code, period).items()},
        "children": [
            {
                "code": code,
                "name": name,
                "values": {k: _display(k, v) for k, v in values_of(code, period).items()},
            }
            for code, name in children
        ],
        "months": months,
        "trend": trend,
    }


def team_league(user: Any, region: Region, limit: int = 20) -> list[dict[str, Any]]:
    """The node's teams with the most current members (a live count; teams are few)."""
    from vetvol.registry.models import Team

    qs = (
        Team.objects.restrict(user, Action.VIEW)
        .filter(region_code__gte=region.code, region_code__lt=region.code + ":", is_active=True)
        .annotate(members=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
        .order_by("-members", "name")[:limit]
    )
    return [
        {
            "id": t.pk,
            "name": t.name,
            "brand": t.brand,
            "region_code": t.region_code,
            "civil_status": t.get_civil_status_display(),
            "members": t.members,
        }
        for t in qs
    ]


def veteran_population(codes: list[str], year: int) -> dict[str, int]:
    return dict(
        VeteranPopulation.objects.filter(region_code__in=codes, year=year).values_list(
            "region_code", "veterans"
        )
    )
