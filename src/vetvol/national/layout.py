"""The record layout of the files sent to the national volunteer service information system, in one place.

Three files (volunteers, projects, hour records) and a report of the rows that cannot be sent. Each column
has its Chinese header, a type and the field it comes from; `docs/architecture.md` ("National system
interchange") lists them and says which parts are our reading of the 2020 rules (志愿服务记录与证明出具办法
（试行）, Ministry of Civil Affairs order No. 67) rather than their wording. The row builders here decide the
values and, for a row that cannot be sent, the reason (in Chinese, for the report); they read nothing from
the database themselves (the action hands them what they need), so the layout is testable on its own.

Hours that count are decided by `activities.queries.counting_q` only (the action passes `counted`); the
standing of records that do not count (pending, rejected, superseded) only picks the report's wording.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from vetvol.activities.models import HourRecord, HourSource, Project, ProjectStatus, ServiceDomain
from vetvol.activities.queries import hours_label
from vetvol.core.idcard import is_valid_id_number
from vetvol.registry.models import CivilStatus, Gender, Volunteer, VolunteerStatus

TEXT, DATE, DATETIME, NUMBER = "文本", "日期", "日期时间", "数值"
ID_TYPE = "居民身份证"  # the only document the registry accepts (real-name registration per GB 11643)

OP_NEW, OP_CHANGED, OP_SAME, OP_REVOKED = "新增", "变更", "无变化", "撤销"


@dataclass(frozen=True)
class Column:
    name: str  # the header, as the national system's import names it (our reading where `ours`)
    type: str
    source: str  # where the value comes from, for the documentation
    ours: bool = False  # not named by the rules: our addition for the interchange itself
    in_digest: bool = True  # whether a change of this value makes the row "changed"


OP = Column(
    "操作类型", TEXT, "新增 / 变更 / 无变化 / 撤销, against what was last sent", ours=True, in_digest=False
)
BATCH = Column("导出批次", TEXT, "ExportBatch.number (watermark: who and when are on the batch)", ours=True,
               in_digest=False)  # fmt: skip

VOLUNTEER_COLUMNS = [
    OP,
    Column("志愿者编号", TEXT, "Volunteer.number"),
    Column("姓名", TEXT, "Volunteer.name"),
    Column("性别", TEXT, "Volunteer.gender (男/女)"),
    Column("出生日期", DATE, "Volunteer.birth_date"),
    Column("证件类型", TEXT, f"always {ID_TYPE}"),
    Column("证件号码", TEXT, "Volunteer.id_number (decrypted, unmasked)"),
    Column("联系电话", TEXT, "Volunteer.phone (decrypted, unmasked)"),
    Column("居住区域代码", TEXT, "Volunteer.region_code (NBS code)"),
    Column("居住区域", TEXT, "names of the home region and its ancestors"),
    Column("是否退役军人", TEXT, "Volunteer.is_veteran (是/否)", ours=True),
    Column("注册状态", TEXT, "Volunteer.status (在册/暂停服务/已退出)"),
    Column("注册日期", DATE, "Volunteer.created_at (local date)"),
    BATCH,
]

PROJECT_COLUMNS = [
    OP,
    Column("项目编号", TEXT, "XM + Project.id, 8 digits", ours=True),
    Column("项目名称", TEXT, "Project.name"),
    Column("服务类别", TEXT, "Project.domain (label)"),
    Column("项目简介", TEXT, "Project.description"),
    Column("服务地点", TEXT, "place names of the project's activities (not cancelled)"),
    Column("服务区域代码", TEXT, "Project.region_code"),
    Column("服务区域", TEXT, "names of the project's region and its ancestors"),
    Column("开始日期", DATE, "earliest start of its activities (not cancelled)"),
    Column("结束日期", DATE, "latest end of its activities (not cancelled)"),
    Column("组织单位", TEXT, "owner team's name, or the owner service centre's"),
    Column("组织单位类型", TEXT, "志愿服务组织（已登记/已备案） or 退役军人服务中心（站）", ours=True),
    Column("登记（备案）编号", TEXT, "owner team's civil_number (empty for a service centre)"),
    Column("项目状态", TEXT, "Project.status (label)", ours=True),
    BATCH,
]

HOUR_COLUMNS = [
    OP,
    Column("记录编号", TEXT, "HR + HourRecord.id, 10 digits (as the activities export)"),
    Column("志愿者编号", TEXT, "Volunteer.number"),
    Column("姓名", TEXT, "Volunteer.name", in_digest=False),
    Column("证件类型", TEXT, f"always {ID_TYPE}", in_digest=False),
    Column("证件号码", TEXT, "Volunteer.id_number (decrypted, unmasked)", in_digest=False),
    Column("项目编号", TEXT, "XM + Project.id (empty for dispatch and care hours)", ours=True),
    Column("项目名称", TEXT, "Project.name", in_digest=False),
    Column("服务内容", TEXT, "HourRecord.content"),
    Column("服务日期", DATE, "HourRecord.service_date"),
    Column("开始时间", DATETIME, "HourRecord.started_at (local, empty if not known)"),
    Column("结束时间", DATETIME, "HourRecord.ended_at (local, empty if not known)"),
    Column("服务地点", TEXT, "the activity's place, else the organising region's names"),
    Column("服务时长（小时）", NUMBER, "HourRecord.minutes / 60, two decimals, never rounded up"),
    Column("记录来源", TEXT, "HourRecord.source (label)", ours=True),
    Column("记录单位", TEXT, "the project's organiser; else the service centre (station) of the region"),
    Column("记录单位区划代码", TEXT, "HourRecord.region_code (organising region)"),
    Column("记录日期", DATE, "when the record came to count: the approval at its level, else its creation"),
    Column("更正的原记录编号", TEXT, "HR + HourRecord.corrects_id for a correction", ours=True),
    BATCH,
]

REPORT_COLUMNS = [
    Column("文件", TEXT, "志愿者 / 志愿服务项目 / 服务时长"),
    Column("编号", TEXT, "volunteer number, project number or record number"),
    Column("名称", TEXT, "masked name of the volunteer, or the project's name"),
    Column("区划代码", TEXT, "the row's region"),
    Column("原因", TEXT, "why the row cannot be sent, and what to fix"),
]

# Why a row cannot be sent ---------------------------------------------------------------------------------

NO_NAME = "缺少姓名"
NO_ID = "缺少身份证件号码"
BAD_ID = "身份证件号码无效（校验未通过），请核对后更正"
VOLUNTEER_PENDING = "志愿者注册信息尚未审核通过"
PROJECT_DRAFT = "项目尚未发布（草稿）"
TEAM_UNREGISTERED = "主办队伍未在民政部门登记或备案，不能作为志愿服务记录单位"
NO_ACTIVITY = "项目尚无未取消的活动，无法确定服务时间和地点"
HOURS_PENDING = "服务时长尚待审核，审核通过后才能导出"
HOURS_VOLUNTEER = "志愿者信息无法导出："
HOURS_OUTSIDE_UNMASK = "志愿者不在导出人可查看证件号码的范围内，请由上级管理员导出"
HOURS_TEAM_UNREGISTERED = "记录单位（主办队伍）未在民政部门登记或备案"
HOURS_NO_CENTRE = "所在区划没有退役军人服务中心（站），无法确定记录单位"

_GENDER = dict(Gender.choices)
_STATUS = dict(VolunteerStatus.choices)
_DOMAIN = dict(ServiceDomain.choices)
_PROJECT_STATUS = dict(ProjectStatus.choices)
_SOURCE = dict(HourSource.choices)
_CIVIL = dict(CivilStatus.choices)


def project_number(project_id: int | None) -> str:
    return f"XM{project_id:08d}" if project_id else ""


def record_number(record_id: int | None) -> str:
    return f"HR{record_id:010d}" if record_id else ""


def digest(columns: list[Column], values: list[Any]) -> str:
    """A fingerprint of what a row says (the columns `in_digest`), to tell a changed row from a same one."""
    kept = [str(v) for c, v in zip(columns, values, strict=True) if c.in_digest]
    return hashlib.sha256(json.dumps(kept, ensure_ascii=False).encode("utf-8")).hexdigest()


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _local_day(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def volunteer_reason(v: Volunteer) -> str | None:
    """Why the volunteer cannot be sent, or None."""
    if not v.name.strip():
        return NO_NAME
    if not (v.id_number or "").strip():
        return NO_ID
    if not is_valid_id_number(v.id_number):
        return BAD_ID
    if v.status == VolunteerStatus.PENDING:
        return VOLUNTEER_PENDING
    return None


def volunteer_row(v: Volunteer, region_names: str) -> list[Any]:
    """The volunteer's row (operation and batch columns left empty for the action to fill)."""
    return [
        "", v.number, v.name, _GENDER.get(v.gender, ""), _day(v.birth_date), ID_TYPE, v.id_number, v.phone,
        v.region_code, region_names, "是" if v.is_veteran else "否", _STATUS.get(v.status, v.status),
        _local_day(v.created_at), "",
    ]  # fmt: skip


