"""Bad input gets a clear 4xx and loses nothing: malformed codes, forged ids, invalid fields."""

import json

import pytest

from vetvol.core.models import AuditEntry
from vetvol.regions import actions
from vetvol.regions.models import LiaisonPoint, Region, ServiceCentre


@pytest.fixture
def futian(client, people):
    client.force_login(people.futian_admin)
    return client


@pytest.fixture
def tianhe_point(people):
    centre = actions.create_service_centre(people.root, Region.objects.get(code="440106"))
    return actions.create_liaison_point(people.root, centre, name="红棉老兵天河联络室")


@pytest.mark.parametrize("code", ["abc", "4403xyz", "0", "44030", "999999", "44" * 10])
def test_malformed_or_unknown_codes_are_404_pages(futian, code):
    assert futian.get(f"/regions/{code}/").status_code == 404


def test_malformed_code_in_api_is_422_with_the_field(futian):
    response = futian.get("/api/regions/44a")
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "输入有误"
    assert [e["field"] for e in body["errors"]] == ["code"]


def test_unknown_code_in_api_is_404(futian):
    assert futian.get("/api/regions/4499").status_code == 404


def test_api_field_errors_name_the_field_and_write_nothing(futian):
    response = futian.put(
        "/api/regions/440304/centre", json.dumps({"name": ""}), content_type="application/json"
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    response = futian.put(
        "/api/regions/440304/centre",
        json.dumps({"name": "福田区退役军人服务中心", "phone": "call me"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "phone", "message": "请输入有效的办公电话，例如 020-12345678 或 12345"}
    ]
    assert not ServiceCentre.objects.filter(region_id="440304").exists()


def test_malformed_json_is_a_4xx(futian):
    response = futian.put("/api/regions/440304/centre", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_page_form_shows_chinese_field_error_and_writes_nothing(futian):
    response = futian.post("/regions/440304/centre/", {"name": "福田区退役军人服务中心", "phone": "abc"})
    assert response.status_code == 400
    assert "请输入有效的办公电话" in response.content.decode()
    assert not ServiceCentre.objects.filter(region_id="440304").exists()


def test_duplicate_liaison_point_name_is_a_field_error(futian, people):
    centre = actions.create_service_centre(people.futian_admin, Region.objects.get(code="440304"))
    actions.create_liaison_point(people.futian_admin, centre, name="红星联络室")
    response = futian.post(
        "/api/regions/440304/liaison-points",
        json.dumps({"name": "红星联络室"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "message": "该服务中心（站）已有同名联络点"}]
    assert LiaisonPoint.objects.filter(service_centre=centre).count() == 1


def test_liaison_point_needs_a_centre_first(futian):
    response = futian.post(
        "/api/regions/440304/liaison-points", json.dumps({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"


def test_forged_liaison_point_id_is_404_and_audited(futian, people, tianhe_point):
    assert futian.get(f"/regions/liaison-points/{tianhe_point.pk}/edit/").status_code == 404
    response = futian.patch(
        f"/api/regions/liaison-points/{tianhe_point.pk}",
        json.dumps({"name": "改名"}),
        content_type="application/json",
    )
    assert response.status_code == 404
    tianhe_point.refresh_from_db()
    assert tianhe_point.name == "红棉老兵天河联络室"
    denials = AuditEntry.objects.filter(
        actor=people.futian_admin, outcome="denied", object_id=str(tianhe_point.pk)
    )
    assert denials.count() == 2
    assert futian.get("/regions/liaison-points/999999/edit/").status_code == 404
    assert (
        futian.patch("/api/regions/liaison-points/abc", "{}", content_type="application/json").status_code
        == 422
    )


def test_anonymous_pages_redirect_to_login_and_api_is_401(client, regions):
    response = client.get("/regions/44/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.get("/api/regions/44").status_code == 401
