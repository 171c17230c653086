"""Excel import: malicious uploads refused before anything is written, an exact per-row report, the two
modes, resuming a crashed run without duplicates, scoping of jobs, teams, and the management command."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import volunteer_raw
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from vetvol.core.idcard import generate_id_number
from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region
from vetvol.registry import actions as registry_actions
from vetvol.registry import imports
from vetvol.registry.actions import bulk
from vetvol.registry.actions import imports as actions
from vetvol.registry.actions.volunteers import DUPLICATE_MESSAGE
from vetvol.registry.models import (
    ImportJob,
    ImportStatus,
    Membership,
    Team,
    Volunteer,
    VolunteerSkill,
)

pytestmark = pytest.mark.django_db

HEADERS = [
    "姓名",
    "身份证号码",
    "手机号码",
    "居住街道（乡镇）代码",
    "服役军种",
    "入伍年份",
    "退役年份",
    "技能",
]
KEYS = ["name", "id_number", "phone", "home_region", "service_branch", "enlistment_year", "discharge_year"]


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def inline_runs(monkeypatch):
    """Background runs happen in the test's own thread (the test database is not visible to others)."""
    started: list[str] = []

    def spawn(job_id, actor_id):
        started.append(str(job_id))
        actions.run_job(job_id, actor_id)

    monkeypatch.setattr(actions, "spawn", spawn)
    return started


def row(seq: int, region: str = "440304001", skills: str = "", **overrides) -> list:
    raw = volunteer_raw(seq, region, **overrides)
    return [*(raw.get(k) for k in KEYS), skills]


def xlsx(rows: list[list], headers: list[str] | None = None, title_rows: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for i in range(title_rows):
        sheet.append([f"南园街道退役军人志愿者名册（第 {i + 1} 行标题）"])
    sheet.append(headers or HEADERS)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored_files(var_dir: Path) -> list[Path]:
    folder = var_dir / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


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


# --- headers and cells -----------------------------------------------------------------------------------


def test_headers_are_matched_by_name_in_any_order_below_a_title(people):
    headers = ["手机号码", "序号", "居住街道（乡镇）代码", "身份证号码", "姓名"]
    raw = volunteer_raw(5)
    rows = [[raw["phone"], 1, raw["home_region"], raw["id_number"], raw["name"]], [None, 2], [None, 3]]
    data = xlsx(rows, headers, title_rows=2)  # rows 5 and 6 only pre-numbered: not data
    with imports.open_workbook(data, "volunteers") as book:
        assert book.header.row == 3
        rows = list(book.rows())
    assert rows == [
        (
            4,
            {
                "phone": raw["phone"],
                "home_region": "440304001",
                "id_number": raw["id_number"],
                "name": raw["name"],
            },
        )
    ]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["姓名", "备注"], "没有找到表头行"),
        (
            ["姓名", "身份证号码", "手机号码"],
            "缺少必填列：居住街道（乡镇）代码。请对照“志愿者名册”模板修改表头",
        ),
        (
            ["姓名", "身份证号码", "手机号码", "居住街道（乡镇）代码", "血型"],
            "无法识别的列：血型",
        ),
        (
            ["姓名", "身份证号码", "身份证号", "手机号码", "居住街道（乡镇）代码"],
            "列重复：身份证号码",
        ),
    ],
)
def test_bad_headers_are_refused_with_the_columns_named(people, headers, message):
    with pytest.raises(imports.UploadRefused) as err:
        actions.upload(people.futian_admin, "volunteers", "x.xlsx", xlsx([], headers))
    assert message in err.value.message
    assert ImportJob.objects.count() == 0


def test_id_numbers_in_number_cells(people):
    """Excel (and openpyxl) store an 18-digit number as a float: its last digits are gone."""
    ids = [volunteer_raw(n)["id_number"] for n in (11, 12, 13)]
    data = xlsx(
        [row(11, id_number=ids[0]), row(12, id_number=float(ids[1][:17] + "0")), row(13, id_number=ids[2])]
    )
    job = actions.upload(people.futian_admin, "volunteers", "ids.xlsx", data)
    assert [tuple(e) for e in job.errors] == [(3, "id_number", imports.MSG_ID_AS_NUMBER)]


