"""The live board's delivery: dispatch events, after commit, become numbered journal rows and messages on the
channel layer.

Groups:
- `board.<prefix>` for every level of an event's region code (44, 4401, 440106, 440106001, 440106001001),
  so a board watching a node hears its whole subtree and nothing outside it;
- `volunteer.<id>` for the volunteer an invitation or assignment concerns (their phone page).

Delivery is fire-and-forget: the request that committed does not wait for the boards. When the process runs
the websocket server, messages are handed to its event loop (the in-memory layer lives there); otherwise
(a WSGI worker, the dispatch clock) they are sent through the configured layer, which must then be Redis for
them to reach another process. A board that missed messages replays the journal (`replay`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from vetvol.core import events

logger = logging.getLogger(__name__)

JOURNALED = (
    "dispatch.incident.opened",
    "dispatch.incident.updated",
    "dispatch.incident.closed",
    "dispatch.invitation.sent",
    "dispatch.invitation.answered",
    "dispatch.invitation.expired",
    "dispatch.assignment.status",
)
POSITION = "dispatch.position"
KEEP = timedelta(days=1)
PREFIX_LENGTHS = (2, 4, 6, 9, 12)

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def board_group(region_code: str) -> str:
    return f"board.{region_code}"


def volunteer_group(volunteer_id: int) -> str:
    return f"volunteer.{volunteer_id}"


def groups_for(region_code: str) -> list[str]:
    """The board groups that hear an event in `region_code`: one per ancestor level, the node itself too."""
    return [board_group(region_code[:n]) for n in PREFIX_LENGTHS if n <= len(region_code)]


def serve_from(loop: asyncio.AbstractEventLoop) -> None:
    """Called by websocket consumers: this process's event loop is where its boards listen."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = loop


def forget_loop() -> None:
    """The websocket server of this process has stopped (tests start and stop one per test)."""
    global _loop
    with _loop_lock:
        _loop = None


def _plain(value: Any) -> Any:
    """JSON-ready values (datetimes as ISO text): what the channel layer and the journal can carry."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


async def _send_all(sends: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    texts: dict[int, str] = {}
    for group, message in sends:
        # serialised once here, not once per websocket: a board event may go to hundreds of clients
        text = texts.setdefault(id(message), json.dumps(message, ensure_ascii=False))
        await layer.group_send(group, {"type": "live.message", "text": text})


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


async def _close_all(groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        for group in groups:
            await layer.group_send(group, {"type": "live.close"})


def on_logged_out(name: str, payload: dict[str, Any]) -> None:
    """Subscriber: a user logged out (or timed out): their open websockets close (code 4401); the pages
    reload, and a session that is still valid (another browser) simply reconnects."""
    _schedule(_close_all, [user_group(int(payload["user_id"]))])


def send(sends: list[tuple[str, dict[str, Any]]]) -> None:
    """Hand messages to the channel layer without waiting for them to be delivered."""
    if sends:
        _schedule(_send_all, sends)


def _schedule(coroutine: Any, argument: Any) -> None:
    loop = _loop
    if loop is not None and not loop.is_closed() and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(coroutine(argument))
        else:
            asyncio.run_coroutine_threadsafe(coroutine(argument), loop)
        return
    try:
        async_to_sync(coroutine)(argument)
    except Exception:
        # the change is committed and journaled: a board that misses this catches up by replay
        logger.exception("live board delivery failed")


def relay(name: str, payload: dict[str, Any]) -> None:
    """Subscriber of the dispatch events (after commit): journal, enrich with the incident's fill state,
    publish to the boards of every level above the event and to the volunteer it concerns."""
    from vetvol.dispatch import board
    from vetvol.dispatch.models import BoardEvent
    from vetvol.registry.models import Team, Volunteer

    region_code = payload.get("region_code") or ""
    volunteer_id = payload.get("volunteer_id")
    now = timezone.now()
    if name == POSITION:
        message = {"type": "position", **_plain(payload)}
        sends = [(g, message) for g in groups_for(region_code)]
        send(sends)
        return
    data = _plain(payload)
    if volunteer_id:  # the board names people by their public volunteer number
        data["volunteer"] = Volunteer.objects.filter(pk=volunteer_id).values_list("number", flat=True).first()
    if payload.get("team_id"):
        data["team"] = Team.objects.filter(pk=payload["team_id"]).values_list("name", flat=True).first()
    incident_id = payload.get("incident_id") or (
        payload.get("id") if name.startswith("dispatch.incident") else None
    )
    row = BoardEvent.objects.create(
        name=name, region_code=region_code, incident_id=incident_id, payload=data, at=now
    )
    message = {
        "type": "event",
        "seq": row.seq,
        "name": name,
        "at": now.isoformat(),
        "incident_id": incident_id,
        "data": data,
        "incident": board.incident_summary(incident_id) if incident_id else None,
    }
    message = _plain(message)
    sends = [(g, message) for g in groups_for(region_code)]
    if volunteer_id:
        sends.append((volunteer_group(int(volunteer_id)), {"type": "event", "name": name, "data": data}))
    send(sends)


def publish_counters(now: Any = None) -> int:
    """Push per-district counters to the province, city and county boards (the dispatch clock calls this
    every few seconds). Returns how many groups were sent to."""
    from vetvol.dispatch import board

    sends = [
        (board_group(code), {"type": "counters", "region": code, "rows": _plain(rows)})
        for code, rows in board.all_counters(now).items()
    ]
    send(sends)
    return len(sends)


def prune(now: Any = None) -> int:
    from vetvol.dispatch.models import BoardEvent

    now = now or timezone.now()
    deleted, _ = BoardEvent.objects.filter(at__lt=now - KEEP).delete()
    return deleted


def subscribe() -> None:
    for name in (*JOURNALED, POSITION):
        events.subscribe(name, relay)
    events.subscribe("accounts.logged_out", on_logged_out)
