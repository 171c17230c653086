"""What any check-in request costs before it checks anybody in: the CPU of this process per request for the
trivial `/healthz`, for an API request that only authenticates its bearer token and parses and answers the
check-in's schemas (a constant answer, no database write), and for the real check-in (a batch of one), all
through the same middleware, in one process on PostgreSQL. Read beside `checkin_load.py`: its target
compares the check-in with `/healthz`; this shows how much of the gap the API layer alone takes.

    python bench/api_floor.py            # needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres)

Set-up as in checkin_load.py (its functions, a scratch database of its own: `vetvol_bench_api_floor`). The
requests go through Django's test client (no HTTP server: the server's own cost per request, the same for
every endpoint, is left out). The constant endpoint is mounted for this measurement only, with the
project's token auth and the check-in's input and output schemas. Last line: one JSON object.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_VOLUNTEERS", "6000")

import checkin_load  # after the volunteer count is set

checkin_load.DB_NAME = "vetvol_bench_api_floor"
REQUESTS = 2000


def main() -> None:
    env = checkin_load.server_env()
    env["DATABASE_URL"] = f"{checkin_load.PG}/{checkin_load.DB_NAME}"
    os.environ.update(env)
    checkin_load.recreate_database()
    import _django

    _django.setup(load_regions="township")
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    manifest_only = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": manifest_only}}):
        call_command("collectstatic", "--noinput", verbosity=0)
    activity_id, checkins = checkin_load.build_event()

    from django.test import Client
    from django.urls import clear_url_caches, path
    from ninja import Header, NinjaAPI

    import vetvol.urls
    from vetvol.activities.api import AttendanceOut, CheckInIn
    from vetvol.api import TokenAuth

    floor = NinjaAPI(urls_namespace="bench_floor", auth=[TokenAuth()], docs_url=None)

    @floor.post("/{activity_id}/check-in", response={201: AttendanceOut})
    def constant(  # type: ignore[no-untyped-def]
        request,
        activity_id: int,
        payload: CheckInIn,
        idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
    ):
        return 201, {
            "attendance_id": 1,
            "volunteer_number": request.user.username,
            "checked_in_at": "2026-01-01T08:00:00+08:00",
            "checked_out_at": None,
            "outside_fence": False,
        }

    vetvol.urls.urlpatterns.append(path("bench-floor/", floor.urls))
    clear_url_caches()
    client = Client(HTTP_HOST="127.0.0.1")

    def post(prefix: str, n: int) -> None:
        item = checkins[n]
        response = client.generic(
            "POST",
            f"{prefix}/{activity_id}/check-in",
            item.body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {item.token}",
            HTTP_IDEMPOTENCY_KEY=item.key,
        )
        assert response.status_code == 201, response.content

    def cpu_ms(fn, offset: int) -> float:
        start = time.process_time()
        for n in range(REQUESTS):
            fn(offset + n)
        return round((time.process_time() - start) / REQUESTS * 1000, 3)

    for n in range(200):  # warm-up: imports, connections, caches
        client.get("/healthz")
        post("/bench-floor", n)
        post("/api/activities", n)
    figures = {
        "bench": "api_floor",
        "healthz_cpu_ms": cpu_ms(lambda n: client.get("/healthz"), 0),
        "auth_and_schemas_cpu_ms": cpu_ms(lambda n: post("/bench-floor", n), 200),
        "checkin_cpu_ms": cpu_ms(lambda n: post("/api/activities", n), 200 + REQUESTS),
    }
    figures["auth_and_schemas_vs_healthz"] = round(
        figures["healthz_cpu_ms"] / figures["auth_and_schemas_cpu_ms"], 3
    )
    print(
        f"CPU of this process per request: /healthz {figures['healthz_cpu_ms']} ms, token auth and the"
        f" check-in's schemas with a constant answer {figures['auth_and_schemas_cpu_ms']} ms, the check-in"
        f" (a batch of one) {figures['checkin_cpu_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
