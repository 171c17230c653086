"""The organiser scans volunteers' e-cards with the camera, in real Chromium.

Chromium's fake camera plays a YUV4MPEG2 file made here from the QR of a volunteer's e-card (as their phone
shows it): the organiser presses 用摄像头扫码, the page reads the code (jsQR: desktop Chromium on Linux has no
BarcodeDetector), sends the form and comes back with the camera open again for the next volunteer. Without
camera permission the page says why and the text field (handheld scanner, paste) still checks people in.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import segno
from conftest import PASSWORD, volunteer_raw
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import _CALL_REPORT, CHROMIUM, CHROMIUM_ARGS, VIEWPORT, login

pytestmark = pytest.mark.browser

FUTIAN = "440304"
STATION = "440304001"
FRAME_SIZE = (640, 480)


def write_y4m(path: Path, text: str, frames: int = 5) -> Path:
    """A short 640×480 video (4:2:0, 10 frames a second) of `text` as a QR code on white, which
    --use-file-for-fake-video-capture plays in a loop."""
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=1, border=4)
    qr = Image.open(io.BytesIO(png.getvalue())).convert("L")
    side = 400
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    width, height = FRAME_SIZE
    frame = Image.new("RGB", FRAME_SIZE, "white")
    frame.paste(qr.convert("RGB"), ((width - side) // 2, (height - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + planes)
    return path


@pytest.fixture
def camera_page(
    browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., tuple[Page, list]]]:
    """open(*flags, permissions=[...]): a page in a Chromium of its own, launched with extra command-line flags
    (the fake camera's), and the list of its console errors and uncaught exceptions. A failed test leaves a
    screenshot in test-results/."""
    launched = []

    def open_(*flags: str, permissions: list[str]) -> tuple[Page, list[str]]:
        chromium = browser.browser_type.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *flags]
        )
        launched.append(chromium)
        context = chromium.new_context(viewport=VIEWPORT, locale="zh-CN", permissions=permissions)
        context.set_default_timeout(15_000)
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda m: errors.append(f"{m.text} [{m.location.get('url', '')}]") if m.type == "error" else None,
        )
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        return page, errors

    yield open_
    report = request.node.stash.get(_CALL_REPORT, None)
    for chromium in launched:
        if report is not None and report.failed:
            results = request.config.rootpath / "test-results"
            results.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            with contextlib.suppress(PlaywrightError):
                for context in chromium.contexts:
                    for page in context.pages:
                        page.screenshot(path=str(results / f"{name}.png"), full_page=True)
        chromium.close()


@pytest.fixture
def activity(people):
    """An activity at 福田站 under way (it started an hour ago), in a project 福田区's admin runs."""
    from vetvol.activities import actions
    from vetvol.regions import actions as region_actions
    from vetvol.regions.models import Region

    futian = Region.objects.get(code=FUTIAN)
    project = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_centre=region_actions.create_service_centre(people.root, futian),
        name="春运志愿服务",
        domain="spring_travel",
        description="福田站春运旅客引导",
        risk_statement="人流密集，注意踩踏风险",
    )
    now = timezone.now()
    return actions.create_activity(
        people.futian_admin,
        project,
        title="福田站旅客引导",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=3),
        place_name="福田站",
        lat=22.5366,
        lng=114.0507,
        geofence_m=300,
        capacity=20,
        signup_opens_at=now - timedelta(days=1),
        signup_closes_at=now + timedelta(hours=2),
    )


@pytest.fixture
def volunteer(people, activity):
    """A volunteer registered on their phone, verified by the station, with a confirmed sign-up."""
    from vetvol.activities import actions
    from vetvol.registry import actions as registry_actions

    volunteer = registry_actions.self_register(volunteer_raw(7, STATION), password=PASSWORD)
    registry_actions.change_status(people.root, volunteer, "active")
    assert actions.sign_up(volunteer.user, activity, volunteer).status == "confirmed"
    return volunteer


def test_organiser_scans_a_queue_with_the_camera(
    server: str, camera_page, activity, volunteer, tmp_path: Path
):
    from vetvol.activities.actions.attendance import ecard_token
    from vetvol.activities.models import Attendance

    video = write_y4m(tmp_path / "ecard.y4m", ecard_token(volunteer))
    page, errors = camera_page(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        permissions=["camera"],
    )
    login(page, server, "futian_admin", PASSWORD)
    page.goto(f"{server}/activities/{activity.pk}/")
    view = page.locator("[data-scan-view]")
    expect(view).to_be_hidden()
    page.get_by_role("button", name="用摄像头扫码").click()

    expect(page.locator(".messages")).to_contain_text(f"{volunteer.name} 签到成功")
    attendance = Attendance.objects.get(activity=activity, volunteer=volunteer)
    assert attendance.in_method == "organiser_scan"

    # Back on the page the camera is open again, for the next volunteer in the queue; the card just read,
    # still in front of the camera, is not sent a second time.
    expect(view).to_be_visible()
    expect(page.locator("[data-scan-status]")).to_have_text("这张电子证刚刚扫过，请扫下一位")
    assert Attendance.objects.filter(activity=activity).count() == 1

    page.get_by_role("button", name="停止").click()
    expect(view).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('vetvol.ecardScan')") is None
    page.reload()
    expect(page.get_by_role("button", name="用摄像头扫码")).to_be_enabled()
    expect(view).to_be_hidden()
    assert errors == []


def test_camera_refused_leaves_the_field_working(
    server: str, camera_page, activity, volunteer, tmp_path: Path
):
    from vetvol.activities.actions.attendance import ecard_token
    from vetvol.activities.models import Attendance

    # A camera is there, but the browser refuses the page permission to use it (as when the organiser
    # answers 不允许).
    video = write_y4m(tmp_path / "ecard.y4m", ecard_token(volunteer))
    page, errors = camera_page(
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        "--deny-permission-prompts",
        permissions=[],
    )
    login(page, server, "futian_admin", PASSWORD)
    page.goto(f"{server}/activities/{activity.pk}/")
    page.get_by_role("button", name="用摄像头扫码").click()

    problem = page.locator("[data-scan-error]")
    expect(problem).to_be_visible()
    expect(problem).to_have_text(
        "无法打开摄像头：没有得到使用摄像头的许可。请允许使用摄像头，或使用扫码枪/粘贴。"
    )
    expect(page.locator("[data-scan-view]")).to_be_hidden()
    expect(page.get_by_role("button", name="用摄像头扫码")).to_be_enabled()

    # The handheld scanner (or a paste) still works.
    page.fill("#ecard", ecard_token(volunteer))
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"{volunteer.name} 签到成功")
    assert Attendance.objects.get(activity=activity, volunteer=volunteer).in_method == "organiser_scan"
    # A refused camera is not tried again by itself on the page that comes back.
    expect(problem).to_be_hidden()
    expect(page.locator("[data-scan-view]")).to_be_hidden()
    assert errors == []
