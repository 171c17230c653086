"""Hour records: computed from attendance, append-only in the database, the 8/12-hour rules, approvals."""

from datetime import UTC, date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.models import HourRecord
from vetvol.regions.models import Region


@pytest.fixture
def attended(people, make_activity, volunteer_with_login):
    """A volunteer signed up, checked in by GPS at the start and out 3 h 10 min later.

    The activity started 3.5 hours ago, so its hours fall on a day that has begun whatever the local time
    (a shift in the future could end tomorrow in Shanghai, and a correction refuses future service dates).
    """
    activity = make_activity(
        starts_in=-timedelta(hours=3, minutes=30),
        hours=4,
        signup_closes_at=timezone.now() + timedelta(minutes=10),
    )
    v = volunteer_with_login(1)
    actions.sign_up(v.user, activity, v)
    attendance = actions.check_in(
        v.user, activity, method="gps", lat=22.5367, lng=114.0508, at=activity.starts_at
    )
    actions.check_out(
        v.user, attendance, method="gps", at=activity.starts_at + timedelta(hours=3, minutes=10)
    )
    return v, activity


def test_hours_from_checkin_are_rounded_and_count_directly(attended):
    v, _ = attended
    record = HourRecord.objects.get(volunteer=v)
    assert (record.source, record.minutes, record.required_level) == ("checkin", 180, None)


def test_raw_sql_cannot_update_or_delete_hour_records(attended):
    v, _ = attended
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE activities_hourrecord SET minutes = 6000")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM activities_hourrecord")
    assert list(HourRecord.objects.filter(volunteer=v).values_list("minutes", flat=True)) == [180]


def _enter(people, v, minutes, day=None):
    return actions.enter_hours(
        people.station_staff,
        v,
        region=Region.objects.get(code="440304001"),
        day=day or date.today(),
        minutes=minutes,
        content="社区走访",
        reason="纸质签到表补录",
    )


def test_eight_and_twelve_hour_rules(people, make_volunteer):
    v = make_volunteer(2)
    first = _enter(people, v, 7 * 60)  # staff entry: the organiser approves
    assert first.required_level == 1
    second = _enter(people, v, 2 * 60)  # 9 h that day: the organiser's parent
    assert second.required_level == 2
    third = _enter(people, v, 4 * 60)  # 13 h: a higher level
    assert third.required_level == 3


def test_approval_levels_and_nobody_approves_their_own(people, make_volunteer):
    v = make_volunteer(3)
    record = _enter(people, v, 9 * 60)  # station level organiser (南园街道) → parent is Futian district
    with pytest.raises(PermissionDenied):
        actions.approve_hours(people.station_staff, record)  # entered it; and only street-level anyway
    with pytest.raises(PermissionDenied):
        actions.approve_hours(people.tianhe_admin, record)
    approval = actions.approve_hours(people.futian_admin, record)
    assert (approval.level, approval.region_code) == (2, "440304")
    with pytest.raises(ValidationError):
        actions.approve_hours(people.sz_admin, record)  # decided already


def test_volunteer_cannot_approve_own_hours(people, make_volunteer):
    v = make_volunteer(4)
    v.user = people.futian_admin
    v.save(update_fields=["user"])
    record = _enter(people, v, 60)
    with pytest.raises(PermissionDenied):
        actions.approve_hours(people.futian_admin, record)


def test_backfill_needs_evidence(people, make_volunteer):
    v = make_volunteer(5)
    with pytest.raises(ValidationError) as err:
        actions.backfill_hours(
            people.futian_admin,
            v,
            region=Region.objects.get(code="440304"),
            day=date.today(),
            minutes=120,
            content="抗洪抢险",
            reason="紧急出动未签到",
            evidence="",
        )
    assert list(err.value.message_dict) == ["evidence"]
    record = actions.backfill_hours(
        people.futian_admin,
        v,
        region=Region.objects.get(code="440304"),
        day=date.today(),
        minutes=120,
        content="抗洪抢险",
        reason="紧急出动未签到",
        evidence="现场照片 3 张，盖章签到表",
    )
    assert (record.source, record.required_level) == ("backfill", 1)


def test_correction_is_a_new_row_referencing_the_old(people, attended):
    v, _ = attended
    original = HourRecord.objects.get(volunteer=v)
    fixed = actions.correct_hours(people.futian_admin, original, minutes=150, reason="签退时间有误")
    assert fixed.corrects_id == original.pk and original.minutes == 180
    with pytest.raises(ValidationError):
        actions.correct_hours(people.futian_admin, original, minutes=120, reason="再次更正")


