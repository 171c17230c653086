"""Browser tests: the system Chromium driven by Playwright against pytest-django's live server.

Fixtures:
- `browser`: one headless Chromium for the session.
- `server`: the ASGI server's base URL (transactional database: what the test writes, the server sees).
- `page`: a fresh context (1280×800, zh-CN) and page per test; a failed test leaves a screenshot in
  test-results/.
- `console_errors`: the page's console errors and uncaught exceptions (CSP violations show up here).

The append-only triggers around the live server's closing flush are handled by the root conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium's connections get refused in this sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ENROL_PATH = "/accounts/login/enrol/"
SECOND_FACTOR_PATH = "/accounts/login/second-factor/"

_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Keep the outcome of the test body, for the screenshot on failure."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


# --- browser, server, page ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(django_db_setup: None, django_db_blocker) -> Iterator[Browser]:
    """Chromium for the session; started after the test database is created, stopped before it is dropped.

    Playwright's sync API keeps an asyncio loop running in this thread for as long as it lives. Django's ORM
    refuses to run where a loop is running, hence DJANGO_ALLOW_ASYNC_UNSAFE; and meanwhile Django (through
    asgiref) keeps this thread's database connections in a separate, context-local store. The connections
    opened there are closed before Playwright stops: once it has, nothing can reach them any more, and
    PostgreSQL would refuse to drop the test database ("being accessed by other users").
    """
    from django.db import connections

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            with django_db_blocker.unblock():
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def server(asgi_server: str) -> str:
    """Base URL of the ASGI server (pages and websockets, as in production), e.g. http://127.0.0.1:41234
    (no trailing slash). Every page's bell connects to its websocket, so a WSGI-only server would not do."""
    return asgi_server


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is not None and report.failed:
        results = Path(request.config.rootpath) / "test-results"
        results.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        with contextlib.suppress(PlaywrightError):  # a crashed page must not hide the test's own failure
            new_page.screenshot(path=str(results / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console messages of type error and uncaught exceptions, as they happen on `page`."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(f"{message.text} [{message.location.get('url', '')}]")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


# --- helpers --------------------------------------------------------------------------------------------


def submit_with_enter(page: Page, selector: str) -> None:
    """Press Enter in a form field and wait for the page that answers the form."""
    with page.expect_navigation():
        page.press(selector, "Enter")


def _fresh_code(username: str) -> str:
    """The current TOTP code, or the next step's if the current one was already used (a second login
    within 30 s): the server refuses a replayed step but accepts one step of clock drift ahead."""
    from vetvol.accounts.models import User

    user = User.objects.get(username=username)
    totp = pyotp.TOTP(user.totp_secret)
    step = max(totp.timecode(datetime.now(tz=UTC)), user.totp_last_step + 1)
    return totp.generate_otp(step)


def login(page: Page, server_url: str, username: str, password: str) -> None:
    """Log in through the real pages: password, then the TOTP enrolment or second-factor step if asked."""
    page.goto(f"{server_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    submit_with_enter(page, "#id_password")
    path = urlparse(page.url).path
    if path == ENROL_PATH:
        page.fill("#id_code", pyotp.TOTP(page.locator("code.secret").inner_text().strip()).now())
        submit_with_enter(page, "#id_code")
    elif path == SECOND_FACTOR_PATH:
        page.fill("#id_code", _fresh_code(username))
        submit_with_enter(page, "#id_code")
    if urlparse(page.url).path.startswith("/accounts/login"):
        error = page.locator("main [role=alert], main .field-error")
        detail = error.first.inner_text() if error.count() else "no error shown"
        raise AssertionError(f"login of {username!r} did not complete: {page.url} ({detail})")
    expect(page.locator("form[action='/accounts/logout/']")).to_be_attached()
