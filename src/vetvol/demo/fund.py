"""The special fund's first month in the demo province: the five donor units with memorial plaques, more
units and individuals (some anonymous, some not consenting to be named), 8,955,000.00 yuan of money and goods
received in the past thirty days, and disbursements in every state across Futian, Tianhe and Shenzhen.

Everything goes through `vetvol.fund.actions`, by the demo's own admins, so separation of duties and the
approval tiers hold as in real use: a district admin asks, the city admin approves up to 500,000 yuan, the
province admin above that (and for Guangzhou, which has no city admin in the demo). One donation typed with
an extra zero is reversed and booked again, as a correction is made in practice. Deterministic from the seed
(only the days of arrival move); skipped when the database already holds donors. All in one transaction, so
an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from vetvol.accounts.models import User
from vetvol.fund import actions
from vetvol.fund.models import Account, DisbursementStatus, Donation, Donor, Purpose
from vetvol.registry.models import Team

# The demo admins who keep the fund (see demo/accounts.py).
PROVINCE, SHENZHEN, FUTIAN, TIANHE = "gd_admin", "sz_admin", "futian_admin", "tianhe_admin"
TOTAL_FEN = 895_500_000  # what the month's donations add up to, net of the one reversed

MECHANISM, RESOURCES, PUBLICITY, SAFEGUARDS, GENERAL = (
    Purpose.MECHANISM,
    Purpose.RESOURCES,
    Purpose.PUBLICITY,
    Purpose.SAFEGUARDS,
    Purpose.GENERAL,
)


@dataclass(frozen=True)
class DonorPlan:
    key: str
    kind: str
    name: str
    region: str  # where the donor is registered
    phone: str = ""
    anonymous: bool = False
    consent: bool = False
    plaque: str = ""  # memorial plaque text: the report's five donor units


DONORS = [
    DonorPlan(
        "yueshan",
        "unit",
        "广东省粤善慈善基金会",
        "44",
        "02083561234",
        consent=True,
        plaque="致敬老兵 情系桑梓——广东省粤善慈善基金会捐赠纪念",
    ),
    DonorPlan(
        "hengjia",
        "unit",
        "广东恒嘉建设集团有限公司",
        "44",
        "02038872266",
        consent=True,
        plaque="恒嘉建设集团捐建退役军人志愿服务联络站",
    ),
    DonorPlan(
        "pengyuan",
        "unit",
        "深圳市鹏远智联科技股份有限公司",
        "4403",
        "075586293310",
        consent=True,
        plaque="鹏远智联 助力“红星”老兵志愿服务",
    ),
    DonorPlan(
        "suihe",
        "unit",
        "广州穗和置业集团有限公司",
        "44",
        "02087651188",
        consent=True,
        plaque="穗和置业 支持“红棉老兵”志愿服务",
    ),
    DonorPlan(
        "haisheng",
        "unit",
        "广东海晟投资控股有限公司",
        "44",
        "02066203380",
        consent=True,
        plaque="弘扬老兵精神 传递志愿力量——广东海晟投资控股有限公司",
    ),
    DonorPlan("meitai", "unit", "佛山市顺德区美泰电器有限公司", "44", "075722918866", consent=True),
    DonorPlan("huatong", "unit", "东莞市华通物流有限公司", "44", "076922336677", consent=True),
    DonorPlan("huimin", "unit", "惠州市惠民医药连锁有限公司", "44", consent=True),
    DonorPlan("chuangye", "unit", "深圳市福田区退役军人创业者商会", "4403", "075583217755", consent=True),
    DonorPlan("haiyun", "unit", "珠海市海韵文化传媒有限公司", "44", consent=True),
    DonorPlan("chaoshang", "unit", "汕头市潮商联谊会", "44", "075488156622"),  # no consent to be named
    DonorPlan("ruida", "unit", "深圳市瑞达精密电子有限公司", "4403", anonymous=True),
    DonorPlan("xingzhong", "unit", "中山市兴中五金制品有限公司", "44"),
    DonorPlan("laobing", "unit", "广州市天河区老兵创业协会", "44", "02085507799", consent=True),
    DonorPlan("chen", "individual", "陈国华", "44", "13802765431", consent=True),
    DonorPlan("li", "individual", "李淑芬", "4403", "13926541873"),
    DonorPlan("ouyang", "individual", "欧阳志明", "44", "13719863204", anonymous=True),
    DonorPlan("wang", "individual", "王志刚", "44", "13660285517", consent=True),
    DonorPlan("liu", "individual", "刘建军", "4403", "13590417726", consent=True),
    DonorPlan("huang", "individual", "黄丽娟", "44", consent=True),
    DonorPlan("wu", "individual", "吴海燕", "44"),
    DonorPlan("liang", "individual", "梁德明", "44", anonymous=True),
]


@dataclass(frozen=True)
class DonationPlan:
    donor: str
    yuan: int
    purpose: str
    region: str  # "44" province-wide, or the city the donor restricted it to
    days_ago: int
    goods: str = ""  # goods donations: what was received (valued at `yuan`)
    receipt: str = ""  # goods receipt number (物资验收单号), with {year}
    note: str = ""
    mistyped: int = 0  # first booked with this amount by mistake, reversed, then booked right


DONATIONS = [
    DonationPlan("yueshan", 2_000_000, SAFEGUARDS, "44", 29, note="专项基金启动仪式现场认捐"),
    DonationPlan("hengjia", 1_500_000, MECHANISM, "44", 29, note="专项基金启动仪式现场认捐"),
    DonationPlan("pengyuan", 1_200_000, RESOURCES, "4403", 28, note="定向深圳市困难退役军人帮扶"),
    DonationPlan("suihe", 1_000_000, MECHANISM, "4401", 28, note="定向广州市联络站建设"),
    DonationPlan("haisheng", 800_000, PUBLICITY, "44", 27, note="专项基金启动仪式现场认捐"),
    DonationPlan("meitai", 300_000, GENERAL, "44", 25),
    DonationPlan(
        "huatong",
        286_000,
        SAFEGUARDS,
        "44",
        24,
        goods="应急救援物资：救生衣200件、应急照明灯100台、急救包300个",
        receipt="WZYS-{year}-0012",
    ),
    DonationPlan("yueshan", 300_000, MECHANISM, "44", 22, note="第二笔捐赠"),
    DonationPlan(
        "huimin",
        152_000,
        RESOURCES,
        "44",
        21,
        goods="常用药品、电子血压计120台、血糖仪80台",
        receipt="WZYS-{year}-0013",
    ),
    DonationPlan("chuangye", 500_000, SAFEGUARDS, "4403", 19, note="用于深圳市退役军人志愿者保险和装备"),
    DonationPlan(
        "haiyun",
        86_000,
        PUBLICITY,
        "44",
        17,
        goods="宣传海报、展板设计制作及宣传片拍摄服务",
        receipt="WZYS-{year}-0014",
    ),
    DonationPlan("chaoshang", 200_000, GENERAL, "44", 15),
    DonationPlan("ruida", 300_000, MECHANISM, "44", 14),
    DonationPlan("xingzhong", 120_000, SAFEGUARDS, "44", 12),
    DonationPlan("laobing", 100_000, RESOURCES, "4401", 11, note="定向广州市退役军人就业创业帮扶"),
    DonationPlan("chen", 50_000, GENERAL, "44", 10),
    DonationPlan("li", 20_000, SAFEGUARDS, "4403", 8),
    DonationPlan("ouyang", 20_000, GENERAL, "44", 7),
    DonationPlan("wang", 10_000, PUBLICITY, "44", 6),
    DonationPlan("liu", 5_000, SAFEGUARDS, "4403", 4, mistyped=50_000),
    DonationPlan("huang", 3_000, GENERAL, "44", 3),
    DonationPlan("wu", 2_000, GENERAL, "44", 1),
    DonationPlan("liang", 1_000, SAFEGUARDS, "44", 0),
]


@dataclass(frozen=True)
class DisbursementPlan:
    title: str
    region: str
    purpose: str
    account: str  # the restricted fund it draws on (a code from fund.actions.chart)
    yuan: int
    recipient: str
    description: str
    requester: str
    outcome: str  # a DisbursementStatus, reached through the actions
    approver: str = ""
    payer: str = ""
    note: str = ""  # the approver's note, the rejection's reason or the withdrawal's reason
    report: str = ""
    recalled: bool = False  # cancelled after approval (by the approver), not before (by the requester)


FUTIAN_TEAM = "福田区“红星”退役军人志愿服务队"
SHENZHEN_CORPS = "深圳“红星”退役军人志愿服务总队"
TIANHE_TEAM = "天河区“红棉老兵”退役军人志愿服务队"
SHENZHEN_ASSOCIATION = "深圳市退役军人志愿服务协会"
APPROVED_NOTE = "同意。请按预算执行，项目完成后一个月内报告使用情况并上传佐证材料。"

DISBURSEMENTS = [
    DisbursementPlan(
        "福田区退役军人志愿服务联络站规范化建设",
        "440304",
        MECHANISM,
        "3101-mechanism-44",
        48_000,
        FUTIAN_TEAM,
        "为辖区11个街道志愿服务联络站统一制作标识标牌、值班制度和服务流程上墙，配置电脑、打印机和档案柜。",
        FUTIAN,
        DisbursementStatus.REPORTED,
        approver=SHENZHEN,
        payer=PROVINCE,
        note=APPROVED_NOTE,
        report="已完成11个街道联络站标识标牌和制度上墙，购置电脑2台、打印机1台、档案柜6组，"
        "经街道服务站验收合格，附验收单、发票和现场照片。",
    ),
    DisbursementPlan(
        "福田区退役军人志愿者意外保险",
        "440304",
        SAFEGUARDS,
        "3101-safeguards-4403",
        36_500,
        FUTIAN_TEAM,
        "为福田区在册退役军人志愿者统一投保一年期志愿者意外伤害保险，730人，人均50元。",
        FUTIAN,
        DisbursementStatus.REPORTED,
        approver=SHENZHEN,
        payer=SHENZHEN,
        note=APPROVED_NOTE,
        report="已为730名退役军人志愿者投保一年期意外伤害保险，人均保费50元，附保单和被保险人名单。",
    ),
    DisbursementPlan(
        "深圳市退役军人志愿者意外保险（全市统保）",
        "4403",
        SAFEGUARDS,
        "3101-safeguards-4403",
        286_000,
        SHENZHEN_ASSOCIATION,
        "由市退役军人志愿服务协会统一为全市退役军人志愿者投保意外伤害保险，5,720人，人均50元。",
        SHENZHEN,
        DisbursementStatus.REPORTED,
        approver=PROVINCE,
        payer=PROVINCE,
        note=APPROVED_NOTE,
        report="已为全市5,720名退役军人志愿者投保一年期意外伤害保险，保单及被保险人名单附后。",
    ),
    DisbursementPlan(
        "天河区退役军人志愿服务联络站规范化建设",
        "440106",
        MECHANISM,
        "3101-mechanism-4401",
        42_000,
        TIANHE_TEAM,
        "天河区各街道联络站统一标识、配置应急广播和值班设备，建立联络站值班和服务台账制度。",
        TIANHE,
        DisbursementStatus.PAID,
        approver=PROVINCE,
        payer=PROVINCE,
        note=APPROVED_NOTE,
    ),
    DisbursementPlan(
        "福田区困难退役军人帮扶资源对接",
        "440304",
        RESOURCES,
        "3101-resources-4403",
        30_000,
        FUTIAN_TEAM,
        "对接爱心企业和社会组织，为辖区30户困难退役军人家庭提供生活物资、就医陪诊和就业岗位信息。",
        FUTIAN,
        DisbursementStatus.PAID,
        approver=SHENZHEN,
        payer=SHENZHEN,
        note=APPROVED_NOTE,
    ),
    DisbursementPlan(
        "深圳市退役军人志愿服务应急救援装备采购",
        "4403",
        SAFEGUARDS,
        "3101-safeguards-44",
        680_000,
        SHENZHEN_CORPS,
        "为全市应急救援志愿服务队采购冲锋舟2艘、救生衣500件、破拆工具和应急照明设备，按政府采购程序执行。",
        SHENZHEN,
        DisbursementStatus.APPROVED,
        approver=PROVINCE,
        note="同意。金额超过50万元，须按政府采购程序公开招标，中标结果报省专项基金办公室备案后支付。",
    ),
    DisbursementPlan(
        "天河区“红棉老兵”志愿服务品牌宣传活动",
        "440106",
        PUBLICITY,
        "3101-publicity-44",
        28_000,
        TIANHE_TEAM,
        "制作“红棉老兵”品牌宣传展板和短视频，在辖区社区巡回展示优秀退役军人志愿者事迹。",
        TIANHE,
        DisbursementStatus.REQUESTED,
    ),
    DisbursementPlan(
        "深圳市退役军人志愿服务骨干培训",
        "4403",
        MECHANISM,
        "3101-mechanism-44",
        260_000,
        SHENZHEN_CORPS,
        "分三期培训全市各区、街道志愿服务队骨干600人次，内容包括应急救援、心理疏导和志愿服务管理。",
        SHENZHEN,
        DisbursementStatus.REQUESTED,
    ),
    DisbursementPlan(
        "福田区“红星”老兵宣讲进校园",
        "440304",
        PUBLICITY,
        "3101-publicity-44",
        18_000,
        FUTIAN_TEAM,
        "组织老兵宣讲团走进辖区20所中小学开展国防教育宣讲，制作宣讲课件和宣传折页。",
        FUTIAN,
        DisbursementStatus.REQUESTED,
    ),
    DisbursementPlan(
        "天河区退役军人志愿者服装采购",
        "440106",
        PUBLICITY,
        "3101-publicity-44",
        60_000,
        TIANHE_TEAM,
        "为天河区退役军人志愿者统一采购志愿服务马甲、帽子和冬季外套。",
        TIANHE,
        DisbursementStatus.REJECTED,
        approver=PROVINCE,
        note="服装采购不属于品牌宣传用途，请按服务保障类重新申报，并附三家供应商比价材料。",
    ),
    DisbursementPlan(
        "福田区节日慰问品采购",
        "440304",
        RESOURCES,
        "3101-resources-4403",
        12_000,
        FUTIAN_TEAM,
        "春节前为辖区困难退役军人和烈属家庭采购慰问品。",
        FUTIAN,
        DisbursementStatus.REJECTED,
        approver=SHENZHEN,
        note="申请材料未附受助对象名单和采购比价，请补充后重新提交。",
    ),
    DisbursementPlan(
        "福田区应急救援演练场地租赁",
        "440304",
        SAFEGUARDS,
        "3101-safeguards-4403",
        8_000,
        FUTIAN_TEAM,
        "租赁训练场地开展防汛防台风应急救援演练。",
        FUTIAN,
        DisbursementStatus.CANCELLED,
        note="演练改在街道应急避护场所举行，无需租赁场地。",
    ),
    DisbursementPlan(
        "天河区防溺水宣传活动",
        "440106",
        PUBLICITY,
        "3101-publicity-44",
        15_000,
        TIANHE_TEAM,
        "暑期前在辖区河涌沿线和学校开展防溺水宣传，制作宣传横幅和警示牌。",
        TIANHE,
        DisbursementStatus.CANCELLED,
        approver=PROVINCE,
        note="活动因台风预警取消，已承诺的资金退回专项基金。",
        recalled=True,
    ),
]


def evidence_pdf(text: str) -> bytes:
    """A small, valid one-page PDF saying `text` (ASCII), with a correct cross-reference table."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 770 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _upload(name: str, text: str) -> list[actions.Upload]:
    return [actions.Upload(name, evidence_pdf(text))]


