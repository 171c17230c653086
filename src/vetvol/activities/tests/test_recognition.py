"""Deciding and withdrawing recognition: the star approvers' page (scoped by region and level, never one's
own), rejection with a reason, and revocation of star awards and certificates as new facts, audited, shown
on the public verification page as revoked with the date only."""

import pytest
from conftest import make_person
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from vetvol.activities import actions, certificates
from vetvol.activities.models import (
    CertificateRevocation,
    StarAward,
    StarRejection,
    StarRequest,
    StarRevocation,
)
from vetvol.activities.queries import pending_star_requests, star_requests_to_decide
from vetvol.activities.stars import awarded_stars, star_status
from vetvol.activities.tests.test_stars import give_hours
from vetvol.core.models import AuditEntry, AuditOutcome

PAGE = "/activities/stars/"


@pytest.fixture
def no_waiting(settings):
    settings.VETVOL_STAR_MIN_MONTHS = {s: 0 for s in range(1, 6)}


@pytest.fixture
def asks(people, volunteer_with_login, no_waiting):
    """asks(seq, hours, region=...): a volunteer with `hours` that count, who has asked for their stars."""

    def make(seq, hours, region="440304001"):
        v = volunteer_with_login(seq, region=region)
        give_hours(people, v, hours * 60)
        return actions.request_star(v.user, v)

    return make


def audit_rows(action, outcome=AuditOutcome.SUCCESS):
    return list(AuditEntry.objects.filter(action=action, outcome=outcome).order_by("seq"))


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def certified(people, volunteer_with_login):
    """A volunteer with 10 hours that count and a record certificate issued on them."""
    v = volunteer_with_login(40)
    give_hours(people, v, 600)
    return actions.issue_certificate(v.user, v, "record")


# The approvers' page ---------------------------------------------------------------------------------


def test_county_approver_sees_and_approves_a_one_star_request(client, people, asks):
    request = asks(50, 100)
    client.force_login(people.futian_admin)
    html = client.get(PAGE).content.decode()
    assert request.volunteer.number in html and reverse("activities:star_approve", args=[request.pk]) in html
    assert 'href="/activities/stars/"' in html  # in the menu
    response = client.post(reverse("activities:star_approve", args=[request.pk]), follow=True)
    assert messages_of(response) == [f"已认定 {request.volunteer.name} 为1星级志愿者"]
    award = StarAward.objects.get(volunteer=request.volunteer)
    assert (award.stars, award.attempt, award.approved_by, award.region_code) == (
        1,
        1,
        people.futian_admin,
        "440304",
    )
    assert [e.object_id for e in audit_rows("activities.star.approve")] == [str(request.volunteer.pk)]
    assert request.volunteer.number not in client.get(PAGE).content.decode()  # decided: off the list


def test_approver_of_another_county_sees_nothing_and_gets_404(client, people, asks):
    request = asks(51, 100)
    client.force_login(people.tianhe_admin)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert request.volunteer.number not in response.content.decode()
    assert "没有待您审核的星级申请" in response.content.decode()
    for name in ("star_approve", "star_reject"):
        url = reverse(f"activities:{name}", args=[request.pk])
        assert client.post(url, {"reason": "不符合条件"}).status_code == 404
    assert client.post(reverse("activities:star_approve", args=[999999])).status_code == 404
    assert StarAward.objects.count() == 0 and StarRejection.objects.count() == 0


def test_levels_decide_who_sees_a_request(people, asks):
    one = asks(52, 100)  # county
    three = asks(53, 600)  # city
    five = asks(54, 1500)  # province

    def listed(user):
        return sorted(r.stars for r in star_requests_to_decide(user))

    assert (one.stars, three.stars, five.stars) == (1, 3, 5)
    assert listed(people.futian_admin) == [1]
    assert listed(people.sz_admin) == [1, 3]
    assert listed(people.province_admin) == [1, 3, 5]
    assert listed(people.root) == [1, 3, 5]
    for nobody in (
        people.tianhe_admin,
        people.station_staff,
        people.team_leader,
        people.auditor,
        people.outsider,
    ):
        assert listed(nobody) == []


def test_level_above_the_approver_is_404_on_the_page(client, people, asks):
    three = asks(55, 600)
    client.force_login(people.futian_admin)
    assert client.post(reverse("activities:star_approve", args=[three.pk])).status_code == 404
    client.force_login(people.sz_admin)
    response = client.post(reverse("activities:star_approve", args=[three.pk]), follow=True)
    assert messages_of(response) == [f"已认定 {three.volunteer.name} 为3星级志愿者"]


