"""Idempotent requests: a retry with the same key gets the first answer and changes nothing.

`run(user, scope, key, body, handler)` hashes the body; a new key runs the handler inside a transaction
together with storing its answer (so a crash leaves neither), a known key with the same hash returns the
stored answer, a known key with another hash raises KeyReused (the API answers 409).

`run_many(requests, handler)` does the same for a batch (see core.groupcommit): one lookup for all keys,
the handler once for the new ones, one insert of their answers, all in one transaction (pipelined for a
batch of check-ins, see core.rawsql.pipeline). A key sent twice in one batch runs once; its twin gets the
same answer (or KeyReused, for another body). `run` is a batch of one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from vetvol.core import rawsql
from vetvol.core.models import IdempotencyKey

KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")

Answer = tuple[int, Any]


class KeyReused(Exception):
    """The key was used before with a different request body."""


class BadKey(ValueError):
    """The key is missing or malformed."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a batch maps each to its work
class Request:
    user: Any
    scope: str
    key: str
    body: Any


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def run(user: Any, scope: str, key: str, body: Any, handler: Callable[[], Answer]) -> Answer:
    """The (status, response) of the first request with this key; `handler` runs at most once per key."""

    def handle_one(pending: list[Request]) -> list[Answer | Exception]:
        return [handler()]

    answer = run_many([Request(user, scope, key, body)], handle_one)[0]
    if isinstance(answer, Exception):
        raise answer
    return answer


def run_many(
    requests: Sequence[Request],
    handler: Callable[[list[Request]], Sequence[Answer | Exception]],
    *,
    pipelined: bool = False,
) -> list[Answer | Exception]:
    """One answer per request, in order: the stored answer of a known key, else what `handler` answered
    for it (called once, with the new requests, in one transaction with the lookup and storing their
    answers). An exception from the handler for one request is that request's answer and stores nothing
    for it. `pipelined`: the transaction's statements are sent without waiting for each answer
    (core.rawsql.pipeline), for a handler that reads no row counts."""
    answers: list[Answer | Exception | None] = [None] * len(requests)
    digests = [body_hash(r.body) for r in requests]
    first: dict[tuple[int, str, str], int] = {}  # each key's first request in this batch
    twins: list[int] = []
    for i, r in enumerate(requests):
        if not r.key or not KEY_RE.match(r.key):
            answers[i] = BadKey(r.key)
        elif _ident(r) in first:
            twins.append(i)
        else:
            first[_ident(r)] = i
    pending: list[int] = []
    try:
        with transaction.atomic(), rawsql.pipeline(pipelined):
            stored = _stored([requests[i] for i in first.values()])
            for ident, i in first.items():
                if ident in stored:
                    answers[i] = _answer(stored[ident], digests[i], requests[i].key)
                else:
                    pending.append(i)
            if pending:
                handled = handler([requests[i] for i in pending])
                rows = []
                for i, answer in zip(pending, handled, strict=True):
                    answers[i] = answer
                    if not isinstance(answer, Exception):
                        r = requests[i]
                        rows.append(
                            {
                                "key": r.key,
                                "user_id": r.user.pk,
                                "scope": r.scope,
                                "request_hash": digests[i],
                                "status_code": answer[0],
                                "response": answer[1],
                            }
                        )
                rawsql.insert_many(IdempotencyKey, rows)
    except Exception:
        if not pending:  # the lookup itself failed
            raise
        # A retry that overlapped the original fails on the original's writes (a unique constraint, a
        # claim already taken); once the original has committed, its stored answer is the answer.
        stored = _stored([requests[i] for i in pending])
        if len(stored) < len(pending):
            raise
        for i in pending:
            answers[i] = _answer(stored[_ident(requests[i])], digests[i], requests[i].key)
    for i in twins:
        original = answers[first[_ident(requests[i])]]
        same = digests[i] == digests[first[_ident(requests[i])]]
        answers[i] = original if same else KeyReused(requests[i].key)
    return answers  # type: ignore[return-value]


def _ident(r: Request) -> tuple[int, str, str]:
    return (r.user.pk, r.scope, r.key)


def _answer(row: tuple[str, int, Any], digest: str, key: str) -> Answer | Exception:
    request_hash, status_code, response = row
    if request_hash != digest:
        return KeyReused(key)
    field = IdempotencyKey._meta.get_field("response")
    return status_code, field.from_db_value(response, None, connection)  # type: ignore[arg-type]


def _stored(requests: Sequence[Request]) -> dict[tuple[int, str, str], tuple[str, int, Any]]:
    """The stored (hash, status, response) of these keys, by (user id, scope, key)."""
    if not requests:
        return {}
    # Hand-written (see core.rawsql): every idempotent request starts with this lookup.
    where = " OR ".join(['("user_id" = %s AND "scope" = %s AND "key" = %s)'] * len(requests))
    params = [p for r in requests for p in _ident(r)]
    rows = rawsql.fetch_all(
        'SELECT "user_id", "scope", "key", "request_hash", "status_code", "response"'  # noqa: S608
        f' FROM "{IdempotencyKey._meta.db_table}" WHERE {where}',
        params,
    )
    return {(u, s, k): (h, c, resp) for u, s, k, h, c, resp in rows}
