"""Public disclosure of model volunteers (先进典型) and projects (项目公开): only what was approved and
consented, names as their owners agreed, nothing else personal, hostile text escaped, cacheable with the
portal's CSP, and a fixed number of queries whatever the data."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.actions.attendance import ecard_token
from vetvol.activities.models import CheckMethod, Project
from vetvol.core.middleware import CSP
from vetvol.regions import actions as region_actions
from vetvol.regions.models import Region
from vetvol.registry import actions as registry_actions

TODAY = timezone.localdate()
HOSTILE = '<script>alert(1)</script><a href="http://spam.example">博彩</a>\n抢险救灾'
EXEMPLAR_QUERIES = 5  # years for the filter, count, page rows, counted hours, place names
PROJECT_QUERIES = 6  # count, page rows (+ team, centre), held, check-ins, counted hours, place names


def _hours(people, volunteer, minutes, activity=None, approve=True):
    record = actions.enter_hours(
        people.futian_admin,
        volunteer,
        region=Region.objects.get(code="440304"),
        day=TODAY - timedelta(days=1),
        minutes=minutes,
        content="社区服务",
        reason="补录",
        activity=activity,
    )
    if approve:
        actions.approve_hours(people.province_admin, record)
    return record


def _exemplar(people, volunteer, *, citation, consent="full", approve=True, publicity=True, tier="county"):
    if publicity:
        registry_actions.set_consent(people.root, volunteer, "publicity", True)
    e = actions.nominate_exemplar(
        people.futian_admin,
        volunteer,
        tier=tier,
        category="rescue",
        year=TODAY.year,
        citation=citation,
        since=TODAY - timedelta(days=30),
        until=TODAY,
    )
    if consent:
        actions.set_exemplar_consent(people.futian_admin, e, granted=True, name_form=consent)
    if approve:
        actions.approve_exemplar(people.sz_admin, e)
    return e


@pytest.fixture
def data(people, make_volunteer):
    now = timezone.now()
    futian = Region.objects.get(code="440304")
    centre = region_actions.create_service_centre(people.root, futian)
    team = registry_actions.create_team(people.root, region=futian, name="红星福田区退役军人志愿服务队")
    shown = make_volunteer(1, name="李建国", address="福田区秘密路 8 号")
    masked = make_volunteer(2, name="王卫东")
    no_consent = make_volunteer(3, name="赵未同意")
    waiting = make_volunteer(4, name="钱待审核")
    withdrawn = make_volunteer(5, name="孙已撤回")
    private = make_volunteer(6, name="周不公开")
    tianhe = make_volunteer(7, region="440106001", name="吴天河")
    _hours(people, shown, 600)
    _hours(people, shown, 240, approve=False)  # pending: does not count
    e_shown = _exemplar(people, shown, citation=HOSTILE)
    e_masked = _exemplar(people, masked, citation="入户走访三百余次", consent="masked")
    _exemplar(people, no_consent, citation="未同意公开的事迹", consent="")
    _exemplar(people, waiting, citation="尚未审核的事迹", approve=False)
    e_withdrawn = _exemplar(people, withdrawn, citation="已撤回同意的事迹")
    actions.set_exemplar_consent(people.futian_admin, e_withdrawn, granted=False)
    _exemplar(people, private, citation="未同意公开姓名的事迹", publicity=False)
    registry_actions.set_consent(people.root, tianhe, "publicity", True)
    e_tianhe = actions.nominate_exemplar(
        people.tianhe_admin,
        tianhe,
        tier="city",
        category="care",
        year=TODAY.year,
        citation="天河区关爱帮扶",
        since=TODAY - timedelta(days=30),
        until=TODAY,
    )
    actions.set_exemplar_consent(people.tianhe_admin, e_tianhe, granted=True, name_form="full")
    actions.approve_exemplar(people.province_admin, e_tianhe)

    project = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_team=team,
        name="深圳河巡河护河",
        domain="public_welfare",
        description=HOSTILE,
        risk_statement="临水作业注意防溺水",
    )

    def shift(title, starts, hours):
        return actions.create_activity(
            people.futian_admin,
            project,
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            place_name="深圳河",
            lat=22.53,
            lng=114.05,
            capacity=10,
            signup_opens_at=starts - timedelta(days=2),
            signup_closes_at=starts + timedelta(hours=hours),
        )

    held = shift("上周巡河", now - timedelta(days=7), 3)
    under_way = shift("今天巡河", now - timedelta(hours=2), 4)
    actions.sign_up(people.futian_admin, under_way, masked)
    attendance = actions.check_in(
        people.futian_admin,
        under_way,
        method=CheckMethod.ORGANISER_SCAN,
        ecard=ecard_token(masked),
        at=now - timedelta(hours=2),
    )
    actions.check_out(people.futian_admin, attendance, method=CheckMethod.ORGANISER_SCAN, at=now)
    _hours(people, shown, 180, activity=held)
    _hours(people, no_consent, 60, activity=held, approve=False)  # pending: not counted
    centre_project = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_centre=centre,
        name="福田区节日走访",
        domain="holiday_visit",
        description="走访慰问",
        risk_statement="注意交通安全",
    )
    draft = actions.create_project(
        people.futian_admin,
        region=futian,
        owner_centre=centre,
        name="草稿项目不公开",
        domain="other",
        description="草稿",
        risk_statement="无",
    )
    Project.objects.filter(pk=draft.pk).update(status="draft")  # no action makes drafts yet
    tianhe_centre = region_actions.create_service_centre(people.root, Region.objects.get(code="440106"))
    actions.create_project(
        people.tianhe_admin,
        region=Region.objects.get(code="440106"),
        owner_centre=tianhe_centre,
        name="天河区春运服务",
        domain="spring_travel",
        description="广州东站",
        risk_statement="人流密集",
    )
    people_list = [shown, masked, no_consent, waiting, withdrawn, private, tianhe]
    return SimpleNamespace(
        shown=shown,
        masked=masked,
        e_shown=e_shown,
        e_masked=e_masked,
        people=people_list,
        project=project,
        centre_project=centre_project,
        team=team,
    )


URLS = [
    "/public/exemplars/",
    "/public/projects/",
    "/public/exemplars/?region=440304",
    "/public/projects/?region=4403",
]


def test_pages_open_without_login_with_csp_cache_and_no_script(client, data):
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == CSP, url
        assert {p.strip() for p in response.headers["Cache-Control"].split(",")} == {"public", "max-age=300"}
        assert "Cookie" in response.headers["Vary"] and not response.cookies, url
        html = response.content.decode()
        assert "<script" not in html and "style=" not in html and "csrfmiddlewaretoken" not in html, url
    assert client.post("/public/exemplars/").status_code == 405


def test_only_approved_and_consented_exemplars_with_names_as_agreed(client, data):
    html = client.get("/public/exemplars/").content.decode()
    assert "李建国" in html  # full name agreed
    assert "王*东" in html and "王卫东" not in html  # surname only
    assert "吴天河" in html and "天河区关爱帮扶" in html
    for hidden in (
        "赵未同意",
        "钱待审核",
        "孙已撤回",
        "周不公开",
        "未同意公开的事迹",
        "尚未审核的事迹",
        "已撤回同意的事迹",
        "未同意公开姓名的事迹",
    ):
        assert hidden not in html, hidden
    assert "深圳市 福田区" in html and "区县级应急救援先锋" in html
    # Hours: the counted ones only (10 h entered and approved, 3 h on the project; 4 h pending left out).
    assert "累计志愿服务时长 13 小时" in html
    local = client.get("/public/exemplars/", {"region": "440304"}).content.decode()
    assert "李建国" in local and "吴天河" not in local
    assert "吴天河" in client.get("/public/exemplars/", {"region": "4401"}).content.decode()


def test_withdrawing_consent_unpublishes_at_once(client, data, people):
    assert "李建国" in client.get("/public/exemplars/").content.decode()
    actions.set_exemplar_consent(people.futian_admin, data.e_shown, granted=False)
    assert "李建国" not in client.get("/public/exemplars/").content.decode()
    actions.set_exemplar_consent(people.futian_admin, data.e_shown, granted=True, name_form="masked")
    html = client.get("/public/exemplars/").content.decode()
    assert "李*国" in html and "李建国" not in html
    registry_actions.set_consent(people.root, data.shown, "publicity", False)  # the general consent too
    assert "李*国" not in client.get("/public/exemplars/").content.decode()


def test_hostile_text_is_escaped_plain_text(client, data):
    for url in ("/public/exemplars/", "/public/projects/"):
        html = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<script>" not in html and '<a href="http://spam.example"' not in html, url
        assert "&lt;/a&gt;<br>抢险救灾" in html, url  # line breaks kept, after escaping


def test_no_personal_data_on_either_page(client, data):
    secrets = []
    for v in data.people:
        v.refresh_from_db()
        secrets += [v.id_number, v.phone, v.number, v.id_number[-6:], v.address or "福田区秘密路"]
    for url in URLS:
        html = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in html, (url, secret)


def test_projects_show_what_where_who_and_outcomes(client, data):
    response = client.get("/public/projects/")
    html = response.content.decode()
    assert "草稿项目不公开" not in html
    assert "天河区春运服务" in html and "福田区节日走访" in html
    rows = {p.name: p for p in response.context["page"].object_list}
    p = rows["深圳河巡河护河"]
    assert (p.domain, p.place, p.organiser) == ("公益服务", "深圳市 福田区", "红星福田区退役军人志愿服务队")
    # One shift held (the other is still under way), one check-in, two volunteers with counted hours
    # (the check-out's 2 h and 3 h entered), the pending hour left out.
    assert (p.activities_held, p.person_times, p.volunteers, p.hours) == (1, 1, 2, "5")
    assert f'href="/public/teams/{data.team.pk}/"' in html
    c = rows["福田区节日走访"]
    assert (c.organiser, c.activities_held, c.person_times, c.volunteers, c.hours) == (
        "福田区退役军人服务中心",
        0,
        0,
        0,
        "0",
    )
    local = client.get("/public/projects/", {"region": "440106"}).content.decode()
    assert "天河区春运服务" in local and "深圳河巡河护河" not in local


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/public/exemplars/?region=9999", 404, ""),
        ("/public/projects/?region=44", 404, ""),
        ("/public/projects/?region=%3Cb%3E", 404, ""),
        ("/public/exemplars/?year=1990", 400, "该年度没有公开的先进典型"),
        ("/public/exemplars/?year=%3Cb%3E", 400, "该年度没有公开的先进典型"),
        ("/public/projects/?page=abc", 400, "页码应为正整数"),
        ("/public/exemplars/?page=0", 400, "页码应为正整数"),
    ],
)
def test_bad_filters_are_refused_clearly(client, data, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html and "<b>" not in html


def test_region_pages_and_the_front_page_link_to_both(client, data):
    front = client.get("/public/").content.decode()
    assert 'href="/public/exemplars/"' in front and 'href="/public/projects/"' in front
    region = client.get("/public/regions/440304/").content.decode()
    assert 'href="/public/exemplars/?region=440304"' in region
    assert 'href="/public/projects/?region=440304"' in region


def _assert_pinned(client, django_assert_max_num_queries):
    for url, limit in [
        ("/public/exemplars/", EXEMPLAR_QUERIES),
        ("/public/exemplars/?region=4403", EXEMPLAR_QUERIES + 1),  # + the region
        ("/public/projects/", PROJECT_QUERIES),
        ("/public/projects/?region=4403", PROJECT_QUERIES + 1),
    ]:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_query_counts_are_pinned_whatever_the_data(
    client, data, people, make_volunteer, django_assert_max_num_queries
):
    _assert_pinned(client, django_assert_max_num_queries)
    for n in range(20, 32):
        v = make_volunteer(n)
        _hours(people, v, 60 + n, activity=data.project.activities.first())
        _exemplar(people, v, citation=f"第{n}位先进典型")
        actions.create_project(
            people.futian_admin,
            region=Region.objects.get(code="440304"),
            owner_team=data.team,
            name=f"新项目{n}",
            domain="other",
            description="说明",
            risk_statement="风险",
        )
    _assert_pinned(client, django_assert_max_num_queries)
    assert len(client.get("/public/exemplars/").context["page"].object_list) == 15
