"""Candidate search: the database search equals the brute-force reference (penalties included); the
location index follows the registry; availability now; volunteers on duty found where they are."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from vetvol.dispatch.locations import sync_locations
from vetvol.dispatch.models import Assignment, Invitation, VolunteerLocation
from vetvol.dispatch.search import RoleFilter, brute_force_candidates, search_candidates
from vetvol.regions.models import Region
from vetvol.registry.models import Skill

from .conftest import SITE, offset


def test_candidate_search_equals_brute_force(people, responder, make_volunteer, root):
    from vetvol.registry import actions as registry_actions

    rng = random.Random(7)
    today = date.today()
    for seq in range(60):
        skills = {"water_rescue": 2} if rng.random() < 0.6 else {"first_aid": 1}
        certs = [("lifeguard", today + timedelta(days=rng.randint(-30, 30)))] if rng.random() < 0.5 else []
        responder(
            seq,
            skills,
            km_east=rng.uniform(-25, 25),
            km_north=rng.uniform(-25, 25),
            certificates=certs,
            login=False,
        )
    registry_actions.change_status(root, make_volunteer(99, lat=SITE[0], lng=SITE[1]), "suspended", "请假")
    sync_locations()
    skill = Skill.objects.get(code="water_rescue").pk
    from vetvol.registry.models import CertificateType

    cert = CertificateType.objects.get(code="lifeguard").pk
    for _ in range(25):
        lat, lng = offset(rng.uniform(-20, 20), rng.uniform(-20, 20))
        role = RoleFilter(skill, cert if rng.random() < 0.5 else None)
        k, radius = rng.randint(1, 12), rng.choice([3.0, 5.0, 10.0, 20.0, 30.0])
        fast = search_candidates(lat, lng, role, k=k, radius_km=radius)
        slow = brute_force_candidates(lat, lng, role, k=k, radius_km=radius)
        assert [(c.volunteer_id, c.distance_km) for c in fast] == [
            (c.volunteer_id, c.distance_km) for c in slow
        ]


def test_candidate_search_with_penalties_equals_brute_force(
    people, responder, open_incident, root, monkeypatch
):
    """Recently dispatched and loaded volunteers crowd the nearest rows: the search must rank past them
    (a LIMIT that grows, a probe that widens) and still give exactly the brute force's answer."""
    from vetvol.dispatch import search

    rng = random.Random(11)
    now = timezone.now()
    vols = [
        responder(
            seq, {"water_rescue": 2}, km_east=rng.uniform(-4, 4), km_north=rng.uniform(-4, 4), login=False
        )
        for seq in range(40)
    ]
    one_role = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 1}]
    incidents = [open_incident(one_role, dispatch=False) for _ in range(4)]
    for v in vols:
        for incident in incidents[: rng.choice([0, 0, 1, 2, 4])]:
            need = incident.needs.get()
            at = now - timedelta(hours=rng.choice([1, 6, 30, 200]))
            inv = Invitation.objects.create(
                incident=incident,
                need=need,
                volunteer=v,
                region_code=incident.region_code,
                status="accepted",
                sent_at=at,
                expires_at=at,
            )
            Assignment.objects.create(
                incident=incident,
                need=need,
                invitation=inv,
                volunteer=v,
                region_code=incident.region_code,
                status="done",
                accepted_at=at,
                status_at=at,
                done_at=at,
            )
    skill = Skill.objects.get(code="water_rescue").pk
    monkeypatch.setattr(search, "LIMIT_EXTRA", 0)  # the smallest first LIMIT: growth paths get exercised
    penalised = False
    for first_probe in (0.5, 2.0):
        monkeypatch.setattr(search, "FIRST_PROBE_KM", first_probe)
        for _ in range(20):
            lat, lng = offset(rng.uniform(-3, 3), rng.uniform(-3, 3))
            k, radius = rng.randint(1, 10), rng.choice([1.0, 3.0, 6.0, 10.0])
            role = RoleFilter(skill)
            fast = search_candidates(lat, lng, role, k=k, radius_km=radius, now=now)
            slow = brute_force_candidates(lat, lng, role, k=k, radius_km=radius, now=now)
            assert [(c.volunteer_id, c.score_km, c.recent_load, c.flags) for c in fast] == [
                (c.volunteer_id, c.score_km, c.recent_load, c.flags) for c in slow
            ]
            penalised |= any(c.score_km > c.distance_km for c in slow)
    assert penalised