def test_page_and_menu_only_for_those_who_can_approve(client, people, asks):
    asks(56, 100)
    for user in (people.station_staff, people.team_leader, people.outsider, people.auditor):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert 'href="/activities/stars/"' not in client.get("/activities/").content.decode()
    client.force_login(people.sz_admin)
    assert 'href="/activities/stars/"' in client.get("/activities/").content.decode()


def test_towns_without_a_county_are_decided_by_their_city(people, root, asks):
    from vetvol.regions.models import Region

    town = Region.objects.filter(parent_id="4419", level="township").order_by("code").first()
    request = asks(57, 100, region=town.code)
    dongguan = make_person(root, "dongguan_admin", "city_admin", "4419")
    town_staff = make_person(root, "town_staff", "station_staff", town.code)
    assert list(star_requests_to_decide(dongguan)) == [request]
    assert list(star_requests_to_decide(town_staff)) == []
    assert actions.approve_star(dongguan, request.volunteer, 1).region_code == "4419"


def test_nobody_decides_their_own_request_on_the_page(client, people, make_volunteer, no_waiting):
    v = make_volunteer(58)
    give_hours(people, v, 100 * 60)
    request = actions.request_star(people.futian_admin, v)  # asked by the district admin for the volunteer
    client.force_login(people.futian_admin)
    assert v.number not in client.get(PAGE).content.decode()
    response = client.post(reverse("activities:star_approve", args=[request.pk]), follow=True)
    assert messages_of(response) == ["不能审核本人提出的星级申请，请由其他工作人员审核"]
    response = client.post(reverse("activities:star_reject", args=[request.pk]), {"reason": "x"}, follow=True)
    assert messages_of(response) == ["不能审核本人提出的星级申请，请由其他工作人员审核"]
    assert StarAward.objects.count() == 0 and StarRejection.objects.count() == 0
    denied = [e.action for e in AuditEntry.objects.filter(outcome=AuditOutcome.DENIED, object_id=str(v.pk))]
    assert denied == ["activities.star.approve", "activities.star.reject"]
    client.force_login(people.sz_admin)
    assert v.number in client.get(PAGE).content.decode()  # someone else decides


def test_nobody_decides_their_own_stars(people, make_volunteer, no_waiting):
    v = make_volunteer(59)
    v.user = people.sz_admin  # a city admin who volunteers too
    v.save(update_fields=["user"])
    give_hours(people, v, 100 * 60)
    request = actions.request_star(people.station_staff, v)
    assert list(star_requests_to_decide(people.sz_admin)) == []
    with pytest.raises(PermissionDenied):
        actions.reject_star(people.sz_admin, request, "自己驳回自己")
    assert list(star_requests_to_decide(people.futian_admin)) == [request]


# Rejection ---------------------------------------------------------------------------------------------


def test_reject_needs_a_reason_and_then_the_volunteer_may_ask_again(client, people, asks):
    request = asks(60, 100)
    v = request.volunteer
    url = reverse("activities:star_reject", args=[request.pk])
    client.force_login(people.futian_admin)
    response = client.post(url, {"reason": "   "}, follow=True)
    assert messages_of(response) == ["驳回未完成：请填写理由"]
    response = client.post(url, {"reason": "长" * 201}, follow=True)
    assert messages_of(response) == ["驳回未完成：理由不能超过 200 个字"]
    assert StarRejection.objects.count() == 0
    response = client.post(url, {"reason": "服务记录待核实"}, follow=True)
    assert messages_of(response) == [f"已驳回 {v.name} 的1星级申请"]
    rejection = StarRejection.objects.get()
    assert (rejection.request, rejection.reason, rejection.rejected_by) == (
        request,
        "服务记录待核实",
        people.futian_admin,
    )
    [row] = audit_rows("activities.star.reject")
    assert row.detail["reason"] == "服务记录待核实" and row.detail["stars"] == 1
    assert list(pending_star_requests()) == []
    assert client.post(url, {"reason": "再驳回一次"}).status_code == 404  # decided: gone
    with pytest.raises(ValidationError) as err:
        actions.reject_star(people.sz_admin, request, "再驳回一次")
    assert err.value.message_dict == {"reason": ["该申请已被驳回，不能重复驳回"]}
    # The volunteer reads the reason, and may ask again: a new attempt.
    client.force_login(v.user)
    html = client.get(reverse("activities:my_certificates")).content.decode()
    assert "未通过审核，理由：服务记录待核实" in html
    response = client.post(reverse("activities:my_star_request"), follow=True)
    assert messages_of(response) == ["已提交1星级志愿者申请，请等待审核"]
    again = StarRequest.objects.get(volunteer=v, attempt=2)
    assert "等待审核" in client.get(reverse("activities:my_certificates")).content.decode()
    assert actions.approve_star(people.futian_admin, v, 1).attempt == again.attempt