def build(*, seed: int, today: date | None = None) -> dict[str, int]:
    """Create the fund's first month; returns counts (empty when donors exist already or the demo admins
    are missing)."""
    if Donor.objects.exists():
        return {}
    users = {u.username: u for u in User.objects.filter(username__in=[PROVINCE, SHENZHEN, FUTIAN, TIANHE])}
    if len(users) < 4:
        return {}
    today = today or timezone.localdate()
    rng = random.Random(seed + 30)
    with transaction.atomic():
        donors = _donors(users)
        donations = _donations(users, donors, rng, today)
        disbursements = _disbursements(users, today)
    return {"donors": len(donors), "donations": donations, "disbursements": disbursements}


def _keeper(users: dict[str, User], region: str) -> User:
    """Who books for a region: Shenzhen's city admin for Shenzhen, the province admin elsewhere."""
    return users[SHENZHEN] if region.startswith("4403") else users[PROVINCE]


def _donors(users: dict[str, User]) -> dict[str, Donor]:
    return {
        p.key: actions.create_donor(
            _keeper(users, p.region),
            kind=p.kind,
            name=p.name,
            region_code=p.region,
            phone=p.phone,
            anonymous=p.anonymous,
            publish_consent=p.consent,
            plaque=bool(p.plaque),
            plaque_text=p.plaque,
        )
        for p in DONORS
    }


