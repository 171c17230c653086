"""Bulk memberships, certificates and consents: the single-record actions' rules, one audit row per chunk,
repeatable; and linking a login to a volunteer record."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region
from vetvol.registry import actions
from vetvol.registry.actions.bulk_related import (
    CertificateRow,
    MemberRow,
    bulk_add_certificates,
    bulk_add_members,
    bulk_set_consent,
    common_region,
    link_account,
)
from vetvol.registry.models import Certificate, Consent, Membership, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(people):
    return actions.create_team(people.root, region=Region.objects.get(code="440304001"), name="南园分队")


def test_common_region():
    assert common_region(["440304001", "440304002"]) == "440304"
    assert common_region(["440304001"]) == "440304001"
    assert common_region(["440304001", "440106001"]) == "44"
    assert common_region(["440304001", "450304001"]) == ""


def test_bulk_add_members_writes_once_and_skips_repeats(people, team, make_volunteer):
    vs = [make_volunteer(n) for n in range(1, 4)]
    before = AuditEntry.objects.filter(action="registry.membership.bulk_add").count()
    rows = [MemberRow(team.pk, vs[0].pk, "leader"), *(MemberRow(team.pk, v.pk) for v in vs[1:])]
    result = bulk_add_members(people.futian_admin, rows, today=date(2025, 1, 1))
    assert (result.added, result.skipped, result.chunks) == (3, 0, 1)
    assert AuditEntry.objects.filter(action="registry.membership.bulk_add").count() == before + 1
    assert Membership.objects.get(team=team, volunteer=vs[0]).role == "leader"
    again = bulk_add_members(people.futian_admin, rows)
    assert (again.added, again.skipped) == (0, 3)


def test_bulk_add_members_keeps_the_rules(people, team, make_volunteer):
    v = make_volunteer(1)
    with pytest.raises(PermissionDenied):
        bulk_add_members(people.tianhe_admin, [MemberRow(team.pk, v.pk)])
    with pytest.raises(ValidationError):
        bulk_add_members(people.root, [MemberRow(team.pk, v.pk, "captain")])
    squad = actions.create_team(people.root, region=team.region, parent=team, name="第1班", specialty="squad")
    with pytest.raises(ValidationError, match="上级队伍"):
        bulk_add_members(people.root, [MemberRow(squad.pk, v.pk)])
    # With the parent membership in the same call, the squad row is fine.
    result = bulk_add_members(people.root, [MemberRow(squad.pk, v.pk), MemberRow(team.pk, v.pk)])
    assert result.added == 2
    actions.change_status(people.root, v, "suspended", reason="外出")
    other = actions.create_team(people.root, region=team.region, name="另一分队")
    with pytest.raises(ValidationError, match="在册"):
        bulk_add_members(people.root, [MemberRow(other.pk, v.pk)])


def test_bulk_certificates_validate_and_repeat_safely(people, make_volunteer):
    v = make_volunteer(1)
    row = CertificateRow(v.pk, "diver", "中国潜水打捞行业协会", "QS1", date(2024, 1, 1), date(2027, 1, 1))
    assert bulk_add_certificates(people.futian_admin, [row]).added == 1
    assert bulk_add_certificates(people.futian_admin, [row]).skipped == 1
    assert Certificate.objects.get(volunteer=v).region_code == v.region_code
    with pytest.raises(ValidationError):
        bulk_add_certificates(people.root, [CertificateRow(v.pk, "diver", "协会", "QS2")])  # no expiry
    with pytest.raises(PermissionDenied):
        bulk_add_certificates(people.tianhe_admin, [row])


def test_bulk_consent_sets_flag_and_records_consent(people, make_volunteer):
    vs = [make_volunteer(n) for n in range(1, 3)]
    result = bulk_set_consent(people.futian_admin, [v.pk for v in vs], "publicity", True)
    assert result.added == 2
    assert set(
        Volunteer.objects.filter(pk__in=[v.pk for v in vs]).values_list("publicity_consent", flat=True)
    ) == {True}
    assert Consent.objects.filter(kind="publicity", granted=True, volunteer__in=vs).count() == 2
    assert bulk_set_consent(people.futian_admin, [v.pk for v in vs], "publicity", True).skipped == 2


def test_link_account(people, make_volunteer):
    v = make_volunteer(1)
    link_account(people.futian_admin, v, people.outsider)
    assert Volunteer.objects.get(pk=v.pk).user == people.outsider
    other = make_volunteer(2)
    with pytest.raises(ValidationError):
        link_account(people.futian_admin, other, people.outsider)
    with pytest.raises(PermissionDenied):
        link_account(people.station_staff, other, people.volunteer)  # staff may not manage users
