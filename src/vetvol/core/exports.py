"""Streaming exports shared by every app: the `Export` an app builds (headers, a row iterator, a count),
spreadsheet-formula neutralisation, CSV and xlsx writers, the download response, and the export scope.

Apps decide what goes in a row (masked unless the user may unmask) and write their own audit row before any
row leaves; this module only writes files.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import openpyxl
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from vetvol.core.scoping import Action, allowed_prefixes, require

FORMATS = ("xlsx", "csv")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell value a spreadsheet will not run: text starting with = + - @ tab or CR gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass
class Export:
    filename: str  # without extension
    sheet: str
    headers: list[str]
    rows: Iterator[list[Any]]
    count: int


def export_scope(user: Any, region: str, what: str) -> list[str] | None:
    """The prefixes the user may export in (None: everywhere); refuses, audited, a user who may export
    nowhere."""
    prefixes = allowed_prefixes(user, Action.EXPORT)
    if prefixes is not None and not prefixes:
        require(user, Action.EXPORT, region, what=what)
    return prefixes


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(export: Export) -> Iterator[bytes]:
    """The export as UTF-8 CSV with a BOM, a few hundred rows per chunk."""
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in export.headers])
    yield ("\ufeff" + sink.take()).encode("utf-8")
    for i, row in enumerate(export.rows, start=1):
        writer.writerow([neutralise(v) for v in row])
        if i % 500 == 0:
            yield sink.take().encode("utf-8")
    rest = sink.take()
    if rest:
        yield rest.encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    value = neutralise(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_file(export: Export) -> IO[bytes]:
    """The export written with openpyxl's write-only mode into a temporary file, rewound for reading."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(export.sheet)
    sheet.append(export.headers)
    for row in export.rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = tempfile.TemporaryFile(prefix="vetvol-export-")  # noqa: SIM115 - handed to the response, which closes it
    book.save(out)
    out.seek(0)
    return out


def csv_response(export: Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        content_disposition_header(True, f"{export.filename}.csv") or "attachment"
    )
    return response


def response(export: Export, fmt: str) -> HttpResponseBase:
    """The download: CSV streamed as it is written, xlsx from a temporary file."""
    if fmt == "csv":
        return csv_response(export)
    name = f"{export.filename}.xlsx"
    return FileResponse(xlsx_file(export), as_attachment=True, filename=name, content_type=XLSX)
