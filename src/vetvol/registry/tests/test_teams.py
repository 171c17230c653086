"""Teams: the tree, memberships, leaders' reach, squads by discharge year, scoping."""

import itertools
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region
from vetvol.registry import actions, squads
from vetvol.registry.models import Membership, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def hongxing(people):
    """深圳“红星” corps → 福田区 team, made by the Shenzhen city admin."""
    corps = actions.create_team(
        people.sz_admin,
        region=Region.objects.get(code="4403"),
        name="深圳市“红星”退役军人志愿服务总队",
        brand="红星",
        civil_status="registered",
        civil_number="粤深民登字第001号",
        civil_date="2019-08-01",
    )
    futian = actions.create_team(
        people.futian_admin,
        region=Region.objects.get(code="440304"),
        parent=corps,
        name="福田区红星志愿服务队",
        specialty="general",
    )
    return corps, futian


def test_tree_paths_and_brand_inheritance(hongxing):
    corps, futian = hongxing
    assert corps.path == f"/{corps.pk}/" and futian.path == f"/{corps.pk}/{futian.pk}/"
    assert (futian.depth, futian.brand) == (1, "红星")


def test_registered_team_needs_a_number_and_date(people):
    with pytest.raises(ValidationError) as err:
        actions.create_team(
            people.sz_admin, region=Region.objects.get(code="4403"), name="某队", civil_status="filed"
        )
    assert err.value.message_dict == {"civil_number": ["已登记或已备案的队伍须填写登记（备案）编号"]}


def test_sub_team_must_lie_inside_the_parent_region(people, hongxing):
    _, futian = hongxing
    with pytest.raises(ValidationError):
        actions.create_team(
            people.root, region=Region.objects.get(code="440106"), parent=futian, name="越界分队"
        )


def test_district_admin_cannot_create_a_team_in_another_city(people):
    with pytest.raises(PermissionDenied):
        actions.create_team(people.futian_admin, region=Region.objects.get(code="440106"), name="天河队")


def test_membership_once_at_a_time_with_history(people, hongxing, make_volunteer):
    _, futian = hongxing
    v = make_volunteer(1)
    m = actions.add_member(people.futian_admin, futian, v)
    with pytest.raises(ValidationError) as err:
        actions.add_member(people.futian_admin, futian, v)
    assert err.value.message_dict == {"volunteer": ["该志愿者已是本队队员"]}
    actions.remove_member(people.futian_admin, m, "工作调动")
    again = actions.add_member(people.futian_admin, futian, v)
    assert Membership.objects.filter(team=futian, volunteer=v).count() == 2
    assert again.left_on is None


def test_a_person_may_belong_to_several_teams(people, hongxing, make_volunteer):
    corps, futian = hongxing
    v = make_volunteer(2)
    actions.add_member(people.root, corps, v)
    actions.add_member(people.root, futian, v)
    assert v.memberships.filter(left_on=None).count() == 2


def test_leader_sees_members_and_manages_the_team_but_not_others(client, people, hongxing, make_volunteer):
    _, futian = hongxing
    leader_record = make_volunteer(3)
    leader_record.user = people.team_leader
    leader_record.save(update_fields=["user"])
    actions.add_member(people.futian_admin, futian, leader_record, "leader")
    member = make_volunteer(4)
    stranger = make_volunteer(5)
    actions.add_member(people.futian_admin, futian, member)
    client.force_login(people.team_leader)
    assert client.get(f"/registry/volunteers/{member.pk}/").status_code == 200
    assert client.get(f"/registry/volunteers/{stranger.pk}/").status_code == 404
    # The leader adds a member by volunteer number, and may create a sub-team, through their team only.
    response = client.post(
        f"/api/registry/teams/{futian.pk}/members",
        json.dumps({"volunteer_number": stranger.number}),
        content_type="application/json",
    )
    assert response.status_code == 201
    sub = actions.create_team(
        people.team_leader,
        region=futian.region,
        parent=futian,
        name="福田红星水上救援分队",
        specialty="rescue",
    )
    assert sub.parent_id == futian.pk
    other = actions.create_team(people.root, region=Region.objects.get(code="440304"), name="福田另一支队伍")
    assert (
        client.patch(
            f"/api/registry/teams/{other.pk}", json.dumps({"name": "改"}), content_type="application/json"
        ).status_code
        == 403
    )


