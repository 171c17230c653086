"""Languages: Simplified Chinese by default, English from the catalogue, and a catalogue that is complete.

The source texts (msgids) are Chinese; locale/en/LC_MESSAGES/django.po translates them and the compiled
django.mo is committed beside it, so the checks below also catch a .mo left behind after editing the .po.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
CJK_RUN = re.compile(CJK.pattern + "+")
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgstr: str = ""
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        """The key gettext.GNUTranslations uses: context and id joined by EOT."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader (msgctxt, msgid, msgstr, flags, continuation lines); no plural forms are used."""
    entries: list[Entry] = []
    current = Entry()
    last: str | None = None

    def flush() -> None:
        nonlocal current, last
        if last is not None:
            entries.append(current)
        current, last = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert last is not None, f"{path.name}:{number}: continuation without a keyword"
            setattr(current, last, (getattr(current, last) or "") + _unquote(line))
        else:
            keyword, _, rest = line.partition(" ")
            assert keyword in {"msgctxt", "msgid", "msgstr"}, f"{path.name}:{number}: unexpected {keyword!r}"
            if keyword == "msgid":
                current.line = number
            setattr(current, keyword, _unquote(rest))
            last = keyword
    flush()
    return entries


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    """LocaleMiddleware activates the request's language and leaves it active in the thread; tests that run
    later and call actions directly (outside a request) must not inherit English from these."""
    previous = translation.get_language()
    yield
    if previous:
        translation.activate(previous)
    else:
        translation.deactivate()


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(CATALOGUE / "django.po")


def _h1(html: str) -> str:
    match = H1.search(html)
    assert match, "page has no <h1>"
    return match.group(1).strip()


def test_login_page_is_chinese_by_default(client, db):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert _h1(html) == "登录"
    assert '<html lang="zh-Hans">' in html
    assert "用户名" in html and "Username" not in html
    # No cookie and no Accept-Language at all: LANGUAGE_CODE applies.
    assert _h1(client.get("/accounts/login/").content.decode()) == "登录"


def test_login_page_is_english_with_the_language_cookie(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    html = response.content.decode()
    assert _h1(html) == "Log in"
    assert "登录" not in html
    assert '<html lang="en">' in html and response.headers["Content-Language"] == "en"
    assert "Veterans&#x27;" in html or "Veterans'" in html  # the site name, from settings
    # Every text of the page is translated; the only Chinese left is the switcher's own name for Chinese.
    leftover = CJK.findall(html.replace(">简体中文<", "><"))
    assert leftover == [], "".join(leftover)


def test_language_switcher_sets_the_cookie_and_returns_to_the_page(client, db):
    html = client.get("/accounts/login/?next=/regions/").content.decode()
    footer = html[html.index("<footer") :]
    assert 'action="/i18n/setlang/"' in footer and 'method="post"' in footer
    assert 'name="next" value="/accounts/login/?next=/regions/"' in footer
    assert 'name="language" value="en"' in footer and 'name="language" value="zh-hans"' in footer
    assert "<script" not in footer  # the strict CSP allows no inline script: a plain form does it

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/?next=/regions/"})
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/regions/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert _h1(client.get(response.url).content.decode()) == "Log in"

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert _h1(client.get("/accounts/login/").content.decode()) == "登录"


def test_error_messages_follow_the_language(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 400
    assert "Incorrect username or password." in response.content.decode()
    body = client.get("/api/regions/").json()
    assert body["detail"] == "Log in or provide a valid API token"


def test_model_labels_are_translated_and_stored_names_are_not(regions, root):
    from vetvol.accounts.roles import Role
    from vetvol.regions import actions
    from vetvol.regions.models import Region, ServiceCentreKind

    with translation.override("en"):
        assert str(Role.PROVINCE_ADMIN.label) == "Province administrator"
        assert str(ServiceCentreKind.CENTRE.label) == "Veterans Service Centre"
        centre = actions.create_service_centre(root, Region.objects.get(code="440304"))
    with translation.override("zh-hans"):
        assert str(Role.PROVINCE_ADMIN.label) == "省级管理员"
    assert centre.name == "福田区退役军人服务中心"  # data, not interface: Chinese whatever the language


def test_catalogue_is_complete(po_entries):
    header, *entries = po_entries
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Language: en\n" in header.msgstr and "charset=UTF-8" in header.msgstr
    assert entries, "the English catalogue is empty"
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)), "duplicate entries"
    assert [f"line {e.line}: {e.msgid}" for e in entries if "fuzzy" in e.flags] == []
    assert [f"line {e.line}: {e.msgid}" for e in entries if not e.msgstr.strip()] == []
    placeholder = re.compile(r"%\(\w+\)[sd]")
    mismatched = [
        e.msgid
        for e in entries
        if sorted(placeholder.findall(e.msgid)) != sorted(placeholder.findall(e.msgstr))
    ]
    assert mismatched == []


