"""The care pages: the station's overview, recipient and case pages, and the volunteer's phone page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from vetvol.care import actions
from vetvol.care.models import Case, CaseEntry, Pairing, Recipient, Visit
from vetvol.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_overview_lists_overdue_and_rolls_up(client, people, make_recipient):
    r = make_recipient(1)
    case = actions.record_life_event(
        people.futian_admin, r, event_type="illness", level=1, occurred_on=timezone.localdate()
    )
    Case.objects.filter(pk=case.pk).update(first_contact_due=timezone.now() - timedelta(hours=1))
    client.force_login(people.sz_admin)
    page = client.get("/care/").content.decode()
    assert case.number in page and "福田区" in page
    client.force_login(people.tianhe_admin)
    assert case.number not in client.get("/care/").content.decode()


def test_recipient_page_masks_and_reveal_is_audited(client, people, make_recipient):
    r = make_recipient(2)
    client.force_login(people.station_staff)
    page = client.get(f"/care/recipients/{r.pk}/").content.decode()
    assert r.name in page and r.id_number not in page and r.phone not in page and "高血压" not in page
    client.force_login(people.tianhe_admin)
    assert client.get(f"/care/recipients/{r.pk}/").status_code == 404
    client.force_login(people.station_staff)  # staff see identifiers masked and may not unmask
    assert client.post(f"/care/recipients/{r.pk}/reveal/health_notes/").status_code == 403
    client.force_login(people.futian_admin)
    resp = client.post(f"/care/recipients/{r.pk}/reveal/health_notes/")
    assert resp.status_code == 200 and "高血压" in resp.content.decode()
    assert AuditEntry.objects.filter(action="care.recipient.unmask", actor=people.futian_admin).count() == 1


def test_recipient_page_masks_for_who_may_unmask_until_a_reveal(client, people, make_recipient):
    r = make_recipient(3, contact_name="对象家属", contact_phone="13900000333", hardship_notes="低保户")
    client.force_login(people.futian_admin)
    page = client.get(f"/care/recipients/{r.pk}/").content.decode()
    for secret in (r.id_number, r.phone, r.address, r.contact_phone, "高血压", "低保户"):
        assert secret not in page, secret
    assert "139****0003" in page and page.count("hx-post=") == 7  # one reveal per masked field
    assert AuditEntry.objects.filter(action="care.recipient.unmask").count() == 0
    resp = client.post(f"/care/recipients/{r.pk}/reveal/contact_phone/")
    assert resp.content.decode().strip() == '<span class="revealed">13900000333</span>'
    assert client.post(f"/care/recipients/{r.pk}/reveal/name/").status_code == 404
    entries = AuditEntry.objects.filter(action="care.recipient.unmask")
    assert [(e.outcome, e.detail) for e in entries] == [("success", {"field": "contact_phone"})]


def test_register_recipient_duplicate_and_bad_id(client, people, make_recipient):
    from vetvol.care.tests.conftest import recipient_raw

    client.force_login(people.station_staff)
    raw = recipient_raw(3, region="440304001")
    raw = {k: v for k, v in raw.items() if not isinstance(v, bool)} | {"service_consent": "on"}
    resp = client.post("/care/recipients/new/", raw)
    assert resp.status_code == 302
    again = client.post("/care/recipients/new/", raw)
    assert again.status_code == 400 and "一人一档" in again.content.decode()
    bad = client.post("/care/recipients/new/", raw | {"id_number": "440304194013010011"})
    assert bad.status_code == 400
    assert Recipient.objects.count() == 1


def test_case_page_event_note_close_twice(client, people, make_recipient):
    r = make_recipient(4)
    client.force_login(people.futian_admin)
    resp = client.post(
        f"/care/recipients/{r.pk}/event/",
        {"event_type": "disaster", "level": "1", "occurred_on": timezone.localdate().isoformat()},
    )
    case = Case.objects.get(recipient=r)
    assert resp.status_code == 302 and resp["Location"] == f"/care/cases/{case.pk}/"
    assert client.post(f"/care/cases/{case.pk}/note/", {"text": "屋顶受损，已联系维修"}).status_code == 302
    assert CaseEntry.objects.filter(case=case, kind="note").count() == 1
    page = client.get(f"/care/cases/{case.pk}/").content.decode()
    assert "屋顶受损" in page and "现场查看灾情" in page
    assert client.post(f"/care/cases/{case.pk}/close/", {"outcome": "resolved"}).status_code == 302
    again = client.post(f"/care/cases/{case.pk}/close/", {"outcome": "resolved"})
    assert again.status_code == 400 and "不能重复办结" in again.content.decode()
    client.force_login(people.tianhe_admin)
    assert client.get(f"/care/cases/{case.pk}/").status_code == 404
    assert client.post(f"/care/cases/{case.pk}/note/", {"text": "x"}).status_code == 404


def test_volunteer_logs_a_pairing_visit_in_one_tap(
    client, people, make_recipient, make_volunteer, own_volunteer
):
    r = make_recipient(5)
    pairing = actions.create_pairing(people.station_staff, own_volunteer, r, frequency_days=30)
    other = actions.create_pairing(
        people.station_staff, make_volunteer(6, is_party_member=True), make_recipient(7)
    )
    client.force_login(people.volunteer)
    page = client.get("/care/me/").content.decode()
    assert r.name in page and f"pairing-{pairing.pk}" in page
    post = {"form_key": "k" * 32, "mode": "home"}
    resp = client.post(f"/care/me/pairings/{pairing.pk}/visit/", post, follow=True)
    assert "已记录" in resp.content.decode()
    client.post(f"/care/me/pairings/{pairing.pk}/visit/", post)  # a double tap
    assert Visit.objects.filter(pairing=pairing).count() == 1
    assert Pairing.objects.get(pk=pairing.pk).next_visit_due == timezone.localdate() + timedelta(days=30)
    # A recipient outside the volunteer's pairings: as if it did not exist, nothing written.
    assert (
        client.post(f"/care/me/pairings/{other.pk}/visit/", post | {"form_key": "j" * 32}).status_code == 404
    )
    assert Visit.objects.filter(pairing=other).count() == 0


def test_a_visit_kept_offline_is_dated_when_it_was_made(
    client, people, make_recipient, own_volunteer, monkeypatch
):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    pairing = actions.create_pairing(
        people.station_staff, own_volunteer, make_recipient(5), frequency_days=30
    )
    local = ZoneInfo("Asia/Shanghai")
    made = datetime(2026, 12, 6, 23, 30, tzinfo=local)  # before midnight, sent after it
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 7, 1, 0, tzinfo=local))
    client.force_login(people.volunteer)
    post = {"form_key": "q" * 32, "mode": "home", "queued_at": str(int(made.timestamp() * 1000))}
    client.post(f"/care/me/pairings/{pairing.pk}/visit/", post)
    assert Visit.objects.get(pairing=pairing).visited_on == date(2026, 12, 6)
