"""Proof: hostile uploads to every upload endpoint are refused with a clear Chinese message, in bounded
memory, with nothing written.

Endpoints: the Excel import page (volunteers, teams, service recipients) and API (volunteers, teams), and
the fund's evidence files on the disbursement page (multipart) and API (base64 in JSON). Files: a zip bomb
that is otherwise a real workbook, billion laughs in each XML part the reader parses, an ELF binary
renamed, two bombs that pass the archive checks (a ratio under 100: 190 MiB of shared strings in an
11 MiB file, and a sheet of empty rows), and a 200 MB body.

Memory is measured on the server side: each request goes through the Django handler in this process with
a WSGI environ built here (the body in a stream, never encoded by the test client), and tracemalloc's
peak covers exactly that call: middleware, view, import reader. The 200 MB body is generated as it is
read, so the test never holds it, and the proof is that the server read none of it.
"""

from __future__ import annotations

import base64
import io
import json
import random
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from vetvol.core.models import AuditEntry
from vetvol.fund.models import Account, Disbursement, Evidence
from vetvol.registry import imports
from vetvol.registry.imports.reader import MAX_SHARED_STRING_BYTES
from vetvol.registry.models import ImportJob, Team, Volunteer
from vetvol.registry.tests.importing import stored_files
from vetvol.registry.tests.test_import_files import (
    CONTENT_TYPES,
    LAUGHS,
    ROOT_RELS,
    SHEET,
    STRINGS,
    WORKBOOK,
    WORKBOOK_RELS,
    handmade,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]

MiB = 1024 * 1024
BOUNDARY = "----vetvol-proof-boundary"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- hostile files ----------------------------------------------------------------------------------------


