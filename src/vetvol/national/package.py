"""The batch's zip: the xlsx files written by `core.exports.xlsx_file` (formula-safe), each stamped with the
batch's watermark in its document properties, and a note saying what the batch holds."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from typing import IO

from openpyxl.packaging.core import DocumentProperties
from openpyxl.xml.functions import tostring

from vetvol.core.exports import Export, xlsx_file

CORE_PART = "docProps/core.xml"


class Package:
    """A zip being written to a temporary file; `close()` hands it back rewound."""

    def __init__(self, watermark: str, title: str) -> None:
        self.watermark = watermark
        self.title = title
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="vetvol-national-")  # noqa: SIM115 - returned
        self.zip = zipfile.ZipFile(self.file, "w", compression=zipfile.ZIP_STORED)
        self.names: list[str] = []

    def add_xlsx(self, name: str, export: Export) -> None:
        with xlsx_file(export) as sheet, self.zip.open(name, "w") as dest:
            _stamp(sheet, dest, self.watermark, self.title)
        self.names.append(name)

    def add_text(self, name: str, text: str) -> None:
        self.zip.writestr(name, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
        self.names.append(name)

    def close(self) -> IO[bytes]:
        self.zip.comment = self.watermark.encode("utf-8")[:65535]
        self.zip.close()
        self.file.seek(0)
        return self.file


def _stamp(source: IO[bytes], dest: IO[bytes], watermark: str, title: str) -> None:
    """Copy an xlsx with its document properties replaced: the exporter and time in creator and
    description, so a copy that travels on carries who exported it and when."""
    props = DocumentProperties(creator=watermark[:250], title=title, description=watermark)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == CORE_PART:
                new.writestr(info.filename, tostring(props.to_tree()))
                continue
            with old.open(info) as src, new.open(info.filename, "w") as out:
                shutil.copyfileobj(src, out, 1 << 20)
