"""Dispatch pages: reporting an incident, the commander's incident page (close, invite a team), the leader's
team page, run cards, and the volunteer's phone page (accept, move along, resubmission changes nothing)."""

from __future__ import annotations

import uuid
from datetime import date

from vetvol.dispatch.models import Assignment, Incident, Invitation, RunCard, TeamInvitation
from vetvol.regions.models import Region

SWIMMER = [{"name": "救生员", "skill_code": "water_rescue", "count": 1}]


def test_report_an_incident_from_the_page(client, people, responder):
    responder(1, skills={"water_rescue": 2}, km_east=1.0)
    client.force_login(people.futian_admin)
    page = client.get("/dispatch/incidents/new/")
    assert page.status_code == 200 and "报告事件" in page.content.decode()
    bad = client.post(
        "/dispatch/incidents/new/",
        {"region": "440304", "type": "water_rescue", "level": "1", "title": "深圳河溺水", "lat": "22.53"},
    )
    assert bad.status_code == 200 and "经纬度须同时填写" in bad.content.decode()
    outside = client.post(
        "/dispatch/incidents/new/",
        {"region": "440106", "type": "flood", "level": "2", "title": "天河内涝"},
    )
    assert outside.status_code == 200 and not Incident.objects.exists()
    done = client.post(
        "/dispatch/incidents/new/",
        {"region": "440304", "type": "water_rescue", "level": "1", "title": "深圳河溺水"},
    )
    incident = Incident.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/dispatch/incidents/{incident.pk}/"
    futian = Region.objects.get(code="440304")
    assert (incident.lat, incident.lng) == (futian.lat, futian.lng)  # the district's centre
    assert incident.needs.exists()  # planned from the seeded run card


def test_incident_page_close_and_scope(client, people, responder, open_incident):
    volunteer = responder(1, skills={"water_rescue": 2}, km_east=1.0)
    incident = open_incident(roles=SWIMMER)
    from vetvol.dispatch import actions

    actions.answer_invitation(volunteer.user, incident.invitations.get(), True)
    client.force_login(people.tianhe_admin)
    assert client.get(f"/dispatch/incidents/{incident.pk}/").status_code == 404
    client.force_login(people.futian_admin)
    page = client.get(f"/dispatch/incidents/{incident.pk}/").content.decode()
    assert "救生员" in page and "1/1" in page and volunteer.number in page and "结束事件" in page
    bad = client.post(f"/dispatch/incidents/{incident.pk}/close/", {"people_rescued": "-1", "summary": "x"})
    assert bad.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status != "closed"
    ok = client.post(
        f"/dispatch/incidents/{incident.pk}/close/",
        {"people_rescued": "2", "bodies_recovered": "0", "people_served": "5", "summary": "两人获救"},
    )
    assert ok.status_code == 302
    closed = Incident.objects.get(pk=incident.pk)
    assert closed.status == "closed" and closed.people_rescued == 2
    assert Assignment.objects.get(incident=incident).status == "done"
    assert "两人获救" in client.get(f"/dispatch/incidents/{incident.pk}/").content.decode()
    client.force_login(people.tianhe_admin)
    assert client.post(f"/dispatch/incidents/{incident.pk}/close/", {"summary": "x"}).status_code == 404


def test_team_invitation_from_the_incident_page_to_the_leaders_page(
    client, people, responder, open_incident, root
):
    from vetvol.registry import actions as registry_actions

    team = registry_actions.create_team(root, region=Region.objects.get(code="440304"), name="福田救援队")
    leader = responder(1, {"water_rescue": 2}, km_east=50)
    member = responder(2, {"water_rescue": 2}, km_east=60)
    for v, role in ((leader, "leader"), (member, "member")):
        registry_actions.add_member(root, team, v, role=role, joined_on=date.today())
    incident = open_incident(roles=[{"name": "救生员", "skill_code": "water_rescue", "count": 3}])
    need = incident.needs.get()
    client.force_login(people.futian_admin)
    assert "福田救援队" in client.get(f"/dispatch/incidents/{incident.pk}/").content.decode()
    answer = client.post(
        f"/dispatch/incidents/{incident.pk}/invite-team/", {"need": need.pk, "team": team.pk}
    )
    assert answer.status_code == 302
    ti = TeamInvitation.objects.get()
    again = client.post(f"/dispatch/incidents/{incident.pk}/invite-team/", {"need": need.pk, "team": team.pk})
    assert again.status_code == 400 and "该队伍已被邀请" in again.content.decode()

    client.force_login(leader.user)
    page = client.get("/dispatch/team-invitations/").content.decode()
    assert incident.title in page and member.number in page
    client.post(f"/dispatch/team-invitations/{ti.pk}/pick/", {"volunteer": [member.pk]})
    assert Invitation.objects.filter(volunteer=member, team_invitation=ti, status="pending").exists()
    client.force_login(member.user)  # a member is not the leader: nothing to pick, nothing changes
    assert incident.title not in client.get("/dispatch/team-invitations/").content.decode()
    assert (
        client.post(f"/dispatch/team-invitations/{ti.pk}/pick/", {"volunteer": [leader.pk]}).status_code
        == 404
    )


