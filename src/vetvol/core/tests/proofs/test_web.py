"""Web hardening: a Content-Security-Policy and the security headers on every page (every GET route without
arguments from the URL resolver, and every page a crawl reaches), HSTS and cookie flags under production
settings (VETVOL_ENV=production, as a deployment sets it), and stored XSS: a script payload in every free-text
field that takes it, rendered escaped on the staff pages and the public ones."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from vetvol.core.middleware import CSP, DOCS_CSP
from vetvol.core.tests.proofs import crawl, world

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
# The payload's dangerous parts, any of which appearing as markup would be stored XSS.
UNESCAPED = ("<script>alert(1)", "<img src=x", "onerror=1>", "\"'><")


def routes(patterns=None, prefix: str = "") -> list[str]:
    """Every URL of the resolver that takes no arguments."""
    out: list[str] = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        text = str(p.pattern)
        if "<" in text or text.startswith("^"):
            continue
        if isinstance(p, URLResolver):
            out += routes(p.url_patterns, prefix + text)
        elif isinstance(p, URLPattern):
            out.append("/" + prefix + text)
    return sorted(set(out))


def header_problems(path: str, response) -> list[str]:
    problems = []
    expected = DOCS_CSP if path.startswith("/api/docs") else CSP
    if response.get("Content-Security-Policy") != expected:
        problems.append(f"{path}: CSP {response.get('Content-Security-Policy')!r}")
    for name, value in HEADERS.items():
        if response.get(name) != value:
            problems.append(f"{path}: {name} {response.get(name)!r}")
    if response.status_code >= 500:
        problems.append(f"{path}: {response.status_code}")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "province_admin", "volunteer"])
def test_every_route_sends_csp_and_security_headers(client, people, who):
    if who != "anonymous":
        client.force_login(getattr(people, who))
    paths = [p for p in routes() if not p.startswith("/accounts/logout")]
    assert len(paths) >= 60
    assert {"/", "/public/", "/api/docs", "/registry/volunteers/", "/fund/"} <= set(paths)
    problems = []
    for path in paths:
        problems += header_problems(path, client.get(path))
    assert problems == []


# -- production settings ------------------------------------------------------------------------------------

PRODUCTION_NAMES = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
]
PRINT = (
    "import json, django; django.setup(); from django.conf import settings; "
    f"print(json.dumps({{n: getattr(settings, n) for n in {PRODUCTION_NAMES!r}}}))"
)


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory):
    """The settings a deployment gets from the environment, read in a fresh process."""
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, base64
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VETVOL_", "SECURE_", "SESSION_", "DATABASE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="vetvol.settings",
        VETVOL_ENV="production",
        VETVOL_VAR_DIR=str(tmp_path_factory.mktemp("prod")),
        SECRET_KEY="proof-" + "x" * 50,
        VETVOL_DATA_KEY=key,
        VETVOL_LOOKUP_KEY="proof-lookup-key",
        VETVOL_SIGNING_KEY=key,
        ALLOWED_HOSTS="vetvol.example.gov.cn",
    )
    result = subprocess.run(
        [sys.executable, "-c", PRINT], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_settings_turn_on_https_only_cookies_and_hsts(production_settings):
    s = production_settings
    assert s["DEBUG"] is False
    assert (s["SESSION_COOKIE_SECURE"], s["SESSION_COOKIE_HTTPONLY"], s["SESSION_COOKIE_SAMESITE"]) == (
        True,
        True,
        "Lax",
    )
    assert (s["CSRF_COOKIE_SECURE"], s["CSRF_COOKIE_HTTPONLY"], s["CSRF_COOKIE_SAMESITE"]) == (
        True,
        True,
        "Lax",
    )
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31536000 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True


def test_under_production_settings_login_sets_flagged_cookies_and_hsts(client, people, production_settings):
    with override_settings(**{k: v for k, v in production_settings.items() if k != "DEBUG"}):
        assert client.get("/accounts/login/").status_code == 301  # plain HTTP goes to HTTPS
        page = client.get("/accounts/login/", secure=True)
        assert page.status_code == 200
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert header_problems("/accounts/login/", page) == []
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
        response = client.post(
            "/accounts/login/",
            {"username": "station_staff", "password": "Test-pass-2026!", "csrfmiddlewaretoken": token},
            secure=True,
        )
        assert response.status_code == 302
        session, csrf = response.cookies["sessionid"], response.cookies["csrftoken"]
        for morsel in (session, csrf):
            assert (morsel["secure"], morsel["httponly"], morsel["samesite"]) == (True, True, "Lax"), morsel
        assert client.get("/", secure=True).status_code == 200  # the secure session works


# -- stored XSS --------------------------------------------------------------------------------------------


def test_script_payload_in_every_free_text_field_is_rendered_escaped(client, people):
    w = world.build(people, text=world.PAYLOAD)
    problems: list[str] = []
    escaped_seen: list[str] = []

    def check(path: str, response) -> None:
        problems.extend(header_problems(path, response))
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        body = response.content.decode()
        problems.extend(f"{path}: unescaped {part!r}" for part in UNESCAPED if part in body)
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in body:
            escaped_seen.append(path)

    o = w.objects
    staff_start = [
        "/",
        f"/registry/teams/{o['team'].pk}/",
        f"/activities/{o['activity'].pk}/",
        f"/care/recipients/{o['recipient'].pk}/",
        f"/care/cases/{o['case'].pk}/",
        f"/fund/donors/{o['donor'].pk}/",
        f"/fund/donations/{o['donation'].pk}/",
        f"/dispatch/incidents/{o['incident'].pk}/",
        *(f"/registry/volunteers/{v.pk}/" for v in w.volunteers),
    ]
    client.force_login(people.province_admin)
    staff = crawl.crawl(client, staff_start, check, max_pages=250)
    client.logout()
    public = crawl.crawl(client, ["/public/", f"/public/teams/{o['team'].pk}/", "/public/recruiting/"], check)
    assert problems == []
    assert staff.html_pages >= 40 and public.html_pages >= 3
    # the payload was seen, escaped, on the pages of each kind of object that carries it
    for needle in (
        "/registry/teams/",
        "/activities/",
        "/care/cases/",
        "/fund/donors/",
        "/dispatch/incidents/",
    ):
        assert any(p.startswith(needle) for p in escaped_seen), (needle, escaped_seen)
    assert any(p.startswith("/public/") for p in escaped_seen), escaped_seen
