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

from vetvol.registry.imports.columns import COLUMNS, SHEET_NAMES, Column, id_cell, parse_date
from vetvol.registry.imports.reader import Header, Workbook, open_workbook
from vetvol.registry.imports.templates import TEMPLATES
from vetvol.registry.imports.upload import (
    MAX_UPLOAD_BYTES,
    MSG_BROKEN,
    MSG_EMPTY,
    MSG_ID_AS_NUMBER,
    MSG_NO_ROWS,
    MSG_NOT_XLSX,
    MSG_OLE,
    MSG_TOO_LARGE,
    MSG_TOO_MUCH_TEXT,
    MSG_UNSAFE,
    MSG_XML,
    OLE_MAGIC,
    UploadRefused,
    check_archive,
    guard_xml,
)

__all__ = [
    "COLUMNS",
    "MAX_UPLOAD_BYTES",
    "MSG_BROKEN",
    "MSG_EMPTY",
    "MSG_ID_AS_NUMBER",
    "MSG_NOT_XLSX",
    "MSG_NO_ROWS",
    "MSG_OLE",
    "MSG_TOO_LARGE",
    "MSG_TOO_MUCH_TEXT",
    "MSG_UNSAFE",
    "MSG_XML",
    "OLE_MAGIC",
    "SHEET_NAMES",
    "TEMPLATES",
    "Column",
    "Header",
    "UploadRefused",
    "Workbook",
    "check_archive",
    "guard_xml",
    "id_cell",
    "open_workbook",
    "parse_date",
]