def test_location_index_follows_the_registry(people, root, open_incident, django_capture_on_commit_callbacks):
    """Volunteers imported in bulk and skills given later are dispatchable without a manual re-index."""
    from conftest import volunteer_raw

    from vetvol.registry import actions as registry_actions
    from vetvol.registry.actions.bulk import bulk_register

    lat, lng = offset(km_east=1.0)
    rows = [
        (i, {**volunteer_raw(i), "skills": "水上救援" if i == 1 else "", "lat": lat, "lng": lng})
        for i in (1, 2)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        report = bulk_register(root, rows, batch="t-index")
    assert report.written == 2
    assert VolunteerLocation.objects.filter(source="home").count() == 2
    swimmer = Skill.objects.get(code="water_rescue")
    found = search_candidates(lat, lng, RoleFilter(skill_id=swimmer.pk), k=5, radius_km=5)
    assert len(found) == 1  # only the one imported with the skill
    from vetvol.registry.models import Volunteer

    other = Volunteer.objects.get(import_batch="t-index", skills__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        registry_actions.set_skills(root, other, {"water_rescue": 2})
    found = search_candidates(lat, lng, RoleFilter(skill_id=swimmer.pk), k=5, radius_km=5)
    assert len(found) == 2


def test_only_volunteers_available_now_are_invited(people, responder, open_incident):
    """Weekly availability counts: someone who offered only weekend mornings is not asked on a Wednesday
    afternoon; someone who stated no availability is not ruled out by time."""
    from datetime import datetime

    from vetvol.registry.models import Volunteer
    from vetvol.registry.models.volunteers import availability_bit, availability_bit_at

    wednesday_afternoon = timezone.make_aware(datetime(2026, 11, 25, 15, 0))
    assert availability_bit_at(wednesday_afternoon) == availability_bit(2, 1)
    small_hours = timezone.make_aware(datetime(2026, 11, 26, 2, 0))  # Thursday 02:00: Wednesday evening
    assert availability_bit_at(small_hours) == availability_bit(2, 2)
    weekend = responder(1, {"water_rescue": 2}, km_east=0.5)
    weekday = responder(2, {"water_rescue": 2}, km_east=1.5)
    unstated = responder(3, {"water_rescue": 2}, km_east=2.5)
    Volunteer.objects.filter(pk=weekend.pk).update(
        availability=availability_bit(5, 0) | availability_bit(6, 0)
    )
    Volunteer.objects.filter(pk=weekday.pk).update(availability=availability_bit(2, 1))
    swimmer = Skill.objects.get(code="water_rescue")
    role = RoleFilter(skill_id=swimmer.pk)
    found = search_candidates(*SITE, role, k=5, radius_km=10, now=wednesday_afternoon)
    assert [c.volunteer_id for c in found] == [weekday.pk, unstated.pk]
    brute = brute_force_candidates(*SITE, role, k=5, radius_km=10, now=wednesday_afternoon)
    assert [c.volunteer_id for c in brute] == [weekday.pk, unstated.pk]
    from vetvol.dispatch.search import eligible

    assert sorted(eligible(role, wednesday_afternoon).values_list("volunteer_id", flat=True)) == sorted(
        [weekday.pk, unstated.pk]
    )


def test_volunteer_on_duty_at_an_activity_is_found_there(
    people, responder, django_capture_on_commit_callbacks
):
    """With consent to share their location on duty, a volunteer checked in at an activity near the incident
    is found there, not at their far-away home; after check-out, or once the fix is stale, home counts."""
    from vetvol.activities import actions as activity_actions
    from vetvol.dispatch.search import eligible
    from vetvol.regions import actions as region_actions

    futian = Region.objects.get(code="440304")
    centre = region_actions.create_service_centre(people.root, futian)
    project = activity_actions.create_project(
        people.futian_admin, region=futian, owner_centre=centre, name="河道清洁", domain="public_welfare",
        description="清理河道", risk_statement="临水作业注意安全",
    )  # fmt: skip
    site = offset(km_north=1.0)
    now = timezone.now()
    activity = activity_actions.create_activity(
        people.futian_admin, project, title="河道清洁", starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=3), place_name="深圳河", lat=site[0], lng=site[1], geofence_m=300,
        capacity=10, signup_opens_at=now - timedelta(days=1), signup_closes_at=now + timedelta(hours=2),
    )  # fmt: skip
    far = responder(1, {"water_rescue": 2}, km_east=40.0, consent=True)
    shy = responder(2, {"water_rescue": 2}, km_east=41.0, consent=False)
    for v in (far, shy):
        activity_actions.sign_up(v.user, activity, v)
    role = RoleFilter(skill_id=Skill.objects.get(code="water_rescue").pk)

    def nearby() -> list[int]:
        found = search_candidates(*SITE, role, k=5, radius_km=5)
        brute = brute_force_candidates(*SITE, role, k=5, radius_km=5)
        assert [c.volunteer_id for c in found] == [c.volunteer_id for c in brute]
        return [c.volunteer_id for c in found]

    assert nearby() == []
    with django_capture_on_commit_callbacks(execute=True):
        for v in (far, shy):
            activity_actions.check_in(v.user, activity, method="gps", lat=site[0], lng=site[1])
    assert nearby() == [far.pk]  # the one who shares their location; the other is looked for at home
    assert eligible(role, timezone.now()).filter(volunteer_id=far.pk).count() == 1  # one position only
    VolunteerLocation.objects.filter(volunteer=far, source="live").update(updated_at=now - timedelta(hours=1))
    assert nearby() == []  # a stale fix: home again
    VolunteerLocation.objects.filter(volunteer=far, source="live").update(updated_at=timezone.now())
    attendance = far.attendances.get()
    with django_capture_on_commit_callbacks(execute=True):
        activity_actions.check_out(far.user, attendance, method="gps")
    assert nearby() == [] and not VolunteerLocation.objects.filter(volunteer=far, source="live").exists()
