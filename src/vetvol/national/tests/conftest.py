"""Fixtures for the national interchange: a Futian world built through the actions, and a reader of the zip."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from django.utils import timezone

from vetvol.activities import actions as activity_actions
from vetvol.regions import actions as region_actions
from vetvol.regions.models import Region
from vetvol.registry import actions as registry_actions

DAY = date(2026, 3, 1)


def read_zip(content: bytes) -> dict[str, object]:
    """The zip's members: xlsx files as lists of rows (header first), text files as text."""
    out: dict[str, object] = {}
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            data = z.read(name)
            if name.endswith(".xlsx"):
                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
                out[name] = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
                out[name + ":creator"] = book.properties.creator
            else:
                out[name] = data.decode("utf-8")
    return out


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def world(people, make_volunteer):
    """Futian: a service centre, a registered team with a project and a past activity, an unregistered
    team with a project, two volunteers; Tianhe: a volunteer and counted hours of its own."""
    futian = Region.objects.get(code="440304")
    tianhe = Region.objects.get(code="440106")
    admin = people.futian_admin
    centre = region_actions.create_service_centre(people.root, futian)
    region_actions.create_service_centre(people.root, tianhe)
    team = registry_actions.create_team(
        admin,
        region=futian,
        name="红星福田志愿服务队",
        brand="红星",
        civil_status="registered",
        civil_number="51440304MJL000001X",
        civil_date=date(2020, 5, 1),
    )
    loose = registry_actions.create_team(admin, region=futian, name="福田未登记队")
    project = activity_actions.create_project(
        admin,
        region=futian,
        owner_team=team,
        name="春运志愿服务",
        domain="spring_travel",
        description="福田站春运旅客引导",
        risk_statement="人流密集，注意踩踏风险",
    )
    loose_project = activity_actions.create_project(
        admin,
        region=futian,
        owner_team=loose,
        name="社区探访",
        domain="public_welfare",
        description="探访老兵",
        risk_statement="注意交通安全",
    )
    now = timezone.now()
    start = now - timedelta(days=3)

    def activity(p, title, place):
        return activity_actions.create_activity(
            admin,
            p,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            place_name=place,
            capacity=10,
            signup_opens_at=start - timedelta(days=2),
            signup_closes_at=start,
        )

    act = activity(project, "福田站旅客引导", "福田站")
    loose_act = activity(loose_project, "探访", "南园社区")
    v1 = make_volunteer(1)
    v2 = make_volunteer(2)
    tianhe_street = Region.objects.filter(code__startswith="440106", level="township").order_by("code")[0]
    v3 = make_volunteer(3, region=tianhe_street.code)
    return SimpleNamespace(
        futian=futian,
        tianhe=tianhe,
        centre=centre,
        team=team,
        loose=loose,
        project=project,
        loose_project=loose_project,
        activity=act,
        loose_activity=loose_act,
        v1=v1,
        v2=v2,
        v3=v3,
        tianhe_street=tianhe_street,
    )


@pytest.fixture
def hours(people, world):
    """Enter hours for `volunteer` (by the Futian admin, approved by the Shenzhen admin unless told not to)."""

    def make(volunteer, *, minutes=90, activity=None, region=None, approve=True, content="旅客引导", day=DAY):
        entered_by, approver = people.futian_admin, people.sz_admin
        if region is not None and region.code.startswith("440106"):
            entered_by, approver = people.tianhe_admin, people.province_admin
        record = activity_actions.enter_hours(
            entered_by,
            volunteer,
            region=region or world.futian,
            day=day,
            minutes=minutes,
            content=content,
            reason="纸质签到表",
            activity=activity,
        )
        if approve:
            activity_actions.approve_hours(approver, record)
        return record

    return make
