"""Reading a workbook: the header row, then the data rows streamed from the sheet XML."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from django.core.exceptions import ImproperlyConfigured
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS

from vetvol.registry.imports.columns import (
    COLUMNS,
    CONVERTERS,
    IGNORED_HEADERS,
    SHEET_NAMES,
    Column,
    header_index,
    id_cell,
    norm_header,
)
from vetvol.registry.imports.upload import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    MSG_BROKEN,
    MSG_NO_ROWS,
    MSG_TOO_MANY_ROWS,
    MSG_TOO_MUCH_TEXT,
    MSG_XML,
    UploadRefused,
    check_archive,
    guard_xml,
)
from vetvol.registry.models import ImportKind

if not openpyxl.DEFUSEDXML:  # pragma: no cover - a deployment error, refused loudly
    raise ImproperlyConfigured("defusedxml must be installed (and OPENPYXL_DEFUSEDXML not False)")


# ---------------------------------------------------------------------------------------------------------
# Reading


@dataclass
class Header:
    row: int  # spreadsheet row number of the header
    positions: dict[int, Column]  # column index → column
    notes: list[str] = field(default_factory=list)


def _find_header(rows: list[tuple[int, tuple[Any, ...]]], kind: str) -> Header:
    columns = COLUMNS[kind]
    index = header_index(columns)
    ignored = {norm_header(h) for h in IGNORED_HEADERS}
    best = next(((n, v) for n, v in rows if sum(1 for x in v if norm_header(x) in index) >= 2), None)
    required = [c.header for c in columns if c.required]
    template = ImportKind(kind).label
    if best is None:
        raise UploadRefused(
            f"没有找到表头行。第一行应为列名，必填列：{'、'.join(required)}。请下载“{template}”模板填写"
        )
    number, values = best
    positions: dict[int, Column] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    for i, value in enumerate(values):
        name = norm_header(value)
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


NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _VALUE, _INLINE = f"{NS}row", f"{NS}c", f"{NS}v", f"{NS}is"
_SI, _T, _RUN, _SHEET_DATA = f"{NS}si", f"{NS}t", f"{NS}r", f"{NS}sheetData"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_COLUMNS: dict[str, int] = {}
MAX_SHARED_STRINGS = 3_000_000
# 200,000 rows of a real roster hold some 10-20 MB of distinct text; the rest of the budget is headroom.
MAX_SHARED_STRING_BYTES = 64 * 1024 * 1024


def _rich_text(node: ET.Element) -> str:
    """The text of an <si> or <is>: its <t>, or its runs' <t> (phonetic <rPh> hints left out)."""
    direct = node.find(_T)
    if direct is not None:
        text = direct.text or ""
    else:
        text = "".join(run.findtext(_T) or "" for run in node.iterfind(_RUN))
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


class SharedStrings:
    """A workbook's shared strings held compactly: their UTF-8 in one buffer and where each one ends.

    A list of str costs some 60 bytes per string beyond its text: an 11 MiB upload that passed every
    archive check (ratio 17, 190 MiB of shared strings) grew the process by about 500 MB as a list, and
    stays within MAX_SHARED_STRING_BYTES + 8 bytes a string here (tests/proofs_uploads measure it)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))
        if len(self._data) > MAX_SHARED_STRING_BYTES:
            raise UploadRefused(MSG_TOO_MUCH_TEXT)
        if len(self._ends) > MAX_SHARED_STRINGS:
            raise UploadRefused(MSG_TOO_MANY_ROWS)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends):
            raise IndexError(index)  # a cell pointing past the table: a broken file
        start = self._ends[index - 1] if index else 0
        return self._data[start : self._ends[index]].decode("utf-8", "surrogatepass")


def _read_shared_strings(archive: zipfile.ZipFile, name: str) -> SharedStrings:
    guard_xml(archive, name)
    strings = SharedStrings()
    with archive.open(name) as fh:
        for _, node in ET.iterparse(fh):  # noqa: S314 - guard_xml has refused any DOCTYPE
            if node.tag == _SI:
                strings.append(_rich_text(node))
                node.clear()
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
            self._strings = SharedStrings()
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
        parent: ET.Element | None = None
        with self._archive.open(self._sheet_path) as fh:
            for event, node in ET.iterparse(fh, events=("start", "end")):  # noqa: S314 - guarded above
                if event == "start":
                    if node.tag == _SHEET_DATA:
                        parent = node
                    continue
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
                # Keep memory flat: a cleared row still hangs on <sheetData>, and a sheet of millions of
                # empty <row/> (skipped, so never counted against MAX_ROWS) piled them up.
                node.clear()
                if parent is not None:
                    parent.clear()
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
                    text, problem = id_cell(value)
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
