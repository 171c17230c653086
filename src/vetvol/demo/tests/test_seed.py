"""The demo province: deterministic, idempotent, consistent. A small province (Shenzhen only, 2,000 volunteers,
200 teams) is built once for the module, inside a transaction rolled back at the end."""

from __future__ import annotations

import io
import itertools
import random
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction

from vetvol.core.idcard import parse_id_number
from vetvol.core.models import AuditEntry
from vetvol.demo import geography, people, teams
from vetvol.demo.geography import distance_km
from vetvol.regions.models import LiaisonPoint, Region
from vetvol.registry import squads
from vetvol.registry.models import Certificate, Consent, Membership, Team, Volunteer, VolunteerSkill

SIZE = ["--volunteers", "2000", "--teams", "200", "--recipients", "300"]
ARGS = ["--cities", "4403", "--quiet-logins", "--seed", "7"]
TABLES = (Volunteer, Team, Membership, Certificate, Consent, VolunteerSkill, LiaisonPoint, AuditEntry)


def seed(*size: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *ARGS, *(size or SIZE), stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[str, str, str]]:
    imported = Volunteer.objects.filter(import_batch="demo-7").order_by("number")
    return list(imported.values_list("number", "name", "id_hash"))


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    """A smaller build first (remembered, then rolled back), then the one the tests look at. Person `i` of a
    seed does not depend on the size, so the small build is the start of the big one."""
    from vetvol.regions import loader

    with django_db_blocker.unblock(), transaction.atomic():
        loader.load(max_level="township")
        point = transaction.savepoint()
        seed("--volunteers", "300", "--teams", "40", "--recipients", "30")
        first = snapshot()
        transaction.savepoint_rollback(point)
        assert not Volunteer.objects.exists()
        output = seed()
        yield {"first": first, "output": output}
        transaction.set_rollback(True)


@pytest.fixture
def built(province, db):
    return province


def test_same_seed_same_people(built):
    assert len(built["first"]) == 300
    assert snapshot()[:300] == built["first"]  # same volunteer numbers, names and ID hashes
    geo = geography.load(7, ["4403"])
    a, b = people.Population.plan(7, 300, geo), people.Population.plan(7, 300, geo)
    assert a.id_numbers == b.id_numbers
    assert [a.person(i).name for i in range(300)] == [b.person(i).name for i in range(300)]
    assert people.Population.plan(8, 300, geo).id_numbers != a.id_numbers


def test_second_run_adds_nothing(built):
    before = {model.__name__: model.objects.count() for model in TABLES}
    output = seed()
    assert {model.__name__: model.objects.count() for model in TABLES} == before
    assert "added 0 centres/stations, 0 accounts, 0 teams, 0 liaison points, 0 volunteers" in output
    assert "0 memberships, 0 certificates" in output


def test_summary_line(built):
    line = built["output"].strip().splitlines()[-1]
    assert line.startswith("demo (seed 7): 200 teams")
    assert "2,000 volunteers" in line


def test_every_id_number_is_valid_and_matches_the_person(built):
    seen = set()
    for v in Volunteer.objects.all():
        card = parse_id_number(v.id_number, date.today())
        assert card.birth_date == v.birth_date and card.gender == v.gender
        assert card.area_code == v.home_region_id[:6]
        assert 1945 <= v.birth_date.year <= 2003
        seen.add(v.id_hash)
    assert len(seen) == Volunteer.objects.count()


def test_people_are_plausible(built):
    vs = list(Volunteer.objects.filter(import_batch="demo-7"))
    assert len(vs) == 2000
    assert all(2 <= len(v.name) <= 4 for v in vs)
    assert all(v.phone.isdigit() and len(v.phone) == 11 and v.phone[0] == "1" for v in vs)
    veterans = [v for v in vs if v.is_veteran]
    assert len(veterans) > 1800
    for v in veterans:
        assert 1965 <= v.discharge_year <= 2024
        assert 2 <= v.discharge_year - v.enlistment_year <= 16
        assert v.enlistment_year >= v.birth_date.year + 16
    share = Counter(v.is_party_member for v in vs)[True] / len(vs)
    assert 0.5 < share < 0.7
    assert 0.6 < sum(v.publicity_consent for v in vs) / len(vs) < 0.8
    assert 0.02 < sum(v.is_retired_cadre for v in vs) / len(vs) < 0.09
    assert Counter(v.gender for v in veterans)["M"] > 0.85 * len(veterans)
    assert all(0 <= v.availability < 1 << 21 for v in vs) and sum(bool(v.availability) for v in vs) > 1900


def test_home_regions_and_bases_are_consistent(built):
    regions = {r.code: r for r in Region.objects.filter(code__startswith="4403")}
    for v in Volunteer.objects.all():
        home = regions[v.home_region_id]
        assert home.level == "township" and v.region_code == v.home_region_id
        district = regions[home.parent_id]
        assert distance_km(v.lng, v.lat, district.lng, district.lat) < 5  # ≤ 3 km by construction


