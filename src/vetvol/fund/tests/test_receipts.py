"""Donation receipts: the amount in Chinese capitals, the PDF read back with pdftotext, and verification
(valid, void after a reversal, wrong code, tampered content or columns, forged)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from vetvol.activities import certificates
from vetvol.fund import actions, receipts
from vetvol.fund.models import Donation, LedgerTransaction


def pdf_text(data: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils is missing: scripts/check_system_deps.sh installs it"
    out = subprocess.run([pdftotext, "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def flat(data: bytes) -> str:
    return "".join(pdf_text(data).split())


# Chinese capitals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (0, "零元整"),
        (1, "壹分"),
        (5, "伍分"),
        (50, "伍角整"),
        (52, "伍角贰分"),
        (100, "壹元整"),
        (1_000, "壹拾元整"),
        (1_500, "壹拾伍元整"),
        (1_050, "壹拾元零伍角整"),
        (10_000, "壹佰元整"),
        (11_000, "壹佰壹拾元整"),
        (10_100, "壹佰零壹元整"),
        (32_504, "叁佰贰拾伍元零肆分"),
        (101_000, "壹仟零壹拾元整"),
        (168_032, "壹仟陆佰捌拾元零叁角贰分"),
        (1_640_902, "壹万陆仟肆佰零玖元零贰分"),
        (1_000_000, "壹万元整"),
        (10_000_000, "壹拾万元整"),
        (20_000_000, "贰拾万元整"),
        (10_700_053, "壹拾万零柒仟元零伍角叁分"),
        (10_000_005, "壹拾万元零伍分"),
        (123_456_789, "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        (1_000_000_000, "壹仟万元整"),
        (10_000_000_000, "壹亿元整"),
        (10_000_000_100, "壹亿零壹元整"),
        (10_005_000_000, "壹亿零伍万元整"),
        (10_010_000_000, "壹亿零壹拾万元整"),
        (10_000_500_000, "壹亿零伍仟元整"),
        (123_400_000_000, "壹拾贰亿叁仟肆佰万元整"),
        (200_003_000_000, "贰拾亿零叁万元整"),
        (200_030_000_000, "贰拾亿零叁拾万元整"),
        (99_999_999_999_999, "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amount_in_capitals(fen, words):
    assert receipts.amount_in_capitals(fen) == words


_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_PLACE = {"拾": 10, "佰": 100, "仟": 1000}


def read_capitals(words: str) -> int:
    """An independent reading of capitals back to fen (the test's reference, not the code's mirror)."""
    assert words.endswith("整") == (not words.endswith("分"))
    words = words.removesuffix("整")
    integer, has_yuan, fraction = words.partition("元")
    if not has_yuan:
        integer, fraction = "", words
    total = section = digit = 0
    for char in integer:
        if char in _DIGIT:
            digit = _DIGIT[char]
        elif char in _PLACE:
            assert digit, f"{char} without its digit in {words}"
            section, digit = section + digit * _PLACE[char], 0
        elif char == "万":
            total, section, digit = total + (section + digit) * 10_000, 0, 0
        elif char == "亿":
            total, section, digit = (total + section + digit) * 100_000_000, 0, 0
        else:
            raise AssertionError(char)
    fen = (total + section + digit) * 100
    for char, unit in zip(fraction.replace("零", "")[::2], fraction.replace("零", "")[1::2], strict=True):
        fen += _DIGIT[char] * {"角": 10, "分": 1}[unit]
    return fen


# Any amount, and amounts full of zeros (where the 零 rules bite).
AMOUNTS = st.one_of(
    st.integers(min_value=0, max_value=receipts.CAPITALS_LIMIT - 1),
    st.lists(st.sampled_from([0, 0, 0, 0, 1, 5, 9]), min_size=1, max_size=14).map(
        lambda digits: int("".join(map(str, digits)))
    ),
)


@given(AMOUNTS)
def test_capitals_read_back_to_the_amount(fen):
    words = receipts.amount_in_capitals(fen)
    assert read_capitals(words) == fen
    assert "零零" not in words and (fen == 0 or not words.startswith("零"))
    assert not words.startswith("拾")  # 壹拾, never a bare 拾
    assert fen == 0 or ("零元" not in words and "零万" not in words and "零亿" not in words)


@pytest.mark.parametrize("bad", [-1, 10**14, 1.5, "100", True, None])
def test_amount_in_capitals_refuses_what_is_not_an_amount(bad):
    with pytest.raises(ValueError):
        receipts.amount_in_capitals(bad)


# PDF ----------------------------------------------------------------------------------------------------


@pytest.fixture
def individual(people):
    """An individual donor who did not agree to be named in public."""
    return actions.create_donor(
        people.sz_admin, kind="individual", name="陈志远", region_code="4403", phone="13800138000"
    )


@pytest.fixture
def goods(people, individual):
    return actions.record_donation(
        people.sz_admin,
        individual,
        form="goods",
        amount="12345.60",
        purpose="safeguards",
        region_code="4403",
        received_on=date(2026, 11, 20),
        goods_description="急救包 200 套",
        goods_receipt="YS-2026-0088",
    )


pytestmark = pytest.mark.django_db


def test_money_receipt_reads_back_in_chinese(people, funded):
    donation = Donation.objects.get(region_code="44")
    data = receipts.render_pdf(donation)
    assert data.startswith(b"%PDF")
    text = flat(data)
    assert "捐赠收据" in text and donation.number in text
    assert "广东某建设集团有限公司" in text and "（单位）" in text
    assert "¥200,000.00" in text and "人民币贰拾万元整" in text
    assert "资金" in text and "服务保障（保险、装备）" in text
    assert "广东省（全省范围）" in text
    assert "2026年11月2日" in text  # received
    assert "收款单位：广东省退役军人志愿服务专项基金" in text  # the issuer: the province's fund
    assert donation.content["issuer"] == "广东省退役军人志愿服务专项基金"
    assert receipts.check_code(donation) in text
    assert "已作废" not in text.replace("「已作废」", "")  # only the note mentions it
    assert "物资验收单号" not in text


def test_goods_receipt_shows_goods_and_city(people, goods):
    text = flat(receipts.render_pdf(goods))
    assert "物资" in text and "急救包200套" in text and "YS-2026-0088" in text
    assert "折合金额（大写）" in text and "人民币壹万贰仟叁佰肆拾伍元陆角整" in text
    assert "¥12,345.60" in text and "深圳市" in text and "（个人）" in text
    assert "陈志远" in text  # the receipt is the donor's own: their name as signed
    assert "13800138000" not in text
    assert "收款单位：深圳市退役军人志愿服务专项基金" in text  # the city's fund holds it
    assert goods.content["account"] == "受赠物资基金"


def test_a_receipt_signed_while_english_is_active_verifies_and_reads_chinese(client, people):
    from django.utils import translation

    anonymous = actions.create_donor(
        people.sz_admin, kind="individual", name="不愿具名者", region_code="4403", anonymous=True
    )
    with translation.override("en"):
        assert str(receipts.Purpose("safeguards").label) != "服务保障（保险、装备）"  # English is real
        donation = actions.record_donation(
            people.sz_admin,
            anonymous,
            form="money",
            amount="888",
            purpose="safeguards",
            region_code="4403",
            received_on=date(2026, 11, 20),
        )
    c = donation.content
    assert (c["v"], c["donor"], c["purpose_name"]) == (2, "爱心人士", "服务保障（保险、装备）")
    assert (c["account"], c["region_name"]) == ("专项基金·服务保障（保险、装备）", "深圳市")
    assert c["issuer"] == "深圳市退役军人志愿服务专项基金"
    assert donation.transaction.memo == "资金捐赠 爱心人士"
    assert receipts.is_authentic(donation)
    with translation.override("en"):
        result = receipts.verify(donation.number, receipts.check_code(donation))
        text = flat(receipts.render_pdf(donation))
    assert result.valid and result.donor == "爱心人士" and result.issuer == "深圳市退役军人志愿服务专项基金"
    assert "兹收到爱心人士捐赠的资金" in text and "服务保障（保险、装备）" in text
    assert "收款单位：深圳市退役军人志愿服务专项基金" in text and "不愿具名者" not in text
    assert "Caring" not in text and "kind donor" not in text


def test_reversed_donation_prints_a_void_receipt(people, funded):
    donation = Donation.objects.get(region_code="4403")
    actions.reverse_donation(people.province_admin, donation, "重复录入")
    text = flat(receipts.render_pdf(donation))
    assert "已作废" in text and "冲正，收据作废" in text


def test_tampered_receipt_is_not_printed(people, funded):
    donation = Donation.objects.get(region_code="44")
    Donation.objects.filter(pk=donation.pk).update(content={**donation.content, "amount_fen": 1})
    with pytest.raises(receipts.ReceiptTampered):
        receipts.render_pdf(donation)


# Verification -------------------------------------------------------------------------------------------


def test_verification_of_a_valid_receipt(client, people, funded):
    donation = Donation.objects.get(region_code="4403")
    result = receipts.verify(donation.number, receipts.check_code(donation))
    assert result.valid and not result.void
    assert result.amount == "¥100,000.00" and result.amount_in_words == "壹拾万元整"
    assert result.donor == "广东某建设集团有限公司"  # consented: named
    assert result.region == "深圳市" and result.received_on == date(2026, 11, 3)
    url = receipts.verify_path(donation)
    assert receipts.verify_url(donation).endswith(url)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "核验通过" in body and donation.number in body and "壹拾万元整" in body and "有效" in body
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert not response.cookies


def test_an_unconsented_donor_is_masked_on_the_public_page(client, people, goods):
    body = client.get(receipts.verify_path(goods)).content.decode()
    assert "核验通过" in body and "陈*远" in body
    assert "陈志远" not in body and "13800138000" not in body


def test_a_reversed_donation_verifies_as_void(client, people, funded):
    donation = Donation.objects.get(region_code="4403")
    txn = actions.reverse_donation(people.province_admin, donation, "重复录入")
    result = receipts.verify(donation.number, receipts.check_code(donation))
    assert not result.valid and result.void and result.voided_on == timezone.localdate(txn.at)
    response = client.get(receipts.verify_path(donation))
    assert response.status_code == 410
    body = response.content.decode()
    assert "已作废" in body and donation.number in body
    assert "重复录入" not in body  # the reason stays internal


def test_wrong_code_unknown_number_and_tampering_look_the_same(client, people, funded):
    donation = Donation.objects.get(region_code="44")
    path = reverse("portal:fund_receipt", args=[donation.number])
    code = receipts.check_code(donation)
    changed = code[:15] + ("y" if code[15] == "x" else "x")
    for number in (donation.number.lower(), donation.number + "\x00", " " + donation.number, None):
        assert not receipts.verify(number, code).valid  # type: ignore[arg-type]
    for s in ("", "A" * 16, code[:8], changed, "码" * 20, code + "x" * 200):
        assert not receipts.verify(donation.number, s).valid
        response = client.get(path, {"s": s})
        assert response.status_code == 404 and "此收据不存在或已被篡改" in response.content.decode(), s
    response = client.get("/public/fund/receipts/JZ2026999999/", {"s": code})
    assert response.status_code == 404 and "此收据不存在或已被篡改" in response.content.decode()
    response = client.get("/public/fund/receipts/%3Cscript%3Ealert(1)%3C%2Fscript%3E/", {"s": code})
    assert response.status_code == 404 and "<script>" not in response.content.decode()
    # A certificate's check code is never a receipt's, nor is a certificate signature over the same content.
    signature, key = certificates.sign(donation.content)
    Donation.objects.filter(pk=donation.pk).update(signature=signature, signed_with=key)
    donation.refresh_from_db()
    assert not receipts.is_authentic(donation)


@pytest.mark.parametrize(
    "change",
    ["content_amount", "amount_column", "donor_name", "purpose_column", "received_column", "key_id", "goods"],
)
def test_any_change_fails_verification(people, funded, change):
    donation = Donation.objects.get(region_code="44")
    code = receipts.check_code(donation)
    rows = Donation.objects.filter(pk=donation.pk)
    c = donation.content
    match change:
        case "content_amount":
            rows.update(content={**c, "amount_fen": 2_000_000_000})
        case "amount_column":
            rows.update(amount=1)
        case "donor_name":
            rows.update(content={**c, "donor": "某某集团"})
        case "purpose_column":
            rows.update(purpose="general")
        case "received_column":
            rows.update(received_on=date(2026, 1, 1))
        case "key_id":
            rows.update(signed_with="0" * 16)
        case "goods":
            rows.update(content={**c, "goods": "黄金 1 吨"})
    assert not receipts.verify(donation.number, code).valid


def test_a_receipt_signed_by_another_key_or_not_booked_fails(people, funded):
    donation = Donation.objects.get(region_code="44")
    forger = Ed25519PrivateKey.generate()
    forged = base64.urlsafe_b64encode(
        forger.sign(actions.RECEIPT_DOMAIN + certificates.canonical(donation.content))
    ).decode()
    Donation.objects.filter(pk=donation.pk).update(signature=forged.rstrip("="))
    assert not receipts.verify(donation.number, forged[:16]).valid
    # Properly signed, columns agreeing, but its ledger transaction booked another amount: not authentic.
    other = Donation.objects.get(region_code="4403")
    assert receipts.is_authentic(other)
    other.transaction = LedgerTransaction.objects.get(pk=donation.transaction_id)
    assert not receipts.is_authentic(other)
