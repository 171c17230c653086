"""Dispatch: invitations by rounds, claims under concurrency, timeouts, shortfalls, gates, hours, teams,
run cards, and a rolled-back dispatch that sends nothing."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from vetvol.activities.models import HourRecord, InsurancePolicy
from vetvol.core import events
from vetvol.dispatch import actions, queries
from vetvol.dispatch.models import Assignment, Incident, Invitation, Need, RunCard, VolunteerLocation
from vetvol.regions.models import Region

from .conftest import SITE, offset

SWIMMERS = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 2}]


def invited(incident):
    return sorted(Invitation.objects.filter(incident=incident).values_list("volunteer_id", flat=True))


def test_nearest_qualified_are_invited_not_assigned(people, responder, open_incident):
    near = responder(1, {"water_rescue": 2}, km_east=1)
    mid = responder(2, {"water_rescue": 2}, km_east=2)
    responder(3, {"water_rescue": 2}, km_east=4)
    responder(4, {"first_aid": 2}, km_east=0.5)  # wrong skill
    incident = open_incident(SWIMMERS)
    assert invited(incident) == sorted([near.pk, mid.pk])
    assert Assignment.objects.count() == 0  # nobody is assigned without accepting
    assert Incident.objects.get(pk=incident.pk).status == "dispatching"


def test_run_card_gives_the_plan(people, responder, open_incident):
    incident = open_incident(None, type="water_rescue", level=1)
    plan = {(n.skill_code, n.count) for n in incident.needs.all()}
    assert plan == {("diving", 2), ("water_rescue", 4), ("boat_operation", 1), ("first_aid", 1)}
    assert RunCard.objects.filter(region_code="44").count() == 20  # every type at levels 1–2


def test_accept_fills_and_decline_does_not(people, responder, open_incident):
    a = responder(1, {"water_rescue": 2}, km_east=1)
    b = responder(2, {"water_rescue": 2}, km_east=2)
    incident = open_incident(SWIMMERS)
    inv_a = Invitation.objects.get(volunteer=a)
    inv_b = Invitation.objects.get(volunteer=b)
    actions.answer_invitation(a.user, inv_a, True)
    actions.answer_invitation(b.user, inv_b, False)
    need = Need.objects.get(incident=incident)
    assert need.filled == 1
    assert Assignment.objects.get().volunteer_id == a.pk
    with pytest.raises(ValidationError):
        actions.answer_invitation(b.user, Invitation.objects.get(pk=inv_b.pk), True)


def test_timeout_invites_the_next_and_widens_the_radius(people, responder, open_incident):
    first = responder(1, {"water_rescue": 2}, km_east=1)
    far = responder(2, {"water_rescue": 2}, km_east=15)  # beyond 5 and 10 km, inside 20
    responder(3, {"water_rescue": 2}, km_east=45)  # beyond 30 km: never
    now = timezone.now()
    incident = open_incident([{"name": "水上救援队员", "skill_code": "water_rescue", "count": 1}], now=now)
    assert invited(incident) == [first.pk]
    assert Need.objects.get(incident=incident).radius_step == 0
    assert queries.shortfall(Need.objects.get(incident=incident), incident)["reason"] == "waiting"

    assert actions.tick(now + timedelta(seconds=30))["expired"] == 0  # not yet
    result = actions.tick(now + timedelta(seconds=61))
    assert result["expired"] == 1
    assert Invitation.objects.get(volunteer=first).status == "expired"
    assert invited(incident) == sorted([first.pk, far.pk])
    need = Need.objects.get(incident=incident)
    assert need.radius_step == 2  # 5 → 10 → 20 km
    assert Invitation.objects.get(volunteer=far).distance_km == pytest.approx(15, abs=0.05)

    actions.tick(now + timedelta(seconds=200))  # the far one does not answer either
    need = Need.objects.get(incident=incident)
    assert need.radius_step == 3
    reason = queries.shortfall(need, incident)
    assert reason["reason"] == "all_declined" and "30 公里" in reason["detail"]


def test_shortfall_reasons(people, responder, open_incident):
    responder(1, {"water_rescue": 2}, km_east=1)
    incident = open_incident(
        [
            {"name": "潜水员", "skill_code": "diving", "count": 2},
            {"name": "水上救援队员", "skill_code": "water_rescue", "count": 1},
        ]
    )
    divers, swimmers = incident.needs.order_by("id")
    assert queries.shortfall(divers, incident)["reason"] == "none_qualified"
    assert queries.shortfall(divers, incident)["detail"] == "30 公里内无符合条件的志愿者"
    assert queries.shortfall(swimmers, incident)["reason"] == "waiting"
    inv = Invitation.objects.get(need=swimmers)
    actions.answer_invitation(inv.volunteer.user, inv, True)
    swimmers.refresh_from_db()
    assert queries.shortfall(swimmers, incident) is None


def test_certificate_must_be_valid_now(people, responder, open_incident):
    today = date.today()
    responder(1, {"diving": 2}, km_east=1, certificates=[("diver", today - timedelta(days=1))])
    ok = responder(2, {"diving": 2}, km_east=3, certificates=[("diver", today + timedelta(days=30))])
    incident = open_incident(
        [{"name": "潜水员", "skill_code": "diving", "certificate_code": "diver", "count": 2}]
    )
    assert invited(incident) == [ok.pk]


def test_risky_incident_invites_only_volunteers_insured_today(people, responder, open_incident):
    uninsured = responder(1, {"water_rescue": 2}, km_east=1)
    insured = responder(2, {"water_rescue": 2}, km_east=2)
    today = date.today()
    InsurancePolicy.objects.create(
        volunteer=insured, insurer="人保", policy_number="P1", valid_from=today, valid_until=today
    )
    InsurancePolicy.objects.create(
        volunteer=uninsured,
        insurer="人保",
        policy_number="P0",
        valid_from=today - timedelta(days=30),
        valid_until=today - timedelta(days=1),
    )
    incident = open_incident(SWIMMERS, risky=True)
    assert invited(incident) == [insured.pk]


def test_one_active_assignment_per_volunteer(people, responder, open_incident):
    v = responder(1, {"water_rescue": 2}, km_east=1)
    first = open_incident(SWIMMERS)
    second = open_incident(SWIMMERS, title="第二起")
    inv1 = Invitation.objects.get(incident=first, volunteer=v)
    inv2 = Invitation.objects.get(incident=second, volunteer=v)
    actions.answer_invitation(v.user, inv1, True)
    assert Invitation.objects.get(pk=inv2.pk).status == "cancelled"  # lapsed when they became busy
    third = open_incident(SWIMMERS, title="第三起")
    assert invited(third) == []  # busy volunteers are not candidates


def test_assignment_status_position_and_hours_on_close(people, responder, open_incident):
    v = responder(1, {"water_rescue": 2}, km_east=1, consent=True)
    quiet = responder(2, {"water_rescue": 2}, km_east=2, consent=False)
    start = timezone.now() - timedelta(hours=3)
    incident = open_incident(SWIMMERS, now=start)
    actions.answer_invitation(v.user, Invitation.objects.get(volunteer=v), True, now=start)
    actions.answer_invitation(quiet.user, Invitation.objects.get(volunteer=quiet), True, now=start)
    asg = Assignment.objects.get(volunteer=v)
    actions.set_assignment_status(v.user, asg, "en_route")
    assert actions.report_position(v.user, asg, 22.54, 114.06)
    assert not actions.report_position(v.user, asg, 22.55, 114.07, at=timezone.now() - timedelta(minutes=31))
    assert actions.report_position(v.user, asg, 22.56, 114.08)
    live = VolunteerLocation.objects.get(volunteer=v, source="live")
    assert (live.lat, live.lng) == (22.56, 114.08)  # only the latest is kept
    with pytest.raises(ValidationError):  # no consent, no position
        actions.report_position(quiet.user, Assignment.objects.get(volunteer=quiet), 22.5, 114.0)
    with pytest.raises(ValidationError):
        actions.set_assignment_status(v.user, asg, "accepted")
    actions.set_assignment_status(v.user, asg, "on_scene")
    assert Incident.objects.get(pk=incident.pk).status == "on_scene"
    actions.set_assignment_status(v.user, asg, "done")
    assert not VolunteerLocation.objects.filter(volunteer=v, source="live").exists()

    actions.close_incident(
        people.futian_admin, incident, people_rescued=2, bodies_recovered=1, summary="成功救起两人"
    )
    records = {r.volunteer_id: r for r in HourRecord.objects.filter(source="dispatch")}
    assert set(records) == {v.pk, quiet.pk}
    assert records[quiet.pk].minutes == 180  # accepted → closed, rounded
    assert records[quiet.pk].required_level is None
    assert records[v.pk].minutes % 15 == 0 and records[v.pk].minutes <= 180
    assert not Assignment.objects.filter(status__in=["accepted", "en_route", "on_scene"]).exists()


def test_long_dispatch_needs_approval_at_the_parent_level(people, responder, open_incident):
    v = responder(1, {"water_rescue": 2}, km_east=1)
    start = timezone.now() - timedelta(hours=9)
    incident = open_incident(SWIMMERS, now=start)
    actions.answer_invitation(v.user, Invitation.objects.get(volunteer=v), True, now=start)
    actions.close_incident(people.futian_admin, incident)
    record = HourRecord.objects.get(source="dispatch")
    assert record.minutes == 9 * 60 and record.required_level == 2


def test_team_totals_sum_outcomes_by_team(people, responder, open_incident, root):
    from vetvol.registry import actions as registry_actions

    team = registry_actions.create_team(root, region=Region.objects.get(code="440304"), name="战旗救援队")
    a = responder(1, {"water_rescue": 2}, km_east=1)
    registry_actions.add_member(root, team, a, joined_on=date.today() - timedelta(days=10))
    for n, (rescued, bodies) in enumerate([(3, 1), (0, 2)]):
        start = timezone.now() - timedelta(hours=2)
        incident = open_incident(SWIMMERS, now=start, title=f"任务{n}")
        actions.answer_invitation(
            a.user, Invitation.objects.get(incident=incident, volunteer=a), True, now=start
        )
        actions.close_incident(people.futian_admin, incident, people_rescued=rescued, bodies_recovered=bodies)
    [row] = queries.team_totals([team.pk])
    assert row["missions"] == 2 and row["people_rescued"] == 3 and row["bodies_recovered"] == 3
    assert row["volunteers"] == 1 and row["minutes"] == 240


def test_team_invitation_leader_picks_members(people, responder, open_incident, root):
    from vetvol.registry import actions as registry_actions

    team = registry_actions.create_team(root, region=Region.objects.get(code="440304"), name="福田救援队")
    leader = responder(1, {"water_rescue": 2}, km_east=50)
    m1 = responder(2, {"water_rescue": 2}, km_east=60)  # far away: the leader may still pick them
    m2 = responder(3, {"first_aid": 2}, km_east=1)  # wrong skill
    for v, role in ((leader, "leader"), (m1, "member"), (m2, "member")):
        registry_actions.add_member(root, team, v, role=role, joined_on=date.today())
    incident = open_incident(SWIMMERS)
    need = incident.needs.get()
    ti = actions.invite_team(people.futian_admin, incident, need, team)
    eligible = [v.pk for v in queries.eligible_team_members(ti)]
    assert sorted(eligible) == sorted([leader.pk, m1.pk])
    with pytest.raises(PermissionDenied):
        actions.assign_team_members(m1.user, ti, [m1.pk])
    with pytest.raises(ValidationError):
        actions.assign_team_members(leader.user, ti, [m2.pk])
    [inv] = actions.assign_team_members(leader.user, ti, [m1.pk])
    assert inv.status == "pending" and inv.team_invitation_id == ti.pk  # still theirs to accept
    actions.answer_invitation(m1.user, inv, True)
    assert Need.objects.get(pk=need.pk).filled == 1


def test_run_cards_are_edited_by_admins_only(people):
    region = Region.objects.get(code="440304")
    roles = [{"name": "潜水员", "skill_code": "diving", "certificate_code": "diver", "count": 3}]
    for user in (people.station_staff, people.team_leader, people.volunteer, people.tianhe_admin):
        with pytest.raises(PermissionDenied):
            actions.save_run_card(user, region=region, incident_type="water_rescue", level=1, roles=roles)
    card = actions.save_run_card(
        people.futian_admin, region=region, incident_type="water_rescue", level=1, roles=roles
    )
    assert actions.run_card_for("water_rescue", 1, "440304001") == card  # the more specific card wins
    assert actions.run_card_for("water_rescue", 1, "440106").region_code == "44"
    with pytest.raises(ValidationError):
        actions.save_run_card(
            people.futian_admin,
            region=region,
            incident_type="water_rescue",
            level=1,
            roles=[{"name": "x", "skill_code": "nope", "count": 1}],
        )


@pytest.mark.django_db(transaction=True)
def test_rolled_back_dispatch_sends_nothing(people, responder):
    responder(1, {"water_rescue": 2}, km_east=1)
    seen = []

    def handler(name, payload):
        seen.append(name)

    events.subscribe("*", handler)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            actions.create_incident(
                people.futian_admin,
                region=Region.objects.get(code="440304"),
                type="water_rescue",
                level=1,
                title="回滚",
                lat=SITE[0],
                lng=SITE[1],
                roles=SWIMMERS,
            )
            raise RuntimeError("boom")
        assert [n for n in seen if n.startswith("dispatch.")] == []
        assert not Incident.objects.exists() and not Invitation.objects.exists()
        actions.create_incident(
            people.futian_admin,
            region=Region.objects.get(code="440304"),
            type="water_rescue",
            level=1,
            title="提交",
            lat=SITE[0],
            lng=SITE[1],
            roles=SWIMMERS,
        )
        assert "dispatch.incident.opened" in seen and "dispatch.invitation.sent" in seen
    finally:
        events.unsubscribe("*", handler)


@pytest.mark.django_db(transaction=True)
def test_fifty_racing_accepts_fill_exactly_eight_slots(people, responder):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers by design")
    volunteers = [responder(100 + i, {"water_rescue": 2}, km_east=0.1 + i * 0.05) for i in range(50)]
    incidents = [
        actions.create_incident(
            people.futian_admin,
            region=Region.objects.get(code="440304"),
            type="water_rescue",
            level=1,
            title=f"事件{n}",
            lat=SITE[0],
            lng=SITE[1],
            roles=[{"name": "水上救援队员", "skill_code": "water_rescue", "count": 8}],
            dispatch=False,
        )
        for n in range(2)
    ]
    now = timezone.now()
    # everyone is invited to both incidents (as if earlier rounds had timed out)
    invitations = []
    for incident in incidents:
        need = incident.needs.get()
        for v in volunteers:
            invitations.append(actions.invite(incident, need, v.pk, 1.0, now, 1))
    random.Random(5).shuffle(invitations)
    barrier = threading.Barrier(len(volunteers))
    by_volunteer = {}
    for inv in invitations:
        by_volunteer.setdefault(inv.volunteer_id, []).append(inv.pk)
    outcomes = []

    def go(v):
        try:
            barrier.wait()
            for pk in by_volunteer[v.pk]:
                try:
                    inv = Invitation.objects.select_related("volunteer").get(pk=pk)
                    actions.answer_invitation(v.user, inv, True)
                    outcomes.append("ok")
                except ValidationError:
                    outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=go, args=(v,)) for v in volunteers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 16
    for incident in incidents:
        assert Assignment.objects.filter(incident=incident).count() == 8
        assert Need.objects.get(incident=incident).filled == 8
    per_volunteer = Assignment.objects.values_list("volunteer_id", flat=True)
    assert len(per_volunteer) == len(set(per_volunteer)) == 16


def test_batch_round_spreads_volunteers_over_incidents(people, responder, open_incident):
    # two incidents 6 km apart, two swimmers: each incident gets its nearer one (global optimum)
    a = responder(1, {"water_rescue": 2}, km_east=0.5)
    b = responder(2, {"water_rescue": 2}, km_east=5.5)
    one_role = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 1}]
    i1 = open_incident(one_role, dispatch=False)
    lat, lng = offset(0, 6)
    i2 = open_incident(one_role, dispatch=False, lat=lat, lng=lng)
    sent = actions.dispatch_batch([i1, i2])
    assert {(s.incident_id, s.volunteer_id) for s in sent} == {(i1.pk, a.pk), (i2.pk, b.pk)}
