"""One masking pattern per kind of identifier, used on every page, API answer and export.

Different patterns on different pages would let a full number be pieced together, so nothing else in the
code base masks by hand. ID `440***********1234`, phone `138****1234`, name `张*明`, address keeps its
first six characters.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    TEXT = "text"


def mask_id_number(value: str) -> str:
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    value = value.strip()
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(value: str) -> str:
    value = value.strip()
    return value[:6] + "****" if len(value) > 6 else "****"


def mask(value: str | None, kind: str) -> str:
    """The masked form of `value` for display; empty stays empty."""
    if not value:
        return ""
    match Kind(kind):
        case Kind.ID_NUMBER:
            return mask_id_number(value)
        case Kind.PHONE:
            return mask_phone(value)
        case Kind.NAME:
            return mask_name(value)
        case Kind.ADDRESS:
            return mask_address(value)
        case Kind.TEXT:
            return "****"