def test_integer_id_cells_are_kept_only_when_nothing_can_have_been_lost():
    """Other writers may store an integer: accepted unless its digits after the 15th are all zero."""
    assert imports.id_cell(440304195802020131) == ("440304195802020131", None)
    assert imports.id_cell(440304195802020000) == ("", imports.MSG_ID_AS_NUMBER)
    assert imports.id_cell(4.403041958020201e17) == ("", imports.MSG_ID_AS_NUMBER)
    assert imports.id_cell(12345.0) == ("12345", None)  # short: refused later as too short, not as lost
    assert imports.id_cell(" ４４０３０４１９５８０２０２０１３ｘ ") == (
        "44030419580202013x",
        None,
    )  # full-width


def test_templates_read_back_with_their_own_headers(people):
    for kind, make in imports.TEMPLATES.items():
        data = make()
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == [imports.SHEET_NAMES[kind], "填写说明"]
        with imports.open_workbook(data, kind) as opened:
            assert list(opened.rows()) == []
            assert sorted(c.key for c in opened.header.positions.values()) == sorted(
                c.key for c in imports.COLUMNS[kind]
            )
    sheet = openpyxl.load_workbook(io.BytesIO(imports.template_volunteers()))["志愿者"]
    assert [c.value for c in sheet[1]][:4] == ["姓名", "身份证号码", "手机号码", "居住街道（乡镇）代码"]
    assert sheet["B2"].number_format == "@"  # ID numbers stay text in Excel


