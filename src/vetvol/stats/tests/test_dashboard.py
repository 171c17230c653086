"""Dashboards: who may see what, the xlsx downloads carry the page's numbers, the civilisation export."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from vetvol.activities import actions as activity_actions
from vetvol.regions.models import Region
from vetvol.stats import actions, rollup
from vetvol.stats.queries import dashboard

YEAR = f"{timezone.localdate():%Y}"


@pytest.fixture
def served(people, make_volunteer):
    """Two Futian volunteers and one in Tianhe; 2.5 counted hours in Futian, one pending record."""
    a = make_volunteer(1, region="440304001")
    make_volunteer(2, region="440304002")
    make_volunteer(3, region="440106001")
    for minutes, approve in ((90, True), (60, True), (45, None)):
        record = activity_actions.enter_hours(
            people.futian_admin,
            a,
            region=Region.objects.get(code="440304"),
            day=timezone.localdate() - timedelta(days=1),
            minutes=minutes,
            content="探访慰问",
            reason="纸质签到表补录",
        )
        if approve:
            activity_actions.approve_hours(people.sz_admin, record)
    return a


def login(client, user):
    client.force_login(user)
    return client


def sheet(response):
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def test_province_admin_sees_province_with_city_figures(client, people, served):
    r = login(client, people.province_admin).get("/stats/44/")
    assert r.status_code == 200
    shenzhen = next(c for c in r.context["children"] if c["code"] == "4403")
    assert shenzhen["values"]["volunteers"] == 2
    assert str(shenzhen["values"]["service_hours"]) == "2.50"
    assert r.context["totals"]["volunteers"] == 3
    assert 'src="/static/vendor/echarts.min.js"' in r.content.decode()
    assert "<script>" not in r.content.decode()


def test_district_admin_sees_only_their_subtree(client, people, served):
    c = login(client, people.futian_admin)
    assert c.get("/stats/").url == "/stats/440304/"
    r = c.get("/stats/440304/")
    assert r.status_code == 200
    assert r.context["totals"]["volunteers"] == 2
    assert c.get("/stats/4403/").status_code == 404
    assert c.get("/stats/440106/").status_code == 404
    assert c.get("/stats/440106/xlsx/summary/").status_code == 404
    assert c.get("/stats/440106/civilisation.xlsx").status_code == 404


@pytest.mark.parametrize(
    "who,status",
    [
        ("outsider", 404),
        ("volunteer", 404),
        ("social_worker", 404),
        ("station_staff", 404),
        ("team_leader", 403),
    ],
)
def test_non_admins_are_refused(client, people, who, status):
    """No statistics grant: no dashboard. A node the user sees otherwise (the team leader's district) is a
    403, as everywhere; one they do not see is a 404."""
    c = login(client, getattr(people, who))
    assert c.get("/stats/").status_code == 404
    assert c.get("/stats/440304/").status_code == status


def test_auditor_reads_but_cannot_enter_population(client, people, served):
    c = login(client, people.auditor)
    assert c.get("/stats/4403/").status_code == 200
    r = c.post("/stats/4403/population/", {"year": YEAR, "veterans": "100"})
    assert r.status_code == 200 and "无权" in r.content.decode()


def test_xlsx_of_each_chart_equals_the_page(client, people, served):
    c = login(client, people.sz_admin)
    page = c.get(f"/stats/4403/?period={YEAR}").context
    rows = sheet(c.get(f"/stats/4403/xlsx/children/?period={YEAR}"))
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    futian = next(x for x in page["children"] if x["code"] == "440304")
    assert body["440304"][header.index("注册志愿者")] == futian["values"]["volunteers"] == 2
    assert body["440304"][header.index("服务时长（小时）")] == float(futian["values"]["service_hours"]) == 2.5
    summary = dict(r for r in sheet(c.get(f"/stats/4403/xlsx/summary/?period={YEAR}"))[1:])
    assert summary["注册志愿者"] == page["totals"]["volunteers"]
    trend = sheet(c.get(f"/stats/4403/xlsx/trend/?period={YEAR}"))
    month = (timezone.localdate() - timedelta(days=1)).strftime("%Y-%m")
    row = next(r for r in trend if r[0] == month)
    assert row[1] == 2.5
    assert c.get("/stats/4403/xlsx/nonsense/").status_code == 404


def test_page_is_exact_before_and_after_compaction(people, served, make_volunteer):
    region = Region.objects.get(code="4403")
    before = dashboard(people.root, region, YEAR)["totals"]["volunteers"]
    rollup.compact_all()
    make_volunteer(9, region="440304001")
    assert dashboard(people.root, region, YEAR)["totals"]["volunteers"] == before + 1
    rollup.compact_all()
    assert dashboard(people.root, region, YEAR)["totals"]["volunteers"] == before + 1


def test_civilisation_export_layout_and_not_reported(client, people, served):
    actions.set_veteran_population(people.futian_admin, Region.objects.get(code="440304"), int(YEAR), 40)
    c = login(client, people.sz_admin)
    rows = sheet(c.get(f"/stats/4403/civilisation.xlsx?period={YEAR}"))
    header = rows[0]
    assert header[:5] == ["地区代码", "地区名称", "层级", "年度", "退役军人人数"]
    body = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert rows[1][0] == "4403"
    futian = body["440304"]
    assert futian["退役军人人数"] == 40
    assert futian["注册志愿者"] == 2 and futian["其中退役军人"] == 2
    assert futian["退役军人注册率"] == 5.0
    assert futian["服务时长（小时）"] == 2.5 and futian["人均服务时长（小时）"] == 1.25
    assert futian["活跃志愿者"] == 1 and futian["活跃志愿者占比"] == 50.0
    assert body["4403"]["退役军人人数"] == "未填报"
    assert body["4403"]["退役军人注册率"] == "未填报"


def test_population_form_refuses_bad_input_and_saves(client, people):
    c = login(client, people.futian_admin)
    r = c.post("/stats/440304/population/", {"year": "1800", "veterans": "-1"})
    assert r.status_code == 200
    assert set(r.context["form"].errors) == {"year", "veterans"}
    r = c.post("/stats/440304/population/", {"year": YEAR, "veterans": "1234"})
    assert r.status_code == 302
    r = c.post("/stats/440304/population/", {"year": YEAR, "veterans": "1300"})
    from vetvol.stats.models import VeteranPopulation

    assert VeteranPopulation.objects.get(region_code="440304", year=int(YEAR)).veterans == 1300


def test_nav_shows_statistics_to_admins_and_auditor_only(client, people):
    assert "统计分析" in login(client, people.auditor).get("/").content.decode()
    client.logout()
    assert "统计分析" not in login(client, people.station_staff).get("/").content.decode()
