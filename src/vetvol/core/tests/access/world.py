"""Two mirrored worlds for the access matrix, built through the real actions.

Side "a" lives in Shenzhen Futian, 南园街道 (440304001): inside the subtree of sz_admin, futian_admin,
station_staff, team_leader and volunteer. Side "b" lives in Guangzhou Tianhe, 五山街道 (440106001): inside the
subtree of tianhe_admin and social_worker. province_admin and auditor cover both. Each side has one object of
every kind a URL can name; `World.ids[side][kind]` gives its key for the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from django.core import signing
from django.test import override_settings
from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

SIDES = {
    "a": SimpleNamespace(
        street="440304001", district="440304", city="4403", site=(22.5333, 114.0500), seq=100, name="福田"
    ),
    "b": SimpleNamespace(
        street="440106001", district="440106", city="4401", site=(23.1291, 113.3644), seq=200, name="天河"
    ),
}


@dataclass
class World:
    people: SimpleNamespace
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, dict[str, Any]] = field(default_factory=lambda: {"a": {}, "b": {}})
    markers: dict[str, dict[str, str]] = field(default_factory=lambda: {"a": {}, "b": {}})


def _volunteer_with_user(root, seq, side, username, user=None, skills=None, **overrides):
    from conftest import volunteer_raw

    from vetvol.accounts.models import User
    from vetvol.registry import actions as registry_actions
    from vetvol.registry.models import Volunteer

    lat, lng = side.site
    raw = volunteer_raw(seq, side.street, lat=lat + 0.002, lng=lng + 0.002, **overrides)
    v = registry_actions.register_volunteer(root, raw, location_consent=True)
    user = user or User.objects.create_user(username, password="x")
    Volunteer.objects.filter(pk=v.pk).update(user=user)
    v.refresh_from_db()
    if skills:
        registry_actions.set_skills(root, v, skills)
    return v


def build(people) -> World:
    from vetvol.accounts import actions as account_actions
    from vetvol.activities import actions as act
    from vetvol.activities import certificates
    from vetvol.activities.tests.test_stars import give_hours
    from vetvol.care import actions as care
    from vetvol.care.tests.conftest import recipient_raw
    from vetvol.dispatch import actions as dispatch
    from vetvol.dispatch.locations import sync_locations
    from vetvol.dispatch.models import RunCard
    from vetvol.fund import actions as fund
    from vetvol.fund import receipts
    from vetvol.fund.models import Account
    from vetvol.notify.channels import webpush
    from vetvol.notify.models import Notification
    from vetvol.regions import actions as region_actions
    from vetvol.regions.models import Region
    from vetvol.registry import actions as registry_actions
    from vetvol.registry.actions import imports
    from vetvol.registry.views.imports import TEMPLATES

    root = people.root
    world = World(people=people)
    for name in (*vars(people).keys(),):
        if name == "root":
            continue
        _, plain = account_actions.create_api_token(getattr(people, name), "access matrix")
        world.tokens[name] = plain
    now = timezone.now()
    today = timezone.localdate()

    donor = fund.create_donor(
        people.province_admin,
        kind="unit",
        name="广东某建设集团有限公司",
        region_code="44",
        publish_consent=True,
    )

    for key, side in SIDES.items():
        ids = world.ids[key]
        seq = side.seq
        district = Region.objects.get(code=side.district)
        ids["region"] = side.street
        ids["district"] = side.district
        centre = region_actions.create_service_centre(root, district)
        ids["centre"] = centre.pk
        point = region_actions.create_liaison_point(root, centre, name=f"{side.name}联络点")
        ids["liaison_point"] = point.pk

        # people: the side's own volunteer (a = the `volunteer` login), a team leader, a responder
        own_user = people.volunteer if key == "a" else None
        own = _volunteer_with_user(
            root, seq, side, f"vol_{key}", user=own_user, is_party_member=True, skills={"water_rescue": 2}
        )
        leader_user = people.team_leader if key == "a" else None
        leader = _volunteer_with_user(root, seq + 1, side, f"leader_{key}", user=leader_user)
        ids["volunteer"] = own.pk
        ids["volunteer_number"] = own.number
        world.markers[key]["volunteer"] = own.number
        team = registry_actions.create_team(root, region=district, name=f"{side.name}红星志愿服务队")
        registry_actions.add_member(root, team, leader, role="leader", joined_on=today)
        membership = registry_actions.add_member(root, team, own, joined_on=today)
        registry_actions.assign_liaison_point(root, team, point)
        ids["team"] = team.pk
        ids["membership"] = membership.pk
        world.markers[key]["team"] = team.name
        sync_locations()

        # activities: a project, an open activity, a sign-up, hours, a certificate, a star request
        project = act.create_project(
            root,
            region=district,
            owner_centre=centre,
            name=f"{side.name}春运志愿服务",
            domain="spring_travel",
            description="旅客引导",
            risk_statement="人流密集，注意踩踏风险",
        )
        ids["project"] = project.pk
        start = now + timedelta(days=1)
        activity = act.create_activity(
            root,
            project,
            title=f"{side.name}站旅客引导",
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            place_name=f"{side.name}站",
            lat=side.site[0],
            lng=side.site[1],
            geofence_m=300,
            capacity=5,
            signup_opens_at=now - timedelta(days=1),
            signup_closes_at=start,
        )
        ids["activity"] = activity.pk
        world.markers[key]["activity"] = activity.title
        signup = act.sign_up(own.user, activity, own)
        ids["signup"] = signup.pk
        give_hours(people, own, 101 * 60)
        certificate = act.issue_certificate(own.user, own, "record")
        ids["certificate"] = certificate.number
        ids["certificate_query"] = "?s=" + certificates.check_code(certificate)
        star_owner = _volunteer_with_user(root, seq + 2, side, f"starred_{key}")
        give_hours(people, star_owner, 101 * 60)
        with override_settings(VETVOL_STAR_MIN_MONTHS={s: 0 for s in range(1, 6)}):
            star = act.request_star(own.user, own)
            act.request_star(star_owner.user, star_owner)
            award = act.approve_star(people.province_admin, star_owner, 1)
        ids["star_request"] = star.pk
        ids["star_award"] = award.pk
        exemplar = act.nominate_exemplar(
            people.futian_admin if key == "a" else people.tianhe_admin,
            star_owner,
            tier="county",
            category="service",
            year=today.year,
            citation="十年如一日服务社区老兵。",
            since=today - timedelta(days=365),
            until=today,
        )
        ids["exemplar"] = exemplar.pk
        ids["star_owner"] = star_owner.pk

        # dispatch: an incident that invited `own`, who accepted
        incident = dispatch.create_incident(
            root,
            region=district,
            type="water_rescue",
            level=1,
            title=f"{side.name}河溺水",
            lat=side.site[0],
            lng=side.site[1],
            roles=[{"name": "救生员", "skill_code": "water_rescue", "count": 2}],
        )
        ids["incident"] = incident.pk
        world.markers[key]["incident"] = incident.title
        invitation = incident.invitations.get(volunteer=own)
        assignment = dispatch.answer_invitation(own.user, invitation, True)
        ids["invitation"] = invitation.pk
        ids["assignment"] = assignment.pk
        ti = dispatch.invite_team(root, incident, incident.needs.get(), team)
        ids["team_invitation"] = ti.pk
        card = dispatch.save_run_card(
            root,
            region=district,
            incident_type="fire_support",
            level=2,
            roles=[{"name": f"{side.name}疏散引导", "skill_code": "", "count": 3}],
        )
        ids["run_card"] = card.pk
        world.markers[key]["run_card"] = f"{side.name}疏散引导"
        ids["run_card_query"] = f"?region={side.district}&incident_type=fire_support&level=2"
        assert RunCard.objects.filter(pk=card.pk).exists()

        # care: a recipient, a case with a task, a pairing, a campaign with a task, a help request
        recipient = care.register_recipient(root, recipient_raw(seq, side.street))
        ids["recipient"] = recipient.pk
        world.markers[key]["recipient"] = recipient.number
        staff = people.station_staff if key == "a" else people.tianhe_admin
        case = care.record_life_event(staff, recipient, event_type="illness", level=1, occurred_on=today)
        ids["case"] = case.pk
        ids["case_task"] = case.tasks.order_by("id").first().pk
        pairing = care.create_pairing(staff, own, recipient, frequency_days=30)
        ids["pairing"] = pairing.pk
        campaign = care.create_campaign(
            root,
            name=f"{side.name}八一走访",
            kind="army_day",
            region_code=side.district,
            categories=["veteran"],
            starts_on=today,
            ends_on=today + timedelta(days=7),
        )
        care.assign_campaign(root, campaign)
        ids["campaign"] = campaign.pk
        world.markers[key]["campaign"] = campaign.name
        ids["campaign_task"] = campaign.tasks.order_by("id").first().pk
        help_request = care.submit_help_request(
            staff,
            recipient,
            category="medical",
            description="陪同去医院复查",
            wanted_from=now + timedelta(hours=2),
            wanted_until=now + timedelta(hours=5),
        )
        care.verify_help_request(staff, help_request, approved=True)
        help_invitations = care.invite_volunteers(staff, help_request, [own])
        ids["help_request"] = help_request.pk
        ids["help_invitation"] = help_invitations[0].pk
        complaint = care.file_complaint(
            staff,
            region_code="",
            channel="phone",
            complainant="家属",
            content="约好的探访没有来",
            recipient=recipient,
        )
        ids["complaint"] = complaint.pk

        # fund: money for the city, a donation, a disbursement with evidence
        donation = fund.record_donation(
            people.province_admin,
            donor,
            form="money",
            amount="100000",
            purpose="mechanism",
            region_code=side.city,
            received_on=date(2026, 1, 3),
        )
        ids["donation"] = donation.pk
        ids["donation_number"] = donation.number
        ids["receipt_query"] = "?s=" + receipts.check_code(donation)
        ids["donor"] = donor.pk
        account = Account.objects.get(code=f"3101-mechanism-{side.city}")
        admin = people.futian_admin if key == "a" else people.tianhe_admin
        disbursement = fund.request_disbursement(
            admin,
            region_code=side.district,
            purpose="mechanism",
            account=account,
            amount="1000",
            recipient_org=f"{side.name}退役军人志愿服务队",
            title="应急装备采购",
            description="救生衣",
            evidence=[fund.Upload("申请书.pdf", PDF)],
        )
        ids["disbursement"] = disbursement.pk
        world.markers[key]["disbursement"] = disbursement.recipient_org
        ids["evidence"] = disbursement.evidence.first().pk

        # notify: the side's volunteer has notifications (dispatch invitation); an import job
        note = Notification.objects.filter(user=own.user).order_by("id").first()
        assert note is not None
        ids["notification"] = note.pk
        ids["receipt_token"] = signing.dumps(note.pk, salt=webpush.RECEIPT_SALT)
        uploader = people.futian_admin if key == "a" else people.tianhe_admin
        job = imports.upload(uploader, "volunteers", "志愿者.xlsx", _with_a_row(TEMPLATES["volunteers"]()))
        ids["import_job"] = str(job.pk)

    return world


def _with_a_row(template: bytes) -> bytes:
    """The import template with one (invalid) data row: a job with a per-row report."""
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    sheet.append(["测试"] * sheet.max_column)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
