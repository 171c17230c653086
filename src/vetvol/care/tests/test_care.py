"""Care: recipients, cases, pairing, campaigns, help requests and complaints, through the actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from vetvol.care import actions, queries
from vetvol.care.models import Case, CaseTask, HelpRequest, Recipient, Visit
from vetvol.care.tests.conftest import recipient_raw

pytestmark = pytest.mark.django_db


def test_register_recipient_encrypts_and_refuses_duplicates(people, make_recipient):
    r = make_recipient(1, actor=people.station_staff)
    assert r.number.startswith("R44")
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone, health_notes FROM care_recipient WHERE id = %s", [r.pk])
        stored = cur.fetchone()
    assert all(value.startswith("v1.") for value in stored)
    assert r.id_number not in "".join(stored)
    with pytest.raises(ValidationError) as exc:
        make_recipient(1, actor=people.station_staff)
    assert "一人一档" in exc.value.message_dict["id_number"][0]
    assert Recipient.objects.count() == 1


def test_invalid_id_and_missing_consent_write_nothing(people):
    raw = recipient_raw(3, id_number="440304194001011235", service_consent=False)
    with pytest.raises(ValidationError) as exc:
        actions.register_recipient(people.station_staff, raw)
    assert set(exc.value.message_dict) == {"id_number", "service_consent"}
    assert Recipient.objects.count() == 0


def test_district_user_never_sees_another_districts_recipient(people, make_recipient):
    r = make_recipient(4)
    assert queries.get_recipient_for_user(people.futian_admin, r.pk) == r
    with pytest.raises(Http404):
        queries.get_recipient_for_user(people.tianhe_admin, r.pk)
    with pytest.raises(PermissionDenied):
        actions.register_recipient(people.tianhe_admin, recipient_raw(5))


def test_reveal_needs_unmask_and_is_audited(people, make_recipient):
    from vetvol.core.models import AuditEntry

    r = make_recipient(6)
    assert actions.reveal(people.futian_admin, r, "health_notes") == "高血压，6 号病历"
    with pytest.raises(PermissionDenied):
        actions.reveal(people.station_staff, r, "health_notes")
    outcomes = list(
        AuditEntry.objects.filter(action="care.recipient.unmask").values_list("outcome", flat=True)
    )
    assert outcomes == ["success", "denied"]


def test_life_event_opens_case_from_plan_and_closes_once(people, make_recipient):
    r = make_recipient(7)
    case = actions.record_life_event(
        people.station_staff, r, event_type="illness", level=1, occurred_on=timezone.localdate()
    )
    assert case.plan.response_hours == 12 and case.visits_required == 4
    assert next(t.title for t in case.tasks.order_by("due_at", "id")) == "首次联系服务对象"
    assert case.tasks.count() == 4
    assert case.status == "open"
    actions.log_case_visit(
        people.station_staff,
        case,
        volunteer=None,
        visited_on=timezone.localdate(),
        mode="hospital",
        summary="医院看望",
    )
    case.refresh_from_db()
    assert case.status == "active" and case.visits_done == 1 and case.first_contact_at is not None
    actions.close_case(people.station_staff, case, outcome="resolved")
    with pytest.raises(ValidationError) as exc:
        actions.close_case(people.station_staff, case, outcome="resolved")
    assert exc.value.message_dict == {"case": ["该案件已经办结，不能重复办结"]}
    assert CaseTask.objects.filter(case=case, status="open").count() == 0


def test_overdue_cases_listed_and_rolled_up(people, make_recipient):
    r1, r2 = make_recipient(8), make_recipient(9, region="440304002")
    late = actions.record_life_event(
        people.futian_admin, r1, event_type="hardship", level=2, occurred_on=timezone.localdate()
    )
    actions.record_life_event(
        people.futian_admin, r2, event_type="hardship", level=2, occurred_on=timezone.localdate()
    )
    later = timezone.now() + timedelta(hours=49)
    assert list(queries.overdue_cases(people.futian_admin, later)) == [
        late,
        Case.objects.exclude(pk=late.pk).get(),
    ]
    actions.log_case_visit(
        people.futian_admin, late, volunteer=None, visited_on=timezone.localdate(), mode="home"
    )
    assert [c.pk for c in queries.overdue_cases(people.futian_admin, later)] == [
        Case.objects.exclude(pk=late.pk).get().pk
    ]
    rollup = queries.overdue_rollup(people.sz_admin, "4403", later)
    assert rollup == [{"child": "440304", "open": 2, "overdue": 1}]
    assert queries.overdue_rollup(people.tianhe_admin, "4403", later) == []
    # The un-visited case still owes its first contact; both cases owe the plan's three services.
    assert len(queries.overdue_tasks(people.futian_admin, later + timedelta(days=60))) == 7


def test_pairing_visit_only_for_own_pairing_and_handover(
    people, make_recipient, make_volunteer, own_volunteer
):
    r = make_recipient(10)
    pairing = actions.create_pairing(people.station_staff, own_volunteer, r, frequency_days=30)
    other = make_volunteer(12, is_party_member=True)
    other_pairing = actions.create_pairing(people.station_staff, other, make_recipient(11))
    today = timezone.localdate()
    visit = actions.log_pairing_visit(people.volunteer, pairing, visited_on=today, mode="home", minutes=60)
    pairing.refresh_from_db()
    assert pairing.next_visit_due == today + timedelta(days=30)
    assert visit.volunteer == own_volunteer
    from vetvol.activities.models import HourRecord

    record = HourRecord.objects.get(volunteer=own_volunteer)
    assert (record.source, record.minutes, record.required_level) == ("care", 60, 1)
    with pytest.raises(PermissionDenied):
        actions.log_pairing_visit(people.volunteer, other_pairing, visited_on=today, mode="home")
    with pytest.raises(ValidationError) as exc:
        actions.create_pairing(people.station_staff, other, r)
    assert "已有结对" in exc.value.message_dict["recipient"][0]
    new = actions.hand_over_pairing(people.station_staff, pairing, other, "原志愿者迁居外地")
    assert new.volunteer == other and new.handed_over_from == pairing
    assert new.next_visit_due == pairing.next_visit_due
    assert Visit.objects.count() == 1


def test_campaign_assigns_visits_near_recipients_with_continuity(people, make_recipient, make_volunteer):
    rs = [make_recipient(20 + i) for i in range(6)]
    vols = [make_volunteer(40 + i) for i in range(3)]
    start = timezone.localdate()
    campaign = actions.create_campaign(
        people.futian_admin,
        name="八一走访",
        kind="army_day",
        region_code="440304",
        categories=["veteran"],
        starts_on=start,
        ends_on=start + timedelta(days=7),
        max_visits_per_volunteer=2,
    )
    assert campaign.tasks.count() == 6
    figures = actions.assign_campaign(people.futian_admin, campaign)
    assert figures["assigned"] == 6 and figures["max_load"] == 2
    tasks = list(campaign.tasks.order_by("id"))
    assert {t.volunteer_id for t in tasks} == {v.pk for v in vols}
    assert all(t.planned_on in (start, start + timedelta(days=1)) for t in tasks)
    task = tasks[0]
    actions.log_campaign_visit(people.futian_admin, task, visited_on=start, mode="home", minutes=30)
    with pytest.raises(ValidationError):
        actions.log_campaign_visit(people.futian_admin, task, visited_on=start, mode="home")
    progress = queries.campaign_progress(people.futian_admin, campaign, 6)
    assert progress == [{"part": "440304", "total": 6, "assigned": 5, "done": 1, "unassigned": 0}]
    # next year's campaign keeps the recipient with the volunteer who visited
    again = actions.create_campaign(
        people.futian_admin,
        name="国庆走访",
        kind="national_day",
        region_code="440304",
        categories=["veteran"],
        starts_on=start,
        ends_on=start + timedelta(days=7),
        max_visits_per_volunteer=2,
    )
    actions.assign_campaign(people.futian_admin, again)
    assert again.tasks.get(recipient=task.recipient).volunteer_id == task.volunteer_id
    assert rs[0].pk


def test_help_request_flow_rated_once(people, make_recipient, own_volunteer):
    from vetvol.dispatch.locations import sync_locations

    sync_locations()
    r = make_recipient(30)
    now = timezone.now()
    req = actions.submit_help_request(
        people.station_staff,
        r,
        category="medical",
        description="陪同去医院复查",
        wanted_from=now + timedelta(hours=2),
        wanted_until=now + timedelta(hours=5),
    )
    with pytest.raises(ValidationError):
        actions.invite_volunteers(people.station_staff, req)
    actions.verify_help_request(people.station_staff, req, approved=True)
    invitations = actions.invite_volunteers(people.station_staff, req)
    assert [i.volunteer for i in invitations] == [own_volunteer]
    actions.accept_help(people.volunteer, invitations[0])
    req = actions.complete_help(people.volunteer, HelpRequest.objects.get(pk=req.pk), minutes=150)
    assert req.status == "done" and req.hour_record.minutes == 150
    actions.rate_help(people.station_staff, req, rating=5, comment="很耐心")
    with pytest.raises(ValidationError) as exc:
        actions.rate_help(people.station_staff, req, rating=4)
    assert exc.value.message_dict == {"rating": ["该服务已经评价过了，不能重复评价"]}
    assert HelpRequest.objects.get(pk=req.pk).rating == 5


def test_complaint_tracked_until_resolved(people, make_recipient):
    r = make_recipient(31)
    c = actions.file_complaint(
        people.station_staff,
        region_code="",
        channel="phone",
        complainant="家属",
        content="约好的探访没有来",
        recipient=r,
    )
    assert c.region_code == r.region_code and c.status == "open"
    actions.resolve_complaint(people.station_staff, c, "已致歉并重新安排探访")
    with pytest.raises(ValidationError):
        actions.resolve_complaint(people.station_staff, c, "再次")


def test_a_case_visit_marks_the_statistics(people, make_recipient):
    from vetvol.stats.models import DirtyMark

    r = make_recipient(11)
    case = actions.record_life_event(
        people.station_staff, r, event_type="illness", level=1, occurred_on=timezone.localdate()
    )
    DirtyMark.objects.all().delete()
    actions.log_case_visit(
        people.station_staff, case, volunteer=None, visited_on=timezone.localdate(), mode="home"
    )
    assert DirtyMark.objects.filter(region_code=r.region_code, family="care").exists()
