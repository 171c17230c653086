"""The fund's pages and API as staff, the auditor and outsiders use them."""

from __future__ import annotations

import base64
import io
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from vetvol.fund import actions
from vetvol.fund.models import Account, Disbursement, Donation, Donor
from vetvol.fund.tests.conftest import PDF

pytestmark = pytest.mark.django_db
PASSWORD = "Test-pass-2026!"


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def disbursement(people, funded, evidence):
    account = Account.objects.get(code="3101-mechanism-4403")
    return actions.request_disbursement(
        people.futian_admin,
        region_code="440304",
        purpose="mechanism",
        account=account,
        amount="30000",
        recipient_org="福田区退役军人志愿服务队",
        title="联络站建设",
        description="联络站设备与制度建设",
        evidence=evidence(),
    )


def fund_urls(disbursement):
    donation = Donation.objects.first()
    donor = Donor.objects.first()
    evidence = disbursement.evidence.first()
    return [
        reverse("fund:index"),
        reverse("fund:donor_list"),
        reverse("fund:donor_new"),
        reverse("fund:donor", args=[donor.pk]),
        reverse("fund:donation_list"),
        reverse("fund:donation_new"),
        reverse("fund:donation", args=[donation.pk]),
        reverse("fund:disbursement_list"),
        reverse("fund:disbursement_new"),
        reverse("fund:disbursement", args=[disbursement.pk]),
        reverse("fund:evidence", args=[evidence.pk]),
        reverse("fund:ledger"),
        reverse("fund:export", args=["donations"]),
    ]


