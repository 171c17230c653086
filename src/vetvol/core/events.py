"""Domain events, delivered only after the surrounding transaction commits.

Apps subscribe explicitly (in their AppConfig.ready) with `subscribe(name, handler)`; actions call
`emit(name, **payload)`. A rolled-back change notifies no one. No Django signals carry business logic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)
Handler = Callable[[str, dict[str, Any]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Call `handler(name, payload)` after each committed `name` event; "*" receives every event."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def emit(name: str, **payload: Any) -> None:
    transaction.on_commit(lambda: _deliver(name, payload))


def _deliver(name: str, payload: dict[str, Any]) -> None:
    for handler in [*_subscribers.get(name, []), *_subscribers.get("*", [])]:
        try:
            handler(name, payload)
        except Exception:
            # One failing subscriber must not stop the others, nor undo a change already committed.
            logger.exception("event handler %r failed for %s", handler, name)
