"""Visit summaries (探访内容) hold health and hardship details. Those who do the work read them as written: the
visit's author, and the owner and the staff and social workers of an open case's team. Anyone else who may
see the recipient or the case sees them hidden: a viewer with the unmask right (or the owner of a closed
case) reveals one at a time, audited; the rest (auditors, other volunteers) may not. Pages and API alike."""

from __future__ import annotations

import pytest
from conftest import make_person
from django.utils import timezone

from vetvol.care import actions
from vetvol.care.actions.visits import HIDDEN, PLAIN, REVEAL
from vetvol.core.models import AuditEntry

pytestmark = pytest.mark.django_db

CASE_NOTE = "糖尿病足，需每周上门换药"
PAIRING_NOTE = "老人腿脚不便，独自在家"
CARE = "/api/care"


@pytest.fixture
def cared(people, make_recipient, own_volunteer):
    """A recipient in 南园街道 with an open case (owned by the station staff, a Futian social worker on its
    team) with one visit, and a pairing with the `volunteer` login who logged a visit of their own."""
    r = make_recipient(11)
    worker = make_person(people.root, "futian_worker", "social_worker", "440304")
    case = actions.record_life_event(
        people.station_staff, r, event_type="illness", level=1, occurred_on=timezone.localdate()
    )
    actions.add_case_member(people.station_staff, case, user=worker)
    case_visit = actions.log_case_visit(
        people.station_staff,
        case,
        volunteer=None,
        visited_on=timezone.localdate(),
        mode="home",
        summary=CASE_NOTE,
    )
    pairing = actions.create_pairing(people.station_staff, own_volunteer, r)
    pairing_visit = actions.log_pairing_visit(
        people.volunteer, pairing, visited_on=timezone.localdate(), mode="phone", summary=PAIRING_NOTE
    )
    return r, case, worker, case_visit, pairing_visit


def _unmasks():
    return [
        (e.actor.username, e.outcome, e.object_id, e.detail)
        for e in AuditEntry.objects.filter(action="care.visit.unmask").order_by("id")
    ]


def _api_reveal(client, case, visit_id, field="summary"):
    return client.post(
        f"{CARE}/cases/{case.pk}/reveal",
        {"visit_id": visit_id, "field": field},
        content_type="application/json",
    )


def test_who_reads_which_summary(people, cared):
    r, _, worker, case_visit, pairing_visit = cared
    visits = [case_visit, pairing_visit]
    expect = {
        # the case owner; the pairing visit through the recipient's rule (owner of an open case of theirs)
        people.station_staff: (PLAIN, REVEAL),
        worker: (PLAIN, HIDDEN),  # on the case team; no unmask right, not the recipient's case owner
        people.volunteer: (HIDDEN, PLAIN),  # their own visit only
        people.futian_admin: (REVEAL, REVEAL),  # may unmask in the district: one audited reveal away
        people.auditor: (HIDDEN, HIDDEN),  # reads everything in scope but personal details
        people.tianhe_admin: (HIDDEN, HIDDEN),
    }
    for user, (on_case, on_pairing) in expect.items():
        got = actions.visit_access(user, r, visits)
        assert got == {case_visit.pk: on_case, pairing_visit.pk: on_pairing}, user.username


