"""The anomaly report finds impossible days, overlaps, unusual volumes and uncorroborated records."""

from datetime import date, timedelta

from vetvol.activities import actions, anomalies
from vetvol.regions.models import Region


def _enter(actor, v, minutes, day):
    return actions.enter_hours(
        actor,
        v,
        region=Region.objects.get(code="440304001"),
        day=day,
        minutes=minutes,
        content="走访",
        reason="纸质表补录",
    )


def test_impossible_day_and_uncorroborated(people, make_volunteer):
    v = make_volunteer(1)
    day = date.today() - timedelta(days=1)
    _enter(people.station_staff, v, 20 * 60, day)
    _enter(people.station_staff, v, 5 * 60, day)
    report = anomalies.report(people.futian_admin)
    assert [(r["volunteer__number"], r["total"]) for r in report.impossible_days] == [(v.number, 25 * 60)]
    assert len(report.uncorroborated) == 2
    assert anomalies.report(people.tianhe_admin).impossible_days == []  # not their region


def test_unusual_volume_by_one_account(people, make_volunteer, monkeypatch):
    monkeypatch.setattr(anomalies, "VOLUME_RECORDS", 3)
    vs = [make_volunteer(10 + i) for i in range(3)]
    for v in vs:
        _enter(people.station_staff, v, 60, date.today())
    report = anomalies.report(people.futian_admin)
    assert [(r["entered_by__username"], r["n"]) for r in report.volumes] == [("station_staff", 3)]


def test_overlapping_attendance(people, make_activity, volunteer_with_login):
    from django.utils import timezone

    later = timezone.now() + timedelta(hours=2)
    a = make_activity(starts_in=timedelta(minutes=-30), hours=3, signup_closes_at=later)
    b = make_activity(starts_in=timedelta(minutes=-20), hours=3, signup_closes_at=later, title="另一活动")
    v = volunteer_with_login(30)
    for act in (a, b):
        actions.sign_up(v.user, act, v)
    for act in (a, b):
        att = actions.check_in(v.user, act, method="gps", lat=22.5366, lng=114.0507, at=act.starts_at)
        actions.check_out(v.user, att, method="gps", at=act.starts_at + timedelta(hours=2))
    report = anomalies.report(people.futian_admin)
    assert [
        (r["volunteer__number"], r["activity__title"], r["volunteer__attendances__activity__title"])
        for r in report.overlaps
    ] == [(v.number, "另一活动", "福田站旅客引导")]


def test_page_for_reviewers_only(client, people):
    client.force_login(people.volunteer)
    assert client.get("/activities/anomalies/").status_code == 403
    client.force_login(people.auditor)
    assert client.get("/activities/anomalies/").status_code == 200
