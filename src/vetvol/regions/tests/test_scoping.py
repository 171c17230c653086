"""The scoping matrix: every role, a node inside and a node outside its grant, through pages and the API."""

import json

import pytest

from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region, ServiceCentre

# person: (inside, outside, writes)
MATRIX = {
    "province_admin": ("4401", "45", True),
    "sz_admin": ("440304", "440106", True),
    "futian_admin": ("440304001", "440106001", True),
    "tianhe_admin": ("440106001", "440304", True),
    "station_staff": ("440304001", "440304002", True),
    "team_leader": ("440304002", "440106", False),
    "volunteer": ("440304001", "440304002", False),
    "social_worker": ("440106001", "4403", False),
    "auditor": ("4403", "45", False),
    "outsider": (None, "440304", False),
}


@pytest.fixture
def neighbour_province(regions):
    return Region.objects.create(code="45", name="广西壮族自治区", level="province", kind="province")


@pytest.mark.parametrize("name", MATRIX)
def test_pages_inside_readable_outside_404(client, people, neighbour_province, name):
    inside, outside, _ = MATRIX[name]
    client.force_login(getattr(people, name))
    if inside:
        response = client.get(f"/regions/{inside}/")
        assert response.status_code == 200
        assert Region.objects.get(code=inside).name in response.content.decode()
    assert client.get(f"/regions/{outside}/").status_code == 404


@pytest.mark.parametrize("name", MATRIX)
def test_api_inside_readable_outside_404(client, people, neighbour_province, name):
    inside, outside, _ = MATRIX[name]
    client.force_login(getattr(people, name))
    if inside:
        response = client.get(f"/api/regions/{inside}")
        assert response.status_code == 200
        assert response.json()["region"]["code"] == inside
    response = client.get(f"/api/regions/{outside}")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到", "errors": []}


@pytest.mark.parametrize("name", MATRIX)
def test_writes_inside_only_for_writing_roles(client, people, neighbour_province, name):
    inside, outside, writes = MATRIX[name]
    user = getattr(people, name)
    client.force_login(user)
    body = json.dumps({"name": "测试服务站", "phone": "0755-83000000"})
    if inside:
        response = client.put(f"/api/regions/{inside}/centre", body, content_type="application/json")
        assert response.status_code == (200 if writes else 403)
        assert ServiceCentre.objects.filter(region_id=inside).exists() is writes
        page = client.post(f"/regions/{inside}/centre/", {"name": "测试服务站（页面）"})
        assert page.status_code == (302 if writes else 403)
        if writes:
            assert ServiceCentre.objects.get(region_id=inside).name == "测试服务站（页面）"
    response = client.put(f"/api/regions/{outside}/centre", body, content_type="application/json")
    assert response.status_code == 404
    assert client.post(f"/regions/{outside}/centre/", {"name": "x"}).status_code == 404
    assert not ServiceCentre.objects.filter(region_id=outside).exists()
    denied = AuditEntry.objects.filter(actor=user, outcome="denied", region_code=outside)
    assert denied.count() == 2  # the forged write through the API and the one through the page
