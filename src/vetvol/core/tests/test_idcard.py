"""Resident ID number parsing: format, checksum, birth date, historical area codes, speed."""

from __future__ import annotations

import time
from datetime import date

import pytest

from vetvol.core.idcard import (
    IdCard,
    IdNumberError,
    area_name,
    check_character,
    generate_id_number,
    is_known_area,
    is_valid_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 1)


def iso7064_mod11_2(body: str) -> str:
    """Check character by the recursive ISO 7064 MOD 11-2 algorithm, independent of the module's weights."""
    p = 0
    for ch in body:
        p = ((p + int(ch)) * 2) % 11
    r = (12 - p) % 11
    return "X" if r == 10 else str(r)


def parse(text: str) -> IdCard:
    return parse_id_number(text, TODAY)


def error_of(text: str, today: date = TODAY) -> IdNumberError:
    with pytest.raises(IdNumberError) as info:
        parse_id_number(text, today)
    return info.value


# --- valid numbers -------------------------------------------------------------------------------------


def test_gb11643_example():
    assert iso7064_mod11_2("11010519491231002") == "X"
    card = parse("11010519491231002X")
    assert card == IdCard(
        number="11010519491231002X",
        area_code="110105",
        birth_date=date(1949, 12, 31),
        gender="F",
        area_known_as="北京市朝阳区",
    )


@pytest.mark.parametrize(
    "number",
    [
        "440102196503151239",  # 广州市东山区, merged into 越秀区 in 2005
        "440107197208080040",  # 广州市芳村区, merged into 荔湾区 in 2005
        "440923195811203011",  # 茂名市电白县, became 电白区 (440904) in 2014
        "11010419550601002X",  # 北京市宣武区, merged into 西城区 in 2010
        "310103196210034511",  # 上海市卢湾区, merged into 黄浦区 in 2011
        "510202197005206610",  # 重庆市渝中区 under Sichuan, before Chongqing became a municipality in 1997
        "44030119860214007X",  # 深圳市市辖区 placeholder code of the 1980s-90s
        "441900197511112324",  # 东莞市: a city without counties issues under its own code
    ],
)
def test_hand_computed_numbers_with_old_codes(number):
    assert iso7064_mod11_2(number[:17]) == number[17]
    card = parse(number)
    assert card.number == number
    assert card.area_code == number[:6]
    assert card.area_known_as


def test_old_guangdong_codes_are_known_with_their_last_names():
    assert area_name("440102") == "广东省广州市东山区"
    assert area_name("440107") == "广东省广州市芳村区"
    assert area_name("440923") == "广东省茂名市电白县"
    assert area_name("440301") == "广东省深圳市市辖区"
    assert area_name("440101") == "广东省广州市市辖区"
    assert area_name("440304") == "广东省深圳市福田区"
    assert area_name("441422") == "广东省梅州市大埔县"
    assert is_known_area("440921")  # 信宜县 before it became a city in 1995
    assert not is_known_area("999999")
    assert area_name("999999") is None


@pytest.mark.parametrize(
    "area",
    ["440104", "440105", "440304", "441422", "440904", "440102", "440107", "440923", "440301", "110104"],
)
@pytest.mark.parametrize("gender", ["M", "F"])
def test_generated_numbers_parse(area, gender):
    birth = date(1968, 2, 29)
    number = generate_id_number(area, birth, 123, gender)
    assert len(number) == 18
    assert number[17] == iso7064_mod11_2(number[:17])
    card = parse(number)
    assert (card.area_code, card.birth_date, card.gender) == (area, birth, gender)
    assert is_valid_id_number(number, TODAY)


def test_generate_sequence_parity_rule():
    assert generate_id_number("440304", date(1990, 1, 1), 0, "M")[14:17] == "001"
    assert generate_id_number("440304", date(1990, 1, 1), 1, "M")[14:17] == "001"
    assert generate_id_number("440304", date(1990, 1, 1), 1, "F")[14:17] == "000"
    assert generate_id_number("440304", date(1990, 1, 1), 999, "F")[14:17] == "998"
    assert generate_id_number("440304", date(1990, 1, 1), 999, "M")[14:17] == "999"
    assert generate_id_number("440304", date(1990, 1, 1), 456, "F")[14:17] == "456"
    for bad in [
        dict(area_code="44030", seq=1, gender="M"),
        dict(area_code="440304", seq=1000, gender="M"),
        dict(area_code="440304", seq=-1, gender="M"),
        dict(area_code="440304", seq=1, gender="X"),
    ]:
        with pytest.raises(ValueError):
            generate_id_number(birth=date(1990, 1, 1), **bad)  # type: ignore[arg-type]