def test_skills_and_certificates(built):
    codes = dict(Volunteer.objects.values_list("pk", "region_code"))
    skills = list(VolunteerSkill.objects.all())
    assert len(skills) > 2500
    assert all(s.region_code == codes[s.volunteer_id] and s.level in (1, 2, 3) for s in skills)
    certs = list(Certificate.objects.select_related("type"))
    assert len(certs) > 600
    assert all(c.issuer and c.region_code == codes[c.volunteer_id] for c in certs)
    assert all(c.valid_until is not None for c in certs if c.type.expires)
    expired = [c for c in certs if c.valid_until and c.valid_until < date(2025, 6, 30)]
    assert 0 < len(expired) < len(certs) / 2


def test_team_tree(built):
    all_teams = {t.pk: t for t in Team.objects.select_related("liaison_point")}
    assert len(all_teams) == 200
    for t in all_teams.values():
        parent = all_teams.get(t.parent_id)
        expected = f"{parent.path if parent else '/'}{t.pk}/"
        assert t.path == expected and t.depth == (parent.depth + 1 if parent else 0)
        if parent:
            assert t.region_code.startswith(parent.region_code) and t.brand == parent.brand == "红星"
        if t.specialty == "squad":
            assert parent.name.endswith("退役军人志愿服务分队")
            assert t.squad_year_from <= t.squad_year_to
        else:
            assert t.liaison_point is not None and t.liaison_point.region_code == t.region_code
        if t.civil_status != "none":
            assert t.civil_number and t.civil_date and t.civil_date >= t.founded_on
    roots = [t for t in all_teams.values() if t.parent_id is None]
    assert [t.name for t in roots] == ["深圳“红星”退役军人志愿服务总队"]
    assert Counter(t.civil_status for t in all_teams.values())["none"] == 200 - round(622 * 200 / 4023)
    roles = Counter((m.team_id, m.role) for m in Membership.objects.filter(left_on=None))
    for t in all_teams.values():
        assert roles[(t.pk, "leader")] == 1, t.name
        if t.specialty != "squad":
            assert 1 <= roles[(t.pk, "deputy")] <= 2, t.name
    members = Membership.objects.filter(left_on=None).exclude(team__specialty="squad")
    in_teams = members.values("volunteer_id").distinct().count()
    assert 0.75 < in_teams / Volunteer.objects.count() < 0.95
    for m in members.select_related("team", "volunteer")[:500]:
        if m.team.region_code != "4403":
            assert m.volunteer.region_code.startswith(m.team.region_code[:6])
    for m in Membership.objects.filter(team__specialty="squad").select_related("team"):
        assert Membership.objects.filter(team_id=m.team.parent_id, volunteer_id=m.volunteer_id).exists()


def test_demo_logins_have_their_records(built):
    leader = Volunteer.objects.get(user__username="hongxing_leader")
    m = Membership.objects.get(volunteer=leader, left_on=None)
    assert (m.role, m.team.region_code, m.team.brand) == ("leader", "440304", "红星")
    zhou = Volunteer.objects.get(user__username="volunteer_zhou")
    assert zhou.name == "周德明" and zhou.home_region_id == "440304001"
    assert Membership.objects.filter(volunteer=zhou, team__region_code="440304001", left_on=None).exists()


def test_propose_cuts_543_veterans_into_30_squads_by_discharge_year():
    rng = random.Random(1)
    years = list(range(1965, 2025))
    members = [(n, years[n % len(years)]) for n in range(543)]
    rng.shuffle(members)
    proposal = squads.propose(members, 18, count=30)
    assert len(proposal) == 30
    ids = [v for s in proposal for v in s.volunteer_ids]
    assert sorted(ids) == list(range(543))
    assert all(15 <= len(s.volunteer_ids) <= 22 for s in proposal)
    for a, b in itertools.pairwise(proposal):
        assert a.year_to < b.year_from
    # Without `count` no integer target gives 30 squads of 543.
    assert len(squads.propose(members, 18)) == 31 and len(squads.propose(members, 19)) == 29


def test_plan_hits_the_team_count_with_the_yonghe_squads(db):
    """The plan alone (no writes), for three cities: the exact team count, 永和街道 and 战旗打捞队."""
    from vetvol.regions import loader

    loader.load(max_level="township")
    geo = geography.load(2021, ["4401", "4403", "4413"])
    pop = people.Population.plan(2021, 20000, geo, yonghe=600)
    tree = teams.plan(2021, geo, pop, 1350, yonghe=True)
    assert tree.planned_total == 1350
    yonghe = tree.teams[tree.yonghe_team]
    assert (yonghe.name, yonghe.squads) == ("永和街道退役军人志愿服务分队", 30)
    assert len(tree.members[tree.yonghe_team]) == 543
    assert any(t.name == "惠州“战旗”打捞队" for t in tree.teams)
    assert {t.brand for t in tree.teams} == {"红棉老兵", "红星", "战旗"}


