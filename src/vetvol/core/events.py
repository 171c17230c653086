"""Domain events, delivered only after the surrounding transaction commits.

Apps subscribe explicitly (in their AppConfig.ready) with `subscribe(name, handler)`; actions call
`emit(name, **payload)`. A rolled-back change notifies no one. No Django signals carry business logic.

`record_with(name, writer)` is the one exception to "after commit", and it writes, it does not act: the
writer runs at `emit` time, inside the emitting transaction, so that what it writes (the notification
outbox's rows, the statistics' dirty marks) commits or rolls back together with the change. A writer that
fails fails the change.

`emit_many(name, payloads)` is `emit` for a change that makes several events of one kind at once (a batch
of check-ins written together): subscribers still get one call per event, after commit, and a writer
registered with `batch=True` gets all the payloads in one call, so that it can write them in one statement.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)
Handler = Callable[[str, dict[str, Any]], None]
BatchWriter = Callable[[str, list[dict[str, Any]]], None]
_subscribers: dict[str, list[Handler]] = defaultdict(list)
_writers: dict[str, list[tuple[Handler | BatchWriter, bool]]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Call `handler(name, payload)` after each committed `name` event; "*" receives every event."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def record_with(name: str, writer: Handler | BatchWriter, *, batch: bool = False) -> None:
    """Call `writer(name, payload)` inside the transaction that emits `name` (a transactional outbox);
    with `batch`, `writer(name, payloads)` once per `emit_many` (a list of one for `emit`)."""
    if (writer, batch) not in _writers[name]:
        _writers[name].append((writer, batch))


def emit(name: str, **payload: Any) -> None:
    emit_many(name, [payload])


def emit_many(name: str, payloads: list[dict[str, Any]]) -> None:
    """Several `name` events of one change, in order."""
    if not payloads:
        return
    payloads = list(payloads)
    for writer, batch in _writers.get(name, ()):
        if batch:
            writer(name, payloads)  # type: ignore[arg-type]
        else:
            for payload in payloads:
                writer(name, payload)  # type: ignore[arg-type]

    def deliver() -> None:
        for payload in payloads:
            _deliver(name, payload)

    transaction.on_commit(deliver)


def _deliver(name: str, payload: dict[str, Any]) -> None:
    for handler in [*_subscribers.get(name, []), *_subscribers.get("*", [])]:
        try:
            handler(name, payload)
        except Exception:
            # One failing subscriber must not stop the others, nor undo a change already committed.
            logger.exception("event handler %r failed for %s", handler, name)
