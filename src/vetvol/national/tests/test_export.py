"""Export to the national volunteer service information system: layout, refused rows and their reasons,
changes-only exports, scoping, formula neutralisation, the personal-data right, the watermark."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vetvol.activities import actions as activity_actions
from vetvol.core.models import AuditEntry
from vetvol.national import actions, layout
from vetvol.national.models import ExportBatch, ExportedRow, RowState
from vetvol.national.tests.conftest import body, read_zip
from vetvol.registry import actions as registry_actions
from vetvol.registry.models import Volunteer

VOL, PROJ, HOURS, REPORT = "志愿者.xlsx", "志愿服务项目.xlsx", "服务时长.xlsx", "无法导出清单.xlsx"


def export(client, user, region="440304", mode="full"):
    client.force_login(user)
    response = client.post("/national/export/", {"region": region, "mode": mode})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    return read_zip(body(response))


def rows(files, name):
    return files[name][1:]


def by(rows_, column, columns):
    index = layout.headers(columns).index(column)
    return {row[index]: row for row in rows_}


def test_layout_columns_and_values_read_back(client, people, world, hours):
    record = hours(world.v1, activity=world.activity)
    files = export(client, people.futian_admin)
    batch = ExportBatch.objects.get()
    assert sorted(n for n in files if not n.endswith(":creator")) == sorted(
        [VOL, PROJ, HOURS, REPORT, "导出说明.txt"]
    )
    assert files[VOL][0] == layout.headers(layout.VOLUNTEER_COLUMNS)
    assert files[PROJ][0] == layout.headers(layout.PROJECT_COLUMNS)
    assert files[HOURS][0] == layout.headers(layout.HOUR_COLUMNS)
    assert files[REPORT][0] == ["文件", "编号", "名称", "区划代码", "原因"]

    v1 = world.v1
    vols = by(rows(files, VOL), "志愿者编号", layout.VOLUNTEER_COLUMNS)
    assert sorted(vols) == sorted([world.v1.number, world.v2.number])  # not Tianhe's v3
    assert vols[v1.number] == [
        "新增", v1.number, v1.name, "女" if v1.gender == "F" else "男", v1.birth_date.isoformat(), "居民身份证",
        v1.id_number, v1.phone, "440304001", "广东省深圳市福田区南园街道", "是", "在册",
        vols[v1.number][12], batch.number,
    ]  # fmt: skip

    projects = by(rows(files, PROJ), "项目编号", layout.PROJECT_COLUMNS)
    assert list(projects) == [f"XM{world.project.pk:08d}"]  # the unregistered team's project is refused
    p = projects[f"XM{world.project.pk:08d}"]
    assert p[1:6] == [f"XM{world.project.pk:08d}", "春运志愿服务", "春运服务", "福田站春运旅客引导", "福田站"]
    assert p[10:13] == ["红星福田志愿服务队", "志愿服务组织（已登记）", "51440304MJL000001X"]

    (h,) = rows(files, HOURS)
    assert h[:10] == [
        "新增", f"HR{record.pk:010d}", v1.number, v1.name, "居民身份证", v1.id_number,
        f"XM{world.project.pk:08d}", "春运志愿服务", "旅客引导", "2026-03-01",
    ]  # fmt: skip
    assert h[12] == "福田站"
    assert Decimal(str(h[13])) == Decimal("1.5")  # a number, not text
    assert h[14:17] == ["工作人员录入", "红星福田志愿服务队", "440304"]
    assert h[18:] == [None, batch.number]  # empty cells read back as None


def test_rows_that_cannot_be_sent_are_reported_with_their_reason(client, people, world, hours):
    loose = hours(world.v1, activity=world.loose_activity)  # organiser not registered with civil affairs
    pending = hours(world.v1, activity=world.activity, approve=False, minutes=60)
    care = hours(world.v2, minutes=30, content="上门走访")  # no activity: recorded by the district centre
    Volunteer.objects.filter(pk=world.v2.pk).update(id_number="440304195001011234")  # bad check digit
    files = export(client, people.futian_admin)
    report = {(r[0], r[1]): r[4] for r in rows(files, REPORT)}
    assert report == {
        ("志愿服务项目", f"XM{world.loose_project.pk:08d}"): layout.TEAM_UNREGISTERED,
        ("服务时长", f"HR{pending.pk:010d}"): layout.HOURS_PENDING,
        ("服务时长", f"HR{loose.pk:010d}"): layout.HOURS_TEAM_UNREGISTERED,
        ("服务时长", f"HR{care.pk:010d}"): layout.HOURS_VOLUNTEER + layout.BAD_ID,
        ("志愿者", world.v2.number): layout.BAD_ID,
    }
    names = {r[1]: r[2] for r in rows(files, REPORT)}
    assert names[world.v2.number] == world.v2.name[0] + "*" * (len(world.v2.name) - 2) + world.v2.name[-1]
    assert rows(files, HOURS) == []
    assert ExportBatch.objects.get().skipped == 5
    assert ExportedRow.objects.filter(state=RowState.SKIPPED).count() == 5


def test_changes_export_holds_only_what_changed_and_says_so(client, people, world, hours):
    first = hours(world.v1, activity=world.activity)
    pending = hours(world.v2, activity=world.activity, approve=False, minutes=60)
    files = export(client, people.futian_admin, mode="full")
    assert len(rows(files, VOL)) == 2 and len(rows(files, HOURS)) == 1

    # changes: one volunteer renamed, the pending record approved, the first record corrected
    registry_actions.update_volunteer(people.futian_admin, world.v1, {"name": "改名甲"})
    activity_actions.approve_hours(people.sz_admin, pending)
    correction = activity_actions.correct_hours(people.futian_admin, first, minutes=120, reason="签到表核对")
    activity_actions.approve_hours(people.sz_admin, correction)
    files = export(client, people.futian_admin, mode="changes")
    vols = rows(files, VOL)
    assert [(r[0], r[1], r[2]) for r in vols] == [("变更", world.v1.number, "改名甲")]
    assert rows(files, PROJ) == []  # unchanged: not sent again
    got = {r[1]: (r[0], r[13], r[18]) for r in rows(files, HOURS)}
    assert got == {
        f"HR{first.pk:010d}": ("撤销", 1.5, None),
        f"HR{pending.pk:010d}": ("新增", 1, None),
        f"HR{correction.pk:010d}": ("新增", 2, f"HR{first.pk:010d}"),
    }
    batch = ExportBatch.objects.order_by("-id").first()
    first_batch = ExportBatch.objects.order_by("id").first()
    assert batch.previous == first_batch and batch.since == first_batch.as_of
    assert f"上一批次 {first_batch.number}" in files["导出说明.txt"]
    assert "本批次只含上一批次以来新增、变更或撤销的行" in files["导出说明.txt"]
    assert batch.counts["hour"] == {"撤销": 1, "新增": 2}

    # nothing changed since: an empty batch; a full export lists the same rows as unchanged
    files = export(client, people.futian_admin, mode="changes")
    assert rows(files, VOL) == [] and rows(files, HOURS) == [] and rows(files, PROJ) == []
    files = export(client, people.futian_admin, mode="full")
    assert sorted(r[0] for r in rows(files, HOURS)) == ["无变化", "无变化"]


def test_a_refused_row_is_sent_once_fixed(client, people, world, hours):
    record = hours(world.v1, activity=world.loose_activity)
    export(client, people.futian_admin, mode="changes")  # first export of the region: everything
    registry_actions.update_team(
        people.futian_admin,
        world.loose,
        civil_status="filed",
        civil_number="44030400000001",
        civil_date=date(2026, 1, 5),
    )
    files = export(client, people.futian_admin, mode="changes")
    assert [r[1] for r in rows(files, HOURS)] == [f"HR{record.pk:010d}"]
    assert [r[1] for r in rows(files, PROJ)] == [f"XM{world.loose_project.pk:08d}"]
    assert rows(files, REPORT) == []


def test_district_admin_exports_only_their_subtree(client, people, world, hours):
    hours(world.v1, activity=world.activity)
    tianhe_record = hours(world.v3, region=world.tianhe)
    files = export(client, people.futian_admin)
    assert world.v3.number not in {r[1] for r in rows(files, VOL)}
    assert f"HR{tianhe_record.pk:010d}" not in {r[1] for r in rows(files, HOURS)}
    client.force_login(people.futian_admin)
    assert client.post("/national/export/", {"region": "440106", "mode": "full"}).status_code == 404
    assert client.post("/national/export/", {"region": "4403", "mode": "full"}).status_code == 404
    # the Tianhe admin sees neither the Futian batch nor its rows
    files = export(client, people.tianhe_admin, region="440106")
    assert [r[1] for r in rows(files, VOL)] == [world.v3.number]
    assert [r[1] for r in rows(files, HOURS)] == [f"HR{tianhe_record.pk:010d}"]
    page = client.get("/national/")
    assert page.status_code == 200
    numbers = [b.number for b in page.context["page"]]
    assert numbers == list(ExportBatch.objects.filter(region_code="440106").values_list("number", flat=True))


def test_a_city_export_after_a_district_export_does_not_resend_its_rows(client, people, world, hours):
    record = hours(world.v1, activity=world.activity)
    export(client, people.futian_admin, mode="changes")
    files = export(client, people.sz_admin, region="4403", mode="changes")
    assert f"HR{record.pk:010d}" not in {r[1] for r in rows(files, HOURS)}
    assert rows(files, VOL) == []


def test_formulas_are_neutralised(client, people, world, hours):
    project = activity_actions.create_project(
        people.futian_admin,
        region=world.futian,
        owner_centre=world.centre,
        name='=HYPERLINK("http://x")',
        domain="other",
        description="@SUM(A1)",
        risk_statement="无",
    )
    act = activity_actions.create_activity(
        people.futian_admin,
        project,
        title="t",
        starts_at=world.activity.starts_at,
        ends_at=world.activity.ends_at,
        place_name="+place",
        capacity=1,
        signup_opens_at=world.activity.signup_opens_at,
        signup_closes_at=world.activity.signup_closes_at,
    )
    hours(world.v1, activity=act, content="-2+3")
    files = export(client, people.futian_admin)
    p = by(rows(files, PROJ), "项目编号", layout.PROJECT_COLUMNS)[f"XM{project.pk:08d}"]
    assert p[2:6] == ['\'=HYPERLINK("http://x")', "其他", "'@SUM(A1)", "'+place"]
    (h,) = rows(files, HOURS)
    assert h[8] == "'-2+3" and h[12] == "'+place"


def test_export_needs_the_export_and_unmask_rights_and_is_audited(client, people, world, hours):
    # the region is visible to some of them (403) and not to the outsider (404); the page is a 404 for all
    for user, status in ((people.station_staff, 403), (people.auditor, 403), (people.outsider, 404)):
        client.force_login(user)
        assert client.get("/national/").status_code == 404
        assert client.post("/national/export/", {"region": "440304001", "mode": "full"}).status_code == status
    with pytest.raises(PermissionDenied):
        actions.export_batch(people.auditor, world.futian, "full")
    denied = AuditEntry.objects.filter(action="national.export", outcome="denied")
    assert denied.count() == 1 and denied.get().actor == people.auditor
    assert not ExportBatch.objects.exists()

    hours(world.v1, activity=world.activity)
    files = export(client, people.futian_admin)
    entry = AuditEntry.objects.get(action="national.export", outcome="success")
    batch = ExportBatch.objects.get()
    assert entry.actor == people.futian_admin and entry.region_code == "440304"
    assert entry.detail["batch"] == batch.number and entry.detail["unmasked"] is True
    assert entry.detail["counts"]["volunteer"] == {"新增": 2}
    assert world.v1.id_number not in str(entry.detail)
    # watermark: who and when, in every file's properties and in the note
    for name in (VOL, PROJ, HOURS, REPORT):
        assert batch.number in files[name + ":creator"] and "futian_admin" in files[name + ":creator"]
    assert "导出人 futian_admin" in files["导出说明.txt"]


def test_bad_mode_is_a_message_not_an_error(client, people, world):
    client.force_login(people.futian_admin)
    response = client.post("/national/export/", {"region": "440304", "mode": "everything"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["请选择全量导出或导出上次以来的变更"]
    assert not ExportBatch.objects.exists()
    assert client.post("/national/export/", {"region": "44x", "mode": "full"}).status_code == 404


def test_large_files_are_split(client, people, world, hours, monkeypatch):
    monkeypatch.setattr(actions, "ROWS_PER_FILE", 1)
    files = export(client, people.futian_admin)
    assert len(rows(files, VOL)) == 1 and len(rows(files, "志愿者-2.xlsx")) == 1
    assert "志愿者-3.xlsx" not in files
    assert rows(files, HOURS) == [] and "服务时长-2.xlsx" not in files


def test_batch_list_has_a_fixed_number_of_queries(client, people, world):
    export(client, people.futian_admin)
    client.get("/national/")
    with CaptureQueriesContext(connection) as one:
        client.get("/national/")
    for _ in range(3):
        export(client, people.futian_admin, mode="changes")
    with CaptureQueriesContext(connection) as four:
        response = client.get("/national/")
    assert len(response.context["page"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)
