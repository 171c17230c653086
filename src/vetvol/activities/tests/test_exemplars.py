"""Model volunteers (先进典型): candidates ranked on hours that count, stars, missions and care visits; scoped
pages; nominated by a district, decided by the city or province by tier, never by the nominator or the
volunteer; published only with the volunteer's consent, and unpublished the moment it is withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from vetvol.activities import actions
from vetvol.activities import exemplars as rules
from vetvol.activities.models import Exemplar, ExemplarConsent, HourRecord, StarAward
from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region

FUTIAN = "440304"
TODAY = timezone.localdate()
SINCE = TODAY - timedelta(days=60)


def give_hours(people, volunteer, minutes, days_ago=1):
    """Staff-entered hours in Futian, approved by the province admin (they then count)."""
    record = actions.enter_hours(
        people.futian_admin,
        volunteer,
        region=Region.objects.get(code=FUTIAN),
        day=TODAY - timedelta(days=days_ago),
        minutes=minutes,
        content="社区巡逻",
        reason="纸质签到表补录",
    )
    actions.approve_hours(people.province_admin, record)
    return record


def nominate(people, volunteer, actor=None, **fields):
    values = dict(
        tier="county",
        category="service",
        year=TODAY.year,
        citation="十年如一日服务社区老兵。",
        since=SINCE,
        until=TODAY,
    )
    values.update(fields)
    return actions.nominate_exemplar(actor or people.futian_admin, volunteer, **values)


def with_login(volunteer):
    from vetvol.accounts.models import User

    volunteer.user = User.objects.create_user(volunteer.number, password="x")
    volunteer.save(update_fields=["user"])
    return volunteer


def _care_visit(people, volunteer, seq, days_ago=2):
    from vetvol.care import actions as care_actions
    from vetvol.care.tests.conftest import recipient_raw

    recipient = care_actions.register_recipient(people.root, recipient_raw(seq))
    pairing = care_actions.create_pairing(people.futian_admin, volunteer, recipient)
    return care_actions.log_pairing_visit(
        people.futian_admin, pairing, visited_on=TODAY - timedelta(days=days_ago), mode="phone"
    )


def _mission(people, volunteer):
    """One dispatch mission done (an incident the volunteer accepted, then closed)."""
    from vetvol.dispatch import actions as dispatch_actions
    from vetvol.dispatch.locations import sync_locations
    from vetvol.dispatch.models import Invitation
    from vetvol.registry import actions as registry_actions

    registry_actions.set_skills(people.root, volunteer, {"water_rescue": 2})
    sync_locations([volunteer.pk])
    start = timezone.now() - timedelta(hours=2)
    incident = dispatch_actions.create_incident(
        people.futian_admin,
        region=Region.objects.get(code=FUTIAN),
        roles=[{"name": "水上救援队员", "skill_code": "water_rescue", "count": 1}],
        risky=False,
        type="water_rescue",
        level=1,
        title="深圳河溺水",
        lat=22.5333,
        lng=114.05,
        now=start,
    )
    invitation = Invitation.objects.get(incident=incident, volunteer=volunteer)
    dispatch_actions.answer_invitation(volunteer.user, invitation, True, now=start)
    dispatch_actions.close_incident(people.futian_admin, incident, people_rescued=1)


@pytest.fixture
def cast(people, make_volunteer):
    """Futian volunteers with different records, one in Tianhe (Guangzhou)."""
    near = (22.5333, 114.05 + 0.01)
    a = make_volunteer(1)  # the most hours
    b = with_login(make_volunteer(2, lat=near[0], lng=near[1]))  # fewer hours, one mission
    c = make_volunteer(3, is_party_member=True)  # a care visit only (pairings are for party members)
    d = make_volunteer(4)  # hours before the period only
    t = make_volunteer(5, region="440106001")  # Tianhe
    give_hours(people, a, 600)
    give_hours(people, a, 300, days_ago=2)
    give_hours(people, b, 120)
    give_hours(people, d, 960, days_ago=200)
    give_hours(people, t, 1200)
    pending = actions.enter_hours(
        people.futian_admin,
        c,
        region=Region.objects.get(code=FUTIAN),
        day=TODAY - timedelta(days=1),
        minutes=1440,
        content="未审核",
        reason="补录",
    )
    assert pending.pk  # waits for approval: does not count
    _mission(people, b)
    _care_visit(people, c, 1)
    return type("Cast", (), {"a": a, "b": b, "c": c, "d": d, "t": t})


# Ranking ---------------------------------------------------------------------------------------------


def test_candidates_rank_by_hours_that_count_then_the_other_figures(people, cast):
    rows = list(rules.ranking(people.futian_admin, FUTIAN, SINCE, TODAY))
    ids = [r["id"] for r in rows]
    # b's dispatch hours (2 h, counted on close) add to the 2 h entered; c's only hours wait for approval.
    assert ids == [cast.a.pk, cast.b.pk]
    assert rows[0]["minutes"] == 900 and rows[0]["missions"] == 0
    assert rows[1]["minutes"] == 120 + 120 and rows[1]["missions"] == 1
    assert HourRecord.objects.filter(volunteer=cast.c).count() == 1  # there, but not counted

    by_missions = [r["id"] for r in rules.ranking(people.futian_admin, FUTIAN, SINCE, TODAY, "missions")]
    assert by_missions == [cast.b.pk]
    by_care = list(rules.ranking(people.futian_admin, FUTIAN, SINCE, TODAY, "care"))
    assert [(r["id"], r["care"]) for r in by_care] == [(cast.c.pk, 1)]
    # A longer period reaches d's old hours; a different region reaches none of Futian.
    longer = [r["id"] for r in rules.ranking(people.futian_admin, FUTIAN, TODAY - timedelta(days=365), TODAY)]
    assert longer == [cast.d.pk, cast.a.pk, cast.b.pk]
    assert [r["id"] for r in rules.ranking(people.province_admin, "4401", SINCE, TODAY)] == [cast.t.pk]
    # Futian's admin asking for the province sees only Futian's volunteers.
    assert cast.t.pk not in [r["id"] for r in rules.ranking(people.futian_admin, "44", SINCE, TODAY)]


def test_stars_rank_and_revoked_stars_do_not(people, cast, settings):
    settings.VETVOL_STAR_MIN_MONTHS = {s: 0 for s in range(1, 6)}
    for day in range(5):  # 100 hours, long before the period
        give_hours(people, cast.c, 20 * 60, days_ago=300 + day)
    actions.request_star(people.futian_admin, cast.c)
    actions.approve_star(people.sz_admin, cast.c, 1)
    rows = list(rules.ranking(people.futian_admin, FUTIAN, SINCE, TODAY, "stars"))
    assert [(r["id"], r["stars"]) for r in rows] == [(cast.c.pk, 1)]
    actions.revoke_star(people.sz_admin, StarAward.objects.get(volunteer=cast.c), "时长有误")
    assert list(rules.ranking(people.futian_admin, FUTIAN, SINCE, TODAY, "stars")) == []


CANDIDATE_QUERIES = 8


def test_candidates_page_is_scoped_and_pinned(
    client, people, cast, make_volunteer, django_assert_max_num_queries
):
    client.force_login(people.futian_admin)
    response = client.get("/activities/exemplars/candidates/", {"region": FUTIAN, "since": SINCE.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.a.number in html and cast.b.number in html and cast.t.number not in html
    assert f'href="/activities/exemplars/nominate/{cast.a.pk}/' in html
    # Another district, or a volunteer of one, is a 404 to Futian's admin; so is Tianhe to them.
    assert client.get("/activities/exemplars/candidates/", {"region": "440106"}).status_code == 404
    assert client.get(f"/activities/exemplars/nominate/{cast.t.pk}/").status_code == 404
    client.force_login(people.tianhe_admin)
    assert client.get("/activities/exemplars/candidates/", {"region": FUTIAN}).status_code == 404
    assert client.get(f"/activities/exemplars/nominate/{cast.a.pk}/").status_code == 404
    # Nobody without a county-level grant ranks or nominates.
    for user in (people.station_staff, people.volunteer, people.outsider):
        client.force_login(user)
        assert client.get("/activities/exemplars/candidates/").status_code == 403
    client.force_login(people.futian_admin)
    bad = client.get("/activities/exemplars/candidates/", {"since": "2025-13-40", "order": "<b>"})
    assert (
        bad.status_code == 400
        and "日期格式应为" in bad.content.decode()
        and "<b>" not in bad.content.decode()
    )
    # One query for the ranking, whatever the number of volunteers (session, user, grants, region, rows).
    period = {"since": SINCE.isoformat()}
    with django_assert_max_num_queries(CANDIDATE_QUERIES):
        assert client.get("/activities/exemplars/candidates/", period).status_code == 200
    for n in range(10, 30):
        give_hours(people, make_volunteer(n), 60 + n)
    with django_assert_max_num_queries(CANDIDATE_QUERIES):
        response = client.get("/activities/exemplars/candidates/", period)
    assert len(response.context["rows"]) == 22  # a, b and the twenty new ones


# Nomination and decision --------------------------------------------------------------------------------


def test_district_nominates_city_approves_with_figures_kept_and_audited(people, cast):
    e = nominate(people, cast.a)
    assert (e.status, e.approver_code, e.region_code) == ("nominated", "4403", cast.a.region_code)
    assert (e.minutes, e.stars, e.missions, e.care_visits) == (900, 0, 0, 0)
    assert AuditEntry.objects.filter(action="activities.exemplar.nominate", outcome="success").count() == 1
    # The district cannot decide its own district's nomination (the city does), nor can the nominator.
    with pytest.raises(PermissionDenied):
        actions.approve_exemplar(people.futian_admin, e)
    with pytest.raises(PermissionDenied):
        actions.approve_exemplar(people.tianhe_admin, e)  # another city's district
    approved = actions.approve_exemplar(people.sz_admin, e)
    assert approved.status == "approved" and approved.decided_by == people.sz_admin
    e.refresh_from_db()
    assert e.status == "approved" and e.decided_at is not None
    with pytest.raises(ValidationError, match="已审核"):
        actions.reject_exemplar(people.province_admin, e, "重复")
    assert AuditEntry.objects.filter(action="activities.exemplar.approve", outcome="success").count() == 1


def test_provincial_honours_are_decided_by_the_province_only(people, cast):
    e = nominate(people, cast.a, tier="province")
    assert e.approver_code == "44"
    with pytest.raises(PermissionDenied):
        actions.approve_exemplar(people.sz_admin, e)
    rejected = actions.reject_exemplar(people.province_admin, e, "  事迹材料不完整，\n请补充  ")
    assert (rejected.status, rejected.decision_reason) == ("rejected", "事迹材料不完整， 请补充")
    # A rejected nomination may be made again; a standing one may not be doubled.
    again = nominate(people, cast.a, tier="province")
    with pytest.raises(ValidationError, match="已有省级推荐"):
        nominate(people, cast.a, tier="province")
    assert Exemplar.objects.filter(volunteer=cast.a).count() == 2 and again.status == "nominated"


def test_nobody_approves_their_own_nomination_or_one_about_themselves(people, cast):
    own = nominate(people, cast.a, actor=people.sz_admin, tier="city")
    with pytest.raises(PermissionDenied):
        actions.approve_exemplar(people.sz_admin, own)
    with pytest.raises(PermissionDenied):
        actions.reject_exemplar(people.sz_admin, own, "本人撤回")
    denied = AuditEntry.objects.filter(action="activities.exemplar.approve", outcome="denied")
    assert denied.count() == 1 and denied.get().detail == {"why": "own nomination"}
    own.refresh_from_db()
    assert own.status == "nominated"
    assert actions.approve_exemplar(people.province_admin, own).status == "approved"

    # A volunteer who is also staff: neither nominates nor decides about themselves.
    me = cast.b
    me.user = people.sz_admin
    me.save(update_fields=["user"])
    with pytest.raises(PermissionDenied):
        nominate(people, me, actor=people.sz_admin)
    about_me = nominate(people, me)
    with pytest.raises(PermissionDenied):
        actions.approve_exemplar(people.sz_admin, about_me)


def test_nomination_needs_a_county_level_grant_and_clean_input(people, cast):
    with pytest.raises(PermissionDenied):
        nominate(people, cast.a, actor=people.station_staff)  # a street's staff
    with pytest.raises(PermissionDenied):
        nominate(people, cast.t)  # Futian's admin, a Tianhe volunteer
    for fields, field in [
        ({"citation": "   "}, "citation"),
        ({"citation": "字" * 1001}, "citation"),
        ({"citation": "a\x00b"}, "citation"),
        ({"tier": "nation"}, "tier"),
        ({"category": "<b>"}, "category"),
        ({"year": 1999}, "year"),
        ({"since": TODAY, "until": SINCE}, "since"),
        ({"until": TODAY + timedelta(days=1)}, "until"),
    ]:
        with pytest.raises(ValidationError) as caught:
            nominate(people, cast.a, **fields)
        assert list(caught.value.message_dict) == [field], fields
    assert not Exemplar.objects.exists()
    e = nominate(people, cast.a, citation="第一行\r\n\r\n\r\n\r\n第二行   有空格")
    assert e.citation == "第一行\n\n第二行 有空格"


def test_nominating_and_deciding_through_the_pages(client, people, cast):
    client.force_login(people.futian_admin)
    url = f"/activities/exemplars/nominate/{cast.a.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "服务时长（小时）" in page.content.decode()
    bad = client.post(
        url,
        {
            "tier": "county",
            "category": "service",
            "year": TODAY.year,
            "citation": "",
            "since": SINCE.isoformat(),
            "until": TODAY.isoformat(),
        },
    )
    assert bad.status_code == 400 and "请填写事迹简介" in bad.content.decode()
    response = client.post(
        url,
        {
            "tier": "county",
            "category": "rescue",
            "year": TODAY.year,
            "citation": "<script>alert(1)</script>救起落水群众",
            "since": SINCE.isoformat(),
            "until": TODAY.isoformat(),
        },
    )
    e = Exemplar.objects.get()
    assert response.status_code == 302 and response.url == f"/activities/exemplars/{e.pk}/"
    detail = client.get(response.url).content.decode()
    assert "&lt;script&gt;" in detail and "<script>alert" not in detail
    assert f'action="/activities/exemplars/{e.pk}/approve/"' not in detail  # not theirs to decide
    assert client.post(f"/activities/exemplars/{e.pk}/approve/").status_code == 302
    e.refresh_from_db()
    assert e.status == "nominated"
    # Another district's admin: the nomination does not exist for them.
    client.force_login(people.tianhe_admin)
    assert client.get(f"/activities/exemplars/{e.pk}/").status_code == 404
    assert client.post(f"/activities/exemplars/{e.pk}/approve/").status_code == 404
    client.force_login(people.sz_admin)
    waiting = client.get("/activities/exemplars/", {"status": "mine"}).content.decode()
    assert f'href="/activities/exemplars/{e.pk}/"' in waiting
    assert client.post(f"/activities/exemplars/{e.pk}/reject/", {"reason": ""}).status_code == 302
    e.refresh_from_db()
    assert e.status == "nominated"
    client.post(f"/activities/exemplars/{e.pk}/approve/")
    e.refresh_from_db()
    assert e.status == "approved"


def test_exemplar_list_query_count_is_pinned(
    client, people, cast, make_volunteer, django_assert_max_num_queries
):
    client.force_login(people.sz_admin)
    nominate(people, cast.a)
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get("/activities/exemplars/").status_code == 200
    for n in range(40, 55):
        nominate(people, make_volunteer(n))
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get("/activities/exemplars/")
    assert len(response.context["page"].rows) == 16


LIST_QUERIES = 9  # the staff page around it (session, user, grants, the bell …) + the page's ids and rows


# Consent ------------------------------------------------------------------------------------------------


def published_ids() -> list[int]:
    return list(Exemplar.objects.filter(rules.published_q()).values_list("pk", flat=True))


def test_published_only_with_consent_and_unpublished_when_withdrawn(people, cast):
    e = nominate(people, cast.b)
    actions.set_exemplar_consent(cast.b.user, e, granted=True, name_form="full")
    assert published_ids() == []  # consented, not yet approved
    actions.approve_exemplar(people.sz_admin, e)
    assert published_ids() == []  # cast.b never agreed to have their name published at all
    from vetvol.registry import actions as registry_actions

    registry_actions.set_consent(cast.b.user, cast.b, "publicity", True)
    assert published_ids() == [e.pk]
    actions.set_exemplar_consent(cast.b.user, e, granted=False)
    assert published_ids() == []
    e.refresh_from_db()
    assert (e.consent_granted, e.name_form) == (False, "full")
    rows = list(
        ExemplarConsent.objects.filter(exemplar=e).order_by("at", "id").values_list("granted", "by_volunteer")
    )
    assert rows == [(True, True), (False, True)]
    # Staff record a signed form; the general consent withdrawn unpublishes too, and so does leaving.
    actions.set_exemplar_consent(people.station_staff, e, granted=True, name_form="masked")
    assert published_ids() == [e.pk]
    registry_actions.set_consent(cast.b.user, cast.b, "publicity", False)
    assert published_ids() == []
    registry_actions.set_consent(people.root, cast.b, "publicity", True)
    registry_actions.change_status(people.root, cast.b, "suspended", "身体原因")
    assert published_ids() == []


def test_consent_is_the_volunteers_or_their_region_staffs_to_record(people, cast):
    e = nominate(people, cast.a)
    for stranger in (people.tianhe_admin, people.volunteer, people.outsider):
        with pytest.raises(PermissionDenied):
            actions.set_exemplar_consent(stranger, e, granted=True, name_form="full")
    with pytest.raises(ValidationError):
        actions.set_exemplar_consent(people.futian_admin, e, granted=True, name_form="<b>")
    actions.reject_exemplar(people.sz_admin, e, "材料不全")
    with pytest.raises(ValidationError, match="已驳回"):
        actions.set_exemplar_consent(people.futian_admin, e, granted=True, name_form="full")
    actions.set_exemplar_consent(people.futian_admin, e, granted=False)  # a withdrawal is always taken


def test_volunteer_gives_and_withdraws_consent_on_their_page(client, people, cast):
    e = nominate(people, cast.b)
    actions.approve_exemplar(people.sz_admin, e)
    client.force_login(cast.b.user)
    page = client.get("/activities/me/exemplars/").content.decode()
    assert "十年如一日服务社区老兵" in page and "您尚未同意公开" in page
    response = client.post(f"/activities/exemplars/{e.pk}/consent/", {"granted": "1", "name_form": "masked"})
    assert response.status_code == 302 and response.url == "/activities/me/exemplars/"
    e.refresh_from_db()
    assert e.consent_granted and e.name_form == "masked"
    client.post(f"/activities/exemplars/{e.pk}/consent/", {"granted": "0"})
    e.refresh_from_db()
    assert not e.consent_granted
    # Someone else's nomination is a 404 to a volunteer.
    other = nominate(people, cast.a)
    assert client.post(f"/activities/exemplars/{other.pk}/consent/", {"granted": "1"}).status_code == 404


def test_volunteer_is_not_in_the_list_of_others(people, cast):
    e = nominate(people, cast.a)
    assert list(rules.exemplars_for(cast.b.user)) == []
    assert list(rules.exemplars_for(people.futian_admin)) == [e]
    assert list(rules.exemplars_for(people.tianhe_admin)) == []