def test_template_download(client, people):
    client.force_login(people.station_staff)
    response = client.get(reverse("registry:import_template", args=["volunteers"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames == ["志愿者", "填写说明"]
    assert client.get(reverse("registry:import_template", args=["nothing"])).status_code == 404


# --- the report ------------------------------------------------------------------------------------------

PHONE_MESSAGE = "手机号码无效，请填写 11 位手机号或带区号的固定电话"


@pytest.fixture
def crafted(people, make_volunteer):
    """Twelve data rows (one blank) with exactly known problems, and the report they must produce."""
    existing = make_volunteer(90)
    good = volunteer_raw(21)
    bad_checksum = good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")
    rows = [
        row(21),  # 2 valid
        row(22, id_number=bad_checksum),  # 3 bad checksum
        row(23, id_number=good["id_number"]),  # 4 duplicate of row 2
        row(24, id_number=existing.id_number),  # 5 already registered
        row(25, region="440304999"),  # 6 unknown region
        row(26, phone="12345"),  # 7 bad phone
        row(27, name=None),  # 8 missing name
        row(28, id_number=float(volunteer_raw(28)["id_number"][:17] + "1")),  # 9 number cell, digits lost
        row(29, skills="急救（专家）、水上救援"),  # 10 valid, with skills
        row(30, skills="飞行"),  # 11 unknown skill
        [None] * 8,  # 12 blank: skipped, not counted
        row(31, region="440106001"),  # 13 outside the uploader's district
        row(32, enlistment_year=2000, discharge_year=1990),  # 14 discharge before enlistment
        row(33),  # 15 valid
    ]
    expected = [
        (3, "id_number", "身份证号码校验位不正确，请核对是否输错"),
        (4, "id_number", "与第 2 行的身份证号码重复"),
        (5, "id_number", DUPLICATE_MESSAGE),
        (6, "home_region", "居住地应为有效的街道（乡镇）或社区（村）代码"),
        (7, "phone", PHONE_MESSAGE),
        (8, "name", "请填写姓名"),
        (9, "id_number", imports.MSG_ID_AS_NUMBER),
        (11, "skills", "未知技能：飞行（请使用系统技能目录中的名称）"),
        (13, "home_region", "您无权在该区划登记志愿者"),
        (14, "discharge_year", "退役年份不能早于入伍年份"),
    ]
    return xlsx(rows), expected


def test_report_lists_exactly_the_bad_rows_and_writes_nothing(people, crafted, private_var_dir):
    data, expected = crafted
    before = Volunteer.objects.count()
    job = actions.upload(people.futian_admin, "volunteers", "南园街道名册.xlsx", data)
    assert [tuple(e) for e in job.errors] == expected
    assert (job.status, job.total_rows, job.valid_rows, job.bad_rows) == ("checked", 13, 3, 10)
    assert (job.error_count, job.written, job.region_code) == (10, 0, "440304")
    assert Volunteer.objects.count() == before  # a check writes nothing
    assert stored_files(private_var_dir) == [private_var_dir / "imports" / f"{job.id}.xlsx"]
    assert (private_var_dir / "imports" / f"{job.id}.xlsx").stat().st_mode & 0o777 == 0o600
    entry = AuditEntry.objects.get(action="registry.import.upload")
    assert entry.detail["rows"] == 13 and entry.detail["bad"] == 10 and "filename" not in entry.detail


def test_report_page_shows_rows_fields_messages_and_the_choices(client, people, crafted):
    data, expected = crafted
    client.force_login(people.futian_admin)
    upload = io.BytesIO(data)
    upload.name = "南园街道名册.xlsx"
    response = client.post(reverse("registry:import_upload"), {"kind": "volunteers", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "registry:import_job", args=[job.pk]
    )
    html = client.get(response["Location"]).content.decode()
    assert "检查发现 10 行有误，尚未写入任何数据" in html
    assert "导入有效行（3 行）" in html and "修改后重新上传" in html and "全部无误才导入" in html
    assert "<td>7</td><td>手机号码</td><td>" + PHONE_MESSAGE in html
    assert "<td>9</td><td>身份证号码</td>" in html
    report = client.get(reverse("registry:import_errors", args=[job.pk]))
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "行号,列,问题" and len(lines) == 1 + len(expected)


def test_mode_valid_writes_exactly_the_valid_rows(
    client, people, crafted, inline_runs, django_capture_on_commit_callbacks, private_var_dir
):
    data, _ = crafted
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", data)
    client.force_login(people.futian_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:import_run", args=[job.pk]), {"mode": "valid"})
    assert response.status_code == 302
    assert inline_runs == [str(job.id)]
    job.refresh_from_db()
    assert (job.status, job.mode, job.written, job.progress, job.failure) == ("done", "valid", 3, 3, "")
    written = Volunteer.objects.filter(import_batch=job.batch)
    assert sorted(written.values_list("name", flat=True)) == sorted(
        volunteer_raw(n)["name"] for n in (21, 29, 33)
    )
    assert set(written.values_list("status", "registered_via")) == {("active", "import")}
    with_skills = written.get(name=volunteer_raw(29)["name"])
    assert sorted(
        VolunteerSkill.objects.filter(volunteer=with_skills).values_list("skill__code", "level")
    ) == [
        ("first_aid", 3),
        ("water_rescue", 2),
    ]
    assert job.stored_path == "" and stored_files(private_var_dir) == []  # no second copy once imported
    html = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert "导入完成：本次写入 3 行" in html and "hx-get" not in html
    assert AuditEntry.objects.filter(action="registry.volunteer.import", detail__batch=job.batch).exists()


def test_mode_all_writes_nothing_when_a_row_is_bad(client, people, crafted, inline_runs):
    data, _ = crafted
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", data)
    with pytest.raises(ValidationError) as err:
        actions.start_run(people.futian_admin, job, "all")
    assert "文件中有 10 行有误" in err.value.message_dict["mode"][0]
    assert Volunteer.objects.filter(import_batch=job.batch).count() == 0
    client.force_login(people.futian_admin)
    response = client.post(reverse("registry:import_run", args=[job.pk]), {"mode": "all"}, follow=True)
    assert "选择“全部无误才导入”时不能导入" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "checked" and inline_runs == []


def test_mode_all_rechecks_when_run_and_writes_nothing(people, make_volunteer):
    """Without a prior check (the command's one pass), a bad row found by the run stops the whole file."""
    data = xlsx([row(41), row(42), row(43, phone="12345")])
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", data, check=False)
    job = actions.start_run(people.futian_admin, job, "all", background=False)
    assert (job.status, job.written, job.bad_rows) == ("failed", 0, 1)
    assert job.failure == "重新检查时发现 1 行有误，未导入任何数据"
    assert Volunteer.objects.filter(import_batch=job.batch).count() == 0
    assert job.stored_path == ""  # nothing to resume: the file must be fixed and uploaded again


def test_mode_all_writes_everything_when_no_row_is_bad(people):
    job = actions.upload(
        people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(n) for n in range(50, 57)])
    )
    job = actions.start_run(people.futian_admin, job, "all", background=False)
    assert (job.status, job.written) == ("done", 7)
    assert Volunteer.objects.filter(import_batch=job.batch).count() == 7


def test_a_crashed_run_resumes_without_duplicates(people, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 3)
    data = xlsx([row(n) for n in range(60, 70)] + [row(70, phone="1")])
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", data)
    assert (job.valid_rows, job.bad_rows) == (10, 1)
    real_write_rows = actions.write_rows

    def crash_after_first_chunk(actor, checked, report, *, batch, progress):
        def progress_then_die(written):
            progress(written)
            raise RuntimeError("worker killed")

        return real_write_rows(actor, checked, report, batch=batch, progress=progress_then_die)

    monkeypatch.setattr(actions, "write_rows", crash_after_first_chunk)
    job = actions.start_run(people.futian_admin, job, "valid", background=False)
    assert (job.status, job.written) == ("failed", 3)
    assert "继续导入" in job.failure and job.can_resume and job.stored_path
    assert Volunteer.objects.filter(import_batch=job.batch).count() == 3

    # A killed process leaves the job "importing"; while its heartbeat is fresh nobody may start it again.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING, heartbeat=timezone.now())
    job.refresh_from_db()
    assert not job.can_resume
    with pytest.raises(ValidationError):
        actions.start_run(people.futian_admin, job, "valid", background=False)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now() - timedelta(minutes=10))
    job.refresh_from_db()
    assert job.is_stale and job.can_resume

    monkeypatch.setattr(actions, "write_rows", real_write_rows)
    job = actions.start_run(people.futian_admin, job, None, background=False)
    assert (job.status, job.already_imported, job.written, job.valid_rows) == ("done", 3, 7, 10)
    batch = Volunteer.objects.filter(import_batch=job.batch)
    assert batch.count() == 10
    assert batch.values("id_hash").distinct().count() == 10
    assert AuditEntry.objects.filter(action="registry.import.run", detail__resume=True).count() == 1


def test_stale_job_offers_to_continue_on_its_page(client, people, monkeypatch):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(80)]))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.IMPORTING, mode="valid", heartbeat=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(people.futian_admin)
    html = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert "导入似乎已中断" in html and "继续导入" in html and "hx-get" not in html


