"""Upload safety: checks on the archive before any parsing, and the XML guard of the streamed parts
(see the package docstring)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from xml.parsers import expat

import openpyxl
from django.core.exceptions import ImproperlyConfigured

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
MSG_TOO_MUCH_TEXT = "文件中的文字内容过多（超过 64 MB），请拆分后分批上传"
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
