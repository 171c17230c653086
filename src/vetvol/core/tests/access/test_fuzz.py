"""API fuzzing: schemathesis generates requests from /api/openapi.json for every operation and sends them
in-process to the WSGI application as two admins of different districts (Futian and Tianhe, bearer tokens),
over the access matrix's world. Checks: no 5xx, and every documented response matches its schema.

Bounded for CI: a few examples per operation, no deadline, derandomised (the same run every time), no
example database written."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

# each operation's examples run in one transaction, rolled back after it
pytestmark = pytest.mark.django_db
EXAMPLES = 6
USERS = ("futian_admin", "tianhe_admin")


@pytest.fixture(scope="module", autouse=True)
def _keep_the_connection():
    """The real WSGI handler closes the database connection at the end of each request (which, inside the
    test's transaction, is a closed connection on PostgreSQL); Django's own test client unhooks that too."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


# Loaded at collection, so each operation is a test item of its own (the schema view reads no database).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(case, world):
    for user in USERS:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {world.tokens[user]}"},
            checks=[not_a_server_error, response_schema_conformance],
        )


def test_quiet_hours_with_an_offset_are_refused_with_422(world, client):
    """Found by the fuzzer: a time with an offset ("00:00:00Z") reached the database and failed there."""
    body = {"push": True, "sms": True, "email": True, "quiet_start": "22:00:00+08:00", "quiet_end": "07:00"}
    r = client.put(
        "/api/notify/preferences",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.tokens['volunteer']}",
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "quiet_start", "message": "免打扰时间请填写当地时间，不带时区"}]
