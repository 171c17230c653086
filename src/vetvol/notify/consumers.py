"""/ws/notify/: the signed-in person's own group (the inbox bell, and logout closing the socket)."""

from __future__ import annotations

import asyncio
from typing import Any

from vetvol.dispatch import live
from vetvol.dispatch.consumers import _LiveConsumer


class InboxConsumer(_LiveConsumer):
    async def connect(self) -> None:
        live.serve_from(asyncio.get_running_loop())
        user: Any = self.scope.get("user")
        if not getattr(user, "is_authenticated", False):
            await self.close()
            return
        self.group = live.user_group(user.pk)
        self.user_group = ""
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