def test_compiled_catalogue_matches_the_po(po_entries):
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    compiled = {key: value for key, value in compiled.items() if key != ""}
    expected = {e.key: e.msgstr for e in po_entries if e.msgid}
    assert set(compiled) == set(expected), "django.mo is out of date: run `make messages`"
    assert compiled == expected, "django.mo is out of date: run `make messages`"


def test_browser_preferring_english_still_gets_chinese_unless_chosen(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def _leftover(html: str, data: set[str]) -> list[str]:
    """The Chinese runs of a page that are not part of stored data or of a (Chinese-only) model choice."""
    return sorted({run for run in CJK_RUN.findall(html) if not any(run in text for text in data)})


def test_volunteer_and_activity_lists_are_english_for_staff(client, people, make_volunteer):
    from datetime import timedelta

    from django.utils import timezone

    from vetvol.activities import actions
    from vetvol.activities.models import ProjectStatus, ServiceDomain
    from vetvol.regions import actions as region_actions
    from vetvol.regions.models import Region
    from vetvol.registry.models import CertificateType, Gender, Skill, VolunteerStatus

    volunteer = make_volunteer(1)
    futian = Region.objects.get(code="440304")
    project = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_centre=region_actions.create_service_centre(people.root, futian),
        name="春运志愿服务",
        domain="spring_travel",
        description="福田站春运旅客引导",
        risk_statement="人流密集，注意踩踏风险",
    )
    start = timezone.now() + timedelta(days=1)
    actions.create_activity(
        people.futian_admin,
        project,
        title="福田站旅客引导",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        place_name="福田站",
        capacity=5,
        signup_opens_at=start - timedelta(days=2),
        signup_closes_at=start,
    )
    data = {
        "简体中文",  # the language switcher names Chinese in Chinese
        volunteer.name,
        volunteer.home_region.name,
        project.name,
        "福田站旅客引导",
        *Skill.objects.values_list("name", flat=True),
        *CertificateType.objects.values_list("name", flat=True),
        *VolunteerStatus.labels,
        *Gender.labels,
        *ServiceDomain.labels,
        *ProjectStatus.labels,
    }
    client.force_login(people.futian_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/registry/volunteers/").content.decode()
    assert _h1(html) == "Volunteers and talent pool"
    assert "Name or number" in html and "Year of birth" in html and "Register volunteer" in html
    assert "Page 1 · 1 in total" in html and volunteer.number in html
    assert _leftover(html, data) == []

    html = client.get("/activities/").content.decode()
    assert _h1(html) == "Volunteer activities"
    assert "Recruiting now" in html and "Projects I manage" in html and "0/5 places filled" in html
    assert f"{timezone.localtime(start):%d %b %H:%M}".lstrip("0") in html  # English day and month, not 月日
    assert _leftover(html, data) == []
    # ... and the check does catch Chinese interface text.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "正在招募" in _leftover(client.get("/activities/").content.decode(), data)
