"""Access matrix of the API: every operation of /api/openapi.json × every role of the cast (bearer tokens)
and anonymous × an object inside and outside the role's subtree. An operation without an entry in
operations.OPERATIONS fails here."""

from __future__ import annotations

import pytest
from django.test import Client

from vetvol.api import api
from vetvol.core.tests.access.api_calls import call
from vetvol.core.tests.access.matrix import run
from vetvol.core.tests.access.operations import OPERATIONS

SCHEMA = api.get_openapi_schema()


def operations() -> list[str]:
    return [f"{method.upper()} {path}" for path, ops in SCHEMA["paths"].items() for method in ops]


def test_every_api_operation_has_an_entry(client):
    served = client.get("/api/openapi.json").json()
    found = [f"{m.upper()} {p}" for p, ops in served["paths"].items() for m in ops]
    assert found == operations()
    missing = sorted(set(found) - set(OPERATIONS))
    stale = sorted(set(OPERATIONS) - set(found))
    assert not missing, "API operations without an entry in core/tests/access/operations.py: " + ", ".join(
        missing
    )
    assert not stale, "entries in OPERATIONS for operations that no longer exist: " + ", ".join(stale)


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_api_access(world, db, key):
    entry = OPERATIONS[key]
    method, path = key.split(" ", 1)
    clients = {role: Client() for role in ["anon", *world.tokens]}

    def send(client, role, side, ids):
        return call(client, SCHEMA, method.lower(), path, ids, world.tokens.get(role or ""), entry.body)

    problems = run(entry, clients, world, send, key)
    assert not problems, f"{key} ({entry.note or 'no note'}):\n" + "\n".join(problems)
