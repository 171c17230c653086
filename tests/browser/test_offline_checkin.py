"""The phone app without signal: a check-in made offline is kept on the phone, the page says what is queued,
and when the network is back it is sent (served over ASGI, as in production, so the bell's websocket
connects); tapping twice while offline still makes one attendance (the form's
idempotency key). Chromium's network is switched off and on through the browser context.
"""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from playwright.sync_api import Page, expect

from tests.browser.conftest import login
from tests.browser.test_phone_checkin import (  # noqa: F401 - the phone and its activity, as fixtures
    confirmed_volunteer,
    page,
    position,
    running_activity,
)

pytestmark = pytest.mark.browser


def test_check_in_without_signal_is_sent_when_back_online(
    asgi_server: str,
    page: Page,  # noqa: F811
    console_errors: list[str],
    running_activity,  # noqa: F811
    confirmed_volunteer,  # noqa: F811
):
    from vetvol.activities.models import Attendance

    activity = running_activity()
    volunteer = confirmed_volunteer(activity)
    login(page, asgi_server, volunteer.user.username, PASSWORD)
    page.goto(f"{asgi_server}/activities/{activity.pk}/")
    expect(page.locator("#my-status")).to_contain_text("已录取")

    page.context.set_offline(True)
    banner = page.locator("[data-offline-banner]")
    expect(banner).to_contain_text("当前没有网络")
    button = page.get_by_role("button", name="定位签到")
    button.tap()
    expect(banner).to_contain_text("已离线保存 1 条记录（签到）")
    button.tap()  # no answer came, so they tap again
    expect(banner).to_contain_text("已离线保存 2 条记录")
    assert not Attendance.objects.filter(activity=activity).exists()

    page.context.set_offline(False)
    expect(page.locator("#my-status")).to_contain_text("已签到", timeout=15_000)
    expect(banner).to_be_hidden()
    assert page.evaluate("localStorage.getItem('vetvol.offline-queue')") in (None, "[]")
    attendance = Attendance.objects.get(activity=activity, volunteer=volunteer)
    assert attendance.in_method == "gps"

    # Only network errors are expected in the console (the requests that failed while offline).
    assert [
        e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e
    ] == []
