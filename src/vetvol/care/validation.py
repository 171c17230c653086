"""Cleaning of recipient input, shared by the pages, the API and the Excel import.

Like `registry.validation.clean_volunteer`, `clean_recipient` never raises for bad input: it returns the
cleaned values and a map of field → Chinese messages, so an import can report every bad row first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from vetvol.care.models import Need, RecipientCategory
from vetvol.core.idcard import IdNumberError, parse_id_number
from vetvol.registry.validation import NAME_RE, display_phone, id_hash, normalise_phone

RECIPIENT_REGION_LEVELS = {"township", "village"}
_CATEGORY_BY_LABEL = {label: value for value, label in RecipientCategory.choices}
_NEED_BY_LABEL = {label: value for value, label in Need.choices}
NOTE_LIMIT = 2000


def _bool(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on", "是", "y", "√"}


def _phone(raw: Any, key: str, errors: dict[str, list[str]], *, required: bool) -> str:
    text = str(raw or "").strip()
    if not text:
        if required:
            errors[key] = ["请填写联系电话"]
        return ""
    try:
        return display_phone(normalise_phone(text))
    except ValueError as exc:
        errors[key] = [str(exc)]
        return ""


def clean_needs(value: Any, errors: dict[str, list[str]]) -> list[str]:
    items = (
        value
        if isinstance(value, list | tuple)
        else str(value or "").replace("，", ",").replace("、", ",").split(",")
    )
    needs: list[str] = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        code = _NEED_BY_LABEL.get(item, item)
        if code not in Need.values:
            errors.setdefault("needs", []).append(f"“{item}”不是可选的需求：" + "、".join(Need.labels))
        elif code not in needs:
            needs.append(code)
    return needs


def clean_recipient(
    raw: dict[str, Any], today: date, regions: dict[str, str], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate one recipient. `regions` maps the codes named to their level. With `partial` (an update)
    only the keys present are cleaned, and the ID number may not be given."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def given(key: str) -> bool:
        return not partial or key in raw

    if given("name"):
        name = str(raw.get("name") or "").strip()
        if not name:
            errors["name"] = ["请填写姓名"]
        elif not NAME_RE.match(name):
            errors["name"] = ["姓名只能包含汉字、字母和间隔号，最多 50 个字"]
        out["name"] = name
    if not partial:
        id_text = str(raw.get("id_number") or "").strip()
        if not id_text:
            errors["id_number"] = ["请填写身份证号码"]
        else:
            try:
                card = parse_id_number(id_text, today)
            except IdNumberError as exc:
                errors["id_number"] = [exc.message]
            else:
                out.update(
                    id_number=card.number,
                    id_hash=id_hash(card.number),
                    birth_date=card.birth_date,
                    gender=card.gender,
                )
    if given("category"):
        category = str(raw.get("category") or "").strip()
        category = _CATEGORY_BY_LABEL.get(category, category)
        if category not in RecipientCategory.values:
            errors["category"] = ["请选择类别：" + "、".join(RecipientCategory.labels)]
        out["category"] = category
    if given("region"):
        code = str(raw.get("region") or "").strip()
        if not code:
            errors["region"] = ["请选择所在的街道（乡镇）或社区（村）"]
        elif regions.get(code) not in RECIPIENT_REGION_LEVELS:
            errors["region"] = ["所在地应为有效的街道（乡镇）或社区（村）代码"]
        out["region_code"] = code
    if given("phone"):
        out["phone"] = _phone(raw.get("phone"), "phone", errors, required=False)
    if given("contact_phone"):
        out["contact_phone"] = _phone(raw.get("contact_phone"), "contact_phone", errors, required=False)
    for key, limit in (("address", 200), ("contact_name", 50)):
        if given(key):
            text = str(raw.get(key) or "").strip()
            if len(text) > limit:
                errors[key] = [f"最多 {limit} 字"]
            out[key] = text
    for key in ("health_notes", "hardship_notes", "family_notes"):
        if given(key):
            text = str(raw.get(key) or "").strip()
            if len(text) > NOTE_LIMIT:
                errors[key] = [f"最多 {NOTE_LIMIT} 字"]
            out[key] = text
    if given("household_size"):
        try:
            size = int(raw.get("household_size") or 1)
        except (TypeError, ValueError):
            size = 0
        if not 1 <= size <= 30:
            errors["household_size"] = ["家庭人口应为 1 到 30 之间的整数"]
        out["household_size"] = size
    for key in ("lives_alone", "has_honour_plaque", "service_consent"):
        if given(key):
            out[key] = _bool(raw.get(key, False))
    if given("needs"):
        out["needs"] = clean_needs(raw.get("needs"), errors)
    if not partial and not out.get("service_consent"):
        errors["service_consent"] = ["须经本人（或监护人）同意接受服务并登记信息"]
    return out, errors
