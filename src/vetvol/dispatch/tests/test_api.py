"""The dispatch API: incidents scoped, invitations answered idempotently and only by their volunteer, run
cards."""

from __future__ import annotations

from vetvol.dispatch.models import Invitation, Need

SWIMMERS = [{"name": "水上救援队员", "skill_code": "water_rescue", "count": 2}]


# -- API ------------------------------------------------------------------------------------------------
def _post(client, url, body, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, content_type="application/json", **extra)


def test_api_incidents_are_scoped(client, people, responder, open_incident):
    v = responder(1, {"water_rescue": 2}, km_east=1)
    incident = open_incident(SWIMMERS, reporter_phone="13800001234", reporter_name="张三")
    url = f"/api/dispatch/incidents/{incident.pk}"
    client.force_login(people.futian_admin)
    body = client.get(url).json()
    assert body["needs"][0]["shortfall"]["reason"] == "waiting"
    assert body["invitations"][0]["volunteer_id"] == v.pk
    assert body["reporter_phone"] == "138****1234" and body["can_reveal"] is True  # revealed on request
    client.force_login(people.sz_admin)
    assert client.get(url).status_code == 200
    assert [i["id"] for i in client.get("/api/dispatch/incidents").json()] == [incident.pk]
    client.force_login(people.auditor)  # sees the incident, may not unmask
    assert client.get(url).json()["reporter_phone"] == "138****1234"
    client.force_login(people.station_staff)  # a street below the district incident: not theirs
    assert client.get(url).status_code == 404
    for user in (people.outsider, people.tianhe_admin):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get("/api/dispatch/incidents").json() == []
        assert _post(client, f"{url}/close", {}).status_code == 404
    client.force_login(people.tianhe_admin)
    r = _post(
        client,
        "/api/dispatch/incidents",
        {"region_code": "440304", "type": "flood", "level": 2, "title": "x", "lat": 22.5, "lng": 114.0},
    )
    assert r.status_code == 404
    client.force_login(people.futian_admin)
    r = _post(
        client,
        "/api/dispatch/incidents",
        {"region_code": "440304", "type": "flood", "level": 2, "title": "内涝", "lat": 22.5, "lng": 114.0},
    )
    assert r.status_code == 201 and {n["name"] for n in r.json()["needs"]} >= {"水上救援队员"}


def test_api_invitations_accept_is_idempotent_and_personal(client, people, responder, open_incident):
    v = responder(1, {"water_rescue": 2}, km_east=1)
    other = responder(2, {"water_rescue": 2}, km_east=2)
    incident = open_incident(SWIMMERS)
    inv = Invitation.objects.get(volunteer=v)
    url = f"/api/dispatch/invitations/{inv.pk}/answer"
    for user in (other.user, people.outsider, people.futian_admin):
        client.force_login(user)
        assert _post(client, url, {"accept": True}, "key-00000001").status_code == 404
    client.force_login(v.user)
    mine = client.get("/api/dispatch/my/invitations").json()
    assert [i["id"] for i in mine] == [inv.pk] and mine[0]["role"] == "水上救援队员"
    assert _post(client, url, {"accept": True}).status_code == 422  # key required
    first = _post(client, url, {"accept": True}, "key-00000002")
    again = _post(client, url, {"accept": True}, "key-00000002")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert _post(client, url, {"accept": False}, "key-00000002").status_code == 409
    assert Need.objects.get(incident=incident).filled == 1
    asg = first.json()["assignment_id"]
    r = _post(client, f"/api/dispatch/assignments/{asg}/status", {"status": "on_scene"})
    assert r.json() == {"id": asg, "status": "on_scene"}
    r = _post(client, f"/api/dispatch/assignments/{asg}/position", {"lat": 22.5, "lng": 114.0})
    assert r.status_code == 422  # no location consent
    client.force_login(other.user)
    assert _post(client, f"/api/dispatch/assignments/{asg}/status", {"status": "done"}).status_code == 404


def test_api_run_cards(client, people):
    body = {
        "region_code": "440304",
        "incident_type": "typhoon",
        "level": 1,
        "roles": [{"name": "电工", "skill_code": "electrician", "count": 3}],
    }
    client.force_login(people.station_staff)  # change rights on their street, but not an admin
    assert _post(client, "/api/dispatch/run-cards", {**body, "region_code": "440304001"}).status_code == 403
    client.force_login(people.outsider)
    assert _post(client, "/api/dispatch/run-cards", body).status_code == 404
    client.force_login(people.futian_admin)
    r = _post(client, "/api/dispatch/run-cards", body)
    assert r.status_code == 201 and r.json()["roles"][0]["count"] == 3
    assert client.delete(f"/api/dispatch/run-cards/{r.json()['id']}").status_code == 204
