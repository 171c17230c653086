"""The volunteer's phone page in a real browser: GPS check-in and check-out at a phone viewport with the
position Chromium reports, the hours record on 我的志愿服务, and a refusal outside the geofence.

The volunteer registers on the phone (`self_register`, which creates the login), a station verifies them
(`change_status`), and they sign up for an activity running now through `sign_up`, as in real life.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import PASSWORD, volunteer_raw
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import _CALL_REPORT, login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
FUTIAN = "440304"
STATION = "440304001"
# 福田站 and a point about 60 m from it (inside the 300 m fence), and one about 2 km away (outside).
SITE = (22.5366, 114.0507)
INSIDE = (22.5370, 114.0510)
OUTSIDE = (22.5546, 114.0507)


@pytest.fixture
def position() -> tuple[float, float]:
    """Where the phone says it is; a test parametrizes it to stand elsewhere."""
    return INSIDE


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, position: tuple[float, float]) -> Iterator[Page]:
    """A phone: 390×844, touch, mobile, geolocation granted at `position` (overrides the desktop `page`, so
    `console_errors` listens to this one). A failed test leaves a screenshot in test-results/."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"latitude": position[0], "longitude": position[1]},
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    phone = context.new_page()
    yield phone
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is not None and report.failed:
        results = request.config.rootpath / "test-results"
        results.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        with contextlib.suppress(PlaywrightError):  # a crashed page must not hide the test's own failure
            phone.screenshot(path=str(results / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def running_activity(people):
    """Make an activity at 福田站 that started an hour ago and runs three more hours: make(**fields)."""
    from vetvol.activities import actions
    from vetvol.regions import actions as region_actions
    from vetvol.regions.models import Region

    futian = Region.objects.get(code=FUTIAN)
    centre = region_actions.create_service_centre(people.root, futian)
    project = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_centre=centre,
        name="春运志愿服务",
        domain="spring_travel",
        description="福田站春运旅客引导",
        risk_statement="人流密集，注意踩踏风险",
    )

    def make(**fields):
        now = timezone.now()
        defaults = dict(
            title="福田站旅客引导",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=3),
            place_name="福田站",
            lat=SITE[0],
            lng=SITE[1],
            geofence_m=300,
            capacity=20,
            signup_opens_at=now - timedelta(days=1),
            signup_closes_at=now + timedelta(hours=2),
        )
        return actions.create_activity(people.futian_admin, project, **{**defaults, **fields})

    return make


@pytest.fixture
def confirmed_volunteer(people):
    """Register on the phone (own login), get verified by the station, sign up: confirm(activity)."""
    from vetvol.activities import actions
    from vetvol.registry import actions as registry_actions

    volunteer = registry_actions.self_register(volunteer_raw(7, STATION), password=PASSWORD)
    registry_actions.change_status(people.root, volunteer, "active")

    def confirm(activity):
        signup = actions.sign_up(volunteer.user, activity, volunteer)
        assert signup.status == "confirmed"
        return volunteer

    return confirm


def test_gps_check_in_and_out_on_a_phone(
    server: str, page: Page, console_errors: list[str], running_activity, confirmed_volunteer
):
    from vetvol.activities.models import Attendance

    activity = running_activity()
    volunteer = confirmed_volunteer(activity)
    login(page, server, volunteer.user.username, PASSWORD)

    page.goto(f"{server}/activities/{activity.pk}/")
    status = page.locator("#my-status")
    expect(status).to_contain_text("已录取")
    page.get_by_role("button", name="定位签到").tap()
    expect(status).to_contain_text("已签到")
    expect(page.locator(".messages")).to_contain_text("签到成功")

    attendance = Attendance.objects.get(activity=activity, volunteer=volunteer)
    assert attendance.in_method == "gps"
    assert (attendance.in_lat, attendance.in_lng) == INSIDE
    assert attendance.in_distance_m is not None and attendance.in_distance_m < 100
    assert not attendance.outside_fence

    # As if they had checked in when the activity began, an hour ago (a check-out seconds after the check-in
    # would earn 0 minutes, and no hours record).
    Attendance.objects.filter(pk=attendance.pk).update(checked_in_at=activity.starts_at)
    page.reload()
    page.get_by_role("button", name="签退").tap()
    expect(status).to_contain_text("已签退")
    expect(page.locator(".messages")).to_contain_text("服务时长已记录")

    page.goto(f"{server}/activities/me/")
    row = page.locator("table tbody tr").filter(has_text="福田站旅客引导")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("60 分钟")
    expect(row).to_contain_text("签到签退")
    expect(row).to_contain_text("已认定")

    assert console_errors == []


@pytest.mark.parametrize("position", [OUTSIDE])
def test_gps_check_in_outside_a_refusing_fence(
    server: str, page: Page, console_errors: list[str], running_activity, confirmed_volunteer
):
    from vetvol.activities.actions.attendance import distance_m
    from vetvol.activities.models import Attendance

    activity = running_activity(fence_policy="refuse")
    volunteer = confirmed_volunteer(activity)
    login(page, server, volunteer.user.username, PASSWORD)

    page.goto(f"{server}/activities/{activity.pk}/")
    page.get_by_role("button", name="定位签到").tap()
    metres = round(distance_m(*OUTSIDE, *SITE))
    assert 1900 < metres < 2100
    expect(page.locator(".messages")).to_contain_text(f"您距离活动地点约 {metres} 米，超出 300 米签到范围")
    expect(page.get_by_role("button", name="定位签到")).to_be_visible()
    expect(page.locator("#my-status")).not_to_contain_text("已签到")

    assert not Attendance.objects.filter(activity=activity).exists()
    assert console_errors == []
