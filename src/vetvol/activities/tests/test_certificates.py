"""Service certificates: issued from the hours that count, signed, printed as a Chinese PDF (read back with
pdftotext), verified on a public page that shows only the masked name; changed or invented ones fail.

The public page answers 404 with "此证明不存在或已被篡改" for an unknown number, a wrong check code and a
tampered certificate alike."""

import base64
import shutil
import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from vetvol.activities import actions, certificates
from vetvol.activities.actions.attendance import ecard_token
from vetvol.activities.models import ServiceCertificate
from vetvol.core.append_only import uninstall_sql
from vetvol.core.masking import mask
from vetvol.regions.models import Region
from vetvol.registry.models import Volunteer

INVALID = "此证明不存在或已被篡改"


def pdf_text(data: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils is missing: scripts/check_system_deps.sh installs it"
    out = subprocess.run([pdftotext, "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def lift_append_only(table="activities_servicecertificate"):
    """Someone with direct database access, past the triggers: the signature must still catch them."""
    with connection.cursor() as cur:
        for sql in uninstall_sql(connection.vendor, table):
            cur.execute(sql)


@pytest.fixture
def served(people, make_activity, volunteer_with_login):
    """A volunteer with a check-in (1.5 h), two approved staff entries (4 h, 2.25 h), one pending (1 h) and
    one rejected (3 h): 7.75 hours count."""
    now = timezone.now()
    activity = make_activity(
        starts_in=-timedelta(hours=2), hours=4, signup_closes_at=now + timedelta(hours=1)
    )
    v = volunteer_with_login(21)
    actions.sign_up(v.user, activity, v)
    attendance = actions.check_in(
        people.futian_admin, activity, method="organiser_scan", ecard=ecard_token(v), at=activity.starts_at
    )
    actions.check_out(
        people.futian_admin,
        attendance,
        method="organiser_scan",
        at=activity.starts_at + timedelta(minutes=95),
    )
    region = Region.objects.get(code="440304")
    today = timezone.localdate()
    for days, minutes, content, ok in (
        (40, 240, "敬老院探访慰问", True),
        (20, 135, "烈士陵园祭扫引导", True),
        (10, 180, "防汛值守", False),
        (5, 60, "政策宣讲", None),
    ):
        record = actions.enter_hours(
            people.futian_admin,
            v,
            region=region,
            day=today - timedelta(days=days),
            minutes=minutes,
            content=content,
            reason="纸质签到表补录",
        )
        if ok is not None:
            actions.approve_hours(people.sz_admin, record, approved=ok)
    return v


def test_certificate_holds_the_counted_records_and_a_valid_signature(served):
    cert = actions.issue_certificate(served.user, served, "record")
    assert cert.number.startswith(f"ZM{timezone.localdate().year}") and len(cert.number) == 14
    assert cert.minutes == 240 + 135 + 90
    c = cert.content
    assert c["volunteer"] == {
        "name": served.name,
        "id_number": mask(served.id_number, "id_number"),
        "number": served.number,
    }
    assert [row[1] for row in c["records"]] == [
        "敬老院探访慰问",
        "烈士陵园祭扫引导",
        "春运志愿服务 · 福田站旅客引导",
    ]
    assert served.id_number not in str(c)
    assert certificates.is_authentic(cert)
    assert certificates.verify(cert.number, certificates.check_code(cert)).valid


def test_pdf_reads_back_in_chinese(served):
    cert = actions.issue_certificate(served.user, served, "record")
    data = certificates.render_pdf(cert)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    flat = "".join(text.split())
    assert "志愿服务记录证明" in flat
    assert served.name in flat
    assert mask(served.id_number, "id_number") in flat
    assert served.id_number not in flat
    assert served.number in flat and cert.number in flat
    assert "累计服务时长7.75小时" in flat
    assert "敬老院探访慰问" in flat and "烈士陵园祭扫引导" in flat and "福田站旅客引导" in flat
    assert "防汛值守" not in flat and "政策宣讲" not in flat  # rejected, pending
    assert "广东省退役军人志愿服务信息系统" in flat  # the issuer (default setting)
    assert certificates.check_code(cert) in flat


def test_hours_certificate_sums_by_service_content(served, settings):
    settings.VETVOL_CERTIFICATE_ISSUER = "深圳市福田区退役军人服务中心"
    cert = actions.issue_certificate(served.user, served, "hours")
    flat = "".join(pdf_text(certificates.render_pdf(cert)).split())
    assert "服务时长证明" in flat and "服务内容汇总如下" in flat
    assert "深圳市福田区退役军人服务中心" in flat and "7.75" in flat


def test_period_limits_the_records(served):
    today = timezone.localdate()
    cert = actions.issue_certificate(served.user, served, "record", (today - timedelta(days=30), None))
    assert cert.minutes == 135 + 90
    assert (cert.period_from, cert.period_to) == (today - timedelta(days=30), today)
    with pytest.raises(ValidationError) as err:
        actions.issue_certificate(
            served.user, served, "record", (today - timedelta(days=4), today - timedelta(days=3))
        )
    assert "period" in err.value.message_dict
    with pytest.raises(ValidationError):
        actions.issue_certificate(served.user, served, "record", (None, today + timedelta(days=1)))


def test_asking_twice_returns_the_same_certificate(served):
    first = actions.issue_certificate(served.user, served, "record")
    assert actions.issue_certificate(served.user, served, "record") == first
    assert actions.issue_certificate(served.user, served, "hours") != first


def test_who_may_issue(people, served, volunteer_with_login):
    other = volunteer_with_login(22)
    for actor in (people.outsider, other.user, people.tianhe_admin):
        with pytest.raises(PermissionDenied):
            actions.issue_certificate(actor, served, "record")
    assert actions.issue_certificate(people.station_staff, served, "record").issued_by == people.station_staff


def test_certificates_are_append_only(served):
    cert = actions.issue_certificate(served.user, served, "record")
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceCertificate.objects.filter(pk=cert.pk).update(minutes=60000)


# Verification -----------------------------------------------------------------------------------------


def test_public_page_shows_only_the_masked_name_number_hours_and_validity(client, served):
    cert = actions.issue_certificate(served.user, served, "record")
    url = certificates.verify_path(cert)
    assert certificates.verify_url(cert).endswith(url) and "?s=" in url
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        mask(served.name, "name") in body and cert.number in body and "7.75 小时" in body and "有效" in body
    )
    assert served.name not in body
    assert served.id_number not in body and mask(served.id_number, "id_number") not in body
    assert served.number not in body  # the volunteer number is not public either
    assert "<script" not in body and "csrfmiddlewaretoken" not in body
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert not response.cookies


def test_changed_hours_fail_verification(client, served):
    cert = actions.issue_certificate(served.user, served, "record")
    url = certificates.verify_path(cert)
    lift_append_only()
    content = {**cert.content, "minutes": 60000}
    ServiceCertificate.objects.filter(pk=cert.pk).update(content=content, minutes=60000)
    cert.refresh_from_db()
    assert not certificates.is_authentic(cert)
    response = client.get(url)
    assert response.status_code == 404
    assert INVALID in response.content.decode() and "1000" not in response.content.decode()


@pytest.mark.parametrize("change", ["name", "minutes_column", "record"])
def test_any_change_fails_verification(served, change):
    cert = actions.issue_certificate(served.user, served, "record")
    lift_append_only()
    if change == "name":
        content = {**cert.content, "volunteer": {**cert.content["volunteer"], "name": "王大锤"}}
        ServiceCertificate.objects.filter(pk=cert.pk).update(content=content)
    elif change == "minutes_column":
        ServiceCertificate.objects.filter(pk=cert.pk).update(minutes=cert.minutes + 60)
    else:
        records = [[d, text, m * 2] for d, text, m in cert.content["records"]]
        ServiceCertificate.objects.filter(pk=cert.pk).update(content={**cert.content, "records": records})
    assert not certificates.verify(cert.number, certificates.check_code(cert)).valid


def test_forged_check_code_and_invented_certificates_fail(client, served):
    cert = actions.issue_certificate(served.user, served, "record")
    path = reverse("portal:certificate", args=[cert.number])
    code = certificates.check_code(cert)
    changed = code[:15] + ("y" if code[15] == "x" else "x")  # its last character changed, whatever it was
    for s in ("", "A" * 16, code[:8], changed):
        response = client.get(path, {"s": s})
        assert response.status_code == 404 and INVALID in response.content.decode(), s
    # A certificate made up without the key: another key's signature (our key id), inserted as a new row.
    forged_content = {**cert.content, "number": "ZM209900000001", "minutes": 90000}
    forger = Ed25519PrivateKey.generate()
    signature = (
        base64.urlsafe_b64encode(forger.sign(certificates.canonical(forged_content))).decode().rstrip("=")
    )
    forged = ServiceCertificate.objects.create(
        number="ZM209900000001",
        volunteer=served,
        kind="record",
        issued_at=cert.issued_at,
        issuer=cert.issuer,
        minutes=90000,
        period_from=cert.period_from,
        period_to=cert.period_to,
        content=forged_content,
        signature=signature,
        key_id=certificates.key_id(),
    )
    response = client.get(certificates.verify_path(forged))
    assert response.status_code == 404 and INVALID in response.content.decode()


def test_unknown_number_says_it_does_not_exist(client, db):
    response = client.get("/public/certificates/ZM202699999999/", {"s": "A" * 16})
    assert response.status_code == 404
    body = response.content.decode()
    assert INVALID in body and "ZM202699999999" in body
    response = client.get("/public/certificates/%3Cscript%3Ealert(1)%3C%2Fscript%3E/")
    assert response.status_code == 404 and "<script>" not in response.content.decode()


def test_another_signing_key_does_not_verify_old_certificates(served, settings):
    cert = actions.issue_certificate(served.user, served, "record")
    other = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    settings.VETVOL_SIGNING_KEY = base64.b64encode(other).decode()
    assert not certificates.is_authentic(cert)


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "VETVOL_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "VETVOL_DATA_KEY": base64.b64encode(b"k" * 32).decode(),
        "VETVOL_LOOKUP_KEY": "y" * 40,
        "ALLOWED_HOSTS": "vetvol.example",
        "VETVOL_VAR_DIR": str(tmp_path),
    }
    script = "import vetvol.settings"
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0 and "VETVOL_SIGNING_KEY must be set" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-c", script + "; print(vetvol.settings.VETVOL_SIGNING_KEY[:4])"],
        env={**env, "VETVOL_SIGNING_KEY": base64.b64encode(b"s" * 32).decode()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


# The volunteer's pages ----------------------------------------------------------------------------------


def test_volunteer_issues_and_downloads_on_their_page(client, served):
    client.force_login(served.user)
    page = reverse("activities:my_certificates")
    assert client.get(page).status_code == 200
    response = client.post(page, {"kind": "hours", "period_from": "", "period_to": ""})
    assert response.status_code == 302
    cert = ServiceCertificate.objects.get(volunteer=served)
    assert cert.kind == "hours"
    listing = client.get(page).content.decode()
    pdf_url = reverse("activities:certificate_pdf", args=[cert.number])
    assert pdf_url in listing
    response = client.get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and "no-store" in response["Cache-Control"]
    bad = client.post(page, {"kind": "record", "period_from": "2099-01-01", "period_to": ""})
    assert bad.status_code == 400


def test_pdf_is_404_for_anyone_who_may_not_see_the_volunteer(client, people, served, volunteer_with_login):
    cert = actions.issue_certificate(served.user, served, "record")
    url = reverse("activities:certificate_pdf", args=[cert.number])
    for outsider in (people.outsider, people.tianhe_admin, volunteer_with_login(23).user):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(people.station_staff)  # staff of the volunteer's street
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(people.station_staff)
    assert client.get(reverse("activities:certificate_pdf", args=["ZM202699999999"])).status_code == 404


def test_page_without_a_volunteer_record_is_404(client, people):
    client.force_login(people.outsider)
    assert client.get(reverse("activities:my_certificates")).status_code == 404


def test_tampered_certificate_is_not_served_as_pdf(client, served):
    cert = actions.issue_certificate(served.user, served, "record")
    lift_append_only()
    ServiceCertificate.objects.filter(pk=cert.pk).update(minutes=60000)
    client.force_login(served.user)
    assert client.get(reverse("activities:certificate_pdf", args=[cert.number])).status_code == 404
    assert Volunteer.objects.filter(pk=served.pk).exists()


def test_verify_hours_is_clean_and_names_tampering(served, people):
    from django.core.management import CommandError, call_command

    from vetvol.activities.models import HourApproval, HourRecord

    cert = actions.issue_certificate(served.user, served, "record")
    call_command("verify_hours")  # clean
    # An approval written past the actions, by the volunteer of their own pending record.
    pending = HourRecord.objects.filter(
        volunteer=served, approvals__isnull=True, required_level__isnull=False
    )
    record = pending.get()
    HourApproval.objects.create(
        record=record, level=1, approved=True, approver=served.user, region_code="440304"
    )
    lift_append_only()
    ServiceCertificate.objects.filter(pk=cert.pk).update(minutes=cert.minutes + 60)
    with pytest.raises(CommandError) as exc:
        call_command("verify_hours")
    text = str(exc.value)
    assert f"the volunteer approved their own record {record.pk}" in text
    assert f"certificate {cert.number} fails verification" in text
    assert "activities_servicecertificate: append-only trigger missing" in text
