"""Fixtures for activities: a Futian project and a shift tomorrow, volunteers with user accounts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vetvol.activities import actions
from vetvol.regions.models import Region


@pytest.fixture
def project(people):
    from vetvol.regions import actions as region_actions

    centre = region_actions.create_service_centre(people.root, Region.objects.get(code="440304"))
    return actions.create_project(
        people.futian_admin,
        region=Region.objects.get(code="440304"),
        owner_centre=centre,
        name="春运志愿服务",
        domain="spring_travel",
        description="福田站春运旅客引导",
        risk_statement="人流密集，注意踩踏风险",
    )


@pytest.fixture
def make_activity(people, project):
    def make(capacity=2, starts_in=timedelta(days=1), hours=4, **fields):
        now = timezone.now()
        start = now + starts_in
        defaults = dict(
            title="福田站旅客引导",
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            place_name="福田站",
            lat=22.5366,
            lng=114.0507,
            geofence_m=300,
            capacity=capacity,
            signup_opens_at=now - timedelta(days=1),
            signup_closes_at=min(start, start + timedelta(hours=hours) - timedelta(minutes=1)),
        )
        defaults.update(fields)
        return actions.create_activity(people.futian_admin, project, **defaults)

    return make


@pytest.fixture
def volunteer_with_login(make_volunteer, root):
    """A registered volunteer who can log in (their own account linked)."""
    from vetvol.accounts.models import User

    def make(seq, region="440304001"):
        v = make_volunteer(seq, region=region)
        user = User.objects.create_user(v.number, password="x")
        v.user = user
        v.save(update_fields=["user"])
        return v

    return make