def _donations(users: dict[str, User], donors: dict[str, Donor], rng: random.Random, today: date) -> int:
    """The month's donations in order of arrival (a day or so of seeded jitter), each booked by the keeper
    of the region it is restricted to."""
    dated = [(min(29, max(0, p.days_ago + rng.randint(-1, 1))), n, p) for n, p in enumerate(DONATIONS)]
    made = 0
    for days_ago, _, p in sorted(dated, key=lambda t: (-t[0], t[1])):
        actor, received_on = _keeper(users, p.region), today - timedelta(days=days_ago)
        if p.mistyped:
            wrong = _book(actor, donors[p.donor], p, p.mistyped * 100, received_on)
            actions.reverse_donation(
                actor, wrong, f"金额录入错误，多录一个零，实际到账 {p.yuan:,} 元，已按正确金额重新登记"
            )
            made += 1
        _book(actor, donors[p.donor], p, p.yuan * 100, received_on)
        made += 1
    return made


def _book(actor: User, donor: Donor, p: DonationPlan, fen: int, received_on: date) -> Donation:
    return actions.record_donation(
        actor,
        donor,
        form="goods" if p.goods else "money",
        amount=fen,  # an int is fen to the action
        purpose=p.purpose,
        region_code=p.region,
        received_on=received_on,
        goods_description=p.goods,
        goods_receipt=p.receipt.format(year=received_on.year),
        note=p.note,
    )


