"""The special fund in public (专项基金信息公开, 捐赠芳名录, receipt verification): figures equal to what was
booked, names only of donors who agreed, no phone or person behind a request, everything escaped, the
public pages' headers, and bad parameters answered 400/404, never 500."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.db.models import Sum
from django.utils import timezone

from vetvol.core.middleware import CSP
from vetvol.fund import actions, receipts
from vetvol.fund.models import Account, Donation, MonthlyTotal
from vetvol.portal import fund_queries

pytestmark = pytest.mark.django_db

XSS_TITLE = '<script>alert("t")</script>联络站建设'
XSS_RECIPIENT = "<img src=x onerror=alert(1)>福田区志愿服务队"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PHONES = ["13800138111", "13800138222", "13800138333", "13800138444", "13800138555"]
HIDDEN_NAMES = ["王不公开", "匿名爱心企业", "不公开科技有限公司", "撤回集团"]

# The pages' own queries, whatever the data (an anonymous visitor costs no session query).
FUND_QUERIES = 8  # cities, disbursement count and page, region names, monthly, balances, named, others
DONORS_QUERIES = 4  # named donors count and page, the others, plaques
RECEIPT_QUERIES = 2  # donation (+ donor, transaction, reversal), its legs (names are in the snapshot)


def evidence(name="材料.pdf"):
    return [actions.Upload(name, PDF)]


def yuan(n: int) -> int:
    return n * 100


def _donate(actor, donor, amount, purpose, region, received_on=date(2026, 11, 2), **extra):
    return actions.record_donation(
        actor,
        donor,
        form=extra.pop("form", "money"),
        amount=str(amount),
        purpose=purpose,
        region_code=region,
        received_on=received_on,
        **extra,
    )


def _disburse(people, *, region, purpose, account, amount, title, recipient, requester, approver):
    d = actions.request_disbursement(
        requester,
        region_code=region,
        purpose=purpose,
        account=Account.objects.get(code=account),
        amount=str(amount),
        recipient_org=recipient,
        title=title,
        description="内部用途说明：联系人 13800138999",
        evidence=evidence(),
    )
    return actions.decide_disbursement(approver, d, approve=True, note="同意")


@pytest.fixture
def fund(people, monkeypatch):
    admin = people.province_admin
    named = actions.create_donor(
        admin,
        kind="unit",
        name="广东某建设集团有限公司",
        region_code="44",
        phone=PHONES[0],
        publish_consent=True,
    )
    li = actions.create_donor(
        people.sz_admin,
        kind="individual",
        name="李慈善",
        region_code="4403",
        phone=PHONES[1],
        publish_consent=True,
        plaque=True,
        plaque_text="谨以此献给深圳的退役军人志愿者",
    )
    wang = actions.create_donor(admin, kind="individual", name="王不公开", region_code="44", phone=PHONES[2])
    anonymous = actions.create_donor(
        admin,
        kind="unit",
        name="匿名爱心企业",
        region_code="44",
        phone=PHONES[3],
        anonymous=True,
        publish_consent=True,  # ignored: an anonymous donor is never named
        plaque=True,
        plaque_text="致敬最可爱的人",
    )
    tech = actions.create_donor(
        admin, kind="unit", name="不公开科技有限公司", region_code="4401", phone=PHONES[4]
    )
    withdrawn = actions.create_donor(
        admin,
        kind="unit",
        name="撤回集团",
        region_code="44",
        publish_consent=True,
        plaque=True,
        plaque_text="撤回",
    )
    # One donation received and booked in October; the rest received on 2 November and booked now
    # (December), so they count in November (the months follow the day received); payments are made now.
    october = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
    with monkeypatch.context() as m:
        m.setattr(timezone, "now", lambda: october)
        _donate(admin, named, 200_000, "safeguards", "44", received_on=date(2026, 10, 14))
    _donate(admin, named, 100_000, "mechanism", "4403")
    _donate(people.sz_admin, li, 5_000, "publicity", "4403")
    _donate(admin, wang, 3_000, "general", "44")
    _donate(
        admin,
        anonymous,
        50_000,
        "resources",
        "44",
        form="goods",
        goods_description="办公设备一批",
        goods_receipt="YS-001",
    )
    _donate(admin, tech, 20_000, "safeguards", "4401")
    mistaken = _donate(admin, withdrawn, 1_000, "general", "44")
    actions.reverse_donation(admin, mistaken, "误录")

    reported = _disburse(
        people,
        region="440304",
        purpose="mechanism",
        account="3101-mechanism-4403",
        amount=30_000,
        title=XSS_TITLE,
        recipient=XSS_RECIPIENT,
        requester=people.futian_admin,
        approver=people.sz_admin,
    )
    reported = actions.pay_disbursement(people.sz_admin, reported, reference="YH20261105001")
    reported = actions.report_use(people.futian_admin, reported, report="已完成，附照片", evidence=evidence())
    paid = _disburse(
        people,
        region="440106",
        purpose="safeguards",
        account="3101-safeguards-44",
        amount=10_000,
        title="天河区志愿者保险",
        recipient="某保险公司广州分公司",
        requester=people.tianhe_admin,
        approver=admin,
    )
    paid = actions.pay_disbursement(admin, paid, reference="YH20261106001")
    approved = _disburse(
        people,
        region="440304",
        purpose="mechanism",
        account="3101-mechanism-4403",
        amount=8_000,
        title="已批准未支付项目",
        recipient="未付款单位",
        requester=people.futian_admin,
        approver=people.sz_admin,
    )
    requested = actions.request_disbursement(
        people.futian_admin,
        region_code="440304",
        purpose="publicity",
        account=Account.objects.get(code="3101-publicity-4403"),
        amount="1000",
        recipient_org="待审批单位",
        title="待审批项目",
        description="x",
        evidence=evidence(),
    )
    rejected = actions.request_disbursement(
        people.futian_admin,
        region_code="440304",
        purpose="publicity",
        account=Account.objects.get(code="3101-publicity-4403"),
        amount="2000",
        recipient_org="被驳回单位",
        title="被驳回项目",
        description="x",
        evidence=evidence(),
    )
    actions.decide_disbursement(people.sz_admin, rejected, approve=False, note="材料不全")
    return SimpleNamespace(
        named=named,
        li=li,
        wang=wang,
        anonymous=anonymous,
        tech=tech,
        withdrawn=withdrawn,
        reported=reported,
        paid=paid,
        approved=approved,
        requested=requested,
        rejected=rejected,
    )


def urls(f) -> list[str]:
    donation = Donation.objects.filter(donor=f.named).order_by("pk").first()
    assert donation is not None
    return [
        "/public/fund/",
        "/public/fund/?region=4403",
        "/public/fund/donors/",
        receipts.verify_path(donation),
    ]


def test_fund_pages_open_without_login_with_csp_cache_and_no_script(client, fund):
    for url in urls(fund):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == CSP, url
        cache = {part.strip() for part in response.headers["Cache-Control"].split(",")}
        assert cache == {"public", "max-age=300"}, url
        assert "Cookie" in response.headers["Vary"] and not response.cookies, url
        html = response.content.decode()
        assert "<script" not in html and "style=" not in html and "<style" not in html, url
        assert "csrfmiddlewaretoken" not in html, url
        assert 'href="/public/fund/"' in html, url  # the nav link
    assert client.post("/public/fund/").status_code == 405
    assert client.head("/public/fund/donors/").status_code == 200


def test_province_figures_equal_what_was_booked(client, fund):
    o = fund_queries.fund_disclosure()
    # Income: every donation that stands, goods at their valuation; the reversed one nets to zero.
    assert o.income == yuan(200_000 + 100_000 + 5_000 + 3_000 + 50_000 + 20_000)
    assert o.income == MonthlyTotal.objects.aggregate(s=Sum("income"))["s"]
    # Spending: what was paid (the approved-but-unpaid request is not spending).
    assert o.spending == yuan(30_000 + 10_000) == MonthlyTotal.objects.aggregate(s=Sum("spending"))["s"]
    # Balance: the money in the restricted funds now, after the three approvals; the goods held apart.
    funds = Account.objects.filter(code__startswith="3101-").aggregate(s=Sum("balance"))["s"]
    assert o.balance == funds == o.income - yuan(50_000) - yuan(30_000 + 10_000 + 8_000)
    goods = Account.objects.filter(code__startswith="3102-").aggregate(s=Sum("balance"))["s"]
    assert o.goods == goods == yuan(50_000)
    by_purpose = {p.purpose: (p.income, p.spending, p.balance) for p in o.purposes}
    assert by_purpose["safeguards"] == (yuan(220_000), yuan(10_000), yuan(210_000))
    assert by_purpose["mechanism"] == (yuan(100_000), yuan(30_000), yuan(62_000))
    assert by_purpose["general"] == (yuan(3_000), 0, yuan(3_000))
    assert by_purpose["resources"] == (yuan(50_000), 0, 0)  # goods: income, but no money
    assert [g.month for g in o.months] == [date(2026, 12, 1), date(2026, 11, 1), date(2026, 10, 1)]
    assert (o.months[2].income, o.months[2].spending) == (yuan(200_000), 0)
    assert (o.months[1].income, o.months[1].spending) == (o.income - yuan(200_000), 0)
    assert (o.months[0].income, o.months[0].spending) == (0, yuan(30_000 + 10_000))

    html = client.get("/public/fund/").content.decode()
    assert "378,000.00" in html and "40,000.00" in html and "280,000.00" in html and "50,000.00" in html
    assert "2026年10月" in html and "2026年11月" in html and "2026年12月" in html


def test_city_figures_are_the_citys_own(client, fund):
    response = client.get("/public/fund/", {"region": "4403"})
    assert response.status_code == 200
    o = response.context["fund"]
    assert o.region.code == "4403"
    assert o.income == yuan(105_000) and o.spending == yuan(30_000)
    city = Account.objects.filter(code__startswith="3101-", region_code="4403").aggregate(s=Sum("balance"))
    assert o.balance == city["s"] == yuan(105_000 - 30_000 - 8_000)
    assert [d.name for d in o.donors] == ["广东某建设集团有限公司", "李慈善"]
    html = response.content.decode()
    assert "深圳市专项基金信息公开" in html and "某保险公司广州分公司" not in html  # Guangzhou's payment
    guangzhou = client.get("/public/fund/", {"region": "4401"}).context["fund"]
    assert guangzhou.spending == yuan(10_000) and guangzhou.income == yuan(20_000)
    assert guangzhou.donors == [] and [(d.kind, d.donors) for d in guangzhou.others] == [("unit", 1)]


def test_only_consenting_donors_are_named_the_others_in_total(client, fund):
    o = fund_queries.fund_disclosure()
    assert [(d.name, d.total, d.donations) for d in o.donors] == [
        ("广东某建设集团有限公司", yuan(300_000), 2),
        ("李慈善", yuan(5_000), 1),
    ]
    others = {d.kind: (d.donors, d.total) for d in o.others}
    assert others == {"individual": (1, yuan(3_000)), "unit": (2, yuan(70_000))}
    for url in urls(fund):
        html = client.get(url).content.decode()
        for name in HIDDEN_NAMES:
            assert name not in html, (url, name)
        for phone in [*PHONES, "13800138999"]:
            assert phone not in html, (url, phone)
    html = client.get("/public/fund/").content.decode()
    assert "爱心人士（1 位）" in html and "爱心单位（2 家）" in html


def test_withdrawn_consent_hides_the_name(client, fund, people):
    actions.set_donor_consent(people.sz_admin, fund.li, publish_consent=False, plaque=False, plaque_text="")
    for url in urls(fund):
        assert "李慈善" not in client.get(url).content.decode(), url
    assert {d.kind: d.donors for d in fund_queries.fund_disclosure().others}["individual"] == 2


def test_disbursements_paid_or_reported_are_listed_with_public_columns_only(client, fund, people):
    response = client.get("/public/fund/")
    rows = response.context["page"].object_list
    assert [r.number for r in rows] == [fund.paid.number, fund.reported.number]
    first, second = rows
    assert (first.region, first.reported, first.amount) == ("广州市 天河区", False, yuan(10_000))
    assert (second.region, second.reported, second.purpose) == ("深圳市 福田区", True, "机制建设")
    assert second.paid_on == timezone.localdate(fund.reported.paid_at)
    html = response.content.decode()
    assert "已报告" in html and "待报告" in html and "30,000.00" in html
    for hidden in (
        "已批准未支付项目",
        "待审批项目",
        "被驳回项目",
        "内部用途说明",
        "已完成，附照片",
        "YH2026",
    ):
        assert hidden not in html, hidden
    for user in (people.futian_admin, people.sz_admin, people.tianhe_admin, people.province_admin):
        assert user.username not in html and user.display_name not in html


def test_stored_markup_is_escaped(client, fund, people):
    bold = actions.create_donor(
        people.province_admin,
        kind="unit",
        name="<b>粗体</b>公司",
        region_code="44",
        publish_consent=True,
        plaque=True,
        plaque_text='<a href="http://spam.example">博彩</a>',
    )
    donor = actions.create_donor(
        people.province_admin, kind="unit", name="<i>斜体</i>公司", region_code="44", publish_consent=True
    )
    _donate(people.province_admin, donor, 10, "general", "44")
    _donate(people.province_admin, bold, 10, "general", "44")
    for url in ("/public/fund/", "/public/fund/donors/"):
        html = client.get(url).content.decode()
        assert "<b>" not in html and "<i>" not in html and "<img" not in html and "<script" not in html, url
        assert '<a href="http://spam.example"' not in html, url
    html = client.get("/public/fund/").content.decode()
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;联络站建设" in html
    assert "&lt;img src=x onerror=alert(1)&gt;福田区志愿服务队" in html
    assert "&lt;i&gt;斜体&lt;/i&gt;公司" in html
    roll = client.get("/public/fund/donors/").content.decode()
    assert "&lt;a href=&quot;http://spam.example&quot;&gt;博彩&lt;/a&gt;" in roll


def test_honour_roll_and_plaques(client, fund):
    response = client.get("/public/fund/donors/")
    assert response.status_code == 200
    html = response.content.decode()
    assert [d.name for d in response.context["page"].object_list] == ["广东某建设集团有限公司", "李慈善"]
    assert "300,000.00" in html and "2026-10-14" in html  # first donation received
    assert "谨以此献给深圳的退役军人志愿者" in html  # a named donor's plaque
    assert "致敬最可爱的人" in html and "匿名爱心企业" not in html  # an anonymous donor's, unnamed
    assert "撤回" not in html.replace("已冲正", "")  # a donor whose only donation was reversed
    assert "爱心人士（1 位）" in html and "爱心单位（2 家）" in html
    assert [(p.name, p.kind) for p in fund_queries.plaques()] == [("李慈善", "individual"), ("", "unit")]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"region": "4499"}, "没有这个地级市"),
        ({"region": "44"}, "没有这个地级市"),
        ({"region": "440304"}, "没有这个地级市"),  # a district: cities only
        ({"region": "<b>x</b>"}, "没有这个地级市"),
        ({"region": "4403\x00"}, "没有这个地级市"),
        ({"region": "x" * 5000}, "没有这个地级市"),
        ({"page": "abc"}, "页码应为正整数"),
        ({"page": "-1"}, "页码应为正整数"),
        ({"page": "9" * 40}, "页码太大"),
    ],
)
def test_bad_filters_are_400_with_the_province_figures(client, fund, params, message):
    response = client.get("/public/fund/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "<b>x" not in html
    assert response.context["fund"].region is None and "378,000.00" in html
    assert "Cache-Control" not in response.headers or "public" not in response.headers["Cache-Control"]


def test_bad_page_of_the_honour_roll_is_400_and_beyond_the_last_shows_the_last(client, fund):
    assert client.get("/public/fund/donors/", {"page": "0"}).status_code == 400
    assert client.get("/public/fund/donors/", {"page": "x"}).status_code == 400
    response = client.get("/public/fund/donors/", {"page": "50"})
    assert response.status_code == 200 and response.context["page"].number == 1
    assert client.get("/public/fund/", {"page": "50"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "fund/receipts/JZ2026999999/?s=AAAAAAAAAAAAAAAA",
        "fund/receipts/%00/?s=AAAAAAAAAAAAAAAA",
        "fund/receipts/" + "9" * 300 + "/?s=AAAAAAAAAAAAAAAA",
        "fund/receipts/JZ2026000001/",
        "fund/receipts/JZ2026000001/?s=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00",
        "fund/receipts/JZ2026000001/?s=" + "%E7%A0%81" * 30,
        "fund/nothing/",
        "fund/donors/x/",
    ],
)
def test_bad_receipt_urls_are_404(client, fund, path):
    response = client.get(f"/public/{path}")
    assert response.status_code == 404
    assert "<script" not in response.content.decode()


def test_empty_fund_pages_open(client, db, regions):
    for url in ("/public/fund/", "/public/fund/donors/", "/public/fund/?region=4403"):
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get("/public/fund/").content.decode()
    assert "暂无收支记录" in html and "暂无捐赠记录" in html and "暂无已支付的支出" in html


def _assert_pinned(client, django_assert_max_num_queries, f) -> None:
    donation = Donation.objects.filter(donor=f.named).order_by("pk").first()
    assert donation is not None
    for url, limit in (
        ("/public/fund/", FUND_QUERIES),
        ("/public/fund/?region=4403", FUND_QUERIES),
        ("/public/fund/donors/", DONORS_QUERIES),
        (receipts.verify_path(donation), RECEIPT_QUERIES),
    ):
        with django_assert_max_num_queries(limit):
            assert client.get(url).status_code == 200, url


def test_query_counts_are_pinned_whatever_the_data(client, fund, people, django_assert_max_num_queries):
    _assert_pinned(client, django_assert_max_num_queries, fund)
    for n in range(12):
        donor = actions.create_donor(
            people.province_admin,
            kind="individual",
            name=f"捐赠人{n:02d}",
            region_code="44",
            publish_consent=n % 2 == 0,
            plaque=n % 3 == 0,
            plaque_text=f"纪念{n}",
        )
        _donate(people.province_admin, donor, 100 + n, ["general", "publicity"][n % 2], "44")
    for n in range(3):
        d = _disburse(
            people,
            region="440304",
            purpose="mechanism",
            account="3101-mechanism-4403",
            amount=100 + n,
            title=f"项目{n}",
            recipient=f"单位{n}",
            requester=people.futian_admin,
            approver=people.sz_admin,
        )
        actions.pay_disbursement(people.sz_admin, d, reference=f"R{n}")
    _assert_pinned(client, django_assert_max_num_queries, fund)