def test_an_approved_request_cannot_be_rejected(people, asks):
    request = asks(61, 100)
    actions.approve_star(people.futian_admin, request.volunteer, 1)
    with pytest.raises(ValidationError) as err:
        actions.reject_star(people.sz_admin, request, "晚了")
    assert err.value.message_dict == {"reason": ["该申请已认定星级，不能再驳回"]}


def test_a_lower_request_overtaken_by_a_higher_award_leaves_the_list(
    people, volunteer_with_login, no_waiting
):
    v = volunteer_with_login(62)
    give_hours(people, v, 100 * 60)
    low = actions.request_star(v.user, v)
    give_hours(people, v, 500 * 60)
    high = actions.request_star(v.user, v)
    assert (low.stars, high.stars) == (1, 3)
    assert sorted(r.stars for r in star_requests_to_decide(people.sz_admin)) == [1, 3]
    actions.approve_star(people.sz_admin, v, 3)
    assert list(star_requests_to_decide(people.sz_admin)) == []


# Revoking stars ------------------------------------------------------------------------------------------


def test_revoked_stars_no_longer_count_and_may_be_earned_again(client, people, asks):
    request = asks(63, 100)
    v = request.volunteer
    award = actions.approve_star(people.futian_admin, v, 1)
    assert awarded_stars(v) == 1
    url = reverse("activities:star_revoke", args=[award.pk])
    for outsider in (people.outsider, people.tianhe_admin):
        client.force_login(outsider)
        assert client.post(url, {"reason": "认定有误"}).status_code == 404
    client.force_login(people.station_staff)  # sees the volunteer, may not revoke a county's award
    assert client.post(url, {"reason": "认定有误"}).status_code == 403
    client.force_login(people.futian_admin)
    page = reverse("activities:volunteer_recognition", args=[v.pk])
    assert url in client.get(page).content.decode()
    response = client.post(url, {"reason": ""}, follow=True)  # a reason is required
    assert messages_of(response)[0].startswith("撤销未完成：") and awarded_stars(v) == 1
    response = client.post(url, {"reason": "服务时长重复录入"}, follow=True)
    assert messages_of(response) == ["已撤销1星级认定"]
    assert "服务时长重复录入" in response.content.decode() and "暂未评定星级" in response.content.decode()
    assert awarded_stars(v) == 0 and star_status(v).awarded == 0
    assert StarAward.objects.filter(pk=award.pk).exists()  # the award stays; the revocation is a new row
    today = f"{timezone.localdate():%Y-%m-%d}"
    response = client.post(url, {"reason": "再撤销一次"}, follow=True)
    assert messages_of(response) == [f"撤销未完成：已于 {today} 撤销，不能重复撤销"]
    assert StarRevocation.objects.count() == 1
    [row] = audit_rows("activities.star.revoke")
    assert row.detail == {"volunteer": v.number, "stars": 1, "award": award.pk, "reason": "服务时长重复录入"}
    # Earned again later: a new request and a new award, in the next attempt.
    again = actions.request_star(v.user, v)
    assert again.attempt == 2 and list(star_requests_to_decide(people.futian_admin)) == [again]
    assert actions.approve_star(people.futian_admin, v, 1).attempt == 2
    assert awarded_stars(v) == 1


def test_revoking_stars_needs_a_reason(people, asks):
    award = actions.approve_star(people.futian_admin, asks(64, 100).volunteer, 1)
    with pytest.raises(ValidationError) as err:
        actions.revoke_star(people.futian_admin, award, " ")
    assert err.value.message_dict == {"reason": ["请填写撤销理由"]}
    assert StarRevocation.objects.count() == 0


# Revoking certificates -------------------------------------------------------------------------------------


def test_revoked_certificate_fails_public_verification_with_its_date_only(client, people, certified):
    url = certificates.verify_path(certified)
    assert client.get(url).status_code == 200
    actions.revoke_certificate(people.futian_admin, certified, "服务记录系冒名录入，已查实")
    response = client.get(url)
    assert response.status_code == 410
    body = response.content.decode()
    today = f"{timezone.localdate():%Y-%m-%d}"
    assert f"此证明已于 {today} 撤销，不再有效。" in body and "已撤销" in body
    assert certified.number in body and "核验通过" not in body
    assert "冒名" not in body and "服务记录系" not in body  # the reason stays internal
    assert not response.cookies and "csrfmiddlewaretoken" not in body
    result = certificates.verify(certified.number, certificates.check_code(certified))
    assert (result.valid, result.revoked_on) == (False, timezone.localdate())
    # A wrong check code still says nothing about the certificate, revoked or not.
    assert (
        client.get(reverse("portal:certificate", args=[certified.number]), {"s": "A" * 16}).status_code == 404
    )


