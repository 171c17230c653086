"""The volunteer's care page on a phone: a party member paired with a veteran logs a visit in two taps
(open the person, tap how it was done), sees it confirmed, and the pairing's next visit moves a month on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import PASSWORD, volunteer_raw
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
STATION = "440304001"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_pairing_visit_logged_in_two_taps_at_phone_width(server: str, phone: Page, people):
    from vetvol.care import actions
    from vetvol.care.models import Pairing, Visit
    from vetvol.care.tests.conftest import recipient_raw
    from vetvol.registry import actions as registry_actions

    volunteer = registry_actions.self_register(
        volunteer_raw(8, STATION, is_party_member=True), password=PASSWORD
    )
    registry_actions.change_status(people.root, volunteer, "active")
    recipient = actions.register_recipient(people.station_staff, recipient_raw(21, STATION, name="李卫国"))
    pairing = actions.create_pairing(people.station_staff, volunteer, recipient, frequency_days=30)

    login(phone, server, volunteer.user.username, PASSWORD)
    phone.goto(f"{server}/care/me/")
    card = phone.locator(f"#pairing-{pairing.pk}")
    expect(card).to_contain_text("李卫国")
    button = card.get_by_role("button", name="已上门探访")
    assert not button.is_visible()  # folded until the person is opened
    card.locator("summary").tap()  # tap 1
    box = button.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and box["height"] >= 40  # a thumb-sized button
    button.tap()  # tap 2
    expect(phone.locator(".messages")).to_contain_text("已记录对李卫国的探访")

    visit = Visit.objects.get(pairing=pairing)
    assert (visit.mode, visit.minutes, visit.volunteer_id) == ("home", 60, volunteer.pk)
    today = timezone.localdate()
    assert Pairing.objects.get(pk=pairing.pk).next_visit_due == today + timedelta(days=30)
    # The page no longer shows the visit as due today, and a reload does not log it twice.
    phone.reload()
    assert Visit.objects.filter(pairing=pairing).count() == 1