@dataclass(frozen=True)
class Span:
    """What a project's activities (not cancelled) say about it."""

    first: datetime | None = None
    last: datetime | None = None
    places: tuple[str, ...] = ()


def organiser(project: Project) -> tuple[str, str, str, str | None]:
    """(name, kind, civil number, reason it cannot record) of the project's organiser."""
    team = project.owner_team
    if team is not None:
        if team.civil_status == CivilStatus.NONE:
            return team.name, "志愿服务队（未登记）", "", TEAM_UNREGISTERED
        return team.name, f"志愿服务组织（{_CIVIL[team.civil_status]}）", team.civil_number, None
    centre = project.owner_centre
    return (centre.name if centre else ""), "退役军人服务中心（站）", "", None


def project_reason(project: Project, span: Span) -> str | None:
    if project.status == ProjectStatus.DRAFT:
        return PROJECT_DRAFT
    reason = organiser(project)[3]
    if reason:
        return reason
    if span.first is None:
        return NO_ACTIVITY
    return None


def project_row(project: Project, span: Span, region_names: str) -> list[Any]:
    name, kind, civil_number, _ = organiser(project)
    return [
        "", project_number(project.pk), project.name, _DOMAIN.get(project.domain, project.domain),
        project.description, "、".join(span.places), project.region_code, region_names,
        _local_day(span.first), _local_day(span.last), name, kind, civil_number,
        _PROJECT_STATUS.get(project.status, project.status), "",
    ]  # fmt: skip