def test_revoked_certificate_pdf_is_no_longer_served(client, people, certified):
    v = certified.volunteer
    pdf = reverse("activities:certificate_pdf", args=[certified.number])
    actions.revoke_certificate(people.station_staff, certified, "时长有误")
    for user in (v.user, people.futian_admin):
        client.force_login(user)
        response = client.get(pdf)
        assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
        assert not response.content.startswith(b"%PDF") and "不再提供下载" in response.content.decode()
    client.force_login(v.user)
    html = client.get(reverse("activities:my_certificates")).content.decode()
    assert pdf not in html and "撤销" in html and "时长有误" not in html


def test_revoking_a_certificate_twice_is_refused_clearly(client, people, certified):
    url = reverse("activities:certificate_revoke", args=[certified.number])
    client.force_login(people.futian_admin)
    response = client.post(url, {"reason": ""}, follow=True)
    assert messages_of(response) == ["撤销未完成：请填写理由"]
    assert CertificateRevocation.objects.count() == 0
    response = client.post(url, {"reason": "出具期间有误"}, follow=True)
    assert messages_of(response) == [f"已撤销证明 {certified.number}"]
    today = f"{timezone.localdate():%Y-%m-%d}"
    response = client.post(url, {"reason": "再撤销一次"}, follow=True)
    assert messages_of(response) == [f"撤销未完成：证明 {certified.number} 已于 {today} 撤销，不能重复撤销"]
    with pytest.raises(ValidationError):
        actions.revoke_certificate(people.sz_admin, certified, "再撤销一次")
    revocation = CertificateRevocation.objects.get()
    assert (revocation.reason, revocation.revoked_by) == ("出具期间有误", people.futian_admin)
    [row] = audit_rows("activities.certificate.revoke")
    assert row.detail == {"number": certified.number, "kind": "record", "reason": "出具期间有误"}


def test_who_may_revoke_a_certificate(client, people, certified):
    url = reverse("activities:certificate_revoke", args=[certified.number])
    for outsider in (people.outsider, people.tianhe_admin, people.team_leader):
        client.force_login(outsider)
        assert client.post(url, {"reason": "x"}).status_code == 404
        assert (
            client.get(reverse("activities:volunteer_recognition", args=[certified.volunteer_id])).status_code
            == 404
        )
    for not_allowed in (certified.volunteer.user, people.auditor):  # see the record, may not revoke
        client.force_login(not_allowed)
        assert client.post(url, {"reason": "x"}).status_code == 403
    assert (
        client.post(
            reverse("activities:certificate_revoke", args=["ZM209999999999"]), {"reason": "x"}
        ).status_code
        == 404
    )
    assert CertificateRevocation.objects.count() == 0
    assert len(audit_rows("activities.certificate.revoke", AuditOutcome.DENIED)) == 1  # the auditor's try


def test_revocations_and_rejections_are_append_only(people, asks, certified):
    request = asks(65, 100)
    rejection = actions.reject_star(people.futian_admin, request, "待核实")
    award = actions.approve_star(people.futian_admin, asks(66, 100).volunteer, 1)
    revocation = actions.revoke_star(people.futian_admin, award, "有误")
    withdrawn = actions.revoke_certificate(people.futian_admin, certified, "有误")
    for model, row in (
        (StarRejection, rejection),
        (StarRevocation, revocation),
        (CertificateRevocation, withdrawn),
        (StarAward, award),  # still guarded after the migration that rebuilt the table
        (StarRequest, request),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=row.pk).update(region_code="44")
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(pk=row.pk).delete()


def test_recognition_page_shows_revocation_forms_only_to_who_may_use_them(client, people, certified):
    page = reverse("activities:volunteer_recognition", args=[certified.volunteer_id])
    form = reverse("activities:certificate_revoke", args=[certified.number])
    client.force_login(people.auditor)
    response = client.get(page)
    assert response.status_code == 200 and form not in response.content.decode()
    client.force_login(people.station_staff)
    assert form in client.get(page).content.decode()


def test_star_page_query_count_is_pinned(client, people, asks, django_assert_max_num_queries):
    for seq in range(70, 76):
        asks(seq, 100)
    client.force_login(people.futian_admin)
    client.get(PAGE)
    with django_assert_max_num_queries(6):  # five for the page, one for the inbox bell
        response = client.get(PAGE)
    assert response.content.decode().count('/approve/"') == 6
    assert response.status_code == 200


def test_bad_page_numbers_do_not_break_the_page(client, people):
    client.force_login(people.futian_admin)
    for page in ("0", "-1", "abc", "²", "9" * 40, "99999999"):
        assert client.get(PAGE, {"page": page}).status_code == 200, page
