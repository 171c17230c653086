"""Proof: spreadsheet formulas (= + - @ tab CR at the start) in every text column of every import are
either refused for that row with a Chinese message naming the column, or imported and exported neutralised
(a leading quote, a text cell in xlsx) in every export of the imported data and in the per-row report."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from vetvol.care.tests.test_import import HEADERS as RECIPIENT_HEADERS
from vetvol.care.tests.test_import import line as recipient_line
from vetvol.core.exports import FORMULA_START
from vetvol.registry.actions import imports
from vetvol.registry.imports import COLUMNS
from vetvol.registry.tests.importing import HEADERS, row

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]

PAYLOADS = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]
VOLUNTEER_HEADERS = [*HEADERS, "详细地址", "监护人姓名"]
TEAM_HEADERS = [
    "队伍名称",
    "上级队伍名称",
    "所属区划代码",
    "品牌",
    "类型",
    "民政登记状态",
    "登记（备案）编号",
]


def text_headers(kind: str, headers: list[str]) -> list[str]:
    kinds = {c.header: c.kind for c in COLUMNS[kind]}
    return [h for h in headers if kinds.get(h) == "text"]


def poisoned(kind: str, headers: list[str], base) -> tuple[list[list], list[tuple[int, str, str]]]:
    """One row per (text column, payload): a valid row with that one cell replaced."""
    rows, planted = [], []
    for header in text_headers(kind, headers):
        for payload in PAYLOADS:
            seq = len(rows) + 1
            values = base(seq)
            values[headers.index(header)] = payload + ("" if header != "队伍名称" else f"队{seq}")
            rows.append(values)
            planted.append((seq + 1, header, values[headers.index(header)]))
    return rows, planted


def xlsx(rows: list[list], headers: list[str]) -> bytes:
    """The rows as text cells: openpyxl would store a value starting with "=" as a formula without a
    cached result (which the reader, reading values, sees as empty); the attack is the literal text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def assert_neutral(cells: list, where: str) -> None:
    bad = [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_START)]
    assert bad == [], where


def check_and_import(people, kind: str, headers: list[str], rows: list[list], planted) -> tuple:
    job = imports.upload(people.futian_admin, kind, "表.xlsx", xlsx(rows, headers))
    labels = {c.key: c.header for c in COLUMNS[kind]}
    refused = {(r, labels.get(f, f)) for r, f, _ in job.errors}
    for number, header, _ in planted:
        message = next((m for r, f, m in job.errors if r == number), None)
        if (number, header) not in refused:
            assert message is None, (number, header, message)  # refused for another column: a test bug
    for _, _, message in job.errors:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # a Chinese reason
    imports.start_run(people.futian_admin, job, "valid", background=False)
    job.refresh_from_db()
    return job, refused


def read_exports(client, url_name: str) -> list[list]:
    cells: list[list] = []
    text = b"".join(client.get(reverse(url_name, args=["csv"])).streaming_content).decode("utf-8-sig")
    cells.extend(csv.reader(io.StringIO(text)))
    body = b"".join(client.get(reverse(url_name, args=["xlsx"])).streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    kinds = {c.data_type for r in sheet.iter_rows() for c in r if c.value is not None}
    assert "f" not in kinds  # no formula cell
    cells.extend(list(r) for r in sheet.iter_rows(values_only=True))
    return cells


def test_formulas_in_volunteer_columns_are_refused_or_exported_neutralised(client, people):
    def base(seq: int) -> list:
        return [*row(seq), "福田路 1 号", ""]

    rows, planted = poisoned("volunteers", VOLUNTEER_HEADERS, base)
    assert len(planted) == 5 * len(PAYLOADS)  # name, service branch, skills, address, guardian
    job, refused = check_and_import(people, "volunteers", VOLUNTEER_HEADERS, rows, planted)
    assert job.status == "done" and job.written == len(rows) - len({r for r, _ in refused})
    client.force_login(people.futian_admin)
    report = client.get(reverse("registry:import_errors", args=[job.pk])).content.decode("utf-8-sig")
    assert_neutral([c for r in csv.reader(io.StringIO(report)) for c in r], "errors.csv")
    cells = read_exports(client, "registry:export_volunteers")
    assert_neutral([c for r in cells for c in r], "volunteer export")
    flat = {c for r in cells for c in r if isinstance(c, str)}
    exported = set(cells[0])
    for number, header, value in planted:
        if (number, header) not in refused and header in exported:
            assert {"'" + value, "'" + value.strip()} & flat, (header, value)  # stored stripped, quoted


def test_formulas_in_team_columns_are_refused_or_exported_neutralised(client, people):
    def base(seq: int) -> list:
        return [f"福田第{seq}志愿服务队", "", "440304", "老兵先锋", "应急救援队", "未登记", ""]

    rows, planted = poisoned("teams", TEAM_HEADERS, base)
    job, refused = check_and_import(people, "teams", TEAM_HEADERS, rows, planted)
    assert job.status in ("done", "failed")
    client.force_login(people.futian_admin)
    cells = read_exports(client, "registry:export_teams")
    assert_neutral([c for r in cells for c in r], "team export")
    flat = {c for r in cells for c in r if isinstance(c, str)}
    exported = set(cells[0])
    for number, header, value in planted:
        if (number, header) not in refused and job.status == "done" and header in exported:
            assert {"'" + value, "'" + value.strip()} & flat, (header, value)  # stored stripped, quoted


def test_formulas_in_recipient_columns_are_refused_or_stored_as_text(people):
    """Service recipients have no spreadsheet export: the proof is the per-row report and that an imported
    value is stored as the text it was (never evaluated)."""
    rows, planted = poisoned("recipients", RECIPIENT_HEADERS, recipient_line)
    job, refused = check_and_import(people, "recipients", RECIPIENT_HEADERS, rows, planted)
    assert job.status == "done" and job.written == len(rows) - len({r for r, _ in refused})
