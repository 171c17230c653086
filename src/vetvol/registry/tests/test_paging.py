"""`page_of`: a page of rows, whether there is a next one, and a count capped instead of an exact COUNT."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vetvol.registry.models import Volunteer
from vetvol.registry.queries import TalentFilter, page_of, talent_search

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(make_volunteer):
    return [make_volunteer(n) for n in range(1, 6)]


def test_first_page_says_there_is_more_without_counting(people, five):
    with CaptureQueriesContext(connection) as queries:
        page = page_of(Volunteer.objects.order_by("number"), 1, 2)
    assert (len(page.rows), page.has_next, page.count, page.count_capped) == (2, True, 2, True)
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)


def test_first_page_with_more_to_come_counts_up_to_the_cap(people, five):
    page = page_of(Volunteer.objects.order_by("number"), 1, 2, cap=3)
    assert [v.number for v in page.rows] == sorted(v.number for v in five)[:2]
    assert (page.has_next, page.has_previous, page.count, page.count_capped) == (True, False, 3, True)
    page = page_of(Volunteer.objects.order_by("number"), 1, 2, cap=10)
    assert (page.count, page.count_capped) == (5, False)


def test_last_page_knows_the_count_without_counting(people, five):
    qs = talent_search(people.province_admin, TalentFilter())
    with CaptureQueriesContext(connection) as queries:
        page = page_of(qs, 3, 2)
    assert [v.number for v in page.rows] == [max(v.number for v in five)]
    assert (page.has_next, page.has_previous, page.count, page.count_capped) == (False, True, 5, False)
    assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)


def test_page_past_the_end_is_empty_but_counted(people, five):
    page = page_of(Volunteer.objects.order_by("number"), 9, 2)
    assert (page.rows, page.has_next, page.count, page.count_capped) == ([], False, 5, False)
