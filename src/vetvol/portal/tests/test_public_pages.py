"""Public pages (信息公开): open to anyone, nothing personal but consenting names, escaped, cacheable, and a
fixed number of queries whatever the data."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from vetvol.core.idcard import generate_id_number
from vetvol.core.middleware import CSP
from vetvol.portal import queries
from vetvol.regions import actions as region_actions
from vetvol.regions.models import Region
from vetvol.registry.actions import (
    add_member,
    assign_liaison_point,
    change_status,
    create_team,
    register_volunteer,
    remove_member,
)

SPAM = '红星志愿者服务社区。\n<script>alert(1)</script><a href="http://spam.example">博彩</a>'

# Anonymous visitors cost no session or user query: these are the pages' own queries.
INDEX_QUERIES = 4  # regions, teams per city, volunteers per city, teams per brand
REGION_QUERIES = 8  # node, brands, ancestors, children, teams and volunteers per child, page count and rows
TEAM_QUERIES = 5  # team (+ region, parent, liaison point, centre), region path, sub-teams, count, names
BRAND_QUERIES = 4  # teams per city, cities, page count and rows


def _volunteer(root, name, seq, phone, home, *, consent=True, party=False):
    raw = {
        "name": name,
        "id_number": generate_id_number(home[:6], date(1968, 3, 1 + seq), seq, "M"),
        "phone": phone,
        "home_region": home,
        "is_party_member": party,
        "service_branch": "army",
    }
    return register_volunteer(root, raw, publicity_consent=consent)


@pytest.fixture
def data(regions, root):
    """Teams in Shenzhen, Guangzhou and Dongguan, and volunteers in every state."""
    tianhe_street = Region.objects.filter(parent_id="440106", level="township").order_by("code").first()
    dongguan_town = Region.objects.filter(parent_id="4419", level="township").order_by("code").first()
    corps = create_team(
        root,
        region=Region.objects.get(code="4403"),
        name="“红星”退役军人志愿服务总队",
        brand="红星",
        specialty="general",
        civil_status="registered",
        civil_number="51440300MJL123456X",
        civil_date=date(2019, 5, 4),
        founded_on=date(2018, 8, 1),
        description=SPAM,
    )
    futian = create_team(
        root,
        region=Region.objects.get(code="440304"),
        parent=corps,
        name="红星福田区退役军人志愿服务队",
        specialty="rescue",
        civil_status="filed",
        civil_number="FT-2020-001",
        civil_date=date(2020, 6, 1),
    )
    nanyuan = create_team(
        root, region=Region.objects.get(code="440304001"), parent=futian, name="红星南园街道分队"
    )
    squad = create_team(
        root,
        region=Region.objects.get(code="440304"),
        parent=futian,
        name="2010至2012年退役班",
        specialty="squad",
    )
    tianhe = create_team(
        root,
        region=Region.objects.get(code="440106"),
        name="红棉老兵天河区志愿服务队",
        brand="红棉老兵",
        specialty="lecturer",
    )
    dongguan = create_team(root, region=dongguan_town, name=f"{dongguan_town.name}退役军人志愿服务队")
    closed = create_team(
        root,
        region=Region.objects.get(code="440304"),
        name="已解散的红星测试队",
        brand="红星",
        is_active=False,
    )

    li = _volunteer(root, "李建国", 1, "13800138001", "440304001", party=True)
    wang = _volunteer(root, "王保密", 2, "13800138002", "440304001", consent=False, party=True)
    zhao = _volunteer(root, "赵暂停", 3, "13800138003", "440304001")
    qian = _volunteer(root, "钱退出", 4, "13800138004", "440304002")
    sun = _volunteer(root, "孙离队", 5, "13800138005", "440304002")
    zhou = _volunteer(root, "周天河", 6, "13800138006", tianhe_street.code)
    people = [li, wang, zhao, qian, sun, zhou]
    for v in (li, wang, zhao, qian, sun):
        add_member(root, futian, v)
    add_member(root, corps, li, role="leader")
    add_member(root, tianhe, zhou)
    remove_member(root, futian.memberships.get(volunteer=sun), "工作调动")
    change_status(root, zhao, "suspended", "身体原因暂停")
    change_status(root, qian, "left", "本人申请退出")

    centre = region_actions.create_service_centre(
        root, Region.objects.get(code="440304"), address="深圳市福田区福华路 100 号", phone="0755-83000000"
    )
    point = region_actions.create_liaison_point(root, centre, name="红星福田联络室", room="二楼 201 室")
    assign_liaison_point(root, futian, point)
    return SimpleNamespace(
        corps=corps,
        futian=futian,
        nanyuan=nanyuan,
        squad=squad,
        tianhe=tianhe,
        dongguan=dongguan,
        closed=closed,
        people=people,
        li=li,
        wang=wang,
        zhao=zhao,
        qian=qian,
        sun=sun,
        zhou=zhou,
        centre=centre,
    )


def public_urls(data) -> list[str]:
    teams = [data.corps, data.futian, data.nanyuan, data.squad, data.tianhe, data.dongguan]
    return [
        "/public/",
        "/public/regions/4403/",
        "/public/regions/440304/",
        "/public/regions/440304001/",
        "/public/regions/4401/",
        "/public/regions/440106/",
        "/public/regions/4419/",
        f"/public/brands/{quote('红星')}/",
        f"/public/brands/{quote('红棉老兵')}/",
        *[f"/public/teams/{t.pk}/" for t in teams],
    ]


def test_every_public_page_opens_without_login_with_csp_cache_and_robots(client, data):
    for url in public_urls(data):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == CSP, url
        cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
        assert cache == {"public", "max-age=300"}, url
        assert "Cookie" in response.headers["Vary"]
        assert not response.cookies, f"{url} sets a cookie: {list(response.cookies)}"
        html = response.content.decode()
        assert '<meta name="robots" content="index,follow">' in html, url
        assert "工作人员登录" in html and 'href="/accounts/login/"' in html, url
        # The strict CSP allows no inline script or style; public pages need no script at all.
        assert "<script" not in html and "style=" not in html and "<style" not in html, url
        assert "csrfmiddlewaretoken" not in html and 'name="csrf-token"' not in html, url


def test_staff_pages_do_not_ask_to_be_indexed(client, db):
    assert 'content="index,follow"' not in client.get("/accounts/login/").content.decode()


def test_a_request_with_a_session_gets_a_private_copy(client, data, root):
    client.force_login(root)
    response = client.get("/public/")
    assert response.status_code == 200
    cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert cache == {"private", "max-age=300"}
    assert root.username not in response.content.decode()  # nothing about the visitor on the page


def test_only_get_and_head(client, data):
    assert client.post("/public/").status_code == 405
    assert client.head("/public/").status_code == 200


def test_province_totals_are_exact(client, data):
    o = queries.overview()
    # Listed teams: corps, Futian, Nanyuan, Tianhe, Dongguan (not the squad, not the closed team).
    assert (o.teams, o.registered, o.filed) == (5, 1, 1)
    # Active volunteers: Li, Wang, Sun (left a team, still active), Zhou; Zhao is suspended, Qian has left.
    assert (o.volunteers, o.party_members) == (4, 2)
    assert o.brands == [("红星", 3), ("红棉老兵", 1)]
    assert o.unbranded == 1
    assert o.province is not None and o.province.name == "广东省"
    assert len(o.cities) == 21
    rows = {row.region.code: (row.teams, row.volunteers) for row in o.cities}
    assert rows["4403"] == (3, 3) and rows["4401"] == (1, 1) and rows["4419"] == (1, 0)
    assert sum(t for t, _ in rows.values()) == 5

    html = client.get("/public/").content.decode()
    assert 'href="/public/regions/4403/"' in html and "深圳市" in html
    assert f'href="/public/brands/{quote("红星")}/"' in html


def test_region_page_counts_children_and_lists_teams(client, data):
    html = client.get("/public/regions/440304/").content.decode()
    assert "红星福田区退役军人志愿服务队" in html and "红星南园街道分队" in html
    assert "2010至2012年退役班" not in html  # squads are shown on their team's page only
    assert "已解散的红星测试队" not in html
    o = queries.region_overview(Region.objects.get(code="440304"), queries.region_teams(data.futian.region))
    assert (o.teams, o.volunteers) == (2, 3)
    rows = {row.region.code: (row.teams, row.volunteers) for row in o.areas}
    assert rows["440304"] == (1, 0)  # the district team itself, above the streets
    assert rows["440304001"] == (1, 2) and rows["440304002"] == (0, 1)

    city = client.get("/public/regions/4403/").content.decode()
    assert "“红星”退役军人志愿服务总队" in city and 'href="/public/regions/440304/"' in city


def test_region_filters_by_brand_and_specialty(client, data):
    response = client.get("/public/regions/4403/", {"brand": "红星", "specialty": "rescue"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "红星福田区退役军人志愿服务队" in html and "红星南园街道分队" not in html
    assert response.context["overview"].teams == 1


def test_every_public_link_opens(client, data):
    """Follow every /public/ link from the front page (filters carried to sub-regions included)."""
    seen: set[str] = set()
    todo = ["/public/", f"/public/regions/4403/?brand={quote('红星')}&specialty=rescue"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode().replace("&amp;", "&")
        base = url.split("?")[0]
        for href in re.findall(r'href="([^"]+)"', html):
            if href.startswith("?"):
                href = base + href
            code = re.match(r"/public/regions/(\d+)/", href)
            if code and not code.group(1).startswith(("440106", "440304")) and len(code.group(1)) > 4:
                continue  # regions without data: their city page is enough
            if href.startswith("/public/"):
                todo.append(href)
    assert len(seen) > 30


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"brand": "红棉老兵"}, "本地区没有这个品牌的队伍"),  # a brand, but none in Shenzhen
        ({"brand": "x" * 500}, "本地区没有这个品牌的队伍"),
        ({"brand": "红星\x00"}, "本地区没有这个品牌的队伍"),
        ({"specialty": "squad"}, "没有这个队伍类型"),
        ({"specialty": "<b>"}, "没有这个队伍类型"),
        ({"page": "abc"}, "页码应为正整数"),
        ({"page": "0"}, "页码应为正整数"),
        ({"page": "9" * 30}, "页码太大"),
    ],
)
def test_bad_filters_get_a_clear_message_not_an_error(client, data, params, message):
    response = client.get("/public/regions/4403/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "<b>" not in html
    assert "红星福田区退役军人志愿服务队" in html  # the bad filter is ignored, the list still shows


def test_page_beyond_the_last_shows_the_last(client, data):
    response = client.get("/public/regions/4403/", {"page": "7"})
    assert response.status_code == 200 and response.context["page"].number == 1


def test_team_page_shows_public_fields_and_consenting_current_members_only(client, data):
    html = client.get(f"/public/teams/{data.futian.pk}/").content.decode()
    assert "红星福田区退役军人志愿服务队" in html
    assert "广东省 深圳市 福田区" in html  # the full region path
    assert "已备案" in html and "FT-2020-001" in html and "2020年6月1日" in html
    assert f'href="/public/teams/{data.corps.pk}/"' in html  # parent team
    assert f'href="/public/teams/{data.nanyuan.pk}/"' in html and "2010至2012年退役班" in html  # sub-teams
    assert "红星福田联络室" in html and "二楼 201 室" in html
    assert (
        "福田区退役军人服务中心" in html and "深圳市福田区福华路 100 号" in html and "0755-83000000" in html
    )
    assert "李建国" in html  # active, consenting, current member
    assert "王保密" not in html  # active member without consent
    assert "赵暂停" not in html and "钱退出" not in html  # suspended / left volunteers
    assert "孙离队" not in html  # left the team
    page = queries.team_page(data.futian)
    assert page.member_count == 2 and page.public_names == ["李建国"]

    corps = client.get(f"/public/teams/{data.corps.pk}/").content.decode()
    assert "已登记" in corps and "51440300MJL123456X" in corps and "2018年8月1日" in corps
    assert "暂未设立联络点" in corps


def test_names_of_non_consenting_or_inactive_volunteers_appear_nowhere(client, data):
    for url in public_urls(data):
        html = client.get(url).content.decode()
        for name in ("王保密", "赵暂停", "钱退出", "孙离队"):
            assert name not in html, (url, name)


def test_no_id_number_phone_or_volunteer_number_appears_anywhere(client, data):
    secrets = []
    for v in data.people:
        v.refresh_from_db()
        secrets += [v.id_number, v.phone, v.number, v.id_number[-6:], f"+86{v.phone}"]
    for url in public_urls(data):
        html = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in html, (url, secret)


def test_team_description_is_escaped_plain_text(client, data):
    html = client.get(f"/public/teams/{data.corps.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "&lt;a href=&quot;http://spam.example&quot;&gt;博彩&lt;/a&gt;" in html
    assert '<a href="http://spam.example"' not in html and "href='http://spam.example'" not in html
    assert "红星志愿者服务社区。<br>" in html  # line breaks kept, after escaping


def test_escaped_everywhere_names_too(client, data, root):
    team = create_team(
        root, region=Region.objects.get(code="440304"), name="<i>斜体</i>队", brand="<b>牌</b>"
    )
    for url in (
        "/public/",
        f"/public/teams/{team.pk}/",
        "/public/regions/440304/",
        f"/public/brands/{quote('<b>牌</b>')}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<i>" not in html and "<b>" not in html, url
        assert "&lt;i&gt;斜体&lt;/i&gt;队" in html or "&lt;b&gt;牌&lt;/b&gt;" in html, url


def test_brand_page_lists_teams_across_cities(client, data, root):
    create_team(root, region=Region.objects.get(code="4401"), name="红星广州联谊队", brand="红星")
    response = client.get(f"/public/brands/{quote('红星')}/")
    html = response.content.decode()
    assert response.status_code == 200
    o = response.context["overview"]
    assert o.teams == 4
    assert [(row.region.code, row.teams) for row in o.cities] == [("4401", 1), ("4403", 3)]
    assert f'href="/public/regions/4403/?brand={quote("红星")}"' in html
    assert "红星广州联谊队" in html and "红星南园街道分队" in html
    assert "红棉老兵天河区志愿服务队" not in html and "已解散的红星测试队" not in html


def test_brand_with_a_slash_links_and_opens(client, data, root):
    create_team(root, region=Region.objects.get(code="440106"), name="斜杠队", brand="老兵/青年")
    assert (
        'href="/public/brands/%E8%80%81%E5%85%B5/%E9%9D%92%E5%B9%B4/"'
        in client.get("/public/").content.decode()
    )
    assert client.get(f"/public/brands/{quote('老兵/青年')}/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "regions/abc/",
        "regions/44/",  # the province is /public/
        "regions/4499/",
        "regions/44030/",
        "regions/440304001001/",  # villages have no public page
        "regions/%D9%A4%D9%A4%D9%A0%D9%A3/",  # Arabic-Indic digits
        "regions/4403%00/",
        "regions/" + "4" * 40 + "/",
        "teams/0/",
        "teams/-1/",
        "teams/abc/",
        "teams/1e3/",
        "teams/%EF%BC%91/",  # fullwidth 1
        "teams/9223372036854775808/",
        "teams/99999999999999999999/",
        "teams/999999/",
        "teams/1%00/",
        "brands/%E4%B8%8D%E5%AD%98%E5%9C%A8/",  # 不存在
        "brands/" + "x" * 31 + "/",
        "brands/%20%E7%BA%A2%E6%98%9F/",  # leading space
        "brands/%E7%BA%A2%E6%98%9F%00/",
        "brands/%0A/",
    ],
)
def test_malformed_or_unknown_is_a_404_page(client, data, path):
    response = client.get(f"/public/{path}")
    assert response.status_code == 404
    assert "404" in response.content.decode()


def test_inactive_team_is_a_404(client, data):
    assert client.get(f"/public/teams/{data.closed.pk}/").status_code == 404


def test_lists_are_paginated_50_per_page(client, data, root):
    district = Region.objects.get(code="440303")
    for n in range(55):
        create_team(root, region=district, name=f"罗湖第{n:02d}志愿服务队", brand="红星")
    first = client.get("/public/regions/440303/")
    assert len(first.context["page"].object_list) == 50
    second = client.get("/public/regions/440303/", {"page": "2"})
    assert len(second.context["page"].object_list) == 5
    assert "第 2 / 2 页" in second.content.decode()
    brand = client.get(f"/public/brands/{quote('红星')}/", {"page": "2"})
    assert len(brand.context["page"].object_list) == 58 - 50


def _assert_pinned(client, django_assert_max_num_queries, data) -> None:
    pages = [
        ("/public/", INDEX_QUERIES),
        ("/public/regions/4403/?brand=%E7%BA%A2%E6%98%9F", REGION_QUERIES),
        ("/public/regions/440304/", REGION_QUERIES),
        ("/public/regions/440304001/", REGION_QUERIES),
        (f"/public/teams/{data.futian.pk}/", TEAM_QUERIES),
        (f"/public/teams/{data.corps.pk}/", TEAM_QUERIES),
        (f"/public/brands/{quote('红星')}/", BRAND_QUERIES),
    ]
    for url, limit in pages:
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_query_counts_are_pinned_whatever_the_data(client, data, root, django_assert_max_num_queries):
    _assert_pinned(client, django_assert_max_num_queries, data)
    # Ten times the teams and members: the same number of queries.
    for n in range(60):
        team = create_team(
            root, region=Region.objects.get(code="440304001"), parent=data.futian, name=f"南园第{n:02d}小队"
        )
        add_member(root, team, data.li)
    for n in range(10):
        v = _volunteer(root, f"新队员{'甲乙丙丁戊己庚辛壬癸'[n]}", 10 + n, f"1390013{n:04d}", "440304001")
        add_member(root, data.futian, v)
    _assert_pinned(client, django_assert_max_num_queries, data)
