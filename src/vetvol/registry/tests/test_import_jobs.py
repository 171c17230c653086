"""Excel import, around the rows: scoping of jobs, the API, team lists, and the management command."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from vetvol.core.idcard import generate_id_number
from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region
from vetvol.registry import actions as registry_actions
from vetvol.registry.actions import imports as actions
from vetvol.registry.models import (
    ImportJob,
    Membership,
    Team,
    Volunteer,
)

from .importing import row, stored_files, xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]


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
