"""Exports: the export right, masking by the unmask right, scoping, filters, formula neutralisation, the
audit row, and the two formats (streamed CSV with a BOM, write-only xlsx)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from vetvol.accounts.roles import ROLE_ACTIONS, Role
from vetvol.core.exports import neutralise
from vetvol.core.masking import mask
from vetvol.core.models import AuditEntry
from vetvol.core.scoping import Action
from vetvol.regions.models import Region
from vetvol.registry import actions
from vetvol.registry.actions import imports as import_actions
from vetvol.registry.filters import FilterError, talent_filter_from_params, team_filters_from_params

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def data(people, make_volunteer):
    """Two volunteers in Futian (one with skills, a certificate and a team), one in Tianhe."""
    diver = make_volunteer(1)
    plain = make_volunteer(2, region="440304002")
    tianhe = make_volunteer(3, region="440106001")
    actions.set_skills(people.root, diver, {"first_aid": 3, "water_rescue": 2})
    actions.add_certificate(
        people.root, diver, "first_aider", issuer="深圳市红十字会", valid_until=date(2030, 1, 1)
    )
    team = actions.create_team(
        people.root, region=Region.objects.get(code="440304"), name="福田区退役军人志愿服务队"
    )
    actions.add_member(people.root, team, diver)
    return {"diver": diver, "plain": plain, "tianhe": tianhe, "team": team}


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    return [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800000000", "'+8613800000000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://x","点我")', '\'=HYPERLINK("http://x","点我")'),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("", ""),
        (1990, 1990),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_admin_export_has_full_identifiers_scoped_and_audited(client, people, data):
    client.force_login(people.futian_admin)
    response = client.get(reverse("registry:export_volunteers", args=["csv"]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:6] == ["志愿者编号", "姓名", "性别", "出生年份", "身份证号码", "手机号码"]
    by_number = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_number) == {data["diver"].number, data["plain"].number}  # Tianhe is outside the district
    diver = by_number[data["diver"].number]
    assert diver["身份证号码"] == data["diver"].id_number  # the district admin may unmask in Futian
    assert diver["手机号码"] == data["diver"].phone
    assert (diver["所属城市"], diver["区（县）"], diver["街道（乡镇）"]) == ("深圳市", "福田区", "南园街道")
    assert diver["技能"] == "急救（专家）、水上救援（熟练）"
    assert diver["资格证书"] == "红十字救护员证（有效期至 2030-01-01）"
    assert diver["所在队伍"] == "福田区退役军人志愿服务队"
    assert (diver["性别"], diver["出生年份"], diver["状态"]) == (
        data["diver"].get_gender_display(),
        str(data["diver"].birth_date.year),
        "在册",
    )
    entry = AuditEntry.objects.get(action="registry.export")
    assert entry.actor == people.futian_admin
    assert entry.detail == {"what": "volunteers", "format": "csv", "filters": {}, "rows": 2, "unmasked": True}
    flat = json.dumps(entry.detail, ensure_ascii=False)
    assert data["diver"].id_number not in flat and data["diver"].name not in flat


def test_export_without_unmask_right_is_masked(client, people, data, monkeypatch):
    """No shipped role has export without unmask; a role given export alone must still see masks."""
    monkeypatch.setitem(
        ROLE_ACTIONS, Role.STATION_STAFF, ROLE_ACTIONS[Role.STATION_STAFF] | frozenset({Action.EXPORT})
    )
    assert Action.UNMASK not in ROLE_ACTIONS[Role.STATION_STAFF]
    client.force_login(people.station_staff)
    rows = read_xlsx(client.get(reverse("registry:export_volunteers", args=["xlsx"])))
    header, body = rows[0], rows[1:]
    assert [r[0] for r in body] == [data["diver"].number]  # the station's own street only
    row = dict(zip(header, body[0], strict=True))
    assert row["身份证号码"] == mask(data["diver"].id_number, "id_number")
    assert row["身份证号码"].count("*") == 11 and row["身份证号码"] != data["diver"].id_number
    assert row["手机号码"] == mask(data["diver"].phone, "phone") and "****" in row["手机号码"]
    assert row["志愿者编号"] == data["diver"].number and row["姓名"] == data["diver"].name
    assert AuditEntry.objects.get(action="registry.export").detail["unmasked"] is False


@pytest.mark.parametrize(
    "name", ["station_staff", "auditor", "team_leader", "volunteer", "social_worker", "outsider"]
)
def test_export_needs_the_export_right(client, people, data, name):
    client.force_login(getattr(people, name))
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("registry:export_volunteers", args=[fmt]))
        assert response.status_code == 403
        assert "您没有导出个人信息的权限" in response.content.decode()
    response = client.get(reverse("registry:export_teams", args=["csv"]))
    assert response.status_code == 403
    response = client.get(reverse("api:registry_export_volunteers"))
    assert response.status_code == 403 and response.json()["detail"] == "您没有导出个人信息的权限"
    assert not AuditEntry.objects.filter(action="registry.export", outcome="success").exists()
    assert AuditEntry.objects.filter(
        action="registry.export", outcome="denied", actor=getattr(people, name)
    ).exists()


def test_anonymous_export_goes_to_login(client, data):
    response = client.get(reverse("registry:export_volunteers", args=["csv"]))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert client.get(reverse("api:registry_export_volunteers")).status_code == 401


def test_export_filters_come_from_the_query_and_are_audited(client, people, data):
    client.force_login(people.sz_admin)
    url = reverse("registry:export_volunteers", args=["csv"])
    rows = read_csv(client.get(url, {"skill": "first_aid", "min_level": "3", "region": "4403"}))
    assert [r[0] for r in rows[1:]] == [data["diver"].number]
    rows = read_csv(client.get(url, {"name": data["plain"].name[:2]}))
    assert data["plain"].number in [r[0] for r in rows[1:]]
    audit = list(AuditEntry.objects.filter(action="registry.export").order_by("seq"))
    assert audit[0].detail["filters"] == {"region": "4403", "skills": ["first_aid"], "min_level": 3}
    assert audit[0].detail["rows"] == 1 and audit[0].region_code == "4403"
    assert audit[1].detail["filters"] == {"name": data["plain"].name[0] + "*"}  # no full name in the log


def test_bad_filter_values_are_refused_in_chinese(client, people, data):
    client.force_login(people.sz_admin)
    response = client.get(
        reverse("registry:export_volunteers", args=["csv"]), {"region": "44a", "age_min": "x"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "区划代码应为 2、4、6、9 或 12 位数字" in html and "最小年龄应为 0 到 120 之间的整数" in html
    response = client.get(reverse("api:registry_export_volunteers"), {"valid_on": "2026-13-01"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "valid_on", "message": "日期格式应为 YYYY-MM-DD，例如 2026-05-01"}
    ]
    assert client.get(reverse("registry:export_volunteers", args=["pdf"])).status_code == 404
    assert not AuditEntry.objects.filter(action="registry.export").exists()


def test_filter_parser():
    f = talent_filter_from_params(
        {
            "region": "440304",
            "skill": "first_aid,diving",
            "party_member": "是",
            "status": "all",
            "age_max": "60",
        }
    )
    assert (f.region, f.skills, f.party_member, f.status, f.age_max) == (
        "440304",
        ["first_aid", "diving"],
        True,
        "",
        60,
    )
    with pytest.raises(FilterError) as err:
        talent_filter_from_params(
            {"age_min": "70", "age_max": "60", "status": "gone", "party_member": "maybe", "skill": "水上救援"}
        )
    assert err.value.errors == {
        "skill": "技能代码无效：水上救援",
        "party_member": "是否中共党员应为“是”或“否”",
        "age_max": "最大年龄不能小于最小年龄",
        "status": "状态应为：待审核、在册、暂停服务、已退出，或“全部”",
    }
    assert err.value.message_dict["status"] == ["状态应为：待审核、在册、暂停服务、已退出，或“全部”"]
    assert team_filters_from_params({"specialty": "应急救援队"})["specialty"] == "rescue"
    with pytest.raises(FilterError):
        team_filters_from_params({"region": "x"})


def test_api_export_is_csv(client, people, data):
    client.force_login(people.province_admin)
    response = client.get(reverse("api:registry_export_volunteers"), {"region": "440106"})
    assert response.status_code == 200
    rows = read_csv(response)
    assert [r[0] for r in rows[1:]] == [data["tianhe"].number]
    assert rows[1][4] == data["tianhe"].id_number
    assert AuditEntry.objects.get(action="registry.export").detail["rows"] == 1


def test_team_export_neutralises_formulas_and_reimports(client, people, data):
    futian = Region.objects.get(code="440304")
    actions.create_team(
        people.root, region=futian, parent=data["team"], name='=HYPERLINK("http://evil.example","点我")'
    )
    actions.create_team(people.root, region=futian, name="@SUM(1+1)", brand="+老兵")
    client.force_login(people.futian_admin)
    rows = read_csv(client.get(reverse("registry:export_teams", args=["csv"])))
    assert rows[0][:3] == ["队伍名称", "上级队伍名称", "所属区划代码"]
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","点我")' in names and "'@SUM(1+1)" in names
    assert next(r[:4] for r in rows[1:] if r[0] == "'@SUM(1+1)") == ["'@SUM(1+1)", "", "440304", "'+老兵"]
    response = client.get(reverse("registry:export_teams", args=["xlsx"]))
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    cells = {c.value: c.data_type for r in sheet.iter_rows(min_row=2) for c in r[:1]}
    assert cells['\'=HYPERLINK("http://evil.example","点我")'] == "s"  # text, never a formula
    assert all(kind == "s" for kind in cells.values())
    member_count = next(
        r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "福田区退役军人志愿服务队"
    )[-1]
    assert member_count == 1
    entry = AuditEntry.objects.filter(action="registry.export", detail__what="teams").last()
    assert entry.detail["rows"] == 3 and entry.detail["format"] == "xlsx"
    # The team export's columns are the import's: it reads back, and the existing top-level team is
    # recognised (the neutralised names, quote included, would be new teams).
    job = import_actions.upload(people.futian_admin, "teams", "队伍.xlsx", body)
    assert (job.total_rows, job.valid_rows, job.notes) == (3, 2, [])
    assert [e[1:] for e in job.errors] == [["name", "该区划已有同名的顶级队伍"]]


def test_outsider_sees_no_teams_to_export_and_staff_may_not(client, people, data):
    client.force_login(people.tianhe_admin)
    rows = read_csv(client.get(reverse("registry:export_teams", args=["csv"])))
    assert rows[1:] == []  # Futian's team is not Tianhe's
    client.force_login(people.station_staff)
    response = client.get(reverse("api:registry_export_teams"))
    assert response.status_code == 403 and response.json()["detail"] == "您没有导出数据的权限"


def test_export_links_on_the_import_page(client, people):
    client.force_login(people.futian_admin)
    html = client.get(reverse("registry:import_upload")).content.decode()
    assert reverse("registry:export_volunteers", args=["xlsx"]) in html
    assert reverse("registry:import_template", args=["volunteers"]) in html