def test_progress_fragment_polls_while_importing_then_reloads(client, people):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(81), row(82)]))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.IMPORTING, mode="valid", heartbeat=timezone.now(), progress=1
    )
    client.force_login(people.futian_admin)
    url = reverse("registry:import_progress", args=[job.pk])
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html and "<progress" in html
    assert "<html" not in html and "HX-Refresh" not in fragment and "<script" not in html
    page = client.get(reverse("registry:import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, written=2)
    assert client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"


def test_duplicate_in_database_is_reported_and_not_written(people, make_volunteer):
    existing = make_volunteer(95)
    job = actions.upload(
        people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(96, id_number=existing.id_number)])
    )
    assert [tuple(e) for e in job.errors] == [(2, "id_number", DUPLICATE_MESSAGE)]
    job = actions.start_run(people.futian_admin, job, "valid", background=False)
    assert (job.status, job.written) == ("done", 0)
    assert Volunteer.objects.filter(id_hash=existing.id_hash).count() == 1


def test_engine_writes_what_a_single_registration_writes(people, make_volunteer):
    """The bulk insert (COPY on PostgreSQL) converts values through the fields: encrypted columns decrypt,
    dates, booleans, timestamps, the consents, the status history and the skills read back as written."""
    raw = {**volunteer_raw(140), "skills": "急救（专家）、水上救援", "lng": "114.05", "lat": "22.54"}
    report, checked = bulk.check_rows(people.futian_admin, [(2, raw), (3, volunteer_raw(141))], batch="b-140")
    assert (report.valid, report.errors) == (2, [])
    bulk.write_rows(people.futian_admin, checked, report, batch="b-140")
    single = make_volunteer(142)
    v = Volunteer.objects.get(import_batch="b-140", name=raw["name"])
    assert (v.id_number, v.phone, v.address) == (raw["id_number"], raw["phone"], raw["address"])
    assert (v.birth_date, v.gender) == (date(1965, 9, 1), "M")  # as volunteer_raw(140) made the ID number
    assert (v.lng, v.lat, v.is_veteran, v.is_party_member, v.is_retired_cadre) == (
        114.05,
        22.54,
        True,
        True,
        False,
    )
    assert (v.status, v.registered_via, v.region_code, v.home_region_id) == (
        "active",
        "import",
        *(["440304001"] * 2),
    )
    assert v.created_at.tzinfo is not None and abs(v.created_at - single.created_at) < timedelta(minutes=5)
    assert list(v.consents.values_list("kind", "granted", "recorded_by_id")) == [
        ("sensitive", True, people.futian_admin.pk)
    ]
    assert list(v.status_changes.values_list("to_status", "by_id")) == [("active", people.futian_admin.pk)]
    assert sorted(v.skills.values_list("skill__code", "level", "region_code")) == [
        ("first_aid", 3, "440304001"),
        ("water_rescue", 2, "440304001"),
    ]
    assert Volunteer.objects.filter(id_hash=v.id_hash).get().pk == v.pk  # the lookup hash matches


