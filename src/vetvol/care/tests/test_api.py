"""The care API: each group's happy path, district scoping, the field at fault on bad input, the schema."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from vetvol.care.models import CampaignTask, HelpInvitation, Recipient
from vetvol.care.tests.conftest import recipient_raw
from vetvol.core.masking import mask
from vetvol.core.models import AuditEntry

pytestmark = pytest.mark.django_db

CARE = "/api/care"


def _post(client, url, body=None, **extra):
    return client.post(url, body or {}, content_type="application/json", **extra)


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def _today() -> str:
    return timezone.localdate().isoformat()


def _open_case(client, people, recipient) -> dict:
    client.force_login(people.station_staff)
    r = _post(
        client,
        f"{CARE}/recipients/{recipient.pk}/events",
        {"event_type": "illness", "level": 1, "occurred_on": _today(), "description": "突发脑梗住院"},
    )
    assert r.status_code == 201, r.content
    return r.json()


# -- recipients ------------------------------------------------------------------------------------------
def test_register_list_detail_masked(client, people):
    client.force_login(people.station_staff)
    raw = recipient_raw(1)
    r = _post(client, f"{CARE}/recipients", raw)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"].startswith("R44")
    assert body["id_number"] == mask(raw["id_number"], "id_number") != raw["id_number"]
    assert body["phone"] == "139****0001"
    assert body["health_notes"] == "****"
    assert body["can_reveal"] is False
    rid = body["id"]
    detail = client.get(f"{CARE}/recipients/{rid}").json()
    assert detail["address"] == mask(raw["address"], "address") and detail["name"] == raw["name"]
    page = client.get(f"{CARE}/recipients", {"q": raw["name"][:2], "category": "veteran"}).json()
    assert [row["id"] for row in page["results"]] == [rid] and page["has_more"] is False
    assert client.get(f"{CARE}/recipients", {"category": "martyr_family"}).json()["results"] == []
    assert client.get(f"{CARE}/recipients", {"region": "440304002"}).json()["results"] == []
    assert client.get(f"{CARE}/recipients", {"region": "x"}).status_code == 422


def test_register_refuses_duplicates_and_bad_ids_with_the_field(client, people):
    client.force_login(people.station_staff)
    assert _post(client, f"{CARE}/recipients", recipient_raw(2)).status_code == 201
    again = _post(client, f"{CARE}/recipients", recipient_raw(2))
    assert again.status_code == 422 and _fields(again) == {"id_number"}
    assert "一人一档" in again.json()["errors"][0]["message"]
    bad = _post(
        client,
        f"{CARE}/recipients",
        recipient_raw(3, id_number="440304194001011235", service_consent=False),
    )
    assert bad.status_code == 422 and _fields(bad) == {"id_number", "service_consent"}
    assert Recipient.objects.count() == 1
    client.force_login(people.tianhe_admin)  # no rights in Futian
    assert _post(client, f"{CARE}/recipients", recipient_raw(4)).status_code == 403
    client.logout()
    assert _post(client, f"{CARE}/recipients", recipient_raw(5)).status_code == 401


def test_reveal_is_permitted_audited_and_scoped(client, people, make_recipient):
    r = make_recipient(6)
    url = f"{CARE}/recipients/{r.pk}/reveal"
    client.force_login(people.futian_admin)
    assert client.get(f"{CARE}/recipients/{r.pk}").json()["can_reveal"] is True
    ok = _post(client, url, {"field": "health_notes"})
    assert ok.status_code == 200 and ok.json() == {"field": "health_notes", "value": "高血压，6 号病历"}
    bad = _post(client, url, {"field": "name"})
    assert bad.status_code == 422 and _fields(bad) == {"field"}
    client.force_login(people.station_staff)  # sees the recipient, may not unmask
    assert _post(client, url, {"field": "id_number"}).status_code == 403
    outcomes = list(
        AuditEntry.objects.filter(action="care.recipient.unmask").values_list("outcome", flat=True)
    )
    assert outcomes == ["success", "denied"]
    client.force_login(people.tianhe_admin)
    assert client.get(f"{CARE}/recipients/{r.pk}").status_code == 404
    assert _post(client, url, {"field": "id_number"}).status_code == 404
    assert client.get(f"{CARE}/recipients").json()["results"] == []


def test_detail_and_list_are_masked_for_who_may_unmask(client, people, make_recipient):
    r = make_recipient(7, contact_phone="13900000777", hardship_notes="低保户")
    client.force_login(people.futian_admin)
    body = client.get(f"{CARE}/recipients/{r.pk}").json()
    assert body["can_reveal"] is True
    assert {f: body[f] for f in ("id_number", "phone", "address", "contact_phone", "health_notes")} == {
        "id_number": mask(r.id_number, "id_number"),
        "phone": "139****0007",
        "address": mask(r.address, "address"),
        "contact_phone": "139****0777",
        "health_notes": "****",
    }
    assert (body["hardship_notes"], body["family_notes"]) == ("****", "")
    text = client.get(f"{CARE}/recipients").content.decode()
    assert r.id_number not in text and r.phone not in text
    assert AuditEntry.objects.filter(action="care.recipient.unmask").count() == 0


# -- life events and cases -------------------------------------------------------------------------------
def test_life_event_opens_case_worked_and_closed_once(client, people, make_recipient):
    recipient = make_recipient(7)
    case = _open_case(client, people, recipient)
    assert case["status"] == "open" and case["level"] == 1
    assert case["tasks"][0]["title"] == "首次联系服务对象" and len(case["tasks"]) == 4
    url = f"{CARE}/cases/{case['id']}"
    bad = _post(
        client,
        f"{CARE}/recipients/{recipient.pk}/events",
        {"event_type": "x", "level": 1, "occurred_on": _today()},
    )
    assert bad.status_code == 422 and _fields(bad) == {"event_type"}

    task = case["tasks"][1]
    done = _post(client, f"{url}/tasks/{task['id']}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done"
    twice = _post(client, f"{url}/tasks/{task['id']}/complete")
    assert twice.status_code == 422 and _fields(twice) == {"task"}
    note = _post(client, f"{url}/notes", {"text": "与家属电话沟通"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    assert _fields(_post(client, f"{url}/notes", {"text": " "})) == {"text"}
    visit = _post(
        client, f"{url}/visits", {"visited_on": _today(), "mode": "hospital", "summary": "医院看望"}
    )
    assert visit.status_code == 201 and visit.json()["volunteer_id"] is None
    assert _fields(_post(client, f"{url}/visits", {"visited_on": _today(), "mode": "teleport"})) == {"mode"}
    referral = _post(client, f"{url}/referral", {"department": "medical_insurance", "reason": "住院费用报销"})
    assert referral.status_code == 201 and referral.json()["department"] == "medical_insurance"

    detail = client.get(url).json()
    assert detail["status"] == "active" and detail["visits_done"] == 1
    assert {e["kind"] for e in detail["timeline"]} >= {"note", "visit", "referral", "task"}
    assert "与家属电话沟通" in [e["text"] for e in detail["timeline"]]
    assert len(detail["referrals"]) == 1

    listed = client.get(f"{CARE}/cases", {"open": True}).json()
    assert [c["id"] for c in listed["results"]] == [case["id"]]
    assert client.get(f"{CARE}/cases", {"overdue": True}).json()["results"] == []

    closed = _post(client, f"{url}/close", {"outcome": "resolved", "note": "已出院"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert all(t["status"] != "open" for t in closed.json()["tasks"])
    again = _post(client, f"{url}/close", {"outcome": "resolved"})
    assert again.status_code == 422
    assert again.json()["errors"] == [{"field": "case", "message": "该案件已经办结，不能重复办结"}]
    assert client.get(f"{CARE}/cases", {"open": True}).json()["results"] == []
    assert _fields(_post(client, f"{url}/notes", {"text": "办结后"})) == {"case"}


def test_overdue_cases_listed(client, people, make_recipient):
    case = _open_case(client, people, make_recipient(8))
    later = timezone.now() + timedelta(hours=13)  # past the urgent plan's 12-hour first contact
    # only the query's clock moves (the session's must not)
    with mock.patch("vetvol.care.queries.timezone", mock.Mock(now=mock.Mock(return_value=later))):
        rows = client.get(f"{CARE}/cases", {"overdue": True}).json()["results"]
    assert [c["id"] for c in rows] == [case["id"]]


def test_cases_are_scoped_to_the_district(client, people, make_recipient):
    recipient = make_recipient(9)
    case = _open_case(client, people, recipient)
    url = f"{CARE}/cases/{case['id']}"
    client.force_login(people.tianhe_admin)
    assert client.get(url).status_code == 404
    assert client.get(f"{CARE}/cases").json()["results"] == []
    for path, body in (
        ("/close", {"outcome": "resolved"}),
        ("/notes", {"text": "x"}),
        (f"/tasks/{case['tasks'][0]['id']}/complete", {}),
    ):
        assert _post(client, url + path, body).status_code == 404
    life = _post(
        client,
        f"{CARE}/recipients/{recipient.pk}/events",
        {"event_type": "illness", "level": 1, "occurred_on": _today()},
    )
    assert life.status_code == 404
    client.force_login(people.futian_admin)
    assert client.get(url).status_code == 200


# -- pairing ---------------------------------------------------------------------------------------------
def test_pairing_visit_handover_end_and_mine(client, people, make_recipient, make_volunteer, own_volunteer):
    from vetvol.accounts.actions import create_api_token

    r = make_recipient(10)
    other = make_volunteer(12, is_party_member=True)
    client.force_login(people.station_staff)
    created = _post(
        client,
        f"{CARE}/pairings",
        {"volunteer_id": own_volunteer.pk, "recipient_id": r.pk, "frequency_days": 30},
    )
    assert created.status_code == 201, created.content
    pairing = created.json()
    dup = _post(client, f"{CARE}/pairings", {"volunteer_id": other.pk, "recipient_id": r.pk})
    assert dup.status_code == 422 and _fields(dup) == {"recipient"}
    others = _post(
        client, f"{CARE}/pairings", {"volunteer_id": other.pk, "recipient_id": make_recipient(11).pk}
    )
    assert others.status_code == 201

    # the volunteer, by bearer token, as the app does
    _, token = create_api_token(people.volunteer, "关爱 App")
    client.logout()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    mine = client.get(f"{CARE}/me/pairings", **auth).json()
    assert [p["id"] for p in mine] == [pairing["id"]]
    body = {"visited_on": _today(), "mode": "home", "minutes": 60, "summary": "聊家常"}
    visit = _post(
        client, f"{CARE}/pairings/{pairing['id']}/visits", body, HTTP_IDEMPOTENCY_KEY="visit-0001", **auth
    )
    assert visit.status_code == 201 and visit.json()["volunteer_id"] == own_volunteer.pk
    replay = _post(
        client, f"{CARE}/pairings/{pairing['id']}/visits", body, HTTP_IDEMPOTENCY_KEY="visit-0001", **auth
    )
    assert replay.json()["id"] == visit.json()["id"]
    not_mine = _post(client, f"{CARE}/pairings/{others.json()['id']}/visits", body, **auth)
    assert not_mine.status_code == 404
    future = {**body, "visited_on": (timezone.localdate() + timedelta(days=2)).isoformat()}
    assert _fields(_post(client, f"{CARE}/pairings/{pairing['id']}/visits", future, **auth)) == {"visited_on"}
    assert _post(client, f"{CARE}/pairings/{pairing['id']}/end", {"reason": "x"}, **auth).status_code == 403

    client.force_login(people.station_staff)
    new = _post(
        client,
        f"{CARE}/pairings/{pairing['id']}/handover",
        {"volunteer_id": other.pk, "reason": "原志愿者迁居外地"},
    )
    assert new.status_code == 201
    assert new.json()["volunteer_id"] == other.pk and new.json()["handed_over_from_id"] == pairing["id"]
    assert client.get(f"{CARE}/me/pairings", **auth).json() == []
    ended = _post(client, f"{CARE}/pairings/{new.json()['id']}/end", {"reason": "对象迁出"})
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    again = _post(client, f"{CARE}/pairings/{new.json()['id']}/end", {"reason": "对象迁出"})
    assert again.status_code == 422 and _fields(again) == {"pairing"}
    client.force_login(people.tianhe_admin)
    assert _post(client, f"{CARE}/pairings/{pairing['id']}/visits", body).status_code == 404


# -- campaigns -------------------------------------------------------------------------------------------
def test_campaign_create_assign_progress_and_visit(client, people, make_recipient, own_volunteer):
    for seq in (20, 21):
        make_recipient(seq)
    start = timezone.localdate()
    body = {
        "name": "八一走访",
        "kind": "army_day",
        "region_code": "440304",
        "categories": ["veteran"],
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=7)).isoformat(),
    }
    client.force_login(people.futian_admin)
    bad = _post(client, f"{CARE}/campaigns", {**body, "ends_on": (start - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and _fields(bad) == {"ends_on"}
    created = _post(client, f"{CARE}/campaigns", body)
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    assert [c["id"] for c in client.get(f"{CARE}/campaigns").json()] == [cid]
    figures = _post(client, f"{CARE}/campaigns/{cid}/assign").json()
    assert figures["assigned"] == 2 and figures["unassigned"] == 0
    progress = client.get(f"{CARE}/campaigns/{cid}/progress", {"level": 6}).json()
    assert progress == [{"part": "440304", "total": 2, "assigned": 2, "done": 0, "unassigned": 0}]
    assert client.get(f"{CARE}/campaigns/{cid}/progress", {"level": 5}).status_code == 422

    client.force_login(people.volunteer)
    mine = client.get(f"{CARE}/me/visits").json()
    assert len(mine) == 2 and {t["campaign"] for t in mine} == {"八一走访"}
    url = f"{CARE}/campaign-tasks/{mine[0]['id']}/visit"
    visit = _post(client, url, {"visited_on": _today(), "mode": "home", "minutes": 30})
    assert visit.status_code == 201 and visit.json()["volunteer_id"] == own_volunteer.pk
    twice = _post(client, url, {"visited_on": _today(), "mode": "home"})
    assert twice.status_code == 422 and _fields(twice) == {"task"}
    assert len(client.get(f"{CARE}/me/visits").json()) == 1
    assert CampaignTask.objects.filter(status="done").count() == 1

    client.force_login(people.tianhe_admin)
    assert client.get(f"{CARE}/campaigns").json() == []
    assert client.get(f"{CARE}/campaigns/{cid}/progress").status_code == 404
    assert _post(client, f"{CARE}/campaigns/{cid}/assign").status_code == 404
    assert (
        _post(client, f"{CARE}/campaign-tasks/{mine[1]['id']}/visit", {"visited_on": _today()}).status_code
        == 404
    )
    assert _post(client, f"{CARE}/campaigns", body).status_code == 403


# -- help requests and complaints ------------------------------------------------------------------------
def _help(client, recipient) -> dict:
    now = timezone.now()
    r = _post(
        client,
        f"{CARE}/help-requests",
        {
            "recipient_id": recipient.pk,
            "category": "medical",
            "description": "陪同去医院复查",
            "wanted_from": (now + timedelta(hours=2)).isoformat(),
            "wanted_until": (now + timedelta(hours=5)).isoformat(),
        },
    )
    assert r.status_code == 201, r.content
    return r.json()


def test_help_request_flow_rated_once(client, people, make_recipient, own_volunteer):
    from vetvol.dispatch.locations import sync_locations

    sync_locations()
    recipient = make_recipient(30)
    client.force_login(people.station_staff)
    req = _help(client, recipient)
    url = f"{CARE}/help-requests/{req['id']}"
    early = _post(client, f"{url}/invite")
    assert early.status_code == 422 and _fields(early) == {"status"}
    assert _fields(_post(client, f"{url}/verify", {"approved": False})) == {"verify_note"}
    assert _post(client, f"{url}/verify", {"approved": True}).json()["status"] == "verified"
    invited = _post(client, f"{url}/invite")
    assert invited.status_code == 201 and len(invited.json()) == 1
    inv_id = invited.json()[0]["id"]
    assert _post(client, f"{CARE}/invitations/{inv_id}/accept").status_code == 404  # not the staff's

    client.force_login(people.volunteer)
    assert [i["id"] for i in client.get(f"{CARE}/me/invitations").json()] == [inv_id]
    accepted = _post(client, f"{CARE}/invitations/{inv_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["volunteer_id"] == own_volunteer.pk
    assert _fields(_post(client, f"{url}/complete", {"minutes": 0})) == {"minutes"}
    done = _post(client, f"{url}/complete", {"minutes": 150, "summary": "顺利复查"})
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["minutes"] == 150

    client.force_login(people.station_staff)
    rated = _post(client, f"{url}/rate", {"rating": 5, "comment": "很耐心"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    again = _post(client, f"{url}/rate", {"rating": 4})
    assert again.status_code == 422
    assert again.json()["errors"] == [{"field": "rating", "message": "该服务已经评价过了，不能重复评价"}]

    # a second request: the volunteer, invited by name, declines; the staff cancel it
    second = _help(client, recipient)
    url2 = f"{CARE}/help-requests/{second['id']}"
    _post(client, f"{url2}/verify", {"approved": True})
    inv2 = _post(client, f"{url2}/invite", {"volunteer_ids": [own_volunteer.pk]}).json()[0]["id"]
    client.force_login(people.volunteer)
    declined = _post(client, f"{CARE}/invitations/{inv2}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert _fields(_post(client, f"{CARE}/invitations/{inv2}/accept")) == {"invitation"}
    client.force_login(people.station_staff)
    assert _fields(_post(client, f"{url2}/cancel", {"reason": ""})) == {"reason"}
    cancelled = _post(client, f"{url2}/cancel", {"reason": "家属已自行陪同"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert HelpInvitation.objects.filter(status="pending").count() == 0

    client.force_login(people.tianhe_admin)
    assert client.get(url).status_code == 404
    assert _post(client, f"{url}/rate", {"rating": 1}).status_code == 404
    assert _post(client, f"{url2}/cancel", {"reason": "x"}).status_code == 404


def test_complaint_filed_and_resolved_once(client, people, make_recipient):
    r = make_recipient(31)
    client.force_login(people.station_staff)
    body = {"channel": "phone", "complainant": "家属", "content": "约好的探访没有来", "recipient_id": r.pk}
    bad = _post(client, f"{CARE}/complaints", {**body, "channel": "pigeon", "complainant": ""})
    assert bad.status_code == 422 and _fields(bad) == {"channel", "complainant"}
    filed = _post(client, f"{CARE}/complaints", body)
    assert filed.status_code == 201
    assert filed.json()["region_code"] == r.region_code and filed.json()["status"] == "open"
    url = f"{CARE}/complaints/{filed.json()['id']}/resolve"
    client.force_login(people.tianhe_admin)
    assert _post(client, url, {"response": "x"}).status_code == 404
    client.force_login(people.station_staff)
    resolved = _post(client, url, {"response": "已致歉并重新安排探访"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    again = _post(client, url, {"response": "再次"})
    assert again.status_code == 422 and _fields(again) == {"complaint"}


# -- schema ----------------------------------------------------------------------------------------------
def test_openapi_lists_the_care_paths(client, people):
    client.force_login(people.station_staff)
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/care/recipients",
        "/api/care/recipients/{recipient_id}",
        "/api/care/recipients/{recipient_id}/reveal",
        "/api/care/recipients/{recipient_id}/events",
        "/api/care/cases",
        "/api/care/cases/{case_id}/close",
        "/api/care/pairings/{pairing_id}/visits",
        "/api/care/me/pairings",
        "/api/care/campaigns/{campaign_id}/progress",
        "/api/care/campaign-tasks/{task_id}/visit",
        "/api/care/help-requests/{request_id}/rate",
        "/api/care/invitations/{invitation_id}/decline",
        "/api/care/complaints/{complaint_id}/resolve",
    ):
        assert path in paths, path
    assert "post" in paths["/api/care/recipients"] and "get" in paths["/api/care/recipients"]
