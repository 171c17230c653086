"""Star ratings: hours that count (one place), the thresholds to the minute, registration periods, and
approval by the right region level, never by the volunteer themselves or by whoever asked."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities.actions.attendance import ecard_token
from vetvol.activities.models import HourRecord, StarAward
from vetvol.activities.queries import effective_minutes, effective_records, hours_label
from vetvol.activities.stars import add_months, approving_region, eligible_stars, registered_on, star_status
from vetvol.regions.models import Region

FUTIAN = "440304"
LATER = timezone.localdate() + timedelta(days=3 * 366)  # every registration period long met


def give_hours(people, volunteer, minutes):
    """`minutes` of service through the real actions: staff entry (Futian), approved by a second person
    (the province admin, who covers every approval level). One record a day, going back from yesterday."""
    region = Region.objects.get(code=FUTIAN)
    offset = HourRecord.objects.filter(volunteer=volunteer).count() + 1
    while minutes > 0:
        chunk = min(minutes, 24 * 60)
        record = actions.enter_hours(
            people.futian_admin,
            volunteer,
            region=region,
            day=timezone.localdate() - timedelta(days=offset),
            minutes=chunk,
            content="社区巡逻",
            reason="纸质签到表补录",
        )
        actions.approve_hours(people.province_admin, record)
        minutes -= chunk
        offset += 1


@pytest.fixture
def no_waiting(settings):
    """Registration periods off, for tests about approval rather than time."""
    settings.VETVOL_STAR_MIN_MONTHS = {s: 0 for s in range(1, 6)}


# Counting hours ---------------------------------------------------------------------------------------


def test_only_records_that_count_are_counted(people, make_volunteer):
    v = make_volunteer(1)
    region = Region.objects.get(code=FUTIAN)
    yesterday = timezone.localdate() - timedelta(days=1)

    def enter(minutes, days_ago=1):
        return actions.enter_hours(
            people.futian_admin,
            v,
            region=region,
            day=yesterday - timedelta(days=days_ago),
            minutes=minutes,
            content="敬老院探访",
            reason="补录",
        )

    pending = enter(60, 1)
    assert effective_minutes(v) == 0  # waiting for approval
    actions.approve_hours(people.sz_admin, pending)
    assert effective_minutes(v) == 60
    rejected = enter(120, 2)
    actions.approve_hours(people.sz_admin, rejected, approved=False)
    assert effective_minutes(v) == 60
    corrected = enter(240, 3)
    actions.approve_hours(people.sz_admin, corrected)
    assert effective_minutes(v) == 300
    correction = actions.correct_hours(people.futian_admin, corrected, minutes=180, reason="多算了一小时")
    assert effective_minutes(v) == 60  # the old record is superseded, the correction waits for approval
    actions.approve_hours(people.sz_admin, correction)
    assert effective_minutes(v) == 240
    assert [r.minutes for r in effective_records(v)] == [180, 60]  # by service date
    assert effective_minutes(v, until=yesterday - timedelta(days=2)) == 180


def test_checked_in_hours_count_without_approval(people, make_activity, volunteer_with_login):
    now = timezone.now()
    activity = make_activity(
        starts_in=-timedelta(hours=2), hours=4, signup_closes_at=now + timedelta(hours=1)
    )
    v = volunteer_with_login(2)
    actions.sign_up(v.user, activity, v)
    attendance = actions.check_in(
        people.futian_admin, activity, method="organiser_scan", ecard=ecard_token(v), at=activity.starts_at
    )
    actions.check_out(
        people.futian_admin,
        attendance,
        method="organiser_scan",
        at=activity.starts_at + timedelta(hours=1, minutes=35),
    )
    assert effective_minutes(v) == 90  # rounded down to 15 minutes


def test_hours_label_never_rounds_up():
    assert [hours_label(m) for m in (5999, 6000, 90, 1, 0)] == ["99.98", "100", "1.5", "0.01", "0"]


# Thresholds and registration periods ------------------------------------------------------------------


def test_stars_exactly_at_the_thresholds(people, make_volunteer):
    v = make_volunteer(3)
    steps = [
        (99 * 60 + 59, 0),
        (100 * 60, 1),
        (300 * 60 - 1, 1),
        (300 * 60, 2),
        (600 * 60 - 1, 2),
        (600 * 60, 3),
        (1000 * 60 - 1, 3),
        (1000 * 60, 4),
        (1500 * 60 - 1, 4),
        (1500 * 60, 5),
    ]
    total = 0
    for minutes, stars in steps:
        give_hours(people, v, minutes - total)
        total = minutes
        assert (effective_minutes(v), eligible_stars(v, LATER)) == (minutes, stars)


def test_registration_periods_gate_each_level(people, make_volunteer):
    v = make_volunteer(4)
    give_hours(people, v, 1500 * 60)
    registered = registered_on(v)
    day = timedelta(days=1)
    assert eligible_stars(v, registered) == 0
    assert eligible_stars(v, add_months(registered, 6) - day) == 0
    assert eligible_stars(v, add_months(registered, 6)) == 2  # 1 and 2 stars: six months
    assert eligible_stars(v, add_months(registered, 12) - day) == 2
    assert eligible_stars(v, add_months(registered, 12)) == 4  # 3 and 4 stars: one year
    assert eligible_stars(v, add_months(registered, 24) - day) == 4
    assert eligible_stars(v, add_months(registered, 24)) == 5  # 5 stars: two years


def test_registration_periods_come_from_the_setting_at_call_time(people, make_volunteer, settings):
    v = make_volunteer(5)
    give_hours(people, v, 300 * 60)
    registered = registered_on(v)
    assert eligible_stars(v, add_months(registered, 3)) == 0
    settings.VETVOL_STAR_MIN_MONTHS = {1: 3, 2: 3}
    assert eligible_stars(v, add_months(registered, 3)) == 2


def test_months_are_added_as_people_count_them():
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2023, 8, 31), 6) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 24) == date(2027, 11, 15)


def test_status_says_what_is_missing(people, make_volunteer):
    v = make_volunteer(6)
    give_hours(people, v, 250 * 60)
    status = star_status(v, LATER)
    assert (status.awarded, status.eligible, status.next_stars, status.next_minutes) == (0, 1, 2, 50 * 60)
    assert status.may_request


# Requests and approvals ---------------------------------------------------------------------------------


def test_request_needs_the_hours(people, volunteer_with_login, no_waiting):
    v = volunteer_with_login(7)
    give_hours(people, v, 99 * 60 + 59)
    with pytest.raises(ValidationError) as err:
        actions.request_star(v.user, v)
    assert err.value.message_dict["stars"] == ["申请1星级志愿者：还需 0.01 小时服务时长"]


def test_one_star_is_approved_by_the_county_level(people, volunteer_with_login, no_waiting):
    v = volunteer_with_login(8)
    give_hours(people, v, 100 * 60)
    request = actions.request_star(v.user, v)
    assert request.stars == 1 and actions.request_star(v.user, v) == request  # asking twice: the same request
    for wrong in (people.station_staff, people.tianhe_admin, people.team_leader, people.outsider, v.user):
        with pytest.raises(PermissionDenied):
            actions.approve_star(wrong, v, 1)
    award = actions.approve_star(people.futian_admin, v, 1)
    assert (award.stars, award.region_code, award.minutes_at_award) == (1, FUTIAN, 6000)
    assert award.requested_at == request.requested_at
    with pytest.raises(ValidationError):
        actions.approve_star(people.sz_admin, v, 1)  # once
    with pytest.raises(ValidationError):
        actions.request_star(v.user, v)  # nothing more to ask for


def test_three_stars_need_the_city(people, volunteer_with_login, no_waiting):
    v = volunteer_with_login(9)
    give_hours(people, v, 600 * 60)
    assert actions.request_star(v.user, v).stars == 3
    with pytest.raises(PermissionDenied):
        actions.approve_star(people.futian_admin, v, 3)  # county level: 1–2 stars only
    assert actions.approve_star(people.sz_admin, v, 3).region_code == "4403"
    assert StarAward.objects.filter(volunteer=v).count() == 1


def test_five_stars_need_the_province(people, volunteer_with_login, no_waiting):
    v = volunteer_with_login(10)
    give_hours(people, v, 1500 * 60)
    actions.request_star(people.station_staff, v)  # staff may ask for the volunteer
    with pytest.raises(PermissionDenied):
        actions.approve_star(people.sz_admin, v, 5)
    assert actions.approve_star(people.province_admin, v, 5).region_code == "44"


def test_nobody_approves_their_own_stars_or_their_own_request(people, make_volunteer, no_waiting):
    v = make_volunteer(11)
    v.user = people.futian_admin  # a district admin who volunteers too
    v.save(update_fields=["user"])
    give_hours(people, v, 100 * 60)
    actions.request_star(people.futian_admin, v)
    with pytest.raises(PermissionDenied):
        actions.approve_star(people.futian_admin, v, 1)
    w = make_volunteer(12)
    give_hours(people, w, 100 * 60)
    actions.request_star(people.futian_admin, w)
    with pytest.raises(PermissionDenied):
        actions.approve_star(people.futian_admin, w, 1)  # asked for it: someone else decides
    assert actions.approve_star(people.sz_admin, w, 1).approved_by == people.sz_admin


def test_approval_checks_the_rules_again(people, volunteer_with_login, settings):
    v = volunteer_with_login(13)
    give_hours(people, v, 100 * 60)
    with pytest.raises(ValidationError):
        actions.request_star(v.user, v)  # registered today: six months to wait
    settings.VETVOL_STAR_MIN_MONTHS = {1: 0}
    actions.request_star(v.user, v)
    settings.VETVOL_STAR_MIN_MONTHS = {1: 6}
    with pytest.raises(ValidationError):
        actions.approve_star(people.futian_admin, v, 1)
    with pytest.raises(ValidationError):
        actions.approve_star(people.futian_admin, v, 2)  # never asked for


def test_towns_without_a_county_are_approved_by_their_city(regions, make_volunteer):
    town = Region.objects.filter(parent_id="4419", level="township").order_by("code").first()
    v = make_volunteer(14, region=town.code)
    assert [approving_region(v, s) for s in (1, 2, 3, 5)] == ["4419", "4419", "4419", "44"]
    w = make_volunteer(15)
    assert [approving_region(w, s) for s in (1, 2, 3, 4, 5)] == [FUTIAN, FUTIAN, "4403", "4403", "44"]