def test_a_row_registered_after_the_check_is_refused_by_the_database(people, make_volunteer):
    """Between the check and the write someone registers the same person: the unique ID hash refuses the
    chunk (Django's IntegrityError, as for any insert) and nothing of that chunk stays."""
    from django.db import IntegrityError, transaction

    report, checked = bulk.check_rows(
        people.futian_admin, [(2, volunteer_raw(150)), (3, volunteer_raw(151))], batch="b-150"
    )
    make_volunteer(151)
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.write_rows(people.futian_admin, checked, report, batch="b-150")
    assert Volunteer.objects.filter(import_batch="b-150").count() == 0
    assert report.written == 0


def test_background_run_starts_a_thread_only_after_commit(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    started = []

    class FakeThread:
        def __init__(self, target, args, name, daemon):
            started.append((target, args, daemon))

        def start(self):
            started.append("started")

    monkeypatch.setattr(actions.threading, "Thread", FakeThread)
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(97)]))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = actions.start_run(people.futian_admin, job, "valid")
    assert started == [] and job.status == "importing" and job.heartbeat is not None
    callbacks[0]()
    assert started == [(actions._thread_main, (job.pk, people.futian_admin.pk), True), "started"]


def test_two_runs_cannot_start_at_once(people):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(98)]))
    actions.start_run(people.futian_admin, job, "valid")  # the thread never starts: no commit in a test
    with pytest.raises(ValidationError) as err:
        actions.start_run(people.futian_admin, ImportJob.objects.get(pk=job.pk), "valid")
    assert err.value.message_dict["status"] == ["导入正在进行中，请稍候"]


# --- scoping ---------------------------------------------------------------------------------------------


def test_jobs_are_scoped(client, people):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(99)]))
    page = reverse("registry:import_job", args=[job.pk])
    api = reverse("api:registry_import_job", args=[job.pk])
    for name in ("outsider", "tianhe_admin", "volunteer", "team_leader"):
        client.force_login(getattr(people, name))
        assert client.get(page).status_code == 404, name
        assert client.get(api).status_code == 404, name
        assert (
            client.post(reverse("registry:import_run", args=[job.pk]), {"mode": "valid"}).status_code == 404
        )
    client.force_login(people.sz_admin)  # the city admin above the uploader sees it
    assert client.get(page).status_code == 200
    assert client.get(api).json()["total_rows"] == 1
    client.force_login(people.auditor)  # may read, may not run
    assert client.get(page).status_code == 200
    assert client.post(reverse("registry:import_run", args=[job.pk]), {"mode": "valid"}).status_code == 403
    job.refresh_from_db()
    assert job.status == "checked"


