"""The public recruitment listing (招募): activities open for sign-up now, for anyone, without login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from vetvol.activities import actions
from vetvol.core.middleware import CSP
from vetvol.regions import actions as region_actions
from vetvol.regions.models import Region


@pytest.fixture
def shifts(people):
    """Futian (Shenzhen) and Tianhe (Guangzhou) projects; shifts open, team-only, closed and cancelled."""
    now = timezone.now()

    def project(admin, code, name):
        region = Region.objects.get(code=code)
        return actions.create_project(
            admin,
            region=region,
            owner_centre=region_actions.create_service_centre(people.root, region),
            name=name,
            domain="spring_travel",
            description="旅客引导",
            risk_statement="人流密集，注意踩踏风险",
        )

    def shift(p, title, admin, opens=-1, closes=24, **fields):
        start = now + timedelta(days=2)
        return actions.create_activity(
            admin,
            p,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            place_name="火车站",
            lat=22.5366,
            lng=114.0507,
            capacity=10,
            signup_opens_at=now + timedelta(hours=opens),
            signup_closes_at=now + timedelta(hours=closes),
            **fields,
        )

    futian = project(people.futian_admin, "440304", "福田站春运服务")
    tianhe = project(people.tianhe_admin, "440106", "广州东站春运服务")
    cancelled = shift(futian, "已取消的班次", people.futian_admin)
    actions.cancel_activity(people.futian_admin, cancelled, "车站调整")
    return {
        "futian": shift(futian, "福田站旅客引导", people.futian_admin),
        "tianhe": shift(tianhe, "广州东站旅客引导", people.tianhe_admin),
        "team_only": shift(futian, "本队内部班次", people.futian_admin, team_only=True),
        "not_yet": shift(futian, "下周才开放报名", people.futian_admin, opens=24, closes=30),
    }


def test_anyone_sees_what_recruits_now_and_is_sent_to_sign_up_in_the_app(client, shifts):
    response = client.get("/public/recruiting/")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert {p.strip() for p in response.headers["Cache-Control"].split(",")} == {"public", "max-age=300"}
    html = response.content.decode()
    assert "福田站旅客引导" in html and "广州东站旅客引导" in html
    for hidden in ("本队内部班次", "下周才开放报名", "已取消的班次"):
        assert hidden not in html
    assert "剩余名额 10/10" in html and "风险提示：人流密集，注意踩踏风险" in html
    detail = f'href="/activities/{shifts["futian"].pk}/"'
    assert detail in html
    assert client.get(f"/activities/{shifts['futian'].pk}/").status_code == 302  # sign-up needs login
    assert "正在招募的志愿服务活动" in client.get("/public/").content.decode()


def test_a_region_lists_its_own_subtree_and_an_unknown_one_is_404(client, shifts):
    html = client.get("/public/recruiting/", {"region": "4403"}).content.decode()
    assert "福田站旅客引导" in html and "广州东站旅客引导" not in html and "深圳市正在招募" in html
    assert 'href="/public/recruiting/?region=4403"' in client.get("/public/regions/4403/").content.decode()
    assert client.get("/public/recruiting/", {"region": "9999"}).status_code == 404
    response = client.get("/public/recruiting/", {"page": "abc"})
    assert response.status_code == 400 and "页码应为正整数" in response.content.decode()
