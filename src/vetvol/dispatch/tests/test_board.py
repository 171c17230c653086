"""The live board: events reach the boards of the node and its ancestors only, a reconnecting board replays
what it missed, a volunteer's phone hears their invitations; the board's pages, state and counters."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from vetvol.dispatch import actions, board
from vetvol.dispatch.models import BoardEvent
from vetvol.regions.models import Region

WATER = [{"name": "救生员", "skill_code": "water_rescue", "count": 1}]


def _ws(server: str, user, path: str):
    client = Client()
    client.force_login(user)
    ws_url = server.replace("http://", "ws://") + path
    return connect(
        ws_url,
        origin=server,
        additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
        open_timeout=5,
    )


def _messages(ws, *, until=None, timeout=3.0) -> list[dict]:
    """Messages until `until(message)` is true or nothing more arrives within `timeout` seconds."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = ws.recv(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        message = json.loads(raw)
        out.append(message)
        if until and until(message):
            break
    return out


@pytest.mark.django_db(transaction=True)
def test_events_reach_the_boards_of_their_region_only(asgi_server, people, responder, open_incident):
    responder(1, skills={"water_rescue": 2}, km_east=1.0)
    with (
        _ws(asgi_server, people.futian_admin, "/ws/board/?region=440304") as futian,
        _ws(asgi_server, people.sz_admin, "/ws/board/?region=4403") as shenzhen,
        _ws(asgi_server, people.tianhe_admin, "/ws/board/?region=440106") as tianhe,
    ):
        incident = open_incident(roles=WATER)
        got = _messages(futian, until=lambda m: m.get("name") == "dispatch.invitation.sent")
        names = [m["name"] for m in got if m["type"] == "event"]
        assert names[0] == "dispatch.incident.opened"
        assert "dispatch.invitation.sent" in names
        opened = got[0]
        assert opened["incident"]["id"] == incident.pk
        assert opened["incident"]["needs"][0]["count"] == 1
        assert [m["seq"] for m in got] == sorted(m["seq"] for m in got)
        city = _messages(shenzhen, until=lambda m: m.get("name") == "dispatch.invitation.sent")
        assert {m["seq"] for m in city} == {m["seq"] for m in got}
        assert _messages(tianhe, timeout=1.0) == []


@pytest.mark.django_db(transaction=True)
def test_board_refuses_nodes_outside_the_users_scope(asgi_server, people):
    for user, path in [
        (people.tianhe_admin, "/ws/board/?region=440304"),  # another district
        (people.futian_admin, "/ws/board/?region=4403"),  # above their own node
        (people.team_leader, "/ws/board/?region=440304"),  # no grant that covers people
        (people.futian_admin, "/ws/board/?region=99"),  # no such node
    ]:
        with pytest.raises(InvalidStatus) as caught:
            _ws(asgi_server, user, path)
        assert caught.value.response.status_code == 403
    ws_url = asgi_server.replace("http://", "ws://") + "/ws/board/?region=440304"
    with pytest.raises(InvalidStatus):  # anonymous
        connect(ws_url, origin=asgi_server, open_timeout=5)
    client = Client()
    client.force_login(people.futian_admin)
    with pytest.raises(InvalidStatus):  # a foreign page's origin
        connect(
            ws_url,
            origin="https://evil.example",
            additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
            open_timeout=5,
        )


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_board_replays_what_it_missed(asgi_server, people, responder, open_incident):
    volunteer = responder(1, skills={"water_rescue": 2}, km_east=1.0)
    seen = board.state(people.futian_admin, Region.objects.get(code="440304"))["seq"]
    incident = open_incident(roles=WATER)  # happens while the board is away
    invitation = incident.invitations.get()
    actions.answer_invitation(volunteer.user, invitation, True)
    with _ws(asgi_server, people.futian_admin, f"/ws/board/?region=440304&since={seen}") as ws:
        got = _messages(ws, until=lambda m: m["type"] == "caught_up")
    replayed = [m for m in got if m["type"] == "event"]
    assert [m["name"] for m in replayed][:1] == ["dispatch.incident.opened"]
    assert "dispatch.assignment.status" in [m["name"] for m in replayed]
    assert [m["seq"] for m in replayed] == list(
        BoardEvent.objects.filter(seq__gt=seen, region_code__startswith="440304").values_list(
            "seq", flat=True
        )
    )
    caught_up = got[-1]
    assert caught_up["type"] == "caught_up"
    assert caught_up["incidents"][0]["filled"] == 1


