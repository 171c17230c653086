"""The inbox bell on every page: the signed-in person's unread count (one indexed count, only where the
bell is drawn)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from vetvol.notify.queries import unread_count

    # a callable: the template calls it where the bell is drawn, so fragments pay no query
    return {"unread_count": lambda: unread_count(user)}
