"""The region browser and the login page in a real browser: scoping as a district admin sees it, htmx search,
the Alpine (CSP build) mobile menu, the 404 page for a node outside the grant, and the lockout message."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import Page, expect

from tests.browser.conftest import login, submit_with_enter

pytestmark = pytest.mark.browser

FUTIAN = "440304"
NANYUAN = "440304001"
TIANHE = "440106"


def _page_errors(errors: list[str], server: str, also_404: str | None = None) -> list[str]:
    """The console errors, less the 404 of /favicon.ico (Chromium asks for it by itself, at a moment of its
    choosing, and base.html declares no icon yet) and less the 404 of the path `also_404` if given."""
    paths = ["/favicon.ico", *([also_404] if also_404 else [])]
    allowed = re.compile(
        r"^Failed to load resource: the server responded with a status of 404 \(Not Found\) "
        rf"\[{re.escape(server)}({'|'.join(re.escape(p) for p in paths)})\]$"
    )
    return [e for e in errors if not allowed.match(e)]


def test_district_admin_sees_own_district_not_another_city(
    server: str, page: Page, people, console_errors: list[str]
):
    login(page, server, people.futian_admin.username, PASSWORD)
    people.futian_admin.refresh_from_db()
    assert people.futian_admin.totp_confirmed_at is not None  # the first login went through enrolment

    page.goto(f"{server}/regions/")
    expect(page).to_have_url(f"{server}/regions/{FUTIAN}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("福田区")
    nanyuan_row = page.locator("table.children tbody tr").filter(has_text="南园街道")
    expect(nanyuan_row).to_contain_text(NANYUAN)
    expect(nanyuan_row.get_by_role("link", name="南园街道")).to_have_attribute("href", f"/regions/{NANYUAN}/")
    expect(page.locator("body")).not_to_contain_text("天河区")

    # Live search (htmx): a district of another city is not found, a street of one's own district is.
    search = page.locator("#region-q")
    results = page.locator("#search-results")
    search.fill("天河")
    expect(results).to_contain_text("在您的管辖范围内没有找到")
    expect(page.locator("body")).not_to_contain_text("天河区")
    search.fill("南园")
    expect(results.get_by_role("link", name="南园街道")).to_have_attribute("href", f"/regions/{NANYUAN}/")
    expect(results).not_to_contain_text("在您的管辖范围内没有找到")

    # Phone width: the nav is folded behind the 菜单 button (Alpine CSP build, component from vetvol.js).
    page.set_viewport_size({"width": 390, "height": 844})
    menu = page.get_by_role("button", name="菜单")
    regions_link = page.locator("#mainnav").get_by_role("link", name="行政区划")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(regions_link).to_be_hidden()
    menu.click()
    expect(regions_link).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    menu.click()
    expect(regions_link).to_be_hidden()

    assert _page_errors(console_errors, server) == []

    # A node outside the grant answers 404, like one that does not exist.
    response = page.goto(f"{server}/regions/{TIANHE}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("未找到该页面")
    expect(page.locator("body")).not_to_contain_text("天河区")
    # The only new console error allowed there is Chromium's note about the 404 status of the document.
    assert _page_errors(console_errors, server, also_404=f"/regions/{TIANHE}/") == []


def test_login_lockout_message_in_chinese(server: str, page: Page, people):
    page.goto(f"{server}/accounts/login/")
    for _ in range(5):
        page.fill("#id_username", people.volunteer.username)
        page.fill("#id_password", "Wrong-pass-2026!")
        submit_with_enter(page, "#id_password")
        expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")

    page.fill("#id_username", people.volunteer.username)
    page.fill("#id_password", PASSWORD)
    submit_with_enter(page, "#id_password")
    expect(page.get_by_role("alert")).to_contain_text("登录失败次数过多")
    expect(page).to_have_url(f"{server}/accounts/login/")
    expect(page.locator("form[action='/accounts/logout/']")).to_have_count(0)