@pytest.mark.parametrize("who", ["outsider", "volunteer", "team_leader", "station_staff", "social_worker"])
def test_without_a_fund_grant_every_page_and_endpoint_is_404(client, people, disbursement, who):
    login(client, getattr(people, who))
    for url in fund_urls(disbursement):
        assert client.get(url).status_code == 404, url
    donation = Donation.objects.first()
    for url in (
        reverse("fund:donation_reverse", args=[donation.pk]),
        reverse("fund:disbursement_step", args=[disbursement.pk, "decide"]),
    ):
        assert client.post(url, {"reason": "x", "decision": "approve"}).status_code == 404
    for path in (
        "/api/fund/accounts",
        "/api/fund/donations",
        "/api/fund/disbursements",
        f"/api/fund/disbursements/{disbursement.pk}",
    ):
        assert client.get(path).status_code == 404, path
    r = client.post(
        f"/api/fund/disbursements/{disbursement.pk}/decision",
        {"approve": True},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert Disbursement.objects.get(pk=disbursement.pk).status == "requested"


def test_a_district_admin_sees_only_its_subtree(client, people, disbursement):
    login(client, people.tianhe_admin)
    assert client.get(reverse("fund:disbursement", args=[disbursement.pk])).status_code == 404
    assert client.get(f"/api/fund/disbursements/{disbursement.pk}").status_code == 404
    assert client.get("/api/fund/disbursements").json() == []
    login(client, people.futian_admin)
    assert client.get(reverse("fund:disbursement", args=[disbursement.pk])).status_code == 200
    # Province-wide money is not the district's to see.
    assert (
        client.get(reverse("fund:donation", args=[Donation.objects.get(region_code="44").pk])).status_code
        == 404
    )


def test_pages_render_for_the_auditor_who_changes_nothing(client, people, disbursement):
    login(client, people.auditor)
    for url in fund_urls(disbursement):
        r = client.get(url)
        assert r.status_code == 200, url
    r = client.post(
        reverse("fund:disbursement_step", args=[disbursement.pk, "decide"]), {"decision": "approve"}
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/fund/disbursements/{disbursement.pk}/decision",
        {"approve": True},
        content_type="application/json",
    )
    assert r.status_code == 403
    assert Disbursement.objects.get(pk=disbursement.pk).status == "requested"


def test_export_is_formula_safe(client, people, funded):
    Donor.objects.filter(pk=funded.pk).update(name='=HYPERLINK("http://x")')
    login(client, people.auditor)
    r = client.get(reverse("fund:export", args=["donations"]))
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    names = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert names and all(n.startswith("'=") for n in names)
    r = client.get(reverse("fund:export", args=["ledger"]))
    assert r.status_code == 200


def test_the_whole_flow_through_the_pages(client, people, funded):
    login(client, people.futian_admin)
    url = reverse("fund:disbursement_new") + "?region=440304&purpose=mechanism"
    page = client.get(url)
    account = Account.objects.get(code="3101-mechanism-4403")
    assert f'<option value="{account.pk}"' in page.content.decode()  # the fund it may draw on is offered
    form = {
        "region": "440304",
        "purpose": "mechanism",
        "account": account.pk,
        "amount": "12,000.50",
        "title": "应急装备采购",
        "recipient_org": "福田区退役军人志愿服务队",
        "description": "救生衣、头灯",
    }
    bad = client.post(url, {**form, "evidence": SimpleUploadedFile("x.pdf", b"\x7fELF\x02\x01")})
    assert bad.status_code == 400 and "PDF" in bad.content.decode()
    assert not Disbursement.objects.exists()
    r = client.post(url, {**form, "evidence": SimpleUploadedFile("申请.pdf", PDF)})
    assert r.status_code == 302
    d = Disbursement.objects.get()
    assert d.amount == 1_200_050
    detail = client.get(reverse("fund:disbursement", args=[d.pk])).content.decode()
    assert "申请人不能审批自己的申请" in detail
    login(client, people.sz_admin)
    step = lambda s, data: client.post(reverse("fund:disbursement_step", args=[d.pk, s]), data)  # noqa: E731
    assert step("decide", {"decision": "approve", "note": "同意"}).status_code == 302
    assert step("pay", {"reference": "YH001"}).status_code == 302
    assert (
        step("report", {"report": "已采购", "evidence": SimpleUploadedFile("照片.pdf", PDF)}).status_code
        == 302
    )
    d.refresh_from_db()
    assert d.status == "reported"
    evidence = d.evidence.order_by("id").last()
    r = client.get(reverse("fund:evidence", args=[evidence.pk]))
    assert r.status_code == 200 and r.content == PDF and r["Content-Type"] == "application/pdf"


def test_donation_form_refuses_bad_input_with_a_chinese_message(client, people, donor):
    login(client, people.province_admin)
    data = {
        "donor": donor.pk,
        "form": "money",
        "amount": "1.234",
        "purpose": "safeguards",
        "region": "44",
        "received_on": "2026-11-02",
    }
    r = client.post(reverse("fund:donation_new"), data)
    assert r.status_code == 400 and "两位小数" in r.content.decode()
    r = client.post(reverse("fund:donation_new"), {**data, "amount": "500", "region": "440304"})
    assert r.status_code == 400 and "全省或一个地市" in r.content.decode()
    assert not Donation.objects.exists()
    r = client.post(reverse("fund:donation_new"), {**data, "amount": "500"})
    assert r.status_code == 302
    assert Donation.objects.get().amount == 50_000


def test_api_records_and_refuses(client, people, donor):
    login(client, people.province_admin)
    payload = {
        "donor_id": donor.pk,
        "amount": "abc",
        "purpose": "safeguards",
        "received_on": str(date(2026, 11, 2)),
    }
    r = client.post("/api/fund/donations", payload, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    r = client.post("/api/fund/donations", {**payload, "amount": "8000"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["amount_fen"] == 800_000
    accounts = client.get("/api/fund/accounts?limit=200").json()
    assert {"code": "1001-44", "balance_fen": 800_000}.items() <= next(
        a for a in accounts if a["code"] == "1001-44"
    ).items()
    account = Account.objects.get(code="3101-safeguards-44")
    body = {
        "region_code": "440304",
        "purpose": "safeguards",
        "account_id": account.pk,
        "amount": "100",
        "recipient_org": "队",
        "title": "保险",
        "description": "意外险",
        "evidence": [{"name": "a.pdf", "content_base64": "not base64!"}],
    }
    r = client.post("/api/fund/disbursements", body, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "evidence"
    body["evidence"] = [{"name": "a.pdf", "content_base64": base64.b64encode(PDF).decode()}]
    r = client.post("/api/fund/disbursements", body, content_type="application/json")
    assert r.status_code == 201
    d_id = r.json()["id"]
    r = client.post(
        f"/api/fund/disbursements/{d_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert r.status_code == 403  # the requester
    login(client, people.futian_admin)
    r = client.post(
        f"/api/fund/disbursements/{d_id}/decision", {"approve": True}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
