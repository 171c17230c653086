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

from django.db import transaction

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
    found = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
    if found is not None:
        if found.request_hash != digest:
            raise KeyReused(key)
        return found.status_code, found.response
    try:
        with transaction.atomic():
            status, response = handler()
            IdempotencyKey.objects.create(
                user=user, scope=scope, key=key, request_hash=digest, status_code=status, response=response
            )
    except Exception:
        # A retry that overlapped the original fails on the original's writes (a unique constraint, a
        # claim already taken); once the original has committed, its stored answer is the answer.
        found = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
        if found is None:
            raise
        if found.request_hash != digest:
            raise KeyReused(key) from None
        return found.status_code, found.response
    return status, response
