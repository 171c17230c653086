"""Excel import, the rows: headers matched by name, cells, the exact per-row report, the two modes, and a
crashed run resumed without duplicates."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from conftest import volunteer_raw
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from vetvol.core.models import AuditEntry
from vetvol.registry import imports
from vetvol.registry.actions import bulk
from vetvol.registry.actions import imports as actions
from vetvol.registry.actions.volunteers import DUPLICATE_MESSAGE
from vetvol.registry.models import (
    ImportJob,
    ImportStatus,
    Volunteer,
    VolunteerSkill,
)

from .importing import row, stored_files, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]


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
    assert {"volunteers", "teams", "recipients"} <= set(imports.TEMPLATES)
    for kind, make in imports.TEMPLATES.items():
        data = make()
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == [imports.SHEET_NAMES[kind], "填写说明"]
        with imports.open_workbook(data, kind) as opened:
            assert list(opened.rows()) == []
            assert sorted(c.key for c in opened.header.positions.values()) == sorted(
                c.key for c in imports.COLUMNS[kind]
            )
    sheet = openpyxl.load_workbook(io.BytesIO(imports.TEMPLATES["volunteers"]()))["志愿者"]
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