def test_case_page_shows_summary_to_its_workers_and_hides_it_from_other_viewers(client, people, cared):
    _, case, worker, case_visit, _ = cared
    url = f"/care/cases/{case.pk}/"
    button = f'hx-post="/care/cases/{case.pk}/visits/{case_visit.pk}/reveal/summary/"'
    for user in (people.station_staff, worker):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert CASE_NOTE in page and button not in page
    for user, can_reveal in (
        (people.futian_admin, True),
        (people.province_admin, True),
        (people.auditor, False),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert page.count(CASE_NOTE) == 0 and (button in page) is can_reveal, user.username
        assert ("无权查看" in page) is not can_reveal
    assert _unmasks() == []  # reading a page reveals nothing


def test_case_page_reveal_is_audited_and_scoped(client, people, cared):
    _, case, _, case_visit, pairing_visit = cared
    url = f"/care/cases/{case.pk}/visits/{case_visit.pk}/reveal/summary/"
    client.force_login(people.futian_admin)
    assert client.get(url).status_code == 405
    resp = client.post(url)
    assert (
        resp.status_code == 200
        and resp.content.decode().strip() == f'<span class="revealed">{CASE_NOTE}</span>'
    )
    assert _unmasks() == [("futian_admin", "success", str(case_visit.pk), {"field": "summary"})]
    # a visit that is not the case's, or a field that is not revealable: as if it did not exist
    assert client.post(f"/care/cases/{case.pk}/visits/{pairing_visit.pk}/reveal/summary/").status_code == 404
    assert client.post(f"/care/cases/{case.pk}/visits/{case_visit.pk}/reveal/mode/").status_code == 404
    client.force_login(people.auditor)
    assert client.post(url).status_code == 403
    assert _unmasks()[-1][:2] == ("auditor", "denied")
    for user in (people.tianhe_admin, people.outsider, people.volunteer):
        client.force_login(user)
        assert client.post(url).status_code == 404
    client.logout()
    assert client.post(url).status_code == 302
    assert [o for _, o, _, _ in _unmasks()] == ["success", "denied"]


def test_recipient_page_visits_follow_the_same_rule(client, people, cared):
    r, _, _, case_visit, pairing_visit = cared
    url = f"/care/recipients/{r.pk}/"
    reveal = f"/care/recipients/{r.pk}/visits/{{}}/reveal/summary/"
    client.force_login(people.volunteer)  # the paired volunteer: their own visit, not the case's
    page = client.get(url).content.decode()
    assert PAIRING_NOTE in page and CASE_NOTE not in page and "hx-post" not in page
    assert client.post(reveal.format(case_visit.pk)).status_code == 403
    client.force_login(people.station_staff)  # owner of the open case: its visit as written, the other hidden
    page = client.get(url).content.decode()
    assert CASE_NOTE in page and PAIRING_NOTE not in page
    assert f'hx-post="{reveal.format(pairing_visit.pk)}"' in page
    client.force_login(people.futian_admin)
    page = client.get(url).content.decode()
    assert CASE_NOTE not in page and PAIRING_NOTE not in page
    assert all(f'hx-post="{reveal.format(v.pk)}"' in page for v in (case_visit, pairing_visit))
    resp = client.post(reveal.format(pairing_visit.pk))
    assert resp.status_code == 200 and PAIRING_NOTE in resp.content.decode()
    assert client.post(reveal.format(999999)).status_code == 404
    client.force_login(people.auditor)
    page = client.get(url).content.decode()
    assert CASE_NOTE not in page and PAIRING_NOTE not in page and "/visits/" not in page
    assert client.post(reveal.format(pairing_visit.pk)).status_code == 403
    client.force_login(people.tianhe_admin)
    assert client.post(reveal.format(pairing_visit.pk)).status_code == 404
    assert [(u, o) for u, o, _, _ in _unmasks()] == [
        ("volunteer", "denied"),
        ("futian_admin", "success"),
        ("auditor", "denied"),
    ]


def test_a_closed_case_owner_reveals_its_visits_audited(client, people, cared):
    _, case, worker, own_visit, _ = cared
    note = "已联系医保办理报销"
    other = actions.log_case_visit(
        people.futian_admin, case, volunteer=None, visited_on=timezone.localdate(), mode="phone", summary=note
    )
    actions.close_case(people.station_staff, case, outcome="resolved")
    client.force_login(people.station_staff)  # no unmask right, but the case is theirs
    page = client.get(f"/care/cases/{case.pk}/").content.decode()
    assert CASE_NOTE in page  # what they wrote themselves
    assert note not in page and f"/visits/{other.pk}/reveal/summary/" in page
    resp = client.post(f"/care/cases/{case.pk}/visits/{other.pk}/reveal/summary/")
    assert resp.status_code == 200 and note in resp.content.decode()
    assert _unmasks() == [("station_staff", "success", str(other.pk), {"field": "summary"})]
    client.force_login(worker)  # on the team of the closed case: the same
    assert CASE_NOTE not in client.get(f"/care/cases/{case.pk}/").content.decode()
    assert client.post(f"/care/cases/{case.pk}/visits/{own_visit.pk}/reveal/summary/").status_code == 200


def test_api_timeline_masks_visits_and_reveals_one_audited(client, people, cared):
    _, case, worker, case_visit, pairing_visit = cared
    url = f"{CARE}/cases/{case.pk}"

    def visit_entry(user):
        client.force_login(user)
        timeline = client.get(url).json()["timeline"]
        return next(e for e in timeline if e["kind"] == "visit")

    for user in (people.station_staff, worker):
        assert visit_entry(user)["text"] == CASE_NOTE
    for user in (people.futian_admin, people.auditor):
        entry = visit_entry(user)
        assert (entry["text"], entry["visit_id"]) == ("****", case_visit.pk)
    client.force_login(people.futian_admin)
    ok = _api_reveal(client, case, case_visit.pk)
    assert ok.status_code == 200 and ok.json() == {"field": "summary", "value": CASE_NOTE}
    assert _unmasks() == [("futian_admin", "success", str(case_visit.pk), {"field": "summary"})]
    bad = _api_reveal(client, case, case_visit.pk, "mode")
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["field"]
    assert _api_reveal(client, case, pairing_visit.pk).status_code == 404  # not a visit of this case
    client.force_login(people.auditor)
    assert _api_reveal(client, case, case_visit.pk).status_code == 403
    for user in (people.tianhe_admin, people.outsider):
        client.force_login(user)
        assert _api_reveal(client, case, case_visit.pk).status_code == 404
    client.logout()
    assert _api_reveal(client, case, case_visit.pk).status_code == 401
    assert [(u, o) for u, o, _, _ in _unmasks()] == [("futian_admin", "success"), ("auditor", "denied")]


def test_visit_access_asks_a_fixed_number_of_queries(people, make_recipient, django_assert_max_num_queries):
    r = make_recipient(12)
    case = actions.record_life_event(
        people.futian_admin, r, event_type="illness", level=1, occurred_on=timezone.localdate()
    )
    visits = [
        actions.log_case_visit(
            people.futian_admin,
            case,
            volunteer=None,
            visited_on=timezone.localdate(),
            mode="phone",
            summary=f"第{i}次",
        )
        for i in range(5)
    ]
    with django_assert_max_num_queries(3):
        access = actions.visit_access(people.auditor, r, visits)
    assert set(access.values()) == {HIDDEN}