@pytest.mark.parametrize("name", ["outsider", "tianhe_admin"])
def test_team_endpoints_404_outside_scope(client, people, hongxing, name):
    _, futian = hongxing
    client.force_login(getattr(people, name))
    for url in (
        f"/registry/teams/{futian.pk}/",
        f"/registry/teams/{futian.pk}/edit/",
        f"/api/registry/teams/{futian.pk}",
        f"/api/registry/teams/{futian.pk}/members",
        f"/registry/teams/{futian.pk}/squads/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/api/registry/teams/{futian.pk}/members",
            json.dumps({"volunteer_number": "V44000000001"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    assert (
        AuditEntry.objects.filter(
            actor=getattr(people, name), outcome="denied", object_id=str(futian.pk)
        ).count()
        >= 5
    )


def test_squad_proposal_keeps_years_together():
    members = [(i, 1980 + i // 18) for i in range(543)]  # 18 or so veterans per discharge year
    proposal = squads.propose(members, 18)
    assert len(proposal) == 31 or len(proposal) == 30
    ids = [v for s in proposal for v in s.volunteer_ids]
    assert sorted(ids) == list(range(543))
    for a, b in itertools.pairwise(proposal):
        assert a.year_to <= b.year_from


def test_yonghe_543_veterans_into_30_squads():
    years = [1975 + (i * 7) % 45 for i in range(543)]
    proposal = squads.propose(list(enumerate(years)), 19)
    assert len(proposal) == 29 or len(proposal) == 30
    sizes = [len(s.volunteer_ids) for s in proposal]
    assert sum(sizes) == 543 and min(sizes) >= 10 and max(sizes) <= 28


def test_apply_squads_creates_squads_with_members(people, hongxing, make_volunteer):
    _, futian = hongxing
    for i in range(10):
        actions.add_member(people.root, futian, make_volunteer(20 + i))
    rows = list(
        Membership.objects.filter(team=futian).values_list("volunteer_id", "volunteer__discharge_year")
    )
    created = actions.apply_squads(people.futian_admin, futian, squads.propose(rows, 5))
    assert [t.specialty for t in created] == ["squad", "squad"]
    assert sum(Membership.objects.filter(team=t).count() for t in created) == 10
    assert all(Team.objects.get(pk=t.pk).path.startswith(futian.path) for t in created)


def test_squad_member_must_belong_to_the_parent_team(people, hongxing, make_volunteer):
    _, futian = hongxing
    squad = actions.create_team(
        people.root, region=futian.region, parent=futian, name="第1班", specialty="squad"
    )
    with pytest.raises(ValidationError) as err:
        actions.add_member(people.root, squad, make_volunteer(40))
    assert err.value.message_dict == {"volunteer": ["加入班之前须先加入上级队伍"]}


def test_team_list_query_count(client, people, hongxing, django_assert_max_num_queries):
    for i in range(20):
        actions.create_team(people.root, region=Region.objects.get(code="440304"), name=f"测试队{i}")
    client.force_login(people.futian_admin)
    client.get("/registry/teams/")
    with django_assert_max_num_queries(7):
        assert client.get("/registry/teams/").status_code == 200


def test_liaison_point_assignment(client, people, hongxing):
    from vetvol.regions import actions as region_actions

    _, futian = hongxing
    centre = region_actions.create_service_centre(people.root, Region.objects.get(code="440304"))
    room = region_actions.create_liaison_point(people.root, centre, name="红星联络室", room="201")
    client.force_login(people.futian_admin)
    response = client.put(
        f"/api/registry/teams/{futian.pk}/liaison-point",
        json.dumps({"liaison_point_id": room.pk}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["liaison_point_id"] == room.pk
    other = actions.create_team(people.root, region=Region.objects.get(code="440304"), name="另一队")
    with pytest.raises(ValidationError) as err:
        actions.assign_liaison_point(people.futian_admin, other, room)
    assert err.value.message_dict == {"liaison_point": ["该联络点已分配给“福田区红星志愿服务队”"]}
    html = client.get(f"/registry/teams/{futian.pk}/").content.decode()
    assert "红星联络室" in html
    tianhe_centre = region_actions.create_service_centre(people.root, Region.objects.get(code="440106"))
    far = region_actions.create_liaison_point(people.root, tianhe_centre, name="天河联络室")
    response = client.put(
        f"/api/registry/teams/{futian.pk}/liaison-point",
        json.dumps({"liaison_point_id": far.pk}),
        content_type="application/json",
    )
    assert response.status_code == 404
