"""Volunteers: real-name registration, one person one record, masking, scoping, lifecycle."""

import json
import re
from datetime import date

import pytest
from conftest import volunteer_raw
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from vetvol.core.idcard import generate_id_number
from vetvol.core.masking import mask
from vetvol.core.models import AuditEntry
from vetvol.registry import actions
from vetvol.registry.models import Volunteer, VolunteerStatus

pytestmark = pytest.mark.django_db


def test_staff_registration_derives_birth_date_and_gender_from_the_id(people, make_volunteer):
    v = make_volunteer(7, actor=people.station_staff)
    assert v.status == VolunteerStatus.ACTIVE
    assert v.number.startswith("V44") and len(v.number) == 12
    assert (v.birth_date, v.gender) == (date(1957, 8, 8), "F")
    assert (round(v.lng), round(v.lat)) == (114, 23)  # home base: Futian's centre, the street has none
    assert AuditEntry.objects.filter(action="registry.volunteer.register", object_id=str(v.pk)).count() == 1


def test_old_county_code_ids_are_accepted(people):
    # 440102 was Guangzhou's Dongshan district until 2005; many veterans' IDs still carry it.
    raw = volunteer_raw(
        1,
        id_number=generate_id_number("440102", date(1958, 3, 4), 123, "M"),
        enlistment_year=1976,
        discharge_year=1980,
    )
    v = actions.register_volunteer(people.root, raw)
    assert v.id_number.startswith("440102")


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("440304196001010011", "身份证号码校验位不正确，请核对是否输错"),
        ("12345", "身份证号码应为 18 位（现在是 5 位），最后一位可以是数字或 X"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_precise_message(people, id_number, message):
    with pytest.raises(ValidationError) as err:
        actions.register_volunteer(people.root, volunteer_raw(2, id_number=id_number))
    assert err.value.message_dict["id_number"] == [message]
    assert Volunteer.objects.count() == 0


def test_second_registration_with_the_same_id_is_refused_with_recovery_advice(people, make_volunteer):
    first = make_volunteer(3)
    with pytest.raises(ValidationError) as err:
        actions.register_volunteer(people.root, volunteer_raw(4, id_number=first.id_number.lower()))
    assert "不能重复注册" in err.value.message_dict["id_number"][0]
    assert "服务站找回" in err.value.message_dict["id_number"][0]
    assert Volunteer.objects.count() == 1


def test_minor_needs_a_guardian(people):
    raw = volunteer_raw(
        5,
        id_number=generate_id_number("440304", date(2012, 5, 5), 7, "M"),
        enlistment_year=None,
        discharge_year=None,
        is_veteran=False,
    )
    with pytest.raises(ValidationError) as err:
        actions.register_volunteer(people.root, raw)
    assert list(err.value.message_dict) == ["guardian_name"]
    v = actions.register_volunteer(people.root, {**raw, "guardian_name": "王大明"})
    assert v.consents.filter(kind="guardian", granted=True).count() == 1


def test_station_staff_cannot_register_outside_their_street(people):
    with pytest.raises(PermissionDenied):
        actions.register_volunteer(people.station_staff, volunteer_raw(6, region="440304002"))
    assert AuditEntry.objects.filter(action="registry.volunteer.register", outcome="denied").count() == 1


def test_identifiers_are_encrypted_at_rest(make_volunteer):
    v = make_volunteer(8)
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone, address FROM registry_volunteer WHERE id = %s", [v.pk])
        stored = cur.fetchone()
    assert all(s.startswith("v1.") for s in stored)
    assert v.id_number not in "".join(stored) and "13800000008" not in "".join(stored)


def test_masked_everywhere_for_a_role_without_unmask(client, people, make_volunteer):
    v = make_volunteer(9)
    client.force_login(people.station_staff)  # may see people, may not unmask
    for url in ("/registry/volunteers/", f"/registry/volunteers/{v.pk}/"):
        html = client.get(url).content.decode()
        assert v.id_number not in html and v.phone not in html
        assert "138****0009" in html
    assert (
        f"{v.id_number[:3]}***********{v.id_number[-4:]}"
        in client.get(f"/registry/volunteers/{v.pk}/").content.decode()
    )
    body = client.get(f"/api/registry/volunteers/{v.pk}").json()
    assert (body["id_number"], body["phone"]) == (
        f"{v.id_number[:3]}***********{v.id_number[-4:]}",
        "138****0009",
    )
    assert client.post(f"/registry/volunteers/{v.pk}/reveal/id_number/").status_code == 403
    assert AuditEntry.objects.filter(action="registry.volunteer.unmask", outcome="denied").count() == 1


def test_admin_unmasks_and_the_reveal_is_audited(client, people, make_volunteer):
    v = make_volunteer(10)
    client.force_login(people.futian_admin)
    assert v.id_number not in client.get(f"/registry/volunteers/{v.pk}/").content.decode()
    response = client.post(f"/registry/volunteers/{v.pk}/reveal/id_number/")
    assert response.status_code == 200 and v.id_number in response.content.decode()
    entry = AuditEntry.objects.get(action="registry.volunteer.unmask", outcome="success")
    assert entry.detail == {"field": "id_number"} and entry.actor == people.futian_admin


def test_edit_form_masks_identifiers_even_for_who_may_unmask(client, people, make_volunteer):
    v = make_volunteer(20, address="福田区南园路二十号三栋")
    client.force_login(people.futian_admin)
    url = f"/registry/volunteers/{v.pk}/edit/"
    page = client.get(url).content.decode()
    assert v.id_number not in page and v.phone not in page and v.address not in page
    assert 'value="138****0020"' in page and 'value="福田区南园路****"' in page
    assert f'value="{mask(v.id_number, "id_number")}"' in page
    for field in ("id_number", "phone", "address"):
        assert f'hx-post="/registry/volunteers/{v.pk}/reveal/{field}/?into=form"' in page
        assert f'hx-target="#reveal-{field}"' in page
    assert page.count(">显示</button>") == 3
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # the htmx attributes need no inline script
    assert AuditEntry.objects.filter(action="registry.volunteer.unmask").count() == 0


def test_edit_form_reveal_fills_the_field_and_is_audited(client, people, make_volunteer):
    v = make_volunteer(21, address="福田区南园路二十一号")
    client.force_login(people.futian_admin)
    response = client.post(f"/registry/volunteers/{v.pk}/reveal/phone/?into=form")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<input") and 'name="phone"' in html and 'id="id_phone"' in html
    assert 'value="13800000021"' in html and "显示" not in html
    id_input = client.post(f"/registry/volunteers/{v.pk}/reveal/id_number/?into=form").content.decode()
    assert f'value="{v.id_number}"' in id_input and " disabled" in id_input  # fixed once registered
    entries = AuditEntry.objects.filter(action="registry.volunteer.unmask").order_by("pk")
    assert [(e.outcome, e.detail, e.actor) for e in entries] == [
        ("success", {"field": "phone"}, people.futian_admin),
        ("success", {"field": "id_number"}, people.futian_admin),
    ]


def test_edit_form_without_unmask_offers_no_reveal(client, people, make_volunteer):
    v = make_volunteer(22)
    client.force_login(people.station_staff)  # may change people, may not unmask
    page = client.get(f"/registry/volunteers/{v.pk}/edit/").content.decode()
    assert "reveal" not in page and ">显示</button>" not in page and v.phone not in page
    assert client.post(f"/registry/volunteers/{v.pk}/reveal/phone/?into=form").status_code == 403
    assert list(AuditEntry.objects.filter(action="registry.volunteer.unmask").values_list("outcome")) == [
        ("denied",)
    ]


def test_edit_with_unchanged_masked_values_keeps_the_stored_ones(client, people, make_volunteer):
    v = make_volunteer(23, address="福田区南园路二十三号")
    client.force_login(people.futian_admin)
    url = f"/registry/volunteers/{v.pk}/edit/"
    form = {
        "name": "改了名字",
        "id_number": mask(v.id_number, "id_number"),
        "phone": "138****0023",
        "home_region": "440304001",
        "address": "福田区南园路****",
        "is_veteran": "on",
        "service_branch": "army",
        "enlistment_year": v.enlistment_year,
        "discharge_year": v.discharge_year,
    }
    assert client.post(url, form).status_code == 302
    v.refresh_from_db()
    assert (v.name, v.id_number, v.phone, v.address) == (
        "改了名字",
        volunteer_raw(23)["id_number"],
        "13800000023",
        "福田区南园路二十三号",
    )
    # after a reveal the full value comes back: an edit of it is saved, the untouched masked one kept
    assert (
        client.post(url, {**form, "phone": "13900000023", "id_number": "440304199001011234"}).status_code
        == 302
    )
    v.refresh_from_db()
    assert (v.id_number, v.phone, v.address) == (
        volunteer_raw(23)["id_number"],
        "13900000023",
        "福田区南园路二十三号",
    )
    bad = client.post(url, {**form, "phone": "12345"})
    assert bad.status_code == 400 and v.address not in bad.content.decode()
    v.refresh_from_db()
    assert v.phone == "13900000023"
    assert AuditEntry.objects.filter(action="registry.volunteer.unmask").count() == 0


def test_api_detail_and_search_are_masked_for_who_may_unmask(client, people, make_volunteer):
    v = make_volunteer(24)
    client.force_login(people.futian_admin)
    body = client.get(f"/api/registry/volunteers/{v.pk}").json()
    assert (body["id_number"], body["phone"], body["address"], body["can_reveal"]) == (
        mask(v.id_number, "id_number"),
        "138****0024",
        mask(v.address, "address"),
        True,
    )
    rows = client.get("/api/registry/volunteers/search?region=440304").json()["results"]
    assert [(r["id"], r["phone"]) for r in rows] == [(v.pk, "138****0024")]
    client.force_login(people.station_staff)
    assert client.get(f"/api/registry/volunteers/{v.pk}").json()["can_reveal"] is False
    assert AuditEntry.objects.filter(action="registry.volunteer.unmask").count() == 0


def test_api_reveal_is_audited_and_scoped(client, people, make_volunteer):
    v = make_volunteer(25)
    url = f"/api/registry/volunteers/{v.pk}/reveal"

    def reveal(field):
        return client.post(url, json.dumps({"field": field}), content_type="application/json")

    assert reveal("phone").status_code == 401
    client.force_login(people.futian_admin)
    ok = reveal("phone")
    assert ok.status_code == 200 and ok.json() == {"field": "phone", "value": "13800000025"}
    assert reveal("id_number").json() == {"field": "id_number", "value": v.id_number}
    bad = reveal("name")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["field"] and bad.json()["detail"] == "输入有误"
    client.force_login(people.station_staff)  # sees the volunteer, may not unmask
    denied = reveal("phone")
    assert denied.status_code == 403 and denied.json()["detail"] == "无权进行此操作"
    for name in ("tianhe_admin", "outsider"):
        client.force_login(getattr(people, name))
        assert reveal("phone").status_code == 404
    client.force_login(people.futian_admin)
    assert (
        client.post(
            "/api/registry/volunteers/999999/reveal",
            json.dumps({"field": "phone"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    entries = AuditEntry.objects.filter(action="registry.volunteer.unmask").order_by("pk")
    assert [(e.outcome, e.detail.get("field"), e.actor) for e in entries] == [
        ("success", "phone", people.futian_admin),
        ("success", "id_number", people.futian_admin),
        ("denied", None, people.station_staff),
    ]


@pytest.mark.parametrize("name", ["outsider", "tianhe_admin", "team_leader", "volunteer"])
def test_volunteer_endpoints_are_404_for_those_who_may_not_see(client, people, make_volunteer, name):
    v = make_volunteer(11)
    client.force_login(getattr(people, name))
    for url in (
        f"/registry/volunteers/{v.pk}/",
        f"/registry/volunteers/{v.pk}/edit/",
        f"/api/registry/volunteers/{v.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/registry/volunteers/{v.pk}/status/", {"status": "left", "reason": "x"}).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/registry/volunteers/{v.pk}", json.dumps({"name": "改名"}), content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/registry/volunteers/{v.pk}/status",
            json.dumps({"status": "left", "reason": "x"}),
            content_type="application/json",
        ).status_code
        == 404
    )
    v.refresh_from_db()
    assert (v.name, v.status) == (volunteer_raw(11)["name"], "active")


def test_lifecycle_needs_reasons_and_follows_the_allowed_moves(people, make_volunteer):
    v = make_volunteer(12)
    with pytest.raises(ValidationError) as err:
        actions.change_status(people.futian_admin, v, "suspended")
    assert err.value.message_dict == {"reason": ["请填写原因"]}
    actions.change_status(people.futian_admin, v, "suspended", "长期联系不上")
    actions.change_status(people.futian_admin, v, "active")
    actions.change_status(people.futian_admin, v, "left", "本人申请退出")
    with pytest.raises(ValidationError):
        actions.change_status(people.futian_admin, v, "active")
    assert [(c.from_status, c.to_status) for c in v.status_changes.order_by("at", "pk")] == [
        ("", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
        ("active", "left"),
    ]


def test_api_registration_reports_field_errors(client, people):
    client.force_login(people.futian_admin)
    raw = volunteer_raw(13, phone="12345")
    response = client.post("/api/registry/volunteers/", json.dumps(raw), content_type="application/json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["phone"]
    response = client.post(
        "/api/registry/volunteers/", json.dumps(volunteer_raw(13)), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["phone"] == "138****0013"  # masked even for who may unmask: reveal is a call
    again = client.post(
        "/api/registry/volunteers/",
        json.dumps(volunteer_raw(14, id_number=volunteer_raw(13)["id_number"])),
        content_type="application/json",
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "id_number"


def test_self_registration_creates_a_pending_record_and_a_login(client, regions):
    form = {
        **volunteer_raw(15),
        "password": "Strong-pass-2026",
        "sensitive_consent": "on",
        "skills": ["first_aid", "driving"],
        "availability": ["15", "16"],
        "publicity_consent": "on",
    }
    response = client.post("/registry/register/", form)
    assert response.status_code == 302
    v = Volunteer.objects.get()
    assert response.url == f"/registry/register/done/{v.number}/"
    assert (v.status, v.registered_via, v.publicity_consent, v.availability) == (
        "pending",
        "self",
        True,
        (1 << 15) | (1 << 16),
    )
    assert sorted(v.skills.values_list("skill__code", flat=True)) == ["driving", "first_aid"]
    assert v.user.username == v.number
    assert client.login(username=v.number, password="Strong-pass-2026")
    assert client.get(f"/registry/volunteers/{v.pk}/").status_code == 200  # their own record


def test_self_registration_without_consent_or_with_weak_password_writes_nothing(client, regions):
    response = client.post("/registry/register/", {**volunteer_raw(16), "password": "weak"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "实名注册须同意处理身份证号码等敏感个人信息" in html
    response = client.post(
        "/registry/register/", {**volunteer_raw(16), "password": "weakpassword", "sensitive_consent": "on"}
    )
    assert response.status_code == 400 and "至少三类" in response.content.decode()
    assert Volunteer.objects.count() == 0


def test_volunteer_list_query_count_is_pinned(client, people, make_volunteer, django_assert_max_num_queries):
    for i in range(30):
        make_volunteer(100 + i)
    client.force_login(people.futian_admin)
    client.get("/registry/volunteers/")
    with django_assert_max_num_queries(9):
        response = client.get("/registry/volunteers/")
    assert response.content.decode().count("/registry/volunteers/") >= 30
