"""The columns of each import kind, matched by header name, and the cell converters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from vetvol.registry.imports.upload import MAX_CELL_CHARS, MSG_ID_AS_NUMBER
from vetvol.registry.models import CivilStatus, ImportKind, ServiceBranch, TeamSpecialty

# ---------------------------------------------------------------------------------------------------------
# Columns


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text, id, digits, year, bool, date
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""
    example: str = ""
    width: int = 14


YES_NO = "填“是”或“否”"
# The ID number column of every list of people (volunteers, care's service recipients).
ID_NUMBER_COLUMN = Column(
    "id_number",
    "身份证号码",
    "id",
    required=True,
    aliases=("身份证号", "公民身份号码", "身份证"),
    help="18 位，请以文本格式填写（模板中已设为文本）",
    example="440304199001011234",
    width=22,
)
VOLUNTEER_COLUMNS = (
    Column("name", "姓名", required=True, help="与身份证一致", example="张三", width=10),
    ID_NUMBER_COLUMN,
    Column(
        "phone",
        "手机号码",
        "digits",
        required=True,
        aliases=("手机号", "联系电话", "电话"),
        help="11 位手机号，或带区号的固定电话",
        example="13812345678",
        width=15,
    ),
    Column(
        "home_region",
        "居住街道（乡镇）代码",
        "digits",
        required=True,
        aliases=("居住街道代码", "街道（乡镇）代码", "居住地代码", "区划代码"),
        help="9 位街道（乡镇）或 12 位社区（村）行政区划代码，可在“行政区划”页面查询",
        example="440304001",
        width=20,
    ),
    Column("address", "详细地址", aliases=("地址", "居住地址"), help="最多 200 字", width=30),
    Column("is_veteran", "是否退役军人", "bool", help=YES_NO + "，不填视为“是”", example="是"),
    Column(
        "service_branch",
        "服役军种",
        aliases=("军种",),
        help="、".join(ServiceBranch.labels),
        example="陆军",
        width=12,
    ),
    Column("enlistment_year", "入伍年份", "year", help="四位年份", example="1998", width=10),
    Column("discharge_year", "退役年份", "year", help="四位年份，不早于入伍年份", example="2003", width=10),
    Column("is_retired_cadre", "是否军休干部", "bool", help=YES_NO, example="否"),
    Column(
        "is_party_member", "是否中共党员", "bool", aliases=("是否党员", "中共党员"), help=YES_NO, example="是"
    ),
    Column(
        "skills",
        "技能",
        aliases=("专业技能",),
        help="技能名称，多个用顿号分隔；可在名称后用括号注明水平（初级、熟练、专家），不注明为“熟练”",
        example="急救（专家）、水上救援",
        width=24,
    ),
    Column("guardian_name", "监护人姓名", help="未满 18 周岁须填写", width=12),
)
TEAM_COLUMNS = (
    Column(
        "name", "队伍名称", required=True, help="最多 100 字", example="福田区退役军人志愿服务队", width=28
    ),
    Column(
        "parent",
        "上级队伍名称",
        aliases=("上级队伍",),
        help="已有队伍或本文件中前面行的队伍名称；顶级队伍不填",
        example="深圳市退役军人志愿服务总队",
        width=28,
    ),
    Column(
        "region",
        "所属区划代码",
        "digits",
        required=True,
        aliases=("区划代码",),
        help="队伍所属行政区划代码（市 4 位、区县 6 位、街道乡镇 9 位）",
        example="440304",
        width=14,
    ),
    Column("brand", "品牌", help="如“老兵先锋”；下级队伍不填时沿用上级队伍的品牌", width=14),
    Column(
        "specialty",
        "类型",
        aliases=("队伍类型",),
        help="、".join(TeamSpecialty.labels) + "；不填为“综合服务”",
        example="应急救援队",
        width=12,
    ),
    Column(
        "civil_status",
        "民政登记状态",
        help="、".join(CivilStatus.labels) + "；不填为“未登记”",
        example="已登记",
        width=14,
    ),
    Column("civil_number", "登记（备案）编号", help="已登记或已备案的须填写", width=20),
    Column("civil_date", "登记（备案）日期", "date", help="如 2023-05-01", example="2023-05-01", width=16),
    Column("founded_on", "成立日期", "date", help="如 2021-08-01", example="2021-08-01", width=14),
)
COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.VOLUNTEERS: VOLUNTEER_COLUMNS,
    ImportKind.TEAMS: TEAM_COLUMNS,
}
SHEET_NAMES: dict[str, str] = {ImportKind.VOLUNTEERS: "志愿者", ImportKind.TEAMS: "志愿服务队"}
# Columns a user (or our own team export) may leave in without them meaning anything to the import.
IGNORED_HEADERS = {"序号", "备注", "所属区划", "现有队员数", "志愿者编号"}


def norm_header(text: Any) -> str:
    value = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", value).strip("*").replace("（", "(").replace("）", ")")


def header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            index[norm_header(name)] = column
    return index


# ---------------------------------------------------------------------------------------------------------
# Cells


def _text(value: Any) -> str:
    if value.__class__ is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, datetime | date):
            value = value.isoformat()[:10]
        value = str(value)
    if "\u200b" in value or "\ufeff" in value or "\xa0" in value:
        value = value.replace("\u200b", "").replace("\ufeff", "").replace("\xa0", " ")
    return value.strip()[:MAX_CELL_CHARS]


def _digits_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return _text(value)
    text = _text(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.removeprefix("'").strip()


def id_cell(value: Any) -> tuple[str, str | None]:
    """An ID number from a text or number cell: (text, problem message or None).

    Excel keeps 15 significant digits of a number, so an 18-digit ID typed into a number cell comes back as a
    float (4.40304199001011E+17) or with its last digits zeroed. A number cell is accepted only when it
    cannot have lost anything: an integer whose digits after the 15th are not all zero."""
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)), None
        return "", MSG_ID_AS_NUMBER
    if isinstance(value, int):
        digits = str(abs(value))
        if len(digits) > 15 and set(digits[15:]) == {"0"}:
            return "", MSG_ID_AS_NUMBER
        return digits, None
    return _digits_text(value), None


def _year_text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return str(value.year)
    return _text(value)


def _bool_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return _text(value)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def parse_date(value: Any) -> date | None:
    """A date from a date cell or text such as 2023-05-01, 2023/5/1, 2023年5月1日; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", _text(value)).replace(" ", "")
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


CONVERTERS = {
    "text": _text,
    "digits": _digits_text,
    "year": _year_text,
    "bool": _bool_text,
    "date": lambda v: v if isinstance(v, datetime | date) else _text(v),
}