def test_people_without_import_rights_cannot_upload(client, people):
    for name in ("outsider", "volunteer", "auditor"):
        with pytest.raises(Exception) as err:
            actions.upload(getattr(people, name), "volunteers", "x.xlsx", xlsx([row(1)]))
        assert type(err.value).__name__ == "PermissionDenied"
    client.force_login(people.outsider)
    upload = io.BytesIO(xlsx([row(1)]))
    upload.name = "x.xlsx"
    assert (
        client.post(reverse("registry:import_upload"), {"kind": "volunteers", "file": upload}).status_code
        == 403
    )
    upload.seek(0)
    response = client.post(reverse("api:registry_import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == 403 and response.json()["detail"] == "您没有导入该类数据的权限"
    assert ImportJob.objects.count() == 0


def test_api_upload_run_and_read(client, people, inline_runs, django_capture_on_commit_callbacks):
    client.force_login(people.station_staff)
    upload = io.BytesIO(xlsx([row(101), row(102, phone="x")]))
    upload.name = "名册.xlsx"
    response = client.post(reverse("api:registry_import_upload"), {"kind": "volunteers", "file": upload})
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total_rows"], body["valid_rows"], body["bad_rows"]) == ("checked", 2, 1, 1)
    assert body["errors"] == [{"row": 3, "field": "phone", "message": "手机号码格式不正确"}]
    url = reverse("api:registry_import_run", args=[body["id"]])
    response = client.post(url, json.dumps({"mode": "sometimes"}), content_type="application/json")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "mode"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, json.dumps({"mode": "valid"}), content_type="application/json")
    assert response.status_code == 202 and response.json()["status"] == "importing"
    job = client.get(reverse("api:registry_import_job", args=[body["id"]])).json()
    assert (job["status"], job["written"], job["percent"]) == ("done", 1, 100)
    response = client.post(url, json.dumps({"mode": "valid"}), content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "status", "message": "该文件已导入完成"}]


