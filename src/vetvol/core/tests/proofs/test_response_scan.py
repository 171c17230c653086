"""The response scanner: over the demo province, a viewer without the unmask permission crawls every staff
page reachable from the navigation and the lists (bounded): no page shows a full ID number or mobile number,
and none fails (5xx)."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.db import transaction

from vetvol.core.tests.proofs import crawl

DEMO = ["--cities", "4403", "--quiet-logins", "--seed", "7"]
SIZE = ["--volunteers", "300", "--teams", "40", "--recipients", "40"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo province (Shenzhen only, small) inside a transaction rolled back after the module."""
    from vetvol.regions import loader

    with django_db_blocker.unblock(), transaction.atomic():
        loader.load(max_level="township")
        call_command("seed_demo", *DEMO, *SIZE, stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def scan(client, start: list[str], max_pages: int) -> tuple[crawl.Crawl, list[str]]:
    problems: list[str] = []

    def check(path: str, response) -> None:
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
        if not response.get("Content-Type", "").startswith(("text/", "application/json")):
            return
        body = response.content.decode("utf-8", errors="replace")
        for pattern, what in ((crawl.FULL_ID, "ID number"), (crawl.FULL_MOBILE, "mobile number")):
            for hit in pattern.findall(body):
                problems.append(f"{path}: full {what} {hit}")

    return crawl.crawl(client, start, check, max_pages=max_pages), problems


@pytest.mark.parametrize(("username", "max_pages"), [("gd_auditor", 400), ("nanyuan_staff", 200)])
def test_viewer_without_unmask_sees_no_full_identifier_on_any_page(demo, db, client, username, max_pages):
    from vetvol.accounts.models import User
    from vetvol.core.scoping import Action
    from vetvol.registry.models import Volunteer

    user = User.objects.get(username=username)
    assert not Volunteer.objects.restrict(user, Action.UNMASK).exists()  # the viewer may not unmask
    assert Volunteer.objects.restrict(user, Action.VIEW_PEOPLE).count() >= 1  # but does see people
    client.force_login(user)
    started = time.perf_counter()
    result, problems = scan(client, ["/"], max_pages)
    elapsed = time.perf_counter() - started
    assert problems == []
    assert result.html_pages >= 40, sorted(result.visited)
    assert elapsed < 60, f"{len(result.visited)} pages in {elapsed:.0f} s"
