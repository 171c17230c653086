"""The world of the access matrix and the fuzzer: built once per module inside a transaction that is rolled
back at its end (the pattern of demo/tests/test_seed.py), so a few hundred requests share one setup."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from conftest import CAST, make_person

    from vetvol.accounts.models import User
    from vetvol.regions import loader
    from vetvol.regions.models import Region

    from .world import build

    with django_db_blocker.unblock(), transaction.atomic():
        if not Region.objects.filter(level="township").exists():
            loader.load(max_level="township")
        root = User.objects.create_superuser("root", password="Test-pass-2026!")
        cast = {name: make_person(root, name, role, code) for name, (role, code) in CAST.items()}
        cast["outsider"] = make_person(root, "outsider", None, None)
        cast["root"] = root
        yield build(SimpleNamespace(**cast))
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    """A logged-in test client per role (sessions made inside the module's transaction) and "anon"."""
    from django.test import Client

    out = {"anon": Client()}
    with django_db_blocker.unblock():
        for name, user in vars(world.people).items():
            if name != "root":
                out[name] = Client()
                out[name].force_login(user)
    return out