def test_discard_deletes_the_stored_file(client, people, private_var_dir):
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", xlsx([row(103)]))
    assert stored_files(private_var_dir)
    client.force_login(people.futian_admin)
    assert client.post(reverse("registry:import_discard", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.stored_path, job.can_resume) == ("failed", "", False)
    assert stored_files(private_var_dir) == []


# --- teams -----------------------------------------------------------------------------------------------

TEAM_HEADERS = [
    "队伍名称",
    "上级队伍名称",
    "所属区划代码",
    "品牌",
    "类型",
    "民政登记状态",
    "登记（备案）编号",
    "登记（备案）日期",
    "成立日期",
]


@pytest.fixture
def futian_corps(people):
    return registry_actions.create_team(
        people.futian_admin,
        region=Region.objects.get(code="440304"),
        name="福田区退役军人志愿服务队",
        brand="老兵先锋",
    )


def test_team_list_report_and_import(people, futian_corps):
    rows = [
        [
            "南园街道志愿服务队",
            "福田区退役军人志愿服务队",
            "440304001",
            "",
            "综合服务",
            "",
            "",
            "",
            "2021-08-01",
        ],  # 2
        [
            "南园应急救援分队",
            "南园街道志愿服务队",
            "440304001",
            "",
            "应急救援队",
            "已登记",
            "粤民登123",
            date(2023, 5, 1),
            "",
        ],  # 3
        ["福田突击队", "", "440304", "老兵先锋", "突击队", "", "", "", ""],  # 4
        ["坏类型", "", "440304", "", "飞行队", "", "", "", ""],  # 5
        ["孤儿队", "不存在的队", "440304", "", "", "", "", "", ""],  # 6
        ["无编号队", "", "440304", "", "", "已备案", "", "2023-01-01", ""],  # 7
        ["天河队", "", "440106", "", "", "", "", "", ""],  # 8 outside the district
        ["福田突击队", "", "440304", "", "", "", "", "", ""],  # 9 same name as row 4
        ["坏队的下级", "坏类型", "440304", "", "", "", "", "", ""],  # 10
        ["福田区退役军人志愿服务队", "", "440304", "", "", "", "", "", ""],  # 11 exists already
        ["未来队", "", "440304", "", "", "", "", "", "2099-01-01"],  # 12
    ]
    job = actions.upload(people.futian_admin, "teams", "队伍.xlsx", xlsx(rows, TEAM_HEADERS))
    assert [tuple(e) for e in job.errors] == [
        (5, "specialty", "类型应为：综合服务、应急救援队、突击队、专业队、讲师团、艺术团、义诊团、班"),
        (6, "parent", "找不到上级队伍“不存在的队”（须为已有队伍，或写在本行之前）"),
        (7, "civil_number", "已登记或已备案的队伍须填写登记（备案）编号"),
        (8, "region", "您无权在该区划创建队伍"),
        (9, "name", "与第 4 行的队伍重名"),
        (10, "parent", "上级队伍（第 5 行）有误，请先修改该行"),
        (11, "name", "该区划已有同名的顶级队伍"),
        (12, "founded_on", "成立日期不能晚于今天"),
    ]
    assert (job.total_rows, job.valid_rows, job.bad_rows) == (11, 3, 8)
    with pytest.raises(ValidationError):
        actions.start_run(people.futian_admin, job, "all", background=False)
    assert Team.objects.count() == 1
    job = actions.start_run(people.futian_admin, job, "valid", background=False)
    assert (job.status, job.written) == ("done", 3)
    street = Team.objects.get(name="南园街道志愿服务队")
    assert (
        street.parent == futian_corps and street.brand == "老兵先锋" and street.founded_on == date(2021, 8, 1)
    )
    squad = Team.objects.get(name="南园应急救援分队")
    assert squad.parent == street and squad.path == f"{street.path}{squad.pk}/"
    assert (squad.specialty, squad.civil_status, squad.civil_date) == (
        "rescue",
        "registered",
        date(2023, 5, 1),
    )
    assert Team.objects.get(name="福田突击队").parent is None
    assert AuditEntry.objects.filter(action="registry.team.create").count() == 4
    assert Membership.objects.count() == 0


def test_team_import_mode_all_is_one_transaction(people, futian_corps):
    rows = [
        ["甲队", "福田区退役军人志愿服务队", "440304001", "", "", "", "", "", ""],
        ["乙队", "甲队", "440304001", "", "", "", "", "", ""],
    ]
    job = actions.upload(people.futian_admin, "teams", "队伍.xlsx", xlsx(rows, TEAM_HEADERS))
    assert job.bad_rows == 0
    # Between the check and the run the parent team is wound up: the run's re-check refuses both rows.
    registry_actions.update_team(people.futian_admin, futian_corps, is_active=False)
    job = actions.start_run(people.futian_admin, job, "all", background=False)
    assert job.status == "failed" and job.written == 0
    assert set(Team.objects.values_list("name", flat=True)) == {"福田区退役军人志愿服务队"}


# --- the command -----------------------------------------------------------------------------------------


def test_import_volunteers_command(people, tmp_path, capsys):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx([row(110), row(111), row(112, phone="1")]))
    call_command("import_volunteers", str(path), "--as", "futian_admin")
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["status"], summary["rows"], summary["written"], summary["bad_rows"]) == ("done", 3, 2, 1)
    assert "第 4 行 phone" in err
    assert Volunteer.objects.filter(import_batch=summary["job"]).count() == 2
    with pytest.raises(CommandError, match="没有登记志愿者的权限"):
        call_command("import_volunteers", str(path), "--as", "outsider")
    with pytest.raises(CommandError, match="重新检查时发现"):
        call_command("import_volunteers", str(path), "--as", "futian_admin", "--mode", "all")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(CommandError, match="文件不是有效的 Excel"):
        call_command("import_volunteers", str(bad), "--as", "futian_admin")


def test_generated_ids_used_by_the_bench_are_valid():
    assert len(generate_id_number("440304", date(1970, 1, 1), 7, "M")) == 18


def test_stored_report_is_capped_but_counts_are_exact(people, monkeypatch):
    monkeypatch.setattr(actions, "MAX_STORED_ERRORS", 3)
    data = xlsx([row(120 + n, phone="1") for n in range(5)] + [row(130)])
    job = actions.upload(people.futian_admin, "volunteers", "名册.xlsx", data)
    assert (job.total_rows, job.valid_rows, job.bad_rows, job.error_count) == (6, 1, 5, 5)
    assert [e[0] for e in job.errors] == [2, 3, 4] and job.errors_truncated
