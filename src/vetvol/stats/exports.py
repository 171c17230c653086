"""Downloads: each dashboard chart as xlsx with the numbers the page shows, and the civilisation-evaluation
workbook (layout in docs/architecture.md, "Statistics"). Aggregates only, no personal data; each download
is audited like any export."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.utils.translation import gettext as _

from vetvol.core import audit
from vetvol.core.exports import Export
from vetvol.regions.models import Region, RegionLevel
from vetvol.stats import queries, rollup
from vetvol.stats.queries import FIGURE_BY_NAME, FIGURES

CHARTS = ("summary", "children", "trend", "teams")
TREND_LABELS = {
    "service_hours": "服务时长（小时）",
    "active_volunteers": "活跃志愿者",
    "activities": "活动场次",
    "participants": "参与人次",
    "missions": "应急任务",
    "cases_opened": "关爱立案",
    "visits": "探访次数",
}
NOT_REPORTED = "未填报"


def _label(name: str) -> str:
    f = FIGURE_BY_NAME[name]
    return f"{f.label}（{f.unit}）" if f.unit else str(f.label)


def _cell(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def chart(user: Any, region: Region, period: str, which: str) -> Export:
    data = queries.dashboard(user, region, period)
    base = f"统计-{region.code}-{period}-{which}"
    if which == "summary":
        rows = [[_label(f.name), _cell(data["totals"][f.name])] for f in FIGURES]
        export = Export(base, _("概况"), [_("指标"), _("数值")], iter(rows), len(rows))
    elif which == "children":
        headers = [_("地区代码"), _("地区"), *(_label(f.name) for f in FIGURES)]
        rows = [
            [c["code"], c["name"], *(_cell(c["values"][f.name]) for f in FIGURES)] for c in data["children"]
        ]
        export = Export(base, _("下级地区"), headers, iter(rows), len(rows))
    elif which == "trend":
        headers = [_("月份"), *(_(label) for label in TREND_LABELS.values())]
        rows = [
            [month, *(_cell(data["trend"][name][i]) for name in TREND_LABELS)]
            for i, month in enumerate(data["months"])
        ]
        export = Export(base, _("月度趋势"), headers, iter(rows), len(rows))
    else:
        teams = queries.team_league(user, region)
        headers = [_("队伍"), _("品牌"), _("地区代码"), _("民政登记"), _("在队队员")]
        rows = [[t["name"], t["brand"], t["region_code"], t["civil_status"], t["members"]] for t in teams]
        export = Export(base, _("队伍排行"), headers, iter(rows), len(rows))
    audit.record(
        "stats.export", actor=user, region_code=region.code, detail={"chart": which, "period": period}
    )
    return export


CIVILISATION_HEADERS = [
    "地区代码",
    "地区名称",
    "层级",
    "年度",
    "退役军人人数",
    "注册志愿者",
    "其中退役军人",
    "退役军人注册率",
    "服务时长（小时）",
    "人均服务时长（小时）",
    "活跃志愿者",
    "活跃志愿者占比",
    "新建项目",
    "活动场次",
    "星级志愿者",
]


def _share(part: int, whole: int | None) -> Any:
    if not whole:
        return NOT_REPORTED if whole is None else "—"
    return float((Decimal(part) * 100 / whole).quantize(Decimal("0.01")))


def _per_volunteer(minutes: int, volunteers: int) -> float:
    if not volunteers:
        return 0.0
    return float((Decimal(minutes) / 60 / volunteers).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def civilisation_rows(region: Region, year: str) -> list[list[Any]]:
    """One row per node of the subtree down to streets and towns, the node first, then by code."""
    nodes = list(
        Region.objects.filter(
            code__gte=region.code, code__lt=region.code + ":", level__in=_LEVELS_DOWN_TO_TOWN
        )
        .order_by("code")
        .values_list("code", "name", "level")
    )
    codes = [c for c, _n, _l in nodes]
    stored = rollup.totals(codes, {"", year}, region.code)
    veterans = queries.veteran_population(codes, int(year))
    levels = dict(RegionLevel.choices)
    rows = []
    for code, name, level in nodes:
        values = stored.get(code, {})
        volunteers = values.get(("", "volunteers"), 0)
        vet_volunteers = values.get(("", "veteran_volunteers"), 0)
        minutes = values.get((year, "minutes"), 0)
        active = values.get((year, "active_volunteers"), 0)
        population = veterans.get(code)
        rows.append(
            [
                code,
                name,
                str(levels.get(level, level)),
                int(year),
                population if population is not None else NOT_REPORTED,
                volunteers,
                vet_volunteers,
                _share(vet_volunteers, population),
                float(queries.hours(minutes)),
                _per_volunteer(minutes, volunteers),
                active,
                _share(active, volunteers) if volunteers else 0.0,
                values.get((year, "projects"), 0),
                values.get((year, "activities"), 0),
                values.get(("", "star_volunteers"), 0),
            ]
        )
    return rows


_LEVELS_DOWN_TO_TOWN = ("province", "city", "county", "township")


def civilisation(user: Any, region: Region, year: str) -> Export:
    rows = civilisation_rows(region, year)
    audit.record("stats.civilisation_export", actor=user, region_code=region.code, detail={"year": year})
    return Export(
        f"文明创建测评-{region.code}-{year}",
        "文明创建测评",
        list(CIVILISATION_HEADERS),
        iter(rows),
        len(rows),
    )
