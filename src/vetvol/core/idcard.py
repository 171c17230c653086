"""Resident ID card numbers (居民身份证号码, GB 11643-1999): parse, validate, generate.

An 18-character number is ``AAAAAA YYYYMMDD SSS C``:

* ``AAAAAA`` -- the county-level administrative division code (GB/T 2260) of the place where the number was
  first issued, *as it stood then*. The number never changes when that county is later renamed, merged or
  re-coded, so veterans carry codes such as ``440102`` (广州市东山区, merged into 越秀区 in 2005) or
  ``440923`` (茂名市电白县, gone since 2014). The code is checked against every county-level code that ever
  stood, current and historical (``data/area_codes.csv.gz``, built by ``scripts/build_area_codes.py``),
  including the ``xxxx01 市辖区`` codes of the 1980s-90s and the codes of cities without counties (``441900``
  东莞). Only the six-digit code is checked; its province and prefecture digits are not checked separately.
* ``YYYYMMDD`` -- date of birth: a real calendar date, not before 1900-01-01, not after today.
* ``SSS`` -- sequence number; its last digit (the 17th character) is odd for men, even for women.
* ``C`` -- check character, ISO 7064 MOD 11-2: with weights ``w_i = 2**(17-i) mod 11`` for the first 17
  digits (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), ``C = "10X98765432"[sum(d_i * w_i) mod 11]``.

Input is normalised before it is checked: NFKC (full-width ``１２３`` and ``Ｘ`` become ASCII), all
whitespace removed, lower-case ``x`` upper-cased. 15-digit first-generation numbers are refused: their
holders have all been issued 18-digit numbers since, and only those are stored.

Checks run in the order format → checksum → birth date → area, and the first failure raises
``IdNumberError(code, message)`` with ``code`` one of ``format``, ``checksum``, ``birth_date``, ``area`` and
a Simplified Chinese ``message`` that can be shown to the person as it is.

Speed: an import validates every row, so ``parse_id_number`` does no more than string slicing, 17
multiplications, one ``date()`` and one dict look-up (a few microseconds). The area codes are read once,
on first use, into a dict.
"""

from __future__ import annotations

import csv
import gzip
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

__all__ = [
    "EARLIEST_BIRTH_DATE",
    "IdCard",
    "IdNumberError",
    "area_name",
    "check_character",
    "generate_id_number",
    "is_known_area",
    "is_valid_id_number",
    "parse_id_number",
]

AREA_CODES_FILE = Path(__file__).resolve().parent / "data" / "area_codes.csv.gz"
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

ErrorCode = Literal["format", "checksum", "birth_date", "area"]

# Weights 2**(17 - i) mod 11 for i = 0..16, and the check character for each remainder mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_LAST_CHARS = frozenset("0123456789X")

MSG_EMPTY = "请填写身份证号码"
MSG_FORMAT = "身份证号码应为 18 位，最后一位可以是数字或 X"
MSG_LENGTH = "身份证号码应为 18 位（现在是 {n} 位），最后一位可以是数字或 X"
MSG_CHARS = "身份证号码前 17 位只能是数字，最后一位可以是数字或 X"
MSG_FIRST_GENERATION = "这是 15 位的第一代身份证号码，已停止使用，请填写 18 位的第二代身份证号码"
MSG_CHECKSUM = "身份证号码校验位不正确，请核对是否输错"
MSG_BIRTH_INVALID = "身份证号码中的出生日期无效，请核对第 7 至 14 位"
MSG_BIRTH_FUTURE = "身份证号码中的出生日期晚于今天，请核对第 7 至 14 位"
MSG_BIRTH_TOO_EARLY = "身份证号码中的出生日期早于 1900 年，请核对第 7 至 14 位"
MSG_AREA = "身份证号码前 6 位不是有效的行政区划代码"


