"""Websocket endpoints: the live board of a region node, and a volunteer's own invitations.

    /ws/board/?region=4401&since=123   board of node 4401; replays journal rows after seq 123 first
    /ws/me/                            the signed-in volunteer's invitations and assignment changes

The session cookie identifies the user (same login as the pages); the Origin must be an allowed host. A
node the user may not watch is refused at the handshake (403), like a page outside their scope.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder

from vetvol.dispatch import board, live


def _param(scope: dict[str, Any], name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("ascii", "replace")).get(name)
    return values[0] if values else ""


class _LiveConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""
    user_group: str = ""

    async def join(self, group: str) -> None:
        """Listen to `group`, and to the user's own group (which closes the socket at logout)."""
        self.group = group
        self.user_group = live.user_group(self.scope["user"].pk)
        for name in (self.group, self.user_group):
            await self.channel_layer.group_add(name, self.channel_name)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, through a thread hop; relayed
        # board messages touch no database, and a busy board gets hundreds a second: send them directly.
        if message.get("type") == "live.message":
            await self.send(text_data=message["text"])
            return
        if message.get("type") == "live.close":
            await self.close(code=4401)  # logged out: the page reloads (to the login page)
            return
        await super().dispatch(message)

    async def live_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])

    async def disconnect(self, code: int) -> None:
        for name in (self.group, self.user_group):
            if name:
                await self.channel_layer.group_discard(name, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})


class BoardConsumer(_LiveConsumer):
    async def connect(self) -> None:
        live.serve_from(asyncio.get_running_loop())
        user = self.scope.get("user")
        code = _param(self.scope, "region")
        region = await database_sync_to_async(self._region)(user, code)
        if region is None:
            await self.close()
            return
        self.region = region
        # join first, then replay: nothing falls between (a message may arrive twice; clients keep seqs)
        await self.join(live.board_group(region.code))
        await self.accept()
        since = _param(self.scope, "since")
        if since.isdigit():
            events, too_many = await database_sync_to_async(board.replay)(user, region, int(since))
            if too_many:
                await self.send_json({"type": "resync"})
                return
            for message in events:
                await self.send_json(message)
            incidents = await database_sync_to_async(board.touched_incidents)(events)
            positions = await database_sync_to_async(board.positions)(user, region)
            await self.send_json({"type": "caught_up", "incidents": incidents, "positions": positions})

    @staticmethod
    def _region(user: Any, code: str) -> Any:
        if not getattr(user, "is_authenticated", False) or not code.isdigit():
            return None
        if not board.may_watch(user, code):
            return None
        from vetvol.regions.models import Region

        return Region.objects.get(code=code)


class MyConsumer(_LiveConsumer):
    async def connect(self) -> None:
        live.serve_from(asyncio.get_running_loop())
        volunteer_id = await database_sync_to_async(self._volunteer_id)(self.scope.get("user"))
        if volunteer_id is None:
            await self.close()
            return
        await self.join(live.volunteer_group(volunteer_id))
        await self.accept()

    @staticmethod
    def _volunteer_id(user: Any) -> int | None:
        if not getattr(user, "is_authenticated", False):
            return None
        from vetvol.activities.queries import volunteer_of

        volunteer = volunteer_of(user)
        return volunteer.pk if volunteer else None