def _workbook(sheet_writer=None, strings_writer=None) -> bytes:
    """A workbook skeleton; the sheet and the shared strings may be written by a generator of chunks, so
    a part of hundreds of MiB is compressed as it is made and never held."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK.format(dtd="", text=""))
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, writer, plain in (
            ("xl/worksheets/sheet1.xml", sheet_writer, SHEET.format(dtd="", text="")),
            ("xl/sharedStrings.xml", strings_writer, STRINGS.format(dtd="", text="")),
        ):
            if writer is None:
                z.writestr(name, plain)
                continue
            with z.open(name, "w", force_zip64=True) as fh:
                for chunk in writer():
                    fh.write(chunk)
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d'
    b'</t></is></c><c r="B1" t="inlineStr"><is><t>\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7\xe7\xa0\x81'
    b'</t></is></c><c r="C1" t="inlineStr"><is><t>\xe6\x89\x8b\xe6\x9c\xba\xe5\x8f\xb7\xe7\xa0\x81</t></is></c>'
    b'<c r="D1" t="inlineStr"><is><t>\xe5\xb1\x85\xe4\xbd\x8f\xe8\xa1\x97\xe9\x81\x93\xef\xbc\x88\xe4\xb9\xa1'
    b"\xe9\x95\x87\xef\xbc\x89\xe4\xbb\xa3\xe7\xa0\x81</t></is></c></row>"
)  # 姓名, 身份证号码, 手机号码, 居住街道（乡镇）代码: the volunteer roster's required header


def zip_bomb() -> bytes:
    """A real workbook whose sheet is 64 MiB of one repeated cell (about 70 KiB compressed)."""

    def sheet() -> Iterator[bytes]:
        yield SHEET_HEAD
        row = b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>"
        for _ in range(64 * MiB // len(row)):
            yield row
        yield b"</sheetData></worksheet>"

    return _workbook(sheet_writer=sheet)


def strings_bomb() -> bytes:
    """190 MiB of distinct shared strings at a ratio of 17: every archive check passes (11 MiB upload,
    entry ratio under 100, total under 200 MiB)."""
    rng = random.Random(14)

    def strings() -> Iterator[bytes]:
        yield (
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><si><t>\xe5\xa7\x93\xe5\x90\x8d</t></si>'
        )
        written = 0
        while written < 190 * MiB:
            chunk = b"".join(
                b"<si><t>" + b"a" * 120 + rng.randbytes(6).hex().encode() + b"</t></si>" for _ in range(1000)
            )
            written += len(chunk)
            yield chunk
        yield b"</sst>"

    return _workbook(strings_writer=strings)


def empty_rows_bomb() -> bytes:
    """The volunteer header, then 1.5 million empty rows with their numbers (ratio about 30, under the
    limit): skipped as blank, so never counted against the row limit; the reader used to keep each one."""

    def sheet() -> Iterator[bytes]:
        yield SHEET_HEAD
        for start in range(2, 1_500_002, 10_000):
            yield b"".join(b'<row r="%d"/>' % n for n in range(start, start + 10_000))
        yield b"</sheetData></worksheet>"

    return _workbook(sheet_writer=sheet)


@dataclass(frozen=True)
class Hostile:
    data: bytes
    message: str
    status: int = 422
    header_first: bool = False  # the volunteer header is read first: other kinds refuse that header
    heavy: bool = False  # seconds of parsing: sent once per endpoint rather than once per kind
    extra_mib: int = 0  # what the reader may hold by design beyond the fixed bound (a table it must keep)


def hostile_files() -> dict[str, Hostile]:
    return {
        "zip bomb": Hostile(zip_bomb(), imports.MSG_UNSAFE),
        "billion laughs in the sheet": Hostile(handmade("sheet", LAUGHS, "&lol4;"), imports.MSG_XML),
        "billion laughs in the shared strings": Hostile(
            handmade("strings", LAUGHS, "&lol4;"), imports.MSG_XML
        ),
        "billion laughs in the workbook": Hostile(handmade("workbook", LAUGHS, "&lol4;"), imports.MSG_XML),
        "ELF binary renamed .xlsx": Hostile(ELF, imports.MSG_NOT_XLSX),
        "shared strings under the ratio": Hostile(
            strings_bomb(), imports.MSG_TOO_MUCH_TEXT, extra_mib=MAX_SHARED_STRING_BYTES // MiB, heavy=True
        ),
        "empty rows under the ratio": Hostile(
            empty_rows_bomb(), imports.MSG_NO_ROWS, header_first=True, heavy=True
        ),
    }


@pytest.fixture(scope="module")
def hostile() -> dict[str, Hostile]:
    return hostile_files()


# --- requests through the handler, measured -----------------------------------------------------------


class Body(io.RawIOBase):
    """A request body made as it is read: `head`, then `size` filler bytes, then `tail`; counts what the
    server read."""

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.parts = [head, tail]
        self.remaining = size
        self.consumed = 0
        self.length = len(head) + size + len(tail)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        if self.parts[0]:
            chunk, self.parts[0] = self.parts[0][:want], self.parts[0][want:]
        elif self.remaining:
            chunk = b"\0" * min(want, self.remaining, MiB)
            self.remaining -= len(chunk)
        else:
            chunk, self.parts[1] = self.parts[1][:want], self.parts[1][want:]
        buffer[: len(chunk)] = chunk
        self.consumed += len(chunk)
        return len(chunk)


def multipart(
    fields: dict[str, str], file_field: str, filename: str, content_type: str
) -> tuple[bytes, bytes]:
    """The bytes before and after a file's content in a multipart body."""
    head = b""
    for name, value in fields.items():
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Answer:
    status: int
    text: str
    peak: int  # bytes, tracemalloc's peak during the request
    read: int  # bytes of the body the server read

    def json(self) -> Any:
        return json.loads(self.text)


def send(client, path: str, body: Body, content_type: str) -> Answer:
    environ = client._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(body.length),
        **{"wsgi.input": io.BufferedReader(body, 64 * 1024)},
    )
    tracemalloc.start()
    try:
        response = client.handler(environ)
        text = b"".join(response).decode() if response.streaming else response.content.decode()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Answer(response.status_code, text, peak, body.consumed)


def send_file(client, path: str, fields: dict[str, str], field: str, name: str, data: bytes) -> Answer:
    head, tail = multipart(fields, field, name, "application/octet-stream")
    return send(client, path, Body(head + data, 0, tail), f"multipart/form-data; boundary={BOUNDARY}")