def test_demo_activities_under_way_with_people_on_site(built):
    from vetvol.activities.models import Activity, Attendance
    from vetvol.activities.queries import in_progress, on_site

    under_way = list(in_progress())
    assert under_way and all(a.region_code.startswith("4403") for a in under_way)
    assert on_site().exists()
    assert Activity.objects.filter(starts_at__gt=under_way[0].ends_at).exists()  # recruiting ahead
    assert all(a.checked_out_at is None for a in Attendance.objects.all())


def test_past_shifts_give_counted_hours_to_the_model_volunteers_and_others(built):
    from django.utils import timezone

    from vetvol.accounts.models import User
    from vetvol.activities import exemplars
    from vetvol.activities.models import Exemplar, HourRecord
    from vetvol.activities.queries import counting_q, effective_minutes
    from vetvol.demo import hours

    staff = HourRecord.objects.filter(source="staff")
    counted = staff.filter(counting_q())
    assert counted.count() == staff.count() > 150  # every entry approved by a second person
    assert all(r.activity_id and r.region_code.startswith("4403") for r in staff)
    assert not staff.filter(entered_by__username="gd_admin").exists()
    assert staff.filter(approvals__approver__username="gd_admin").distinct().count() == staff.count()
    people = staff.values("volunteer_id").distinct().count()
    assert 80 < people < Volunteer.objects.count() // 4
    published = list(Exemplar.objects.filter(status="approved", consent_granted=True))
    assert len(published) >= 2 and all(e.minutes > 0 for e in published)
    assert all(effective_minutes(e.volunteer) >= e.minutes for e in published)
    zhou = Volunteer.objects.get(user__username="volunteer_zhou")  # a regular in Futian
    assert effective_minutes(zhou) > 0
    city_admin = User.objects.get(username="sz_admin")
    today = timezone.localdate()
    ranked = list(exemplars.ranking(city_admin, "4403", today - timedelta(days=364), today))
    assert len(ranked) == people and ranked[0]["minutes"] >= ranked[-1]["minutes"] > 0
    assert hours.build(User.objects.get(username="admin"), seed=7) == (0, 0)  # a second run adds nothing


def test_care_work_is_seeded_and_scoped(built):
    from vetvol.accounts.models import User
    from vetvol.care import queries
    from vetvol.care.models import Campaign, Case, Pairing, Recipient

    assert Recipient.objects.count() == 300
    assert all(r.region_code.startswith("4403") for r in Recipient.objects.all())
    assert Case.objects.filter(status__in=["open", "active"]).exists() and Pairing.objects.exists()
    campaign = Campaign.objects.get()
    assert campaign.status == "running" and campaign.tasks.filter(status="done").exists()
    admin = User.objects.get(username="admin")
    assert queries.overdue_rollup(admin, "44")[0]["child"] == "4403"
    guangzhou = User.objects.filter(grants__region__code__startswith="4401").first()
    if guangzhou is not None:
        assert not queries.recipients(guangzhou).exists()


def test_fund_first_month_is_seeded_through_the_actions(built):
    from vetvol.demo import fund
    from vetvol.fund import ledger
    from vetvol.fund.models import Disbursement, DisbursementStatus, Donation, Donor, Evidence

    donations = list(Donation.objects.select_related("transaction"))
    assert sum(d.amount for d in donations if not d.is_reversed) == fund.TOTAL_FEN == 895_500_000
    assert sum(d.is_reversed for d in donations) == 1
    assert {d.form for d in donations} == {"money", "goods"}
    assert all(d.goods_receipt for d in donations if d.form == "goods")
    assert {d.region_code for d in donations} == {"44", "4401", "4403"}
    assert {d.purpose for d in donations} == {"mechanism", "resources", "publicity", "safeguards", "general"}
    assert all((date.today() - d.received_on).days <= 30 for d in donations)
    assert Donor.objects.filter(plaque=True, kind="unit", publish_consent=True).count() == 5
    assert (
        Donor.objects.filter(anonymous=True).exists() and Donor.objects.filter(publish_consent=False).exists()
    )
    statuses = Counter(Disbursement.objects.values_list("status", flat=True))
    assert set(statuses) == set(DisbursementStatus.values)
    for d in Disbursement.objects.exclude(decided_by=None):
        assert d.decided_by_id != d.requested_by_id
    assert all(e.data.startswith(b"%PDF-") for e in Evidence.objects.all())
    result = ledger.verify()
    assert result.ok, result.problems
    assert fund.build(seed=7) == {}  # a second run adds nothing
