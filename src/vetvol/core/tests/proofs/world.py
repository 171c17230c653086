"""A small world built through the real actions, for the proofs: volunteers with known identifiers, a team,
a project and a shift, hours (entered and approved), a recipient with hardship notes and an open case, a
help request, a complaint, a donor with a phone and a donation, an incident. `text` goes into every
free-text field that accepts it (the stored-XSS proof passes a script payload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from vetvol.core.idcard import generate_id_number

PAYLOAD = "<script>alert(1)</script>\"'><img src=x onerror=1>"


@dataclass
class World:
    volunteers: list[Any] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # every full ID number registered
    phones: list[str] = field(default_factory=list)  # every full mobile number registered
    addresses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # health / hardship / case texts
    objects: dict[str, Any] = field(default_factory=dict)


def build(people: Any, *, text: str = "", seq0: int = 700) -> World:
    from vetvol.activities import actions as activities
    from vetvol.care import actions as care
    from vetvol.dispatch.actions import incidents
    from vetvol.fund import actions as fund
    from vetvol.regions import actions as region_actions
    from vetvol.regions.models import Region
    from vetvol.registry import actions as registry

    w = World()
    admin, province = people.futian_admin, people.province_admin
    futian = Region.objects.get(code="440304")
    extra = f" {text}" if text else ""
    for i in range(3):
        seq = seq0 + i
        id_number = generate_id_number("440304", date(1960 + i, 3, 14 + i), 300 + i, "MF"[i % 2])
        phone = f"1391234{seq:04d}"
        address = f"福田区彩田路{seq}号{i + 1}栋{extra}"
        raw = {
            "name": f"证明{'甲乙丙'[i]}",
            "id_number": id_number,
            "phone": phone,
            "home_region": "440304001",
            "address": address,
            "service_branch": "army",
            "enlistment_year": 1978 + i,
            "discharge_year": 1982 + i,
            "is_party_member": True,
        }
        w.volunteers.append(registry.register_volunteer(admin, raw, publicity_consent=True))
        w.ids.append(id_number)
        w.phones.append(phone)
        w.addresses.append(address)

    team = registry.create_team(
        admin, region=futian, name=f"证明救援队{extra}", brand="红星", description=f"队伍简介{extra}"
    )
    centre = region_actions.create_service_centre(people.root, futian)
    project = activities.create_project(
        admin,
        region=futian,
        owner_centre=centre,
        name=f"证明项目{extra}",
        domain="spring_travel",
        description=f"项目说明{extra}",
        risk_statement=f"注意安全{extra}",
    )
    now = timezone.now()
    activity = activities.create_activity(
        admin,
        project,
        title=f"证明活动{extra}",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=3),
        place_name=f"福田站{extra}",
        lat=22.5366,
        lng=114.0507,
        geofence_m=300,
        capacity=5,
        signup_opens_at=now - timedelta(days=1),
        signup_closes_at=now + timedelta(days=1),
    )
    today = timezone.localdate()
    for v in w.volunteers:
        record = activities.enter_hours(
            admin,
            v,
            region=futian,
            day=today - timedelta(days=3),
            minutes=180,
            content=f"引导旅客{extra}"[:200],
            reason=f"补录{extra}"[:200],
        )
        activities.approve_hours(province, record, note="核实无误")

    hardship = f"家中老人卧床，月收入不足两千元{extra}"
    recipient = care.register_recipient(
        people.root,
        {
            "name": "证明对象",
            "id_number": generate_id_number("440304", date(1950, 5, 6), 777, "M"),
            "category": "veteran",
            "region": "440304001",
            "phone": "13912340999",
            "address": f"福田区南园路九十九号{extra}",
            "health_notes": f"糖尿病十年{extra}",
            "hardship_notes": hardship,
            "family_notes": f"独居{extra}",
            "service_consent": True,
        },
    )
    w.ids.append(recipient.id_number)
    w.phones.append("13912340999")
    w.addresses.append(recipient.address)
    w.notes += [hardship, recipient.health_notes]
    case = care.record_life_event(
        admin,
        recipient,
        event_type="hardship",
        level=2,
        occurred_on=today - timedelta(days=1),
        description=f"生活困难情况说明{extra}",
        owner=admin,
    )
    care.add_case_note(admin, case, f"已电话联系家属{extra}")
    help_request = care.submit_help_request(
        admin,
        recipient,
        category="daily_life",
        description=f"需要每周送餐{extra}",
        wanted_from=now + timedelta(days=1),
        wanted_until=now + timedelta(days=8),
        place=f"南园路{extra}",
    )
    complaint = care.file_complaint(
        admin,
        region_code="440304001",
        channel="phone",
        complainant=f"投诉人{extra}"[:50],
        content=f"探访迟到{extra}",
    )

    donor = fund.create_donor(
        province,
        kind="individual",
        name=f"证明捐赠人{extra}"[:100],
        region_code="44",
        phone="13912340888",
        publish_consent=True,
    )
    w.phones.append("13912340888")
    donation = fund.record_donation(
        province,
        donor,
        form="money",
        amount="5000",
        purpose="safeguards",
        region_code="44",
        received_on=today,
        note=f"备注{extra}"[:200],
    )
    incident = incidents.create_incident(
        admin,
        region=futian,
        type="water_rescue",
        level=2,
        title=f"证明险情{extra}"[:100],
        lat=22.54,
        lng=114.05,
        address=f"深圳河{extra}",
        reporter_name="报警人",
        reporter_phone="13912340777",
        dispatch=False,
    )
    w.phones.append("13912340777")
    w.objects.update(
        team=team,
        project=project,
        activity=activity,
        recipient=recipient,
        case=case,
        help_request=help_request,
        complaint=complaint,
        donor=donor,
        donation=donation,
        incident=incident,
    )
    return w
