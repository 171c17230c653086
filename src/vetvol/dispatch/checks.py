"""System checks of the dispatch app's deployment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility, deploy=True)
def channel_layer_crosses_processes(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Production runs several processes (WSGI workers, the dispatch clock, the websocket server): the
    in-memory channel layer would keep each process's events to itself and the live boards would miss them."""
    backend = str(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    if settings.PRODUCTION and backend.endswith("InMemoryChannelLayer"):
        return [
            Warning(
                "The channel layer is in memory: events from other processes will not reach the live boards.",
                hint="Set REDIS_URL so that the channel layer runs on Redis.",
                id="vetvol.W001",
            )
        ]
    return []
