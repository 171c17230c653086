"""The shared 404 page stands alone (no cookie, no CSRF token, no script) so public pages can answer it, and
staff pages ask not to be indexed."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/public/teams/999999/", "/public/regions/99/", "/no-such-page/"])
def test_404_page_sets_no_cookie_and_carries_no_form(client, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert not response.cookies, list(response.cookies)
    assert "csrfmiddlewaretoken" not in html and 'name="csrf-token"' not in html and "<form" not in html
    assert "<script" not in html and "style=" not in html
    assert '<meta name="robots" content="noindex">' in html
    assert "<h1>404</h1>" in html and "未找到该页面，或您无权查看。" in html
    assert 'href="/public/"' in html and "/static/css/vetvol.css" in html


def test_404_for_a_logged_in_user_shows_nothing_about_them(client, people):
    client.force_login(people.futian_admin)
    response = client.get("/activities/certificates/ZM209999999999.pdf")
    assert response.status_code == 404
    assert "futian_admin" not in response.content.decode()


def test_staff_pages_send_noindex(client, people):
    assert '<meta name="robots" content="noindex">' in client.get("/accounts/login/").content.decode()
    client.force_login(people.futian_admin)
    for url in ("/", "/activities/", "/registry/volunteers/", "/activities/stars/"):
        html = client.get(url).content.decode()
        assert '<meta name="robots" content="noindex">' in html, url
    assert 'content="noindex"' not in client.get("/public/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/public/certificates/ZM2026%00/?s=abcdefgh",
        "/public/certificates/%00/",
        "/public/certificates/zm202600000001/?s=abcdefgh",
        "/activities/certificates/ZM2026%00.pdf",
    ],
)
def test_malformed_certificate_numbers_are_404_never_looked_up(client, people, url):
    client.force_login(people.futian_admin)
    assert client.get(url).status_code == 404