def send_json(client, path: str, payload: dict) -> Answer:
    data = json.dumps(payload).encode()
    return send(client, path, Body(data, 0, b""), "application/json")


def bound(file_size: int, extra_mib: int = 0) -> int:
    """What a refused request may cost: the file read once by the view, a few working copies of it (the
    multipart parser's, the zip's central directory, a part's stream), 24 MiB for everything else."""
    return 3 * file_size + 24 * MiB + extra_mib * MiB * 5 // 4  # a growing buffer over-allocates


def expected(attack: Hostile, kind: str) -> str:
    return attack.message if kind == "volunteers" or not attack.header_first else "表头"


def nothing_written(var_dir) -> None:
    assert ImportJob.objects.count() == 0 and Volunteer.objects.count() == 0
    assert Team.objects.count() == 0 and stored_files(var_dir) == []


IMPORT_PAGE_KINDS = ["volunteers", "teams", "recipients"]
IMPORT_API_KINDS = ["volunteers", "teams"]  # the API's upload takes these two (recipients: the page only)


# --- the import endpoints ---------------------------------------------------------------------------------


def test_every_hostile_file_is_refused_by_every_import_endpoint_in_bounded_memory(
    client, people, private_var_dir, hostile
):
    client.force_login(people.futian_admin)
    audit_rows = AuditEntry.objects.count()
    page = reverse("registry:import_upload")
    api = reverse("api:registry_import_upload")
    measured = {}
    for label, attack in hostile.items():
        for kind in IMPORT_PAGE_KINDS if not attack.heavy else ["volunteers", "recipients"]:
            answer = send_file(client, page, {"kind": kind}, "file", "名册.xlsx", attack.data)
            assert answer.status == attack.status, (label, kind, answer.text[-500:])
            assert expected(attack, kind) in answer.text, (label, kind)
            assert answer.peak < bound(len(attack.data), attack.extra_mib), (label, kind, answer.peak)
            measured[f"page {kind}: {label}"] = answer.peak
        for kind in IMPORT_API_KINDS if not attack.heavy else ["volunteers"]:
            answer = send_file(client, api, {"kind": kind}, "file", "名册.xlsx", attack.data)
            assert answer.status == attack.status, (label, kind, answer.text[-500:])
            assert expected(attack, kind) in answer.json()["detail"], (label, kind)
            assert answer.json()["errors"] == [{"field": "file", "message": answer.json()["detail"]}]
            assert answer.peak < bound(len(attack.data), attack.extra_mib), (label, kind, answer.peak)
        nothing_written(private_var_dir)
    assert AuditEntry.objects.count() == audit_rows
    print({k: f"{v / MiB:.1f} MiB" for k, v in measured.items() if k.startswith("page volunteers")})


def test_a_200_mb_upload_is_refused_unread_by_every_endpoint(client, people, private_var_dir, funded):
    """Not received and then refused: answered 413 from the declared length, before the body is read."""
    client.force_login(people.futian_admin)
    size = 200 * 1000 * 1000
    targets = [
        (reverse("registry:import_upload"), {"kind": "volunteers"}, "file", False),
        (reverse("registry:import_upload"), {"kind": "recipients"}, "file", False),
        (reverse("api:registry_import_upload"), {"kind": "teams"}, "file", True),
        (reverse("fund:disbursement_new"), {"region": "440304", "purpose": "mechanism"}, "evidence", False),
    ]
    for path, fields, field, is_api in targets:
        head, tail = multipart(fields, field, "大文件.xlsx", "application/octet-stream")
        answer = send(client, path, Body(head, size, tail), f"multipart/form-data; boundary={BOUNDARY}")
        assert answer.status == 413, (path, answer.text[-300:])
        assert answer.read == 0 and answer.peak < 8 * MiB, (path, answer.read, answer.peak)
        message = "上传的内容超过 21 MB，已拒绝。Excel 文件请拆分后分批上传，证明材料每个不超过 10 MB"
        if is_api:
            assert answer.json() == {"detail": message, "errors": [{"field": "body", "message": message}]}
        else:
            assert message in answer.text
    # The JSON API of the fund: 200 MB of base64 evidence, declared and not read.
    head = b'{"evidence": [{"name": "x.pdf", "content_base64": "'
    answer = send(client, "/api/fund/disbursements", Body(head, size, b'"}]}'), "application/json")
    assert answer.status == 413 and answer.read == 0
    assert answer.json()["errors"] == [{"field": "body", "message": message}]
    nothing_written(private_var_dir)
    assert Disbursement.objects.count() == 0


