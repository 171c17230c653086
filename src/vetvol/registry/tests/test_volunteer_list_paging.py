"""The staff volunteer list pages with `page_of`: no COUNT over the pool, filters kept across pages, and any
page number answered without an error."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vetvol.registry.views import volunteers as views

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven(make_volunteer, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    return sorted(make_volunteer(200 + i).number for i in range(7))


def numbers_on(html, numbers):
    return [n for n in numbers if f">{n}</a>" in html]


def test_pages_follow_each_other_without_counting(client, people, seven):
    client.force_login(people.futian_admin)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/registry/volunteers/", {"status": "active"}).content.decode()
    # the list never counts its rows (the bell's unread count is the only COUNT on the page)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert all("notify_notification" in sql for sql in counts)
    assert numbers_on(first, seven) == seven[:3]
    assert 'href="?status=active&amp;page=2"' in first and "上一页" not in first
    second = client.get("/registry/volunteers/", {"status": "active", "page": "2"}).content.decode()
    assert numbers_on(second, seven) == seven[3:6]
    assert 'href="?status=active&amp;page=1"' in second and 'href="?status=active&amp;page=3"' in second
    last = client.get("/registry/volunteers/", {"status": "active", "page": "3"}).content.decode()
    assert numbers_on(last, seven) == seven[6:]
    assert "下一页" not in last and "共 7 名" in last


@pytest.mark.parametrize("page", ["0", "-2", "abc", "²", "٣", "9" * 40, "1e3", "99999999"])
def test_any_page_number_gets_a_page(client, people, seven, page):
    client.force_login(people.futian_admin)
    response = client.get("/registry/volunteers/", {"page": page})
    assert response.status_code == 200