@dataclass(frozen=True)
class HourContext:
    """What the action found out about one hour record besides the record itself."""

    counted: bool  # by counting_q
    pending: bool  # not counted, and neither rejected nor superseded: waiting for approval
    recorded_on: date | None  # when it came to count
    volunteer_reason: str | None  # why its volunteer cannot be sent (None: they can)
    volunteer_in_unmask: bool  # the exporter may see the volunteer's ID number
    centre_name: str  # service centre (station) of the organising region or the nearest above it
    place: str  # the activity's place, else the organising region's names


def hour_organiser(record: HourRecord, ctx: HourContext) -> tuple[str, str | None]:
    """(recording organisation, reason it cannot record): the project's organiser for activity hours, else
    the service centre (station) of the organising region."""
    project = record.activity.project if record.activity_id and record.activity else None
    if project is not None:
        name, _, _, reason = organiser(project)
        return name, (HOURS_TEAM_UNREGISTERED if reason else None)
    if not ctx.centre_name:
        return "", HOURS_NO_CENTRE
    return ctx.centre_name, None


def hour_reason(record: HourRecord, ctx: HourContext) -> str | None:
    """Why a record that counts cannot be sent (the action handles records that do not count)."""
    if ctx.volunteer_reason:
        return HOURS_VOLUNTEER + ctx.volunteer_reason
    if not ctx.volunteer_in_unmask:
        return HOURS_OUTSIDE_UNMASK
    return hour_organiser(record, ctx)[1]


def hour_row(record: HourRecord, ctx: HourContext) -> list[Any]:
    v = record.volunteer
    project = record.activity.project if record.activity_id and record.activity else None
    return [
        "", record_number(record.pk), v.number, v.name, ID_TYPE, v.id_number,
        project_number(project.pk if project else None), project.name if project else "", record.content,
        _day(record.service_date), _moment(record.started_at), _moment(record.ended_at), ctx.place,
        Decimal(hours_label(record.minutes)), _SOURCE.get(record.source, record.source),
        hour_organiser(record, ctx)[0], record.region_code, _day(ctx.recorded_on),
        record_number(record.corrects_id), "",
    ]  # fmt: skip


def headers(columns: list[Column]) -> list[str]:
    return [c.name for c in columns]
