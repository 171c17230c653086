"""Excel uploads: safety checks before any parsing, streaming reading of the rows, and the templates.

An uploaded file is untrusted until proven otherwise. Before any XML is parsed: size ≤ 20 MiB, a real zip
(magic bytes and `zipfile.is_zipfile`; old .xls and password-protected workbooks are OLE files and refused
by name), the two parts every workbook has, at most 200 entries, at most 200 MiB uncompressed in total, no
entry over 64 KiB more than 100 times its compressed size (zip bombs), only stored or deflated entries (a
bzip2/LZMA entry decompresses in one unbounded call), no encrypted entries and no entry names that are
absolute or climb out with `..`.

XML: openpyxl reads the package structure, the workbook and the styles, through defusedxml (entity
declarations and external entities refused). The data sheet and the shared strings, which is where the
bulk of a 100,000-row file is, are streamed by the C ElementTree parser: openpyxl's read-only mode goes
through defusedxml's pure-Python parser and needed about 50 s for 100,000 rows on the benchmark machine,
against about 8 s here. `guard_xml` makes that safe: it refuses any DOCTYPE in those parts, so no entity
can be declared. Either refusal, like any other broken file, is one clean UploadRefused (the tests craft
such files and check both layers).

Columns are matched by header name, in any order; ID numbers typed as numbers are detected when Excel has
cut them to 15 digits.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.parsers import expat

import openpyxl
from defusedxml import DefusedXmlException
from django.core.exceptions import ImproperlyConfigured
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.constants import SHARED_STRINGS

from vetvol.registry.models import CivilStatus, ImportKind, ServiceBranch, TeamSpecialty

if not openpyxl.DEFUSEDXML:  # pragma: no cover - a deployment error, refused loudly
    raise ImproperlyConfigured("defusedxml must be installed (and OPENPYXL_DEFUSEDXML not False)")

MiB = 1024 * 1024
MAX_UPLOAD_BYTES = 20 * MiB
MAX_ENTRIES = 200
MAX_UNCOMPRESSED_BYTES = 200 * MiB
MAX_RATIO = 100
MAX_ROWS = 200_000
MAX_COLUMNS = 60
MAX_CELL_CHARS = 500
HEADER_SEARCH_ROWS = 10  # a title line or two above the header row is fine

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

MSG_EMPTY = "文件为空，请选择填好的 Excel（.xlsx）文件"
MSG_TOO_LARGE = f"文件超过 {MAX_UPLOAD_BYTES // MiB} MB，请拆分后分批上传"
MSG_NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件"
MSG_OLE = (
    "这是旧版 Excel（.xls）文件或设置了打开密码的文件，请在 Excel 中取消密码并“另存为”Excel 工作簿（.xlsx）"
    "后再上传"
)
MSG_UNSAFE = "文件不是有效的 Excel（.xlsx）文件：内部结构异常（可能是压缩炸弹或被篡改的文件），已拒绝"
MSG_XML = "文件不是有效的 Excel（.xlsx）文件：内容含有不允许的 XML 声明或已损坏，已拒绝"
MSG_BROKEN = "文件不是有效的 Excel（.xlsx）文件：文件已损坏，无法读取"
MSG_TOO_MANY_ROWS = f"文件超过 {MAX_ROWS} 行数据，请拆分后分批上传"
MSG_NO_ROWS = "文件中没有数据行"
MSG_ID_AS_NUMBER = "身份证号码请以文本格式填写（以数字格式保存时 Excel 只保留 15 位，后几位已丢失）"


class UploadRefused(Exception):
    """A file refused as a whole (not a row of it); `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# ---------------------------------------------------------------------------------------------------------
# Checks before parsing


def check_archive(data: bytes) -> None:
    """Refuse anything that is not a plausible, bounded xlsx zip; raises UploadRefused."""
    if not data:
        raise UploadRefused(MSG_EMPTY)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(MSG_TOO_LARGE, status=413)
    if data.startswith(OLE_MAGIC):
        raise UploadRefused(MSG_OLE)
    stream = io.BytesIO(data)
    if not data.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(stream):
        raise UploadRefused(MSG_NOT_XLSX)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UploadRefused(MSG_NOT_XLSX) from exc
    if len(entries) > MAX_ENTRIES:
        raise UploadRefused(MSG_UNSAFE)
    names: set[str] = set()
    total = 0
    for entry in entries:
        name = entry.filename
        parts = name.replace("\\", "/").split("/")
        if (
            name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
            or ".." in parts
            or "\x00" in name
            or name in names
        ):
            raise UploadRefused(MSG_UNSAFE)
        names.add(name)
        if entry.flag_bits & 0x1:  # encrypted entry
            raise UploadRefused(MSG_OLE)
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UploadRefused(MSG_UNSAFE)
        total += entry.file_size
        if entry.file_size > MAX_RATIO * max(entry.compress_size, 1) and entry.file_size > 64 * 1024:
            raise UploadRefused(MSG_UNSAFE)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UploadRefused(MSG_UNSAFE)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UploadRefused(MSG_NOT_XLSX)


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
VOLUNTEER_COLUMNS = (
    Column("name", "姓名", required=True, help="与身份证一致", example="张三", width=10),
    Column(
        "id_number",
        "身份证号码",
        "id",
        required=True,
        aliases=("身份证号", "公民身份号码", "身份证"),
        help="18 位，请以文本格式填写（模板中已设为文本）",
        example="440304199001011234",
        width=22,
    ),
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


def _norm_header(text: Any) -> str:
    value = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"\s+", "", value).strip("*").replace("（", "(").replace("）", ")")


def _header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            index[_norm_header(name)] = column
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


def _id_cell(value: Any) -> tuple[str, str | None]:
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


# ---------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class Header:
    row: int  # spreadsheet row number of the header
    positions: dict[int, Column]  # column index → column
    notes: list[str] = field(default_factory=list)


def _find_header(rows: list[tuple[int, tuple[Any, ...]]], kind: str) -> Header:
    columns = COLUMNS[kind]
    index = _header_index(columns)
    ignored = {_norm_header(h) for h in IGNORED_HEADERS}
    best = next(((n, v) for n, v in rows if sum(1 for x in v if _norm_header(x) in index) >= 2), None)
    required = [c.header for c in columns if c.required]
    template = "志愿者名册" if kind == ImportKind.VOLUNTEERS else "志愿服务队名单"
    if best is None:
        raise UploadRefused(
            f"没有找到表头行。第一行应为列名，必填列：{'、'.join(required)}。请下载“{template}”模板填写"
        )
    number, values = best
    positions: dict[int, Column] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for i, value in enumerate(values):
        name = _norm_header(value)
        if not name or name in ignored:
            continue
        column = index.get(name)
        if column is None:
            unknown.append(str(value).strip())
        elif column in positions.values():
            duplicated.append(column.header)
        else:
            positions[i] = column
    problems = []
    missing = [c.header for c in columns if c.required and c not in positions.values()]
    if missing:
        problems.append(f"缺少必填列：{'、'.join(missing)}")
    if duplicated:
        problems.append(f"列重复：{'、'.join(duplicated)}")
    if unknown:
        problems.append(
            f"无法识别的列：{'、'.join(unknown[:10])}（可用的列：{'、'.join(c.header for c in columns)}；"
            "不需要的列请删除）"
        )
    if problems:
        raise UploadRefused("；".join(problems) + f"。请对照“{template}”模板修改表头")
    absent = [c.header for c in columns if c not in positions.values()]
    notes = [f"文件中没有以下选填列，按空白处理：{'、'.join(absent)}"] if absent else []
    return Header(number, positions, notes)


class _RootReached(Exception):
    """The guard has seen the root element: the prolog, where a DOCTYPE would be, is over."""


def _refuse_dtd(*args: Any) -> int:
    raise UploadRefused(MSG_XML)


def _root_reached(*args: Any) -> None:
    raise _RootReached


def guard_xml(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a part that declares a DOCTYPE (where entities, billion laughs and external ones, live).

    The rows and the shared strings are parsed with the C ElementTree parser, several times faster than
    the pure-Python parser defusedxml wraps; this expat pass over the part's prolog is what makes that safe:
    a document without a DOCTYPE can reference no entity but the five predefined ones, and a DOCTYPE can
    only come before the root element, where this pass stops."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = _root_reached
    with archive.open(name) as fh:
        try:
            while chunk := fh.read(16 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _RootReached:
            return
        except expat.ExpatError as exc:
            raise UploadRefused(MSG_BROKEN) from exc
    raise UploadRefused(MSG_BROKEN)  # no root element at all


NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{NS}row", f"{NS}c", f"{NS}v", f"{NS}is"
_SI, _T, _RUN = f"{NS}si", f"{NS}t", f"{NS}r"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_COLUMNS: dict[str, int] = {}
MAX_SHARED_STRINGS = 3_000_000


def _rich_text(node: ET.Element) -> str:
    """The text of an <si> or <is>: its <t>, or its runs' <t> (phonetic <rPh> hints left out)."""
    direct = node.find(_T)
    if direct is not None:
        text = direct.text or ""
    else:
        text = "".join(run.findtext(_T) or "" for run in node.iterfind(_RUN))
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _read_shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    guard_xml(archive, name)
    strings: list[str] = []
    with archive.open(name) as fh:
        for _, node in ET.iterparse(fh):  # noqa: S314 - guard_xml has refused any DOCTYPE
            if node.tag == _SI:
                strings.append(_rich_text(node))
                node.clear()
                if len(strings) > MAX_SHARED_STRINGS:
                    raise UploadRefused(MSG_TOO_MANY_ROWS)
    return strings


def _column(ref: str | None, previous: int) -> int:
    """0-based column of a cell reference such as "AB12"; the next column when the reference is missing."""
    if not ref:
        return previous + 1
    letters = ref.rstrip("0123456789")
    column = _COLUMNS.get(letters)
    if column is None:
        try:
            column = column_index_from_string(letters) - 1
        except ValueError:
            return previous + 1
        _COLUMNS[letters] = column
    return column


class Workbook:
    """An opened upload: `header` found and checked on opening, `rows()` streams (row number, values).

    openpyxl (through defusedxml) reads the package structure, the workbook and the styles; the data sheet
    and the shared strings are streamed by the C parser behind `guard_xml`. Cell values are what
    openpyxl's `data_only` reading gives: the cached result of formulas, numbers as int or float, dates as
    datetime when the cell's number format is a date. Use as a context manager; every error the zip or XML
    layer raises becomes UploadRefused."""

    def __init__(self, data: bytes, kind: str) -> None:
        check_archive(data)
        self.kind = kind
        try:
            reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
            self._archive = reader.archive
        except Exception as exc:
            raise _refusal(exc) from exc
        try:
            reader.read_manifest()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
            self._epoch = reader.wb.epoch
            self._dates = set(reader.wb._date_formats)
            sheets = [
                (sheet.name, rel.target)
                for sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "worksheet" in rel.Type
            ]
            if not sheets:
                raise UploadRefused(MSG_NO_ROWS)
            self._sheet_path = dict(sheets).get(SHEET_NAMES[kind]) or sheets[0][1]
            strings = reader.package.find(SHARED_STRINGS)
            self._strings: list[str] = []
            if strings is not None and strings.PartName[1:] in reader.valid_files:
                self._strings = _read_shared_strings(self._archive, strings.PartName[1:])
            self._iter = self._parse()
            head: list[tuple[int, tuple[Any, ...]]] = []
            for number, values in self._iter:
                head.append((number, values))
                if len(head) >= HEADER_SEARCH_ROWS:
                    break
            self.header = _find_header(head, kind)
            self._pending = [(n, v) for n, v in head if n > self.header.row]
        except UploadRefused:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise _refusal(exc) from exc

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken archive must not hide the real error
            self._archive.close()

    def _cell(self, cell: ET.Element) -> Any:
        kind = cell.get("t")
        if kind == "inlineStr":
            node = cell.find(_INLINE)
            return _rich_text(node) if node is not None else None
        text = cell.findtext(_VALUE)
        if not text:  # no value, or <v/> (a formula never calculated)
            return None
        if kind == "s":
            return self._strings[int(text)]
        if kind is None or kind == "n":
            value: Any = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            style = cell.get("s")
            if style is not None and int(style) in self._dates:
                return from_excel(value, self._epoch)
            return value
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            return from_ISO8601(text)
        return text  # "str" (a formula's text result) and "e" (an error such as #N/A)

    def _parse(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, cell values up to the last filled column) for each row element of the sheet."""
        guard_xml(self._archive, self._sheet_path)
        number = 0
        with self._archive.open(self._sheet_path) as fh:
            for _, node in ET.iterparse(fh):  # noqa: S314 - guarded above
                if node.tag != _ROW:
                    continue
                number = int(node.get("r") or number + 1)
                values: list[Any] = []
                column = -1
                for cell in node:
                    if cell.tag != _CELL:
                        continue
                    ref = cell.get("r")
                    known = _COLUMNS.get(ref.rstrip("0123456789")) if ref else None
                    column = known if known is not None else _column(ref, column)
                    if column >= MAX_COLUMNS:
                        break
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    if column == len(values):
                        values.append(self._cell(cell))
                    else:
                        values[column] = self._cell(cell)
                node.clear()  # keep memory flat: only an empty element per row read stays
                yield number, tuple(values)

    def _values(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        yield from self._pending
        try:
            yield from self._iter
        except UploadRefused:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(spreadsheet row number, {column key: cell text}) for every non-empty data row.

        Empty cells are left out, so the cleaning's defaults apply. A cell the reader can already tell is
        wrong (an ID number that lost digits as a number) is reported in `raw["_errors"]`."""
        count = 0
        plan = [(i, c.key, c.kind == "id", CONVERTERS.get(c.kind)) for i, c in self.header.positions.items()]
        for number, values in self._values():
            raw: dict[str, Any] = {}
            text: Any
            problems: dict[str, list[str]] = {}
            width = len(values)
            for i, key, is_id, convert in plan:
                value = values[i] if i < width else None
                if value is None:
                    continue
                if is_id:
                    text, problem = _id_cell(value)
                    if problem:
                        problems[key] = [problem]
                        raw[key] = "?"
                        continue
                else:
                    text = convert(value)  # type: ignore[misc]  # a date stays a date (team dates)
                if text != "":
                    raw[key] = text
            if not raw:  # blank, or only an ignored column filled in (a pre-numbered 序号)
                continue
            count += 1
            if count > MAX_ROWS:
                raise UploadRefused(MSG_TOO_MANY_ROWS)
            if problems:
                raw["_errors"] = problems
            yield number, raw


def _refusal(exc: BaseException) -> UploadRefused:
    """The clean refusal for whatever the zip or XML layer raised while reading."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UploadRefused):
            return seen
        if isinstance(seen, DefusedXmlException):
            return UploadRefused(MSG_XML)
        seen = seen.__cause__ or seen.__context__
    return UploadRefused(MSG_BROKEN)


def open_workbook(data: bytes, kind: str) -> Workbook:
    return Workbook(data, kind)


# ---------------------------------------------------------------------------------------------------------
# Templates

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E7EEF7")


def _template(kind: str, notes: list[str]) -> bytes:
    columns = COLUMNS[kind]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAMES[kind]
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i, value=column.header)
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = column.width
        if column.kind in {"id", "digits"}:
            # Text format, so Excel keeps all 18 digits of an ID number and the leading digits of codes.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                sheet.cell(row=row, column=i).number_format = "@"
        if column.kind == "bool":
            check = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
            check.error, check.errorTitle = "请选择“是”或“否”", "输入有误"
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}100000")
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "填写说明", "示例"])
    for cell in guide[1]:
        cell.font = _HEADER_FONT
    for column in columns:
        guide.append([column.header, "必填" if column.required else "选填", column.help, column.example])
    guide.append([])
    for note in notes:
        guide.append([note])
    for letter, width in zip("ABCD", (22, 10, 70, 28), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COMMON_NOTES = [
    "说明：第一行是列名，请勿修改；列的顺序可以调整，不需要的选填列可以删除。黄色为必填列。",
    "从第二行开始每行填写一条记录，不要合并单元格，不要在数据中间留空行以外的说明文字。",
    f"每个文件最多 {MAX_ROWS} 行、{MAX_UPLOAD_BYTES // MiB} MB；请保存为 Excel 工作簿（.xlsx）格式。",
    "上传后系统先逐行检查、不写入任何数据；检查结果列出每一行的问题，可选择只导入有效行，或修改后重新上传。",
]


def template_volunteers() -> bytes:
    """The volunteer roster template (志愿者名册), as xlsx bytes."""
    return _template(
        ImportKind.VOLUNTEERS,
        [
            *COMMON_NOTES,
            "身份证号码列已设为文本格式；从其他表格粘贴时请选择“只粘贴值”，以免变成数字后丢失末几位。",
            "同一身份证号码只能登记一次；已登记的志愿者不会重复导入。",
        ],
    )


def template_teams() -> bytes:
    """The team list template (志愿服务队名单), as xlsx bytes."""
    return _template(
        ImportKind.TEAMS,
        [*COMMON_NOTES, "上级队伍须已存在，或在本文件中写在下级队伍之前的行。"],
    )


TEMPLATES: dict[str, Callable[[], bytes]] = {
    ImportKind.VOLUNTEERS: template_volunteers,
    ImportKind.TEAMS: template_teams,
}