class IdNumberError(ValueError):
    """A number that is not a valid resident ID number; `message` is for the person who typed it."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"IdNumberError({self.code!r}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class IdCard:
    """What an ID number says. `area_known_as` is the most recent full name of the area code, if known."""

    number: str
    area_code: str
    birth_date: date
    gender: str  # "M" or "F"
    area_known_as: str | None


_areas: dict[str, str] | None = None
_areas_lock = threading.Lock()


def _load_areas() -> dict[str, str]:
    """code → latest full name ('' if the name is unknown); read once per process."""
    global _areas
    with _areas_lock:
        if _areas is None:
            with gzip.open(AREA_CODES_FILE, "rt", encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader)
                if header[:2] != ["code", "name"]:
                    raise RuntimeError(f"{AREA_CODES_FILE}: unexpected header {header}")
                _areas = {row[0]: row[1] for row in reader if row}
        return _areas


def _area_table() -> dict[str, str]:
    areas = _areas
    return areas if areas is not None else _load_areas()


def is_known_area(code: str) -> bool:
    """Whether `code` is a six-digit county-level code that has ever stood (current or historical)."""
    return code in _area_table()


def area_name(code: str) -> str | None:
    """The most recent full name of an area code, e.g. "广东省深圳市福田区"; None if unknown."""
    return _area_table().get(code) or None


def check_character(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character ("0"-"9" or "X") for the first 17 digits of a number."""
    if len(body) != 17 or not (body.isascii() and body.isdigit()):
        raise ValueError("body must be 17 ASCII digits")
    total = 0
    for ch, weight in zip(body, _WEIGHTS, strict=True):
        total += (ord(ch) - 48) * weight
    return _CHECK_CHARS[total % 11]


def _normalise(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).upper()


def parse_id_number(text: str, today: date | None = None) -> IdCard:
    """Parse and validate an 18-character resident ID number; raises `IdNumberError` if it is not valid.

    `today` bounds the birth date (default: the system date); pass the request's date for consistency.
    """
    number = _normalise(text)
    n = len(number)
    if n != 18:
        if n == 0:
            raise IdNumberError("format", MSG_EMPTY)
        if n == 15 and number.isascii() and number.isdigit():
            raise IdNumberError("format", MSG_FIRST_GENERATION)
        raise IdNumberError("format", MSG_LENGTH.format(n=n))
    body = number[:17]
    last = number[17]
    if not (body.isascii() and body.isdigit()) or last not in _LAST_CHARS:
        raise IdNumberError("format", MSG_CHARS)

    total = 0
    for ch, weight in zip(body, _WEIGHTS, strict=True):
        total += (ord(ch) - 48) * weight
    if _CHECK_CHARS[total % 11] != last:
        raise IdNumberError("checksum", MSG_CHECKSUM)

    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("birth_date", MSG_BIRTH_INVALID) from None
    if birth < EARLIEST_BIRTH_DATE:
        raise IdNumberError("birth_date", MSG_BIRTH_TOO_EARLY)
    if birth > (today or date.today()):
        raise IdNumberError("birth_date", MSG_BIRTH_FUTURE)

    area_code = number[:6]
    areas = _areas if _areas is not None else _load_areas()
    name = areas.get(area_code)
    if name is None:
        raise IdNumberError("area", MSG_AREA)

    return IdCard(
        number=number,
        area_code=area_code,
        birth_date=birth,
        gender="M" if (ord(number[16]) - 48) % 2 else "F",
        area_known_as=name or None,
    )


def is_valid_id_number(text: str, today: date | None = None) -> bool:
    """True if `parse_id_number(text, today)` would succeed."""
    try:
        parse_id_number(text, today)
    except IdNumberError:
        return False
    return True


def generate_id_number(area_code: str, birth: date, seq: int, gender: str) -> str:
    """Build an 18-character number with the right check character (for seeders and tests).

    Characters 15-17 are `seq` (0-999) written with three digits, after its lowest bit is set to the gender:
    ``seq | 1`` for "M" (17th digit odd), ``seq & ~1`` for "F" (17th digit even). So ``seq`` 0 and 1 both
    give ``001`` for a man and ``000`` for a woman; ``999`` gives ``998`` for a woman. The area code and the
    birth date are not checked against the area list or today, so invalid numbers with a correct check
    character can be built too (``generate_id_number("999999", ...)`` fails only on ``area``).
    """
    if len(area_code) != 6 or not (area_code.isascii() and area_code.isdigit()):
        raise ValueError("area_code must be 6 ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    if gender not in ("M", "F"):
        raise ValueError('gender must be "M" or "F"')
    if not 1000 <= birth.year <= 9999:
        raise ValueError("birth year must have four digits")
    seq = seq | 1 if gender == "M" else seq & ~1
    body = f"{area_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return body + check_character(body)
