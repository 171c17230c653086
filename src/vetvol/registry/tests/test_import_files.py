"""Excel import, the file itself: malicious uploads (zip bombs, entity attacks, renamed and oversize files)
refused before anything is written, and the streaming reader against openpyxl."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from vetvol.core.models import AuditEntry
from vetvol.registry import imports
from vetvol.registry.models import (
    ImportJob,
    Volunteer,
)

from .importing import row, stored_files, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]


# --- a minimal hand-made workbook, for files openpyxl itself would never write ----------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>{dtd}<workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="志愿者{text}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>{dtd}<worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr">'
    '<is><t>身份证号码</t></is></c><c r="C1" t="inlineStr"><is><t>手机号码</t></is></c><c r="D1" '
    't="inlineStr"><is><t>居住街道（乡镇）代码</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is>'
    "<t>张三{text}</t></is></c></row></sheetData></worksheet>"
)
STRINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>{dtd}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" count="1" uniqueCount="1"><si><t>姓名{text}</t></si></sst>'
)
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
EXTERNAL = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def handmade(attack: str = "", dtd: str = "", text: str = "", extra: dict[str, bytes] | None = None) -> bytes:
    """A valid tiny workbook; `attack` names the part that gets `dtd` and the entity reference `text`."""
    parts = {"workbook": WORKBOOK, "sheet": SHEET, "strings": STRINGS}
    filled = {
        name: template.format(dtd=dtd if name == attack else "", text=text if name == attack else "")
        for name, template in parts.items()
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", filled["workbook"])
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", filled["sheet"])
        z.writestr("xl/sharedStrings.xml", filled["strings"])
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def test_the_handmade_workbook_is_itself_readable():
    with imports.open_workbook(handmade(), "volunteers") as book:
        assert list(book.rows()) == [(2, {"name": "张三"})]


MALICIOUS = {
    "empty": (b"", 422, imports.MSG_EMPTY),
    "renamed exe": (b"MZ\x90\x00" + b"\x00" * 200, 422, imports.MSG_NOT_XLSX),
    "renamed csv": ("姓名,身份证号码\n张三,440304199001011234\n".encode(), 422, imports.MSG_NOT_XLSX),
    "old xls (OLE)": (imports.OLE_MAGIC + b"\x00" * 504, 422, imports.MSG_OLE),
    "zip bomb": (
        zip_of({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"\0" * (20 * 1024 * 1024)}),
        422,
        imports.MSG_UNSAFE,
    ),
    "path traversal": (
        zip_of({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>", "../../etc/cron.d/x": b"x"}),
        422,
        imports.MSG_UNSAFE,
    ),
    "absolute path": (
        zip_of({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>", "/etc/passwd": b"x"}),
        422,
        imports.MSG_UNSAFE,
    ),
    "too many entries": (
        zip_of(
            {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"} | {f"x/{i}": b"" for i in range(200)}
        ),
        422,
        imports.MSG_UNSAFE,
    ),
    "bzip2 entry": (
        zip_of({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}, zipfile.ZIP_BZIP2),
        422,
        imports.MSG_UNSAFE,
    ),
    "plain zip, no workbook": (zip_of({"readme.txt": b"hello"}), 422, imports.MSG_NOT_XLSX),
    "billion laughs in sheet1.xml": (handmade("sheet", LAUGHS, "&lol4;"), 422, imports.MSG_XML),
    "billion laughs in sharedStrings.xml": (handmade("strings", LAUGHS, "&lol4;"), 422, imports.MSG_XML),
    "billion laughs in workbook.xml": (handmade("workbook", LAUGHS, "&lol4;"), 422, imports.MSG_XML),
    "external entity in sheet1.xml": (handmade("sheet", EXTERNAL, "&xxe;"), 422, imports.MSG_XML),
    "external entity in sharedStrings.xml": (handmade("strings", EXTERNAL, "&xxe;"), 422, imports.MSG_XML),
    "truncated xlsx": (xlsx([row(1)])[:-200], 422, imports.MSG_NOT_XLSX),
}


@pytest.mark.parametrize("name", list(MALICIOUS))
def test_malicious_uploads_are_refused_on_the_page_and_nothing_is_written(
    client, people, private_var_dir, name
):
    data, status, message = MALICIOUS[name]
    client.force_login(people.futian_admin)
    audit_rows = AuditEntry.objects.count()
    upload = io.BytesIO(data)
    upload.name = "名册.xlsx"
    response = client.post(reverse("registry:import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == status
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0 and Volunteer.objects.count() == 0
    assert AuditEntry.objects.count() == audit_rows
    assert stored_files(private_var_dir) == []


@pytest.mark.parametrize(
    "name", ["zip bomb", "billion laughs in sharedStrings.xml", "old xls (OLE)", "empty"]
)
def test_malicious_uploads_are_refused_by_the_api_with_the_field(client, people, private_var_dir, name):
    data, status, message = MALICIOUS[name]
    client.force_login(people.futian_admin)
    upload = io.BytesIO(data)
    upload.name = "名册.xlsx"
    response = client.post(reverse("api:registry_import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == status
    assert response.json() == {"detail": message, "errors": [{"field": "file", "message": message}]}
    assert ImportJob.objects.count() == 0 and stored_files(private_var_dir) == []


def test_oversize_upload_is_413_before_it_is_read(client, people, private_var_dir):
    client.force_login(people.futian_admin)
    upload = io.BytesIO(b"PK\x03\x04" + b"\0" * (imports.MAX_UPLOAD_BYTES + 1))
    upload.name = "big.xlsx"
    response = client.post(reverse("registry:import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == 413
    assert imports.MSG_TOO_LARGE in response.content.decode()
    upload.seek(0)
    response = client.post(reverse("api:registry_import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == 413 and response.json()["detail"] == imports.MSG_TOO_LARGE
    assert ImportJob.objects.count() == 0 and stored_files(private_var_dir) == []


def test_total_uncompressed_size_is_bounded(monkeypatch):
    from vetvol.registry.imports import upload as upload_checks

    monkeypatch.setattr(upload_checks, "MAX_UNCOMPRESSED_BYTES", 100_000)
    with pytest.raises(imports.UploadRefused) as err:
        imports.check_archive(handmade(extra={"xl/media/a.bin": bytes(range(256)) * 500}))
    assert err.value.message == imports.MSG_UNSAFE


def _causes(exc: BaseException) -> list[str]:
    chain, cause = [], exc.__cause__
    while cause is not None:
        chain.append(type(cause).__module__)
        cause = cause.__cause__ or cause.__context__
    return chain


@pytest.mark.parametrize("attack", ["sheet", "strings", "workbook"])
@pytest.mark.parametrize("dtd", [LAUGHS, EXTERNAL])
def test_entity_attacks_are_refused_by_the_xml_layer(attack, dtd):
    """Not assumed: the archive checks pass, so the refusal comes from the XML layer. workbook.xml is parsed
    by openpyxl through defusedxml; the sheet and the shared strings by the C parser behind guard_xml."""
    data = handmade(attack, dtd, "&lol4;" if dtd == LAUGHS else "&xxe;")
    imports.check_archive(data)  # a well-formed zip: nothing to object to at this level
    with pytest.raises(imports.UploadRefused) as err:
        imports.open_workbook(data, "volunteers")
    assert err.value.message == imports.MSG_XML
    if attack == "workbook":
        assert any(module.startswith("defusedxml") for module in _causes(err.value))


@pytest.mark.parametrize("attack", ["sheet", "strings"])
def test_openpyxl_alone_refuses_them_too_through_defusedxml(attack):
    """The library path (load_workbook read-only, which reads every part through defusedxml) is safe as well."""
    with pytest.raises(ValueError) as err:
        openpyxl.load_workbook(io.BytesIO(handmade(attack, LAUGHS, "&lol4;")), read_only=True, data_only=True)
    assert any(
        module.startswith("defusedxml") for module in [type(err.value).__module__, *_causes(err.value)]
    )


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE worksheet><worksheet/>',  # any DOCTYPE, even an empty one
        b"<?xml version='1.0'?>" + b"<!-- padding -->" * 5000 + b'<!DOCTYPE w [<!ENTITY a "b">]><w>&a;</w>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w [<!ENTITY a "b">]><w/>'.encode("utf-16"),
        b'<!DOCTYPE w SYSTEM "http://example.com/evil.dtd"><w/>',
    ],
)
def test_guard_refuses_any_doctype(xml):
    with (
        zipfile.ZipFile(io.BytesIO(zip_of({"part.xml": xml}))) as archive,
        pytest.raises(imports.UploadRefused) as err,
    ):
        imports.guard_xml(archive, "part.xml")
    assert err.value.message == imports.MSG_XML


def test_guard_passes_plain_xml_and_refuses_broken_xml():
    with zipfile.ZipFile(
        io.BytesIO(zip_of({"ok.xml": b"<?xml version='1.0'?><!-- hi --><w>&amp;</w>", "bad.xml": b"<w"}))
    ) as z:
        imports.guard_xml(z, "ok.xml")
        with pytest.raises(imports.UploadRefused) as err:
            imports.guard_xml(z, "bad.xml")
    assert err.value.message == imports.MSG_BROKEN


def test_undefined_entity_in_the_sheet_is_a_broken_file():
    """Without a DOCTYPE an entity reference cannot be declared: the parser rejects it."""
    with (
        pytest.raises(imports.UploadRefused) as err,
        imports.open_workbook(handmade("sheet", "", "&xxe;"), "volunteers") as book,
    ):
        list(book.rows())
    assert err.value.message == imports.MSG_BROKEN


def test_reader_gives_the_values_openpyxl_gives():
    """The streaming reader against openpyxl's own read-only, data-only reading of the same file."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["姓名", "身份证号码", "手机号码", "居住街道（乡镇）代码", "详细地址", "技能", "入伍年份", "备注"]
    )
    sheet.append(["张三", "440304199001011234", 13812345678, 440304001, 1.5, True, date(2023, 5, 1), None])
    sheet.append([None, "  含空格  ", -7, "=1+1", False, 12345678901234567, 0.1, "x" * 600])
    sheet.cell(row=5, column=3, value="跳过一行")
    sheet.cell(row=5, column=8, value=date(1999, 12, 31))
    sheet["G5"].number_format = "yyyy/m/d"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    expected = [
        tuple(v for v in r)
        for r in openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).active.iter_rows(
            values_only=True
        )
    ]
    with imports.open_workbook(data, "volunteers") as opened:
        got = [values for _, values in opened._parse()]
        numbers = [n for n, _ in opened._parse()]
    assert numbers == [1, 2, 3, 5]
    padded = [tuple(list(v) + [None] * (len(expected[0]) - len(v))) for v in got]
    assert padded == [expected[0], expected[1], expected[2], expected[4]]


def test_shared_strings_with_runs_phonetics_and_escapes():
    strings = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main"><si><t>姓名</t></si><si><r><t>张</t></r><r><rPr><b/></rPr><t>三</t></r><rPh sb="0" '
        'eb="1"><t>ZHANG</t></rPh></si><si><t>a_x000D_b</t></si><si><t>身份证号码</t></si></sst>'
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>3</v>'
        '</c><c r="C1" t="inlineStr"><is><t>手机号码</t></is></c><c r="D1" t="inlineStr"><is><t>居住街道（乡镇）代码'
        '</t></is></c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row></sheetData>'
        "</worksheet>"
    )
    data = handmade()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            body = {"xl/sharedStrings.xml": strings, "xl/worksheets/sheet1.xml": sheet}.get(name)
            z.writestr(name, body if body is not None else src.read(name))
    with imports.open_workbook(out.getvalue(), "volunteers") as opened:
        assert [values for _, values in opened._parse()] == [
            ("姓名", "身份证号码", "手机号码", "居住街道（乡镇）代码"),
            ("张三", "a\rb"),
        ]
