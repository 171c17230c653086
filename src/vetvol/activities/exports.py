"""The staff's list of counted service-hour records (CSV or xlsx), for a region and dates: one row per
counted record, identified by the volunteer number; the ID number only for users who may unmask it in the
volunteer's region (masked otherwise). Needs the export right; audited. Submission to the national volunteer
service information system is another thing, with its own layout and batches: see `vetvol.national`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from vetvol.activities.models import HourRecord, HourSource
from vetvol.activities.queries import counting_q, hours_label
from vetvol.core import audit
from vetvol.core.exports import Export, export_scope
from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers

HEADERS = [
    "志愿者编号", "姓名", "证件类型", "证件号码", "项目名称", "活动名称", "服务内容", "服务日期",
    "开始时间", "结束时间", "服务时长（小时）", "记录来源", "记录单位区划代码", "记录编号",
]  # fmt: skip
ID_TYPE = "居民身份证"
_SOURCE = dict(HourSource.choices)


def _records(user: Any, region: str, since: date | None, until: date | None) -> QuerySet[HourRecord]:
    qs = HourRecord.objects.restrict(user, Action.EXPORT).filter(counting_q())
    if region:
        qs = qs.within(region)
    if since:
        qs = qs.filter(service_date__gte=since)
    if until:
        qs = qs.filter(service_date__lte=until)
    return qs.select_related("volunteer", "activity", "activity__project").order_by("service_date", "id")


def _rows(user: Any, qs: QuerySet[HourRecord]) -> Iterator[list[Any]]:
    unmask = allowed_prefixes(user, Action.UNMASK)
    for r in qs.iterator(chunk_size=1000):
        v = r.volunteer
        local = timezone.localtime
        yield [
            v.number, v.name, ID_TYPE,
            v.id_number if covers(unmask, v.region_code) else mask(v.id_number, "id_number"),
            r.activity.project.name if r.activity else "", r.activity.title if r.activity else "", r.content,
            r.service_date.isoformat(),
            local(r.started_at).strftime("%Y-%m-%d %H:%M") if r.started_at else "",
            local(r.ended_at).strftime("%Y-%m-%d %H:%M") if r.ended_at else "",
            hours_label(r.minutes), _SOURCE.get(r.source, r.source), r.region_code, f"HR{r.pk:010d}",
        ]  # fmt: skip


def hours_export(
    user: Any, *, region: str = "", since: date | None = None, until: date | None = None, fmt: str = "csv"
) -> Export:
    """Counted hour records in the user's export scope; the audit row is written before any row leaves."""
    export_scope(user, region, "activities.export")  # refuses, audited, a user who may export nowhere
    qs = _records(user, region, since, until)
    count = qs.count()
    audit.record(
        "activities.export",
        actor=user,
        region_code=region,
        detail={
            "what": "hours",
            "format": fmt,
            "since": str(since or ""),
            "until": str(until or ""),
            "rows": count,
        },
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return Export(f"志愿服务时长-{stamp}", "服务时长", HEADERS, _rows(user, qs), count)
