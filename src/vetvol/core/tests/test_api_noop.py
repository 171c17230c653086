"""The authenticated no-op (the check-in benchmark's second baseline): bearer auth and the check-in's
parsing, nothing written."""

from __future__ import annotations

import pytest

from vetvol.accounts.actions import create_api_token
from vetvol.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_noop_needs_a_token_parses_like_check_in_and_writes_nothing(client, people):
    _, plain = create_api_token(people.volunteer, "bench")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}", "HTTP_IDEMPOTENCY_KEY": "noop-key-0001"}
    audit_rows = AuditEntry.objects.count()
    assert client.get("/api/noop").status_code == 401
    assert client.get("/api/noop", **auth).json() == {
        "user_id": people.volunteer.pk,
        "activity_id": None,
        "method": "",
    }
    body = {"method": "gps", "lat": 22.5, "lng": 114.05}
    r = client.post("/api/noop/42", body, content_type="application/json", **auth)
    assert r.status_code == 200
    assert r.json() == {"user_id": people.volunteer.pk, "activity_id": 42, "method": "gps"}
    r = client.post("/api/noop/42", {"method": "teleport"}, content_type="application/json", **auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "method"
    assert AuditEntry.objects.count() == audit_rows
