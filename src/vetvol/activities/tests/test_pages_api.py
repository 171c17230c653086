"""Activity pages and API: sign-up with the risk statement, idempotent check-in replays, the phone page."""

import json
from datetime import timedelta

import pytest

from vetvol.activities import actions
from vetvol.activities.models import Attendance, SignUp


@pytest.fixture
def running(make_activity, volunteer_with_login):
    """An activity that started twenty minutes ago, and a confirmed volunteer."""
    from django.utils import timezone

    activity = make_activity(
        starts_in=timedelta(minutes=-20), hours=3, signup_closes_at=timezone.now() + timedelta(hours=2)
    )
    v = volunteer_with_login(1)
    actions.sign_up(v.user, activity, v)
    return activity, v


def _check_in(client, activity, key, **body):
    payload = {"method": "gps", "lat": 22.5366, "lng": 114.0507, **body}
    return client.post(
        f"/api/activities/{activity.pk}/check-in",
        json.dumps(payload),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_check_in_replay_returns_the_first_answer_and_creates_nothing(client, running):
    activity, v = running
    client.force_login(v.user)
    first = _check_in(client, activity, "phone-key-0001")
    assert first.status_code == 201
    again = _check_in(client, activity, "phone-key-0001")
    assert (again.status_code, again.json()) == (201, first.json())
    assert Attendance.objects.filter(volunteer=v).count() == 1


def test_same_key_with_another_body_is_409(client, running):
    activity, v = running
    client.force_login(v.user)
    assert _check_in(client, activity, "phone-key-0002").status_code == 201
    response = _check_in(client, activity, "phone-key-0002", lat=22.5)
    assert response.status_code == 409
    assert response.json()["detail"] == "该 Idempotency-Key 已用于另一个不同的请求"


def test_second_check_in_with_a_new_key_is_refused_and_audited_once(client, running):
    from vetvol.core import audit
    from vetvol.core.models import AuditEntry, IdempotencyKey

    activity, v = running
    client.force_login(v.user)
    first = _check_in(client, activity, "phone-key-0006")
    assert first.status_code == 201
    assert first.json()["volunteer_number"] == v.number
    response = _check_in(client, activity, "phone-key-0007")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "volunteer", "message": "已经签到过了"}]
    assert Attendance.objects.filter(volunteer=v).count() == 1
    assert AuditEntry.objects.filter(action="activities.check_in").count() == 1
    assert IdempotencyKey.objects.filter(key__startswith="phone-key-000").count() == 1
    assert audit.verify().ok


def test_check_in_by_bearer_token(client, running):
    from vetvol.accounts.actions import create_api_token

    activity, v = running
    _, plain = create_api_token(v.user, "签到 App")
    response = client.post(
        f"/api/activities/{activity.pk}/check-in",
        json.dumps({"method": "gps", "lat": 22.5366, "lng": 114.0507}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="token-key-0001",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201
    attendance = Attendance.objects.get(volunteer=v)
    assert (attendance.recorded_by_id, attendance.signup_id) == (
        v.user.pk,
        SignUp.objects.get(volunteer=v, activity=activity).pk,
    )
    assert response.json()["attendance_id"] == attendance.pk


def test_check_in_needs_a_key_and_reports_field_errors(client, running):
    activity, v = running
    client.force_login(v.user)
    response = client.post(
        f"/api/activities/{activity.pk}/check-in",
        json.dumps({"method": "gps"}),
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "Idempotency-Key"
    response = _check_in(client, activity, "phone-key-0003", lat=None, lng=None)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "position"
    assert Attendance.objects.count() == 0


def test_failed_attempt_is_not_replayed(client, running):
    activity, v = running
    client.force_login(v.user)
    assert _check_in(client, activity, "phone-key-0004", method="volunteer_scan", code="x").status_code == 422
    assert _check_in(client, activity, "phone-key-0005").status_code == 201


def test_check_out_records_hours(client, running):
    activity, v = running
    client.force_login(v.user)
    actions.check_in(
        v.user,
        activity,
        method="gps",
        lat=22.5366,
        lng=114.0507,
        at=activity.starts_at - timedelta(minutes=30),
    )  # early: counted from the start only
    response = client.post(
        f"/api/activities/{activity.pk}/check-out",
        json.dumps({"method": "gps"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="phone-key-0007",
    )
    assert response.status_code == 201 and response.json()["checked_out_at"]
    hours = client.get("/api/activities/me/hours").json()
    assert [(h["source"], h["minutes"], h["standing"]) for h in hours] == [("checkin", 15, "counted")]


def test_sign_up_page_requires_acknowledging_the_risk(client, make_activity, volunteer_with_login):
    activity = make_activity()
    v = volunteer_with_login(2)
    client.force_login(v.user)
    html = client.get(f"/activities/{activity.pk}/").content.decode()
    assert "人流密集，注意踩踏风险" in html
    client.post(f"/activities/{activity.pk}/sign-up/")
    assert SignUp.objects.count() == 0
    client.post(f"/activities/{activity.pk}/sign-up/", {"risk_ack": "1"})
    assert SignUp.objects.get().status == "confirmed"


def test_form_resubmission_checks_in_once(client, running):
    activity, v = running
    client.force_login(v.user)
    form = {"what": "in", "lat": "22.5366", "lng": "114.0507", "form_key": "form-key-0001"}
    client.post(f"/activities/{activity.pk}/gps/", form)
    client.post(f"/activities/{activity.pk}/gps/", form)
    assert Attendance.objects.filter(volunteer=v).count() == 1
    html = client.get("/activities/me/").content.decode()
    assert v.number in html and "我的电子证" in html


def test_organiser_sees_the_rotating_code_and_outsiders_do_not(client, people, running):
    activity, _ = running
    client.force_login(people.futian_admin)
    assert client.get(f"/activities/{activity.pk}/code/").status_code == 200
    client.force_login(people.tianhe_admin)
    assert client.get(f"/activities/{activity.pk}/code/").status_code == 404
