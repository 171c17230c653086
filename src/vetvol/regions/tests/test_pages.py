"""Region pages and API: content, edits through the page, and pinned query counts."""

import json

import pytest

from vetvol.regions import actions, queries
from vetvol.regions.models import Region

# Bounded whatever the node's size: the province page costs what a street page costs. Session, user and
# grants take three; the region page itself at most ten.
REGION_PAGE_QUERIES = 13


@pytest.fixture
def centres(people):
    for code in ("44", "4403", "440304", "440304001", "440304002"):
        centre = actions.create_service_centre(people.root, Region.objects.get(code=code))
        actions.create_liaison_point(people.root, centre, name=f"{centre.region.name}联络室", room="101")


def test_region_page_shows_children_counts_centre_and_liaison_points(client, people, centres):
    client.force_login(people.sz_admin)
    html = client.get("/regions/440304/").content.decode()
    assert "福田区退役军人服务中心" in html
    assert "福田区联络室" in html
    assert "南园街道" in html and "440304001" in html
    assert "修改服务中心信息" in html  # the city admin may change it
    page = queries.region_page(people.sz_admin, "440304")
    assert page.centres_in_subtree == 3 and page.liaison_points_in_subtree == 3
    assert [a.code for a in page.ancestors] == ["44", "4403"]
    assert page.visible_ancestor_codes == {"4403"}  # the province is shown, not linked
    nanyuan = next(c for c in page.children if c.region.code == "440304001")
    assert (nanyuan.has_centre, nanyuan.liaison_points) == (True, 1)


def test_read_only_role_sees_no_edit_buttons(client, people, centres):
    client.force_login(people.team_leader)
    html = client.get("/regions/440304/").content.decode()
    assert "福田区退役军人服务中心" in html
    assert "修改服务中心信息" not in html and "新增联络点" not in html


def test_province_page_counts(people, centres):
    page = queries.region_page(people.province_admin, "44")
    assert page.level_counts == {
        "city": 21,
        "county": 122,
        "township": Region.objects.filter(level="township").count(),
    }
    assert len(page.children) == 21
    shenzhen = next(c for c in page.children if c.region.code == "4403")
    assert shenzhen.liaison_points == 4 and shenzhen.has_centre


@pytest.mark.parametrize("code", ["44", "4403", "440304", "440304001"])
def test_region_page_query_count_is_fixed(client, people, centres, django_assert_max_num_queries, code):
    client.force_login(people.province_admin)
    client.get("/regions/44/")  # warm the session
    with django_assert_max_num_queries(REGION_PAGE_QUERIES):
        assert client.get(f"/regions/{code}/").status_code == 200


@pytest.mark.parametrize("code", ["44", "440304"])
def test_region_api_query_count_is_fixed(client, people, centres, django_assert_max_num_queries, code):
    client.force_login(people.province_admin)
    client.get("/api/regions/44")
    with django_assert_max_num_queries(REGION_PAGE_QUERIES):
        assert client.get(f"/api/regions/{code}").status_code == 200


def test_search_finds_only_inside_scope(client, people):
    client.force_login(people.futian_admin)
    html = client.get("/regions/search/?q=南园", HTTP_HX_REQUEST="true").content.decode()
    assert "南园街道" in html and "<html" not in html  # an htmx fragment
    html = client.get("/regions/search/?q=天河").content.decode()
    assert "没有找到" in html
    assert [r["code"] for r in client.get("/api/regions/search?q=4403040").json()] == [
        c for c in Region.objects.filter(code__startswith="4403040").values_list("code", flat=True)
    ]


def test_station_staff_adds_a_liaison_point_through_the_page(client, people):
    client.force_login(people.station_staff)
    assert (
        client.post(
            "/regions/440304001/centre/", {"name": "南园街道退役军人服务站", "phone": "0755-82000000"}
        ).status_code
        == 302
    )
    response = client.post(
        "/regions/440304001/liaison-points/new/",
        {"name": "红星南园分队联络点", "room": "大厅", "is_active": "on"},
    )
    assert response.status_code == 302
    page = queries.region_page(people.station_staff, "440304001")
    assert [(p.name, p.room) for p in page.liaison_points] == [("红星南园分队联络点", "大厅")]


def test_roots_api_lists_each_grant_node(client, people):
    client.force_login(people.futian_admin)
    assert [r["code"] for r in client.get("/api/regions/").json()] == ["440304"]
    client.force_login(people.root)
    assert [r["code"] for r in client.get("/api/regions/").json()] == ["44"]


def test_patch_centre_changes_only_given_fields(client, people):
    centre = actions.create_service_centre(
        people.root, Region.objects.get(code="440106"), phone="020-38000000"
    )
    client.force_login(people.tianhe_admin)
    response = client.patch(
        f"/api/regions/centres/{centre.pk}",
        json.dumps({"opening_hours": "全天"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["opening_hours"], response.json()["phone"]) == ("全天", "020-38000000")