@pytest.mark.django_db(transaction=True)
def test_volunteers_phone_hears_its_invitation(asgi_server, people, responder, open_incident):
    volunteer = responder(1, skills={"water_rescue": 2}, km_east=1.0)
    other = responder(2, skills={"water_rescue": 2}, km_east=50.0)
    with (
        _ws(asgi_server, volunteer.user, "/ws/me/") as mine,
        _ws(asgi_server, other.user, "/ws/me/") as theirs,
    ):
        open_incident(roles=WATER)
        got = _messages(mine, until=lambda m: m.get("name") == "dispatch.invitation.sent")
        assert got and got[-1]["name"] == "dispatch.invitation.sent"
        assert got[-1]["data"]["volunteer_id"] == volunteer.pk
        assert _messages(theirs, timeout=1.0) == []


def test_rolled_back_dispatch_journals_nothing(
    people, responder, open_incident, django_capture_on_commit_callbacks
):
    responder(1, skills={"water_rescue": 2}, km_east=1.0)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        open_incident(roles=WATER)
    assert callbacks
    journaled = BoardEvent.objects.count()
    assert journaled >= 2
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        open_incident(roles=WATER)
        raise RuntimeError("operator cancelled")
    assert BoardEvent.objects.count() == journaled


def test_board_state_and_counters(client, people, responder, open_incident):
    responder(1, skills={"water_rescue": 2}, km_east=1.0)
    incident = open_incident(roles=WATER)
    client.force_login(people.sz_admin)
    state = client.get("/api/dispatch/board?region=4403").json()
    assert [i["id"] for i in state["incidents"]] == [incident.pk]
    assert state["incidents"][0]["needs"][0]["pending"] == 1
    futian = next(r for r in state["counters"] if r["code"] == "440304")
    assert futian["incidents"] == 1
    assert sum(r["incidents"] for r in state["counters"]) == 1
    everywhere = board.all_counters()
    assert next(r for r in everywhere["44"] if r["code"] == "4403")["incidents"] == 1
    assert next(r for r in everywhere["440304"] if r["code"].startswith("440304"))  # streets of Futian
    assert sum(r["incidents"] for r in everywhere["440106"]) == 0
    client.force_login(people.tianhe_admin)
    assert client.get("/api/dispatch/board?region=440304").status_code == 404
    state = client.get("/api/dispatch/board").json()  # their own node by default
    assert state["region"]["code"] == "440106" and state["incidents"] == []


def test_board_pages_are_scoped(client, people):
    client.force_login(people.futian_admin)
    page = client.get("/dispatch/board/")
    assert page.status_code == 200
    assert 'data-region="440304"' in page.content.decode()
    assert client.get("/dispatch/board/?region=440106").status_code == 404
    geo = client.get("/dispatch/board/geo/440304.json").json()
    assert [f["properties"]["code"] for f in geo["features"]] == ["440304"]
    client.force_login(people.sz_admin)
    codes = {f["properties"]["code"] for f in client.get("/dispatch/board/geo/4403.json").json()["features"]}
    assert "440304" in codes and all(c.startswith("4403") for c in codes)
    client.force_login(people.team_leader)
    assert client.get("/dispatch/board/").status_code == 403
    client.force_login(people.outsider)
    assert client.get("/dispatch/board/").status_code == 403
    assert client.get("/dispatch/board/geo/4403.json").status_code == 404


def test_timeline_of_an_incident(
    client, people, responder, open_incident, django_capture_on_commit_callbacks
):
    volunteer = responder(1, skills={"water_rescue": 2}, km_east=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_incident(roles=WATER)
    with django_capture_on_commit_callbacks(execute=True):
        actions.answer_invitation(volunteer.user, incident.invitations.get(), True)
    client.force_login(people.futian_admin)
    names = [e["name"] for e in client.get(f"/api/dispatch/incidents/{incident.pk}/timeline").json()]
    assert names[0] == "dispatch.incident.opened"
    assert "dispatch.invitation.answered" in names and "dispatch.assignment.status" in names
    client.force_login(people.tianhe_admin)
    assert client.get(f"/api/dispatch/incidents/{incident.pk}/timeline").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_logout_closes_the_users_websockets(asgi_server, people):
    from websockets.exceptions import ConnectionClosed

    from vetvol.accounts import actions as account_actions

    with (
        _ws(asgi_server, people.futian_admin, "/ws/board/?region=440304") as mine,
        _ws(asgi_server, people.tianhe_admin, "/ws/board/?region=440106") as theirs,
    ):
        account_actions.record_logout(people.futian_admin)
        with pytest.raises(ConnectionClosed) as closed:
            mine.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert _messages(theirs, timeout=1.0) == []  # someone else's stays open
        theirs.send('{"type": "ping"}')
        assert json.loads(theirs.recv(timeout=5)) == {"type": "pong"}
