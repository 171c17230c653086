"""Domain events, delivered only after the surrounding transaction commits.

Apps subscribe explicitly (in their AppConfig.ready) with `subscribe(name, handler)`; actions call
`emit(name, **payload)`. A rolled-back change notifies no one. No Django signals carry business logic.

`record_with(name, writer)` is the one exception to "after commit", and it writes, it does not act: the
writer runs at `emit` time, inside the emitting transaction, so that what it writes (the notification
outbox's rows) commits or rolls back together with the change. A writer that fails fails the change.
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
_writers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Call `handler(name, payload)` after each committed `name` event; "*" receives every event."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def record_with(name: str, writer: Handler) -> None:
    """Call `writer(name, payload)` inside the transaction that emits `name` (a transactional outbox)."""
    if writer not in _writers[name]:
        _writers[name].append(writer)


def emit(name: str, **payload: Any) -> None:
    for writer in _writers.get(name, ()):
        writer(name, payload)
    transaction.on_commit(lambda: _deliver(name, payload))


def _deliver(name: str, payload: dict[str, Any]) -> None:
    for handler in [*_subscribers.get(name, []), *_subscribers.get("*", [])]:
        try:
            handler(name, payload)
        except Exception:
            # One failing subscriber must not stop the others, nor undo a change already committed.
            logger.exception("event handler %r failed for %s", handler, name)
