"""The live board in real Chromium, served over ASGI with websockets: an invitation accepted on the
volunteer's phone page appears on the commander's board in another browser context, without a reload, and
the responder's shared position shows on the map."""

from __future__ import annotations

import importlib

import pytest
from conftest import PASSWORD
from playwright.sync_api import Browser, expect

from tests.browser.conftest import VIEWPORT, login

pytestmark = pytest.mark.browser

FUTIAN = "440304"
SITE = (22.5333, 114.0500)
HOME = (22.5333, 114.0598)  # about 1 km east of the site


@pytest.fixture
def responder(make_volunteer, people):
    """A volunteer with a login, a lifeguard skill and a home base near the site, in the location index."""
    from django.apps import apps

    from vetvol.accounts.models import User
    from vetvol.dispatch.locations import sync_locations
    from vetvol.registry import actions as registry_actions

    # transactional tests flush the seeded taxonomy and run cards: put them back
    importlib.import_module("vetvol.registry.migrations.0002_taxonomy").forward(apps, None)
    importlib.import_module("vetvol.dispatch.migrations.0002_seed_run_cards").seed(apps, None)
    volunteer = make_volunteer(1, lat=HOME[0], lng=HOME[1], location_consent=True)
    volunteer.user = User.objects.create_user(f"v{volunteer.number}", password=PASSWORD)
    volunteer.save(update_fields=["user"])
    registry_actions.set_skills(people.root, volunteer, {"water_rescue": 2})
    sync_locations([volunteer.pk])
    return volunteer


@pytest.mark.django_db(transaction=True)
def test_accepted_invitation_appears_on_the_board(asgi_server: str, browser: Browser, people, responder):
    from vetvol.dispatch import actions
    from vetvol.dispatch.models import Assignment
    from vetvol.regions.models import Region

    board_context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    phone_context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    try:
        board_context.set_default_timeout(10_000)
        phone_context.set_default_timeout(10_000)
        errors: list[str] = []
        board = board_context.new_page()
        board.on("console", lambda m: m.type == "error" and errors.append(m.text))
        board.on("pageerror", lambda exc: errors.append(str(exc)))
        login(board, asgi_server, "futian_admin", PASSWORD)
        board.goto(f"{asgi_server}/dispatch/board/?region={FUTIAN}")
        expect(board.locator("#board")).to_have_attribute("data-live", "1")
        expect(board.locator("#map path.region")).to_have_count(1)  # Futian's boundary, from shipped data
        expect(board.locator("#incidents")).to_contain_text("当前没有进行中的事件")

        phone = phone_context.new_page()
        login(phone, asgi_server, responder.user.username, PASSWORD)
        phone.goto(f"{asgi_server}/dispatch/me/")
        expect(phone.locator("#mine")).to_have_attribute("data-live", "1")
        expect(phone.locator("#mine")).to_contain_text("暂时没有邀请")

        incident = actions.create_incident(
            people.futian_admin,
            region=Region.objects.get(code=FUTIAN),
            type="water_rescue",
            level=1,
            title="深圳河溺水",
            lat=SITE[0],
            lng=SITE[1],
            roles=[{"name": "救生员", "skill_code": "water_rescue", "count": 1}],
        )
        item = board.locator(f"#incidents [data-incident='{incident.pk}']")
        expect(item).to_contain_text("深圳河溺水")
        expect(item).to_contain_text("0/1")
        expect(board.locator(f"#map .incident[data-id='{incident.pk}']")).to_have_count(1)

        # the invitation arrives on the phone by itself; one tap accepts it
        expect(phone.locator(".invitation")).to_contain_text("深圳河溺水")
        phone.get_by_role("button", name="接受").tap()
        expect(phone.locator("#duty")).to_contain_text("深圳河溺水")

        # ... and the board, in the other context, shows the role filled and the answer in the timeline
        expect(item).to_contain_text("1/1")
        item.locator("button").click()
        expect(board.locator("#panel-timeline")).to_contain_text("志愿者回复")
        expect(board.locator("#panel-needs")).to_contain_text("救生员 1/1")
        assert Assignment.objects.filter(incident=incident, volunteer=responder).exists()

        # the responder sets off: the board hears that too, and sees where they are (they consented)
        phone.get_by_role("button", name="我已出发").tap()
        expect(phone.locator("#duty")).to_contain_text("出发中")
        expect(board.locator("#panel-timeline")).to_contain_text("出发中")
        expect(board.locator(f"#map circle.responder[data-volunteer='{responder.pk}']")).to_have_count(1)
        assert errors == []
    finally:
        phone_context.close()
        board_context.close()
