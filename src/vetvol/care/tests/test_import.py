"""Service recipients from Excel through the registry's import machinery: the per-row report before
anything is written, then the valid rows written, duplicates and bad rows named with their row."""

from __future__ import annotations

import pytest

from vetvol.care.models import Recipient
from vetvol.care.tests.conftest import recipient_raw
from vetvol.core.models import AuditEntry
from vetvol.registry.actions import imports
from vetvol.registry.imports import TEMPLATES
from vetvol.registry.tests.importing import xlsx

pytestmark = [pytest.mark.django_db]

HEADERS = [
    "姓名",
    "身份证号码",
    "类别",
    "所在社区（村）代码",
    "联系电话",
    "家庭住址",
    "健康状况",
    "本人同意登记",
]


def line(seq: int, **overrides) -> list:
    raw = recipient_raw(seq, "440304001", **overrides)
    return [
        raw["name"],
        raw["id_number"],
        "退役军人",
        raw["region"],
        raw["phone"],
        raw["address"],
        raw["health_notes"],
        "是",
    ]


@pytest.fixture
def private_var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_recipient_list_report_then_import(people, make_recipient, private_var_dir):
    make_recipient(5)  # already registered by hand
    rows = [line(1), line(2), line(1), line(5), line(3, id_number="440304194013010011"), line(4)]
    rows[5][7] = "否"  # no consent
    job = imports.upload(people.futian_admin, "recipients", "服务对象.xlsx", xlsx(rows, HEADERS))
    assert (job.total_rows, job.valid_rows, job.bad_rows) == (6, 2, 4)
    problems = {(e[0], e[1]) for e in job.errors}
    assert {(4, "id_number"), (5, "id_number"), (6, "id_number"), (7, "service_consent")} <= problems
    assert Recipient.objects.count() == 1  # the report writes nothing
    job = imports.start_run(people.futian_admin, job, "valid", background=False)
    assert job.status == "done" and job.written == 2
    written = Recipient.objects.filter(import_batch=job.batch)
    assert written.count() == 2
    first = written.get(name=recipient_raw(1)["name"])
    assert first.health_notes.startswith("高血压") and first.number.startswith("R44")
    assert AuditEntry.objects.filter(action="care.recipient.import").exists()


def test_outside_scope_rows_are_refused(people, private_var_dir):
    rows = [line(1)]
    rows[0][3] = "440106001001"  # a Tianhe community
    job = imports.upload(people.futian_admin, "recipients", "服务对象.xlsx", xlsx(rows, HEADERS))
    assert job.valid_rows == 0 and job.errors[0][1] == "region"


def test_template_reads_back(people):
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(TEMPLATES["recipients"]()))
    assert book.sheetnames[0] == "服务对象"
