"""Service recipients from Excel, through the registry's import machinery (the same upload checks, per-row
report before anything is written, background run, resume and audit as the volunteer roster).

`check_recipient_rows` cleans every row as a single registration does (`clean_recipient`), finds duplicates
in the file and in the database and checks the uploader's scope; `write_recipient_rows` writes the checked
rows in chunks, each one transaction with its audit row. Rows this batch wrote before (a resumed run) are
recognised by their ID hash and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from vetvol.care.actions.recipients import DUPLICATE_MESSAGE, new_numbers, position_of
from vetvol.care.models import Need, Recipient, RecipientCategory
from vetvol.care.validation import clean_recipient
from vetvol.core import audit, events
from vetvol.core.rawsql import insert_many
from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.regions.models import Region
from vetvol.registry.actions.bulk import BulkReport, RowError, split_registered
from vetvol.registry.actions.imports import KindHandler, register_kind
from vetvol.registry.imports import Column
from vetvol.registry.imports.columns import ID_NUMBER_COLUMN, YES_NO
from vetvol.registry.models import ImportKind, ImportMode

CHUNK = 2000
RECIPIENT_COLUMNS = (
    Column("name", "姓名", required=True, help="与身份证一致", example="李卫国", width=10),
    ID_NUMBER_COLUMN,
    Column(
        "category",
        "类别",
        required=True,
        aliases=("对象类别", "优抚类别"),
        help="、".join(RecipientCategory.labels),
        example="退役军人",
        width=14,
    ),
    Column(
        "region",
        "所在社区（村）代码",
        "digits",
        required=True,
        aliases=("社区代码", "区划代码", "所在地代码"),
        help="12 位社区（村）或 9 位街道（乡镇）行政区划代码",
        example="440304001001",
        width=20,
    ),
    Column("phone", "联系电话", "digits", aliases=("电话", "手机号码"), width=15),
    Column("address", "家庭住址", aliases=("地址", "住址"), help="最多 200 字", width=30),
    Column("household_size", "家庭人口", "digits", help="1 到 30", example="3", width=10),
    Column("lives_alone", "是否独居", "bool", help=YES_NO, example="否"),
    Column("contact_name", "紧急联系人", width=12),
    Column("contact_phone", "紧急联系人电话", "digits", width=16),
    Column("needs", "需求", help="、".join(Need.labels) + "；多个用顿号分隔", width=24),
    Column("health_notes", "健康状况", help="加密保存，最多 2000 字", width=24),
    Column("hardship_notes", "困难情况", help="加密保存，最多 2000 字", width=24),
    Column("family_notes", "家庭情况", help="加密保存，最多 2000 字", width=24),
    Column("has_honour_plaque", "是否已悬挂光荣牌", "bool", help=YES_NO, example="是"),
    Column(
        "service_consent",
        "本人同意登记",
        "bool",
        required=True,
        aliases=("是否同意",),
        help="须经本人（或监护人）同意接受服务并登记信息，填“是”",
        example="是",
    ),
)


@dataclass
class _Row:
    row: int
    data: dict[str, Any]


def check_recipient_rows(
    actor: Any, rows: Iterable[tuple[int, dict[str, Any]]], batch: str
) -> tuple[BulkReport, list[_Row]]:
    """Every row cleaned and checked against the file, the database and the uploader's scope."""
    today = timezone.localdate()
    report = BulkReport()
    regions = dict(Region.objects.filter(level__in=["township", "village"]).values_list("code", "level"))
    scope = allowed_prefixes(actor, Action.CHANGE_PEOPLE)
    seen: dict[str, int] = {}
    checked: list[_Row] = []
    for number, raw in rows:
        report.total += 1
        data, errors = clean_recipient(raw, today, regions)
        for key, messages in (raw.get("_errors") or {}).items():
            errors[key] = list(messages)
        if not errors and not covers(scope, data["region_code"]):
            errors = {"region": ["您无权在该区划登记服务对象"]}
        if not errors and data["id_hash"] in seen:
            errors = {"id_number": [f"与第 {seen[data['id_hash']]} 行的身份证号码重复"]}
        for key, messages in errors.items():
            report.errors.extend(RowError(number, key, m) for m in messages)
        if not errors:
            seen[data["id_hash"]] = number
            checked.append(_Row(number, data))
    fresh = split_registered(Recipient, checked, report, batch=batch, duplicate=DUPLICATE_MESSAGE)
    return report, fresh


def write_recipient_rows(
    actor: Any,
    checked: list[_Row],
    report: BulkReport,
    *,
    mode: str = ImportMode.VALID,
    batch: str,
    progress: Callable[[int], None] | None = None,
) -> BulkReport:
    """Write the checked rows in chunks, each chunk one transaction with its audit row and event."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    today = timezone.localdate()
    places: dict[str, tuple[float | None, float | None]] = {}
    for i in range(0, len(checked), CHUNK):
        chunk = checked[i : i + CHUNK]
        numbers = new_numbers(chunk[0].data["region_code"], len(chunk))
        now = timezone.now()
        rows = []
        for item, number in zip(chunk, numbers, strict=True):
            code = item.data["region_code"]
            if code not in places:
                places[code] = position_of(code)
            lng, lat = places[code]
            rows.append(
                {
                    **item.data,
                    "number": number,
                    "lng": lng,
                    "lat": lat,
                    "registered_by_id": getattr(user, "pk", None),
                    "import_batch": batch,
                    "plaque_hung_on": today if item.data.get("has_honour_plaque") else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with transaction.atomic():
            insert_many(Recipient, rows)
            audit.record(
                "care.recipient.import",
                actor=actor,
                detail={"batch": batch, "rows": len(rows), "first": numbers[0], "last": numbers[-1]},
            )
            events.emit("care.recipients.imported", batch=batch, count=len(rows))
        report.written += len(rows)
        if progress is not None:
            progress(report.written)
    return report


def register() -> None:
    register_kind(
        ImportKind.RECIPIENTS,
        KindHandler(Action.CHANGE_PEOPLE, check=check_recipient_rows, write=write_recipient_rows),
        columns=RECIPIENT_COLUMNS,
        sheet="服务对象",
        notes=[
            "身份证号码列已设为文本格式；同一身份证号码只能登记一次（一人一档），已登记的不会重复导入。",
            "健康、困难和家庭情况加密保存，只有有权限的人员可以查看。",
        ],
    )