def test_gender_is_the_parity_of_the_17th_digit():
    for digit in range(10):
        body = f"4403041990010112{digit}"
        card = parse(body + iso7064_mod11_2(body))
        assert card.gender == ("M" if digit % 2 else "F")


def test_check_character_matches_independent_algorithm():
    for i in range(2000):
        body = f"{440000 + i * 7:06d}{19000101 + i * 37:08d}{i % 1000:03d}"
        assert check_character(body) == iso7064_mod11_2(body)


# --- normalisation -------------------------------------------------------------------------------------


def test_lower_case_x_and_spaces_are_normalised():
    assert parse("11010519491231002x").number == "11010519491231002X"
    assert parse(" 110105 19491231 002x ").number == "11010519491231002X"
    assert parse("110105\t1949\u300012310 02X\n").number == "11010519491231002X"


def test_full_width_digits_are_normalised():
    assert parse("１１０１０５１９４９１２３１００２Ｘ").number == "11010519491231002X"
    assert parse("４４０１０２１９６５０３１５１２３９").area_code == "440102"
    assert parse("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


# --- refusals ------------------------------------------------------------------------------------------


def test_bad_checksum_is_refused():
    err = error_of("110105194912310021")
    assert err.code == "checksum"
    assert err.message == "身份证号码校验位不正确，请核对是否输错"
    assert str(err) == err.message
    # a single mistyped digit always changes the check character
    for pos in range(17):
        number = "11010519491231002X"
        digit = str((int(number[pos]) + 3) % 10)
        assert error_of(number[:pos] + digit + number[pos + 1 :]).code == "checksum"


def test_february_30_is_refused():
    body = "44010219650230123"
    err = error_of(body + iso7064_mod11_2(body))
    assert err.code == "birth_date"
    assert "出生日期无效" in err.message


def test_month_13_and_day_00_are_refused():
    for birth in ("19651301", "19650100", "19650000"):
        body = f"440102{birth}123"
        assert error_of(body + iso7064_mod11_2(body)).code == "birth_date"


def test_future_birth_date_is_refused():
    tomorrow = generate_id_number("440304", date(2025, 6, 2), 10, "M")
    err = error_of(tomorrow)
    assert err.code == "birth_date"
    assert "晚于今天" in err.message
    assert parse(generate_id_number("440304", TODAY, 10, "M")).birth_date == TODAY
    assert error_of(generate_id_number("440304", date(2999, 1, 1), 1, "F"), today=date.today()).code == (
        "birth_date"
    )


def test_birth_before_1900_is_refused():
    err = error_of(generate_id_number("440304", date(1899, 12, 31), 10, "M"))
    assert err.code == "birth_date"
    assert parse(generate_id_number("440304", date(1900, 1, 1), 10, "M")).birth_date == date(1900, 1, 1)


def test_unknown_area_is_refused():
    assert iso7064_mod11_2("99999919800101001") == "1"
    err = error_of("999999198001010011")
    assert err.code == "area"
    assert err.message == "身份证号码前 6 位不是有效的行政区划代码"
    for code in ("440108", "440000", "440100", "000000", "810000"):
        assert error_of(generate_id_number(code, date(1980, 1, 1), 1, "M")).code == "area"


def test_fifteen_digit_number_is_refused():
    err = error_of("110105491231002")
    assert err.code == "format"
    assert "15 位" in err.message and "18 位" in err.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1101051949123100",
        "11010519491231002X1",
        "1101051949123100XX",
        "11010519491231002Y",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
    ],
)
def test_bad_format_is_refused(text):
    err = error_of(text)
    assert err.code == "format"
    assert err.message
    assert not is_valid_id_number(text, TODAY)


def test_format_message_names_length_and_last_character():
    err = error_of("1101051949123100")
    assert "18 位" in err.message and "X" in err.message


# --- speed ---------------------------------------------------------------------------------------------


def test_parsing_100000_numbers_is_fast():
    areas = ["440104", "440102", "440107", "440923", "440301", "441900", "110104", "310103"]
    numbers = [
        generate_id_number(
            areas[i % len(areas)], date(1940 + i % 60, 1 + i % 12, 1 + i % 28), i % 1000, "MF"[i % 2]
        )
        for i in range(1000)
    ]
    parse_id_number(numbers[0], TODAY)  # loads the area table
    start = time.perf_counter()
    for _ in range(100):
        for number in numbers:
            parse_id_number(number, TODAY)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"100,000 parses took {elapsed:.2f} s"
