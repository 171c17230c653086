"""The statistics dashboard in a real browser: the province map (ECharts, shipped boundaries), clicking
深圳市 on it drills down to Shenzhen's dashboard with Shenzhen's figures; no console errors under the CSP."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import Page, expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_province_dashboard_click_shenzhen_on_the_map(
    server: str, page: Page, people, make_volunteer, console_errors: list[str]
):
    for seq, code in ((1, "440304001"), (2, "440304002"), (3, "440305001"), (4, "440106001")):
        make_volunteer(seq, region=code)
    login(page, server, people.province_admin.username, PASSWORD)
    page.goto(f"{server}/stats/")
    expect(page).to_have_url(f"{server}/stats/44/")
    expect(page.locator('[data-figure="volunteers"]')).to_have_text("4")
    expect(page.locator("#league tr[data-code='4403']")).to_contain_text("3")
    chart = page.locator("#stats-map")
    expect(chart).to_have_attribute("data-ready", "1")

    # Click the map where Shenzhen is: ECharts draws on a canvas, so ask it for the pixel of Shenzhen's
    # centre (the same conversion a user's click goes through).
    point = page.evaluate(
        """() => {
            const chart = echarts.getInstanceByDom(document.getElementById('stats-map'));
            return chart.convertToPixel({seriesIndex: 0}, [114.06, 22.60]);
        }"""
    )
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(server)}/stats/4403/\?period=\d{{4}}&figure=volunteers$")
    )
    expect(page.locator("#region-name")).to_have_text("深圳市")
    expect(page.locator('[data-figure="volunteers"]')).to_have_text("3")
    expect(page.locator("#league tr[data-code='440304']")).to_contain_text("2")
    assert [e for e in console_errors if "favicon" not in e] == []
