"""The reporter's phone of an incident: masked for everyone on the page and in the API; a viewer who may
unmask in the incident's region reveals it, one audited reveal at a time; anyone else is refused (audited)."""

from __future__ import annotations

from vetvol.core.models import AuditEntry

PHONE, MASKED = "13800001234", "138****1234"
SWIMMERS = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 2}]


def _reveal(client, incident, field="reporter_phone"):
    url = f"/api/dispatch/incidents/{incident.pk}/reveal"
    return client.post(url, {"field": field}, content_type="application/json")


def _unmasks():
    return [
        (e.actor.username, e.outcome, e.detail)
        for e in AuditEntry.objects.filter(action="dispatch.incident.unmask").order_by("id")
    ]


def test_reporter_phone_is_masked_for_everyone_until_a_reveal(client, people, open_incident):
    incident = open_incident(SWIMMERS, reporter_phone=PHONE, reporter_name="张三")
    for user, can_reveal in (
        (people.futian_admin, True),
        (people.province_admin, True),
        (people.auditor, False),
    ):
        client.force_login(user)
        body = client.get(f"/api/dispatch/incidents/{incident.pk}").json()
        assert (body["reporter_phone"], body["can_reveal"]) == (MASKED, can_reveal)
        page = client.get(f"/dispatch/incidents/{incident.pk}/").content.decode()
        assert PHONE not in page and MASKED in page
        button = f'hx-post="/dispatch/incidents/{incident.pk}/reveal/reporter_phone/"'
        assert (button in page) is can_reveal
    assert _unmasks() == []  # reading the page or the API reveals nothing
    client.force_login(people.futian_admin)
    patched = client.patch(
        f"/api/dispatch/incidents/{incident.pk}",
        {"title": "深圳河溺水（更新）"},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["reporter_phone"] == MASKED


def test_api_reveal_is_audited_and_scoped(client, people, open_incident):
    incident = open_incident(SWIMMERS, reporter_phone=PHONE)
    client.force_login(people.futian_admin)
    r = _reveal(client, incident)
    assert r.status_code == 200 and r.json() == {"field": "reporter_phone", "value": PHONE}
    assert _unmasks() == [("futian_admin", "success", {"field": "reporter_phone"})]

    bad = _reveal(client, incident, "reporter_name")
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["field"]
    assert _reveal(client, incident, "").status_code == 422
    client.force_login(people.auditor)  # sees the incident, may not unmask: refused, and the refusal audited
    assert _reveal(client, incident).status_code == 403
    assert _unmasks()[-1] == ("auditor", "denied", {"needed": "unmask"})
    client.force_login(people.team_leader)  # sees the district's incidents, may not unmask
    assert _reveal(client, incident).status_code == 403
    for user in (people.tianhe_admin, people.station_staff, people.outsider):
        client.force_login(user)  # outside the district: as if it did not exist
        assert _reveal(client, incident).status_code == 404
    assert (
        client.post(
            "/api/dispatch/incidents/999999/reveal",
            {"field": "reporter_phone"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert len(_unmasks()) == 3  # one success, two refusals; the 404s reveal nothing to audit
    client.logout()
    assert _reveal(client, incident).status_code == 401


def test_page_reveal_swaps_in_the_number_and_is_audited(client, people, open_incident):
    incident = open_incident(SWIMMERS, reporter_phone=PHONE)
    url = f"/dispatch/incidents/{incident.pk}/reveal/reporter_phone/"
    client.force_login(people.sz_admin)
    assert client.get(url).status_code == 405  # a reveal is a POST (htmx), never a link to follow
    resp = client.post(url)
    assert (
        resp.status_code == 200 and resp.content.decode().strip() == f'<span class="revealed">{PHONE}</span>'
    )
    assert _unmasks() == [("sz_admin", "success", {"field": "reporter_phone"})]
    assert client.post(f"/dispatch/incidents/{incident.pk}/reveal/address/").status_code == 403
    client.force_login(people.auditor)
    assert client.post(url).status_code == 403
    client.force_login(people.tianhe_admin)
    assert client.post(url).status_code == 404
    client.logout()
    assert client.post(url).status_code == 302
    assert [o for _, o, _ in _unmasks()] == ["success", "denied"]
