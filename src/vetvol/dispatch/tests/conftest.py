"""Fixtures for dispatch: volunteers with logins, skills and a home base at a given offset from Futian."""

from __future__ import annotations

import math

import pytest

from vetvol.dispatch.locations import sync_locations
from vetvol.regions.models import Region

# an incident site in Futian (Shenzhen)
SITE = (22.5333, 114.0500)


def offset(
    km_north: float = 0.0, km_east: float = 0.0, origin: tuple[float, float] = SITE
) -> tuple[float, float]:
    lat = origin[0] + km_north / 111.195
    lng = origin[1] + km_east / (111.195 * math.cos(math.radians(origin[0])))
    return lat, lng


@pytest.fixture
def responder(make_volunteer, root):
    """responder(seq, skills={"water_rescue": 2}, km_east=1.0, certificates=[...], login=True, consent=False)"""
    from vetvol.accounts.models import User
    from vetvol.registry import actions as registry_actions

    def make(seq, skills=None, km_east=1.0, km_north=0.0, certificates=(), login=True, consent=False):
        lat, lng = offset(km_north, km_east)
        v = make_volunteer(seq, lat=lat, lng=lng, location_consent=consent)
        if login:
            v.user = User.objects.create_user(v.number, password="x")
            v.save(update_fields=["user"])
        if skills:
            registry_actions.set_skills(root, v, skills)
        for code, valid_until in certificates:
            registry_actions.add_certificate(root, v, code, issuer="发证机构", valid_until=valid_until)
        sync_locations([v.pk])
        return v

    return make


@pytest.fixture
def open_incident(people):
    from vetvol.dispatch import actions

    def make(roles=None, actor=None, risky=False, region="440304", **fields):
        defaults = dict(type="water_rescue", level=1, title="深圳河溺水", lat=SITE[0], lng=SITE[1])
        defaults.update(fields)
        return actions.create_incident(
            actor or people.futian_admin,
            region=Region.objects.get(code=region),
            roles=roles,
            risky=risky,
            **defaults,
        )

    return make