def _disbursements(users: dict[str, User], today: date) -> int:
    accounts = {a.code: a for a in Account.objects.filter(code__in={p.account for p in DISBURSEMENTS})}
    teams = {t.name: t for t in Team.objects.filter(name__in={p.recipient for p in DISBURSEMENTS})}
    reached = {
        DisbursementStatus.APPROVED: 1,
        DisbursementStatus.PAID: 2,
        DisbursementStatus.REPORTED: 3,
    }
    for n, p in enumerate(DISBURSEMENTS, start=1):
        requester = users[p.requester]
        d = actions.request_disbursement(
            requester,
            region_code=p.region,
            purpose=p.purpose,
            account=accounts[p.account],
            amount=p.yuan * 100,  # fen
            recipient_org=p.recipient,
            title=p.title,
            description=p.description,
            team=teams.get(p.recipient),
            evidence=_upload("项目申请书.pdf", f"vetvol demo: application, {p.region}, {p.yuan} CNY"),
        )
        if p.outcome == DisbursementStatus.REJECTED:
            actions.decide_disbursement(users[p.approver], d, approve=False, note=p.note)
        elif p.outcome == DisbursementStatus.CANCELLED and not p.recalled:
            actions.withdraw_disbursement(requester, d, p.note)
        elif p.recalled:
            d = actions.decide_disbursement(users[p.approver], d, approve=True, note=APPROVED_NOTE)
            actions.withdraw_disbursement(users[p.approver], d, p.note)
        stage = reached.get(DisbursementStatus(p.outcome), 0)
        if stage >= 1:
            d = actions.decide_disbursement(users[p.approver], d, approve=True, note=p.note)
        if stage >= 2:
            reference = f"YH{today:%Y%m%d}{n:03d}"
            d = actions.pay_disbursement(
                users[p.payer],
                d,
                reference=reference,
                evidence=_upload("银行付款回单.pdf", f"vetvol demo: bank slip {reference}"),
            )
        if stage >= 3:
            actions.report_use(
                requester,
                d,
                report=p.report,
                evidence=_upload("使用情况佐证材料.pdf", f"vetvol demo: use report {d.number}"),
            )
    return len(DISBURSEMENTS)
