"""Sign-ups: seats never over-filled, waiting list promotion, eligibility, cancellation cut-off."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.models import Activity, SignUp
from vetvol.registry import actions as registry_actions


def test_seats_then_waiting_list_then_promotion(people, make_activity, volunteer_with_login):
    activity = make_activity(capacity=2)
    a, b, c = (volunteer_with_login(i) for i in (1, 2, 3))
    assert [actions.sign_up(v.user, activity, v).status for v in (a, b, c)] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    actions.cancel_signup(a.user, SignUp.objects.get(volunteer=a))
    assert SignUp.objects.get(volunteer=c).status == "confirmed"
    assert Activity.objects.get(pk=activity.pk).seats_taken == 2


def test_signing_up_twice_is_refused(make_activity, volunteer_with_login):
    activity = make_activity()
    v = volunteer_with_login(4)
    actions.sign_up(v.user, activity, v)
    with pytest.raises(ValidationError) as err:
        actions.sign_up(v.user, activity, v)
    assert err.value.message_dict == {"activity": ["您已报名本活动"]}


def test_eligibility_skills_certificates_age(people, make_activity, volunteer_with_login):
    activity = make_activity(min_age=18, max_age=60, skills=["first_aid"], certificates=["first_aider"])
    v = volunteer_with_login(5)  # born 1955: over 60
    with pytest.raises(ValidationError) as err:
        actions.sign_up(v.user, activity, v)
    assert err.value.message_dict["volunteer"] == [
        "本活动要求年龄不超过 60 周岁",
        "需要技能：急救",
        "需要活动当天有效的证书：红十字救护员证",
    ]


def test_certificate_must_be_valid_on_the_day(people, make_activity, volunteer_with_login):
    activity = make_activity(certificates=["first_aider"])
    v = volunteer_with_login(6)
    registry_actions.add_certificate(
        people.root, v, "first_aider", issuer="红十字会", valid_until=date.today()
    )
    with pytest.raises(ValidationError):
        actions.sign_up(v.user, activity, v)  # the activity is tomorrow
    registry_actions.add_certificate(
        people.root, v, "first_aider", issuer="红十字会", valid_until=date.today() + timedelta(days=365)
    )
    assert actions.sign_up(v.user, activity, v).status == "confirmed"


def test_cancel_after_cutoff_is_refused(make_activity, volunteer_with_login):
    activity = make_activity(starts_in=timedelta(hours=1))
    v = volunteer_with_login(7)
    signup = actions.sign_up(v.user, activity, v)
    with pytest.raises(ValidationError) as err:
        actions.cancel_signup(v.user, signup)
    assert "不能在线取消" in err.value.message_dict["signup"][0]


def test_someone_else_cannot_sign_a_volunteer_up(people, make_activity, volunteer_with_login):
    from django.core.exceptions import PermissionDenied

    activity = make_activity()
    v, w = volunteer_with_login(8), volunteer_with_login(9)
    with pytest.raises(PermissionDenied):
        actions.sign_up(w.user, activity, v)
    assert actions.sign_up(people.station_staff, activity, v).status == "confirmed"  # staff may, for them


def test_leader_approval_flow(people, make_activity, volunteer_with_login):
    activity = make_activity(capacity=1, approval="leader")
    v, w = volunteer_with_login(10), volunteer_with_login(11)
    s1, s2 = actions.sign_up(v.user, activity, v), actions.sign_up(w.user, activity, w)
    assert (s1.status, s2.status) == ("pending", "pending")
    assert actions.decide_signup(people.futian_admin, s1, True).status == "confirmed"
    assert actions.decide_signup(people.futian_admin, s2, True).status == "waitlisted"


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_for_the_last_seats_admit_exactly_the_capacity(
    people, make_activity, volunteer_with_login
):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers by design")
    activity = make_activity(capacity=3)
    volunteers = [volunteer_with_login(20 + i) for i in range(12)]
    barrier = threading.Barrier(len(volunteers))
    errors = []

    def go(v):
        try:
            barrier.wait()
            actions.sign_up(v.user, Activity.objects.get(pk=activity.pk), v)
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=go, args=(v,)) for v in volunteers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert SignUp.objects.filter(activity=activity, status="confirmed").count() == 3
    assert SignUp.objects.filter(activity=activity, status="waitlisted").count() == 9
    assert Activity.objects.get(pk=activity.pk).seats_taken == 3


def test_signup_window_is_enforced(make_activity, volunteer_with_login):
    now = timezone.now()
    activity = make_activity(
        signup_opens_at=now + timedelta(hours=1), signup_closes_at=now + timedelta(hours=2)
    )
    v = volunteer_with_login(12)
    with pytest.raises(ValidationError) as err:
        actions.sign_up(v.user, activity, v)
    assert err.value.message_dict == {"activity": ["不在报名时间内"]}
