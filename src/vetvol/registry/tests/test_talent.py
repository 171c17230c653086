"""The talent pool: search by skill, valid certificate on a date, region subtree, age, party, team."""

from datetime import date

import pytest

from vetvol.regions.models import Region
from vetvol.registry import actions
from vetvol.registry.filters import FilterError, talent_filter_from_params
from vetvol.registry.queries import TalentFilter, talent_search

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 1)


@pytest.fixture
def pool(people, make_volunteer):
    diver = make_volunteer(1)  # 南园街道, Futian
    actions.set_skills(people.root, diver, {"diving": 3, "water_rescue": 2})
    actions.add_certificate(
        people.root, diver, "diver", issuer="广东省潜水协会", valid_until=date(2027, 1, 1)
    )
    expired = make_volunteer(2, region="440304002")  # 园岭街道, Futian
    actions.set_skills(people.root, expired, {"diving": 2})
    actions.add_certificate(
        people.root, expired, "diver", issuer="广东省潜水协会", valid_until=date(2026, 1, 1)
    )
    tianhe = make_volunteer(3, region="440106001")
    actions.set_skills(people.root, tianhe, {"diving": 2})
    actions.add_certificate(
        people.root, tianhe, "diver", issuer="广东省潜水协会", valid_until=date(2030, 1, 1)
    )
    medic = make_volunteer(4)
    actions.set_skills(people.root, medic, {"first_aid": 1})
    return {"diver": diver, "expired": expired, "tianhe": tianhe, "medic": medic}


def _numbers(user, **kw):
    return [v.number for v in talent_search(user, TalentFilter(today=DAY, **kw))]


def test_skill_plus_region_plus_valid_certificate(people, pool):
    assert _numbers(
        people.province_admin, skills=["diving"], region="4403", certificate="diver", valid_on=DAY
    ) == [pool["diver"].number]
    assert sorted(_numbers(people.province_admin, skills=["diving"])) == sorted(
        pool[k].number for k in ("diver", "expired", "tianhe")
    )
    assert _numbers(people.province_admin, skills=["diving"], min_level=3) == [pool["diver"].number]


def test_search_is_scoped_to_the_viewer(people, pool):
    assert sorted(_numbers(people.futian_admin, skills=["diving"])) == sorted(
        [pool["diver"].number, pool["expired"].number]
    )
    assert _numbers(people.tianhe_admin, skills=["diving"]) == [pool["tianhe"].number]
    assert _numbers(people.outsider, skills=["diving"]) == []
    assert _numbers(people.volunteer, skills=["diving"]) == []


def test_age_party_and_team_filters(people, pool):
    corps = actions.create_team(people.root, region=Region.objects.get(code="440304"), name="福田潜水队")
    actions.add_member(people.root, corps, pool["medic"])
    assert _numbers(people.province_admin, team=corps.pk) == [pool["medic"].number]
    # volunteer_raw(seq): born 1950 + seq; on DAY the diver (1951) is 75.
    assert _numbers(people.province_admin, age_min=75, age_max=75) == [pool["diver"].number]
    assert pool["medic"].number in _numbers(people.province_admin, party_member=True)
    assert pool["medic"].number not in _numbers(people.province_admin, party_member=False)


def test_filter_parameters_are_checked(people):
    from django.http import QueryDict

    with pytest.raises(FilterError) as err:
        talent_filter_from_params(QueryDict("region=44a&age_min=abc&valid_on=2026-13-01"))
    assert err.value.errors == {
        "region": "区划代码应为 2、4、6、9 或 12 位数字",
        "valid_on": "日期格式应为 YYYY-MM-DD，例如 2026-05-01",
        "age_min": "最小年龄应为 0 到 120 之间的整数",
    }


def test_list_page_shows_filter_errors_in_chinese(client, people):
    client.force_login(people.futian_admin)
    response = client.get("/registry/volunteers/?age_min=abc")
    assert response.status_code == 400 and "最小年龄应为 0 到 120 之间的整数" in response.content.decode()


def test_api_search(client, people, pool):
    client.force_login(people.sz_admin)
    body = client.get(
        "/api/registry/volunteers/search?skill=diving&region=4403&certificate=diver&valid_on=2026-07-01"
    ).json()
    assert [r["number"] for r in body["results"]] == [pool["diver"].number] and body["has_more"] is False
    assert client.get("/api/registry/volunteers/search?region=abc").status_code == 422


@pytest.mark.parametrize(
    "query",
    ["skill=%00C", "skill=Rescue", "certificate=%00", "name=a%00b", "skill=" + "&skill=".join("abcdefghijk")],
)
def test_api_search_refuses_malformed_codes_with_a_422(client, people, query):
    client.force_login(people.futian_admin)
    response = client.get(f"/api/registry/volunteers/search?{query}")
    assert response.status_code == 422, response.content
