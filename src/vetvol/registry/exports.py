"""Exports of the volunteer list (talent-pool filters) and of team lists, as xlsx or CSV.

Every export needs `Action.EXPORT` and leaves one audit row ("registry.export": what, format, filters, row
count; never personal data). Rows are limited to the regions where the user may export. ID and phone
numbers are masked unless the user may unmask in the volunteer's region. Any text cell that a spreadsheet
could take for a formula is neutralised (`neutralise`). Both formats stream: CSV row by row (UTF-8 with a
BOM, so Excel reads Chinese correctly), xlsx through openpyxl's write-only mode into a temporary file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from vetvol.core import audit
from vetvol.core.exports import Export, export_scope
from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers, subtree_q
from vetvol.regions.models import Region
from vetvol.registry.filters import talent_filter_summary
from vetvol.registry.models import (
    Certificate,
    CivilStatus,
    Gender,
    Membership,
    ServiceBranch,
    Team,
    TeamSpecialty,
    Volunteer,
    VolunteerStatus,
)
from vetvol.registry.models.volunteers import SkillLevel
from vetvol.registry.queries import TalentFilter, talent_search, teams_for_user

CHUNK = 1000


def _record(user: Any, what: str, fmt: str, filters: dict[str, Any], count: int, unmask: bool) -> None:
    audit.record(
        "registry.export",
        actor=user,
        region_code=str(filters.get("region") or ""),
        detail={"what": what, "format": fmt, "filters": filters, "rows": count, "unmasked": unmask},
    )


# ---------------------------------------------------------------------------------------------------------
# Volunteers

VOLUNTEER_HEADERS = [
    "志愿者编号",
    "姓名",
    "性别",
    "出生年份",
    "身份证号码",
    "手机号码",
    "所属城市",
    "区（县）",
    "街道（乡镇）",
    "社区（村）",
    "是否退役军人",
    "服役军种",
    "退役年份",
    "是否中共党员",
    "技能",
    "资格证书",
    "所在队伍",
    "状态",
]
_LEVEL = dict(SkillLevel.choices)
_BRANCH = dict(ServiceBranch.choices)
_GENDER = dict(Gender.choices)
_STATUS = dict(VolunteerStatus.choices)


def _yes(value: bool) -> str:
    return "是" if value else "否"


def volunteer_queryset(user: Any, f: TalentFilter, prefixes: list[str] | None) -> QuerySet[Volunteer]:
    qs = talent_search(user, f)
    if prefixes is not None:
        qs = qs.filter(subtree_q("region_code", prefixes))
    return qs.prefetch_related(
        Prefetch("certificates", queryset=Certificate.objects.select_related("type").order_by("type__code")),
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(left_on=None).select_related("team").order_by("team__path"),
            to_attr="current_memberships",
        ),
    )


def _volunteer_rows(user: Any, qs: QuerySet[Volunteer]) -> Iterator[list[Any]]:
    unmask = allowed_prefixes(user, Action.UNMASK)
    names = dict(Region.objects.filter(level__in=["city", "county", "township"]).values_list("code", "name"))
    for v in qs.iterator(chunk_size=CHUNK):
        full = covers(unmask, v.region_code)
        code = v.region_code
        yield [
            v.number,
            v.name,
            _GENDER.get(v.gender, ""),
            v.birth_date.year,
            v.id_number if full else mask(v.id_number, "id_number"),
            v.phone if full else mask(v.phone, "phone"),
            names.get(code[:4], ""),
            names.get(code[:6], ""),
            names.get(code[:9], ""),
            v.home_region.name if len(code) == 12 else "",
            _yes(v.is_veteran),
            _BRANCH.get(v.service_branch, ""),
            v.discharge_year or "",
            _yes(v.is_party_member),
            "、".join(
                f"{s.skill.name}（{_LEVEL.get(s.level, '')}）"
                for s in sorted(v.skills.all(), key=lambda s: s.skill.code)
            ),
            "、".join(
                c.type.name + (f"（有效期至 {c.valid_until.isoformat()}）" if c.valid_until else "")
                for c in v.certificates.all()
            ),
            "、".join(m.team.name for m in getattr(v, "current_memberships", [])),
            _STATUS.get(v.status, ""),
        ]


def volunteer_export(user: Any, f: TalentFilter, fmt: str) -> Export:
    """The volunteers the user may see and export that match the filter; audited before any row leaves."""
    prefixes = export_scope(user, f.region, "registry.export")
    qs = volunteer_queryset(user, f, prefixes)
    count = qs.count()
    unmask = allowed_prefixes(user, Action.UNMASK)
    _record(user, "volunteers", fmt, talent_filter_summary(f), count, unmask is None or bool(unmask))
    stamp = timezone.localdate().strftime("%Y%m%d")
    return Export(f"志愿者名单-{stamp}", "志愿者", VOLUNTEER_HEADERS, _volunteer_rows(user, qs), count)


# ---------------------------------------------------------------------------------------------------------
# Teams

TEAM_HEADERS = [
    "队伍名称",
    "上级队伍名称",
    "所属区划代码",
    "品牌",
    "类型",
    "民政登记状态",
    "登记（备案）编号",
    "登记（备案）日期",
    "成立日期",
    "所属区划",
    "现有队员数",
]
_SPECIALTY = dict(TeamSpecialty.choices)
_CIVIL = dict(CivilStatus.choices)


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def _team_rows(qs: QuerySet[Team]) -> Iterator[list[Any]]:
    for t in qs.iterator(chunk_size=CHUNK):
        yield [
            t.name,
            t.parent.name if t.parent_id and t.parent else "",
            t.region_code,
            t.brand,
            _SPECIALTY.get(t.specialty, ""),
            _CIVIL.get(t.civil_status, ""),
            t.civil_number,
            _iso(t.civil_date),
            _iso(t.founded_on),
            t.region.name,
            getattr(t, "member_count", 0),
        ]


def team_export(user: Any, filters: dict[str, str], fmt: str) -> Export:
    """The active teams the user may see and export (`teams_for_user` with its filters); audited."""
    prefixes = export_scope(user, filters.get("region", ""), "registry.export")
    qs = teams_for_user(user, **filters)
    if prefixes is not None:
        qs = qs.filter(subtree_q("region_code", prefixes))
    count = qs.count()
    _record(user, "teams", fmt, {k: v for k, v in filters.items() if v}, count, False)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return Export(f"志愿服务队名单-{stamp}", "志愿服务队", TEAM_HEADERS, _team_rows(qs), count)
