"""The inbox bell, live: after a commit that changed someone's unread notifications, their open pages hear
the new count over the same websocket machinery as the live board (the user's own group)."""

from __future__ import annotations

from collections.abc import Iterable

from vetvol.dispatch import live


def unread_changed(user_ids: Iterable[int]) -> None:
    from vetvol.notify import queries

    counts = queries.unread_counts(list(user_ids))
    live.send([(live.user_group(uid), {"type": "inbox", "unread": n}) for uid, n in counts.items()])
