"""Shared fixtures: Guangdong's tree and a cast of named people at different levels.

People are made through the account actions (create_user, grant_role), as a real admin would make them:
- province_admin (广东省), sz_admin (深圳市), futian_admin (深圳福田区), tianhe_admin (广州天河区),
- station_staff (福田区南园街道), team_leader (福田区), volunteer (南园街道), social_worker (天河区),
- auditor (广东省), outsider (no role at all).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

PASSWORD = "Test-pass-2026!"
CAST = {
    "province_admin": ("province_admin", "44"),
    "sz_admin": ("city_admin", "4403"),
    "futian_admin": ("district_admin", "440304"),
    "tianhe_admin": ("district_admin", "440106"),
    "station_staff": ("station_staff", "440304001"),
    "team_leader": ("team_leader", "440304"),
    "volunteer": ("volunteer", "440304001"),
    "social_worker": ("social_worker", "440106"),
    "auditor": ("auditor", "44"),
}


@pytest.fixture
def regions(db):
    """The tree down to streets and towns (villages only where a test loads them itself)."""
    from vetvol.regions import loader
    from vetvol.regions.models import Region

    if not Region.objects.filter(level="township").exists():
        loader.load(max_level="township")
    return Region.objects


@pytest.fixture
def root(db):
    from vetvol.accounts.models import User

    return User.objects.create_superuser("root", password=PASSWORD)


def make_person(actor, username: str, role: str | None, code: str | None):
    from vetvol.accounts import actions
    from vetvol.regions.models import Region

    user = actions.create_user(actor, username=username, password=PASSWORD, display_name=username)
    if role:
        actions.grant_role(actor, user, role, Region.objects.get(code=code))
    return user


@pytest.fixture
def people(regions, root):
    cast = {name: make_person(root, name, role, code) for name, (role, code) in CAST.items()}
    cast["outsider"] = make_person(root, "outsider", None, None)
    cast["root"] = root
    return SimpleNamespace(**cast)


@pytest.fixture
def api_client(client):
    """A Django test client whose JSON bodies are sent as JSON."""
    return client


def volunteer_raw(seq: int, region: str = "440304001", **overrides):
    """Input for one valid volunteer: a real-format ID number from the home county, a valid mobile."""
    from datetime import date

    from vetvol.core.idcard import generate_id_number

    raw = {
        "name": f"测试{'甲乙丙丁戊己庚辛壬癸'[seq % 10]}{'一二三四五六七八九十'[seq // 10 % 10]}",
        "id_number": generate_id_number(
            region[:6], date(1950 + seq % 25, 1 + seq % 12, 1 + seq % 28), seq % 1000, "MF"[seq % 2]
        ),
        "phone": f"138{seq:08d}",
        "home_region": region,
        "address": f"测试路 {seq} 号",
        "service_branch": "army",
        "enlistment_year": 1968 + seq % 25,
        "discharge_year": 1972 + seq % 25,
        "is_party_member": seq % 2 == 0,
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def make_volunteer(regions, root):
    """Register volunteers through the real action: make_volunteer(seq, region=..., actor=..., **fields)."""
    from vetvol.registry import actions

    def make(seq: int, region: str = "440304001", actor=None, **overrides):
        consents = {k: overrides.pop(k) for k in ("publicity_consent", "location_consent") if k in overrides}
        return actions.register_volunteer(actor or root, volunteer_raw(seq, region, **overrides), **consents)

    return make


# Data the migrations seed (the skills taxonomy, case plans, run cards, the audit and ledger chain heads).
# A transactional test ends with a flush that empties every table; the flush then sends post_migrate, and
# this puts the seeded rows back (each seeder adds only what is missing), so later tests find them.
SEEDERS = [
    ("vetvol.registry.migrations.0002_taxonomy", "forward"),
    ("vetvol.core.migrations.0005_audit_chains", "make_heads"),
    ("vetvol.care.migrations.0002_seed_case_plans", "seed"),
    ("vetvol.dispatch.migrations.0002_seed_run_cards", "seed"),
    ("vetvol.fund.migrations.0002_ledger_rules", "make_heads"),
]


def _reseed(sender, apps=None, **kwargs):
    import importlib

    from django.apps import apps as global_apps

    apps = apps or global_apps
    if sender.name != "vetvol.fund":  # once per flush or migrate, after every seeded app's tables exist
        return
    for module, function in SEEDERS:
        getattr(importlib.import_module(module), function)(apps, None)


def pytest_configure(config):
    from django.db.models.signals import post_migrate

    post_migrate.connect(_reseed, dispatch_uid="vetvol-tests-reseed")


@pytest.fixture(scope="session")
def _append_only_tables(django_db_setup, django_db_blocker):
    """Tables carrying the append-only triggers, found once after the test database is migrated."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cur:
        if connection.vendor != "sqlite":
            return []
        cur.execute(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = tbl_name || '_no_delete'"
        )
        return sorted(row[0] for row in cur.fetchall())


@pytest.fixture(autouse=True)
def _append_only_triggers(request, _django_db_marker):
    """Let transactional tests end on SQLite: their closing flush is `DELETE FROM`, which the append-only
    triggers refuse (PostgreSQL flushes with TRUNCATE, which row triggers do not see). The triggers are put
    back at the start of every database test (inside its transaction, so rolled back with it), and lifted
    at the end of a transactional test, just before the flush."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    from django.db import connection

    from vetvol.core.append_only import install_sql, uninstall_sql

    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if marker is None:  # database access comes from a fixture: set it up first, so it is torn down after us
        request.getfixturevalue("transactional_db" if transactional else "db")
    tables = request.getfixturevalue("_append_only_tables")
    with connection.cursor() as cur:
        for table in tables:
            for sql in install_sql(connection.vendor, table):
                cur.execute(sql)
    yield
    if tables and transactional:
        with connection.cursor() as cur:
            for table in tables:
                for sql in uninstall_sql(connection.vendor, table):
                    cur.execute(sql)


@pytest.fixture
def asgi_server(transactional_db):
    """The ASGI application (pages and websockets) served by uvicorn in a thread on a free port, over the
    test database: its base URL, e.g. http://127.0.0.1:41234. Like `live_server`, but with websockets.
    Connections opened by the server's threads close after each request, so none outlives the test."""
    import socket
    import threading
    import time

    import uvicorn
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from vetvol.asgi import application
    from vetvol.dispatch import live

    ages = {alias: cfg.get("CONN_MAX_AGE", 0) for alias, cfg in settings.DATABASES.items()}
    for alias in ages:
        settings.DATABASES[alias]["CONN_MAX_AGE"] = 0
        connections[alias].settings_dict["CONN_MAX_AGE"] = 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        # static files served from the source tree, as the live server does (tests run with DEBUG off)
        uvicorn.Config(
            ASGIStaticFilesHandler(application), lifespan="off", log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()
    live.forget_loop()
    for alias, age in ages.items():
        settings.DATABASES[alias]["CONN_MAX_AGE"] = age
        connections[alias].settings_dict["CONN_MAX_AGE"] = age
