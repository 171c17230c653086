"""Idempotent requests: a retry with the same key gets the first answer and changes nothing.

`run(user, scope, key, body, handler)` hashes the body; a new key runs the handler inside a transaction
together with storing its answer (so a crash leaves neither), a known key with the same hash returns the
stored answer, a known key with another hash raises KeyReused (the API answers 409)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from vetvol.core import rawsql
from vetvol.core.models import IdempotencyKey

KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


class KeyReused(Exception):
    """The key was used before with a different request body."""


class BadKey(ValueError):
    """The key is missing or malformed."""


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def run(
    user: Any, scope: str, key: str, body: Any, handler: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """The (status, response) of the first request with this key; `handler` runs at most once per key."""
    if not key or not KEY_RE.match(key):
        raise BadKey(key)
    digest = body_hash(body)
    found = _stored(user, scope, key, digest)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            status, response = handler()
            rawsql.insert(
                IdempotencyKey(
                    user=user,
                    scope=scope,
                    key=key,
                    request_hash=digest,
                    status_code=status,
                    response=response,
                )
            )
    except Exception:
        # A retry that overlapped the original fails on the original's writes (a unique constraint, a
        # claim already taken); once the original has committed, its stored answer is the answer.
        found = _stored(user, scope, key, digest)
        if found is None:
            raise
        return found
    return status, response


def _stored(user: Any, scope: str, key: str, digest: str) -> tuple[int, Any] | None:
    """The stored answer for this key, None if there is none; KeyReused if it answered another body."""
    # Hand-written (see core.rawsql): every idempotent request starts with this lookup.
    row = rawsql.fetch_one(
        f'SELECT "request_hash", "status_code", "response" FROM "{IdempotencyKey._meta.db_table}"'  # noqa: S608
        ' WHERE "user_id" = %s AND "scope" = %s AND "key" = %s',
        [user.pk, scope, key],
    )
    if row is None:
        return None
    request_hash, status_code, response = row
    if request_hash != digest:
        raise KeyReused(key)
    field = IdempotencyKey._meta.get_field("response")
    return status_code, field.from_db_value(response, None, connection)  # type: ignore[arg-type]