def test_the_limit_lets_the_largest_real_upload_through(client, people, private_var_dir):
    """Just under the request limit: the import's own check answers (20 MiB file limit), not the 413 page."""
    client.force_login(people.futian_admin)
    data = b"PK\x03\x04" + b"\0" * (imports.MAX_UPLOAD_BYTES + 1)
    answer = send_file(
        client, reverse("registry:import_upload"), {"kind": "volunteers"}, "file", "a.xlsx", data
    )
    assert answer.status == 413 and imports.MSG_TOO_LARGE in answer.text
    assert answer.read > imports.MAX_UPLOAD_BYTES  # received, then refused by the import's check
    nothing_written(private_var_dir)


# --- the fund's evidence ------------------------------------------------------------------------------------


def _disbursement_form() -> dict[str, str]:
    account = Account.objects.get(code="3101-mechanism-4403")
    return {
        "region": "440304",
        "purpose": "mechanism",
        "account": str(account.pk),
        "amount": "1000",
        "title": "应急装备采购",
        "recipient_org": "福田区退役军人志愿服务队",
        "description": "救生衣、头灯",
    }


def test_hostile_evidence_is_refused_on_the_page_and_by_the_api(client, people, funded, hostile):
    client.force_login(people.futian_admin)
    form = _disbursement_form()
    files = {
        "ELF binary renamed .pdf": ("证明.pdf", ELF),
        "zip bomb renamed .pdf": ("证明.pdf", hostile["zip bomb"].data),
        "billion-laughs xlsx as evidence": ("证明.xlsx", hostile["billion laughs in the sheet"].data),
        "HTML renamed .png": ("证明.png", b"<html><script>alert(1)</script></html>"),
    }
    for label, (name, data) in files.items():
        answer = send_file(client, reverse("fund:disbursement_new"), form, "evidence", name, data)
        assert answer.status == 400, (label, answer.status)
        assert f"{name}：只接受 PDF、JPEG 或 PNG 文件" in answer.text, label
        assert answer.peak < bound(len(data)), (label, answer.peak)
        answer = send_json(client, "/api/fund/disbursements", _api_request(form, name, data))
        assert answer.status == 422, (label, answer.text[:300])
        assert answer.json()["errors"] == [
            {"field": "evidence", "message": f"{name}：只接受 PDF、JPEG 或 PNG 文件"}
        ]
        assert answer.peak < bound(len(data) * 2), (label, answer.peak)  # base64 text, then its bytes
    assert Disbursement.objects.count() == 0 and Evidence.objects.count() == 0


def _api_request(form: dict, name: str, data: bytes) -> dict:
    """The API's disbursement request of the page form's figures, with one evidence file."""
    return {
        "region_code": "440304",
        "purpose": "mechanism",
        "account_id": int(form["account"]),
        "amount": "1000",
        "recipient_org": form["recipient_org"],
        "title": form["title"],
        "description": form["description"],
        "evidence": [{"name": name, "content_base64": base64.b64encode(data).decode()}],
    }


def test_a_10_mb_evidence_file_goes_through_the_api(client, people, funded):
    """The base64 of the largest allowed evidence (13.4 MB of JSON) is within the request limit: before
    DATA_UPLOAD_MAX_MEMORY_SIZE was raised to it, Django refused any JSON body over 2.5 MB."""
    client.force_login(people.futian_admin)
    form = _disbursement_form()
    data = PDF + b"\0" * (10 * 1024 * 1024 - len(PDF))
    answer = send_json(client, "/api/fund/disbursements", _api_request(form, "申请书.pdf", data))
    assert answer.status == 201, answer.text[:300]
    evidence = Evidence.objects.get()
    assert (evidence.size, evidence.content_type) == (len(data), "application/pdf")
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == settings.VETVOL_MAX_REQUEST_BYTES