def test_forgotten_checkout_is_closed_and_flagged(people, make_activity, volunteer_with_login):
    activity = make_activity(starts_in=timedelta(minutes=10), hours=2)
    v = volunteer_with_login(6)
    actions.sign_up(v.user, activity, v)
    actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)
    assert actions.close_forgotten(activity, now=activity.ends_at + timedelta(minutes=1)) == 1
    record = HourRecord.objects.get(volunteer=v)
    assert (record.minutes, record.required_level) == (
        120,
        1,
    )  # waits for the organiser: not credited silently
    assert v.attendances.get().needs_review is True


def test_checkin_rules(people, make_activity, volunteer_with_login):
    activity = make_activity(starts_in=timedelta(minutes=10), hours=2, fence_policy="refuse")
    v = volunteer_with_login(7)
    with pytest.raises(ValidationError) as err:
        actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)
    assert err.value.message_dict["volunteer"] == ["该志愿者未被录取参加本活动"]
    actions.sign_up(v.user, activity, v)
    with pytest.raises(ValidationError) as err:
        actions.check_in(v.user, activity, method="gps", lat=22.55, lng=114.0507, at=activity.starts_at)
    assert err.value.message_dict["position"][0].startswith("您距离活动地点约 1")
    with pytest.raises(ValidationError) as err:
        actions.check_in(v.user, activity, method="volunteer_scan", code="1-bad", at=activity.starts_at)
    assert list(err.value.message_dict) == ["code"]
    attendance = actions.check_in(
        v.user, activity, method="volunteer_scan", code=actions.rotating_code(activity), at=activity.starts_at
    )
    assert attendance.in_method == "volunteer_scan"


def test_organiser_scans_the_ecard(people, make_activity, volunteer_with_login):
    from vetvol.activities.actions.attendance import ecard_token

    activity = make_activity(starts_in=timedelta(minutes=10))
    v = volunteer_with_login(8)
    actions.sign_up(v.user, activity, v)
    with pytest.raises(PermissionDenied):
        actions.check_in(people.tianhe_admin, activity, method="organiser_scan", ecard=ecard_token(v))
    attendance = actions.check_in(
        people.futian_admin, activity, method="organiser_scan", ecard=ecard_token(v), at=activity.starts_at
    )
    assert attendance.volunteer_id == v.pk


def test_insurance_gate_for_risky_activities(people, make_activity, volunteer_with_login, project):
    project.insurance_required = True
    project.save(update_fields=["insurance_required"])
    activity = make_activity(starts_in=timedelta(minutes=10))
    v = volunteer_with_login(9)
    actions.sign_up(v.user, activity, v)
    with pytest.raises(ValidationError) as err:
        actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)
    assert err.value.message_dict["volunteer"] == ["本活动有风险，须有当天有效的意外保险才能签到"]
    today = timezone.localdate()
    actions.add_insurance(
        people.station_staff,
        v,
        insurer="中国人寿",
        policy_number="P-001",
        valid_from=today,
        valid_until=today + timedelta(days=30),
    )
    assert actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)


def test_insurance_must_cover_the_local_day_of_the_start(
    people, make_activity, volunteer_with_login, project
):
    """An activity starting at 00:30 Beijing time starts on the previous day in UTC: the policy must cover
    the local day (the check-in's query works the day out in the database)."""
    project.insurance_required = True
    project.save(update_fields=["insurance_required"])
    local_midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    activity = make_activity(starts_in=local_midnight + timedelta(days=2, minutes=30) - timezone.now())
    local_day = timezone.localtime(activity.starts_at).date()
    utc_day = local_day - timedelta(days=1)
    assert activity.starts_at.astimezone(UTC).date() == utc_day
    v = volunteer_with_login(9)
    actions.sign_up(v.user, activity, v)
    insurance = {"insurer": "中国人寿"}
    actions.add_insurance(
        people.station_staff, v, policy_number="P-UTC", valid_from=utc_day, valid_until=utc_day, **insurance
    )
    with pytest.raises(ValidationError) as err:
        actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)
    assert "本活动有风险，须有当天有效的意外保险才能签到" in err.value.message_dict["volunteer"]
    actions.add_insurance(
        people.station_staff,
        v,
        policy_number="P-CST",
        valid_from=local_day,
        valid_until=local_day,
        **insurance,
    )
    assert actions.check_in(v.user, activity, method="gps", lat=22.5366, lng=114.0507, at=activity.starts_at)