def test_run_card_page_saves_for_admins(client, people):
    client.force_login(people.futian_admin)
    assert "水上救援" in client.get("/dispatch/run-cards/").content.decode()  # seeded province cards
    form = {
        "region": "440304",
        "incident_type": "flood",
        "level": "2",
        "note": "福田区内涝",
        "roles-TOTAL_FORMS": "6",
        "roles-INITIAL_FORMS": "0",
        "roles-MIN_NUM_FORMS": "6",
        "roles-MAX_NUM_FORMS": "12",
        "roles-0-name": "抽水泵操作员",
        "roles-0-skill_code": "",
        "roles-0-certificate_code": "",
        "roles-0-count": "3",
        "roles-1-name": "急救员",
        "roles-1-skill_code": "first_aid",
        "roles-1-count": "1",
    }
    assert client.post("/dispatch/run-cards/edit/", form).status_code == 302
    card = RunCard.objects.get(region_code="440304", incident_type="flood", level=2)
    assert [(r.name, r.count) for r in card.roles.all()] == [("抽水泵操作员", 3), ("急救员", 1)]
    edit = client.get("/dispatch/run-cards/edit/?region=440304&incident_type=flood&level=2").content.decode()
    assert "抽水泵操作员" in edit
    bad = client.post("/dispatch/run-cards/edit/", {**form, "roles-0-count": "0"})
    assert bad.status_code == 200 and RunCard.objects.get(pk=card.pk).roles.count() == 2
    client.force_login(people.station_staff)  # no account management: cannot choose any region
    refused = client.post("/dispatch/run-cards/edit/", {**form, "roles-0-name": "改"})
    assert refused.status_code == 200 and card.roles.filter(name="改").count() == 0


def test_volunteer_phone_page_accept_and_move(client, people, responder, open_incident):
    volunteer = responder(1, skills={"water_rescue": 2}, km_east=1.0)
    incident = open_incident(roles=SWIMMER)
    invitation = incident.invitations.get()
    client.force_login(volunteer.user)
    page = client.get("/dispatch/me/").content.decode()
    assert incident.title in page and "接受" in page
    key = uuid.uuid4().hex
    client.post(f"/dispatch/invitations/{invitation.pk}/answer/", {"accept": "1", "form_key": key})
    assignment = Assignment.objects.get(volunteer=volunteer)
    page = client.get("/dispatch/me/").content.decode()
    assert "执行中的任务" in page and "我已出发" in page
    again = client.post(f"/dispatch/invitations/{invitation.pk}/answer/", {"accept": "1", "form_key": key})
    assert again.status_code == 302 and Assignment.objects.filter(volunteer=volunteer).count() == 1
    client.post(
        f"/dispatch/assignments/{assignment.pk}/status/", {"status": "en_route", "form_key": key + "x"}
    )
    assert Assignment.objects.get(pk=assignment.pk).status == "en_route"
    fragment = client.get("/dispatch/me/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "出发中" in fragment
    client.force_login(people.futian_admin)  # someone else's invitation: 404
    assert client.post(f"/dispatch/invitations/{invitation.pk}/answer/", {"accept": "0"}).status_code == 404


def test_team_totals_page(client, people, responder, open_incident, root):
    from vetvol.dispatch import actions
    from vetvol.registry import actions as registry_actions

    team = registry_actions.create_team(root, region=Region.objects.get(code="440304"), name="福田救援队")
    volunteer = responder(1, {"water_rescue": 2}, km_east=1)
    registry_actions.add_member(root, team, volunteer, role="member", joined_on=date(2020, 1, 1))
    incident = open_incident(roles=SWIMMER)
    actions.answer_invitation(volunteer.user, incident.invitations.get(), True)
    actions.close_incident(people.futian_admin, incident, people_rescued=3, summary="三人获救")
    client.force_login(people.futian_admin)
    page = client.get("/dispatch/team-totals/").content.decode()
    assert "福田救援队" in page and "<td>3</td>" in page
    client.force_login(people.tianhe_admin)
    assert "福田救援队" not in client.get("/dispatch/team-totals/").content.decode()
