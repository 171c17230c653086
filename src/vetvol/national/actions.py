"""The export to the national volunteer service information system: one audited batch, full or changes only.

`export_batch(actor, region, mode)` needs both the export and the unmask right over the region (the files
carry full ID numbers, which the national system identifies people by); a refusal is audited by `require`.
Everything read is scoped: volunteers, projects and hour records (by their organising region) through
`restrict(actor, export)`, all narrowed to the chosen region with `within(code)`.

What "changed" means. Each row's digest (layout columns `in_digest`) is compared with what the national
system was last sent (`ExportedRow`): a row goes out as 新增 the first time, 变更 when its digest differs,
and not at all when it is the same (a full export lists it as 无变化); an hour record sent before that no
longer counts (rejected, or superseded by a correction) goes out once as 撤销. A "changes" export only
examines rows that may have changed since the cursor of the last batch covering the region:
- volunteers whose `updated_at` is at or after the cursor (the registry's actions set it on every change);
- hour records created since (by time, and by id above the last batch's highest id: records are
  append-only), records with an approval or rejection since (by time and id), and records superseded by a
  correction written since;
- projects are few, so all of them in the region are compared every time;
- and every row of the region that could not be sent before (a missing ID number fixed, a team registered
  with civil affairs, hours approved since).
The cursor is taken less `VETVOL_NATIONAL_OVERLAP_MINUTES` (default 10) for transactions that committed
after the last export had started with times before it; a row seen twice is sent once (the digest decides).

The batch number is allocated inside the export's transaction, so its sequence row stays locked until
commit and exports run one at a time: two overlapping exports cannot both send the same new row. On SQLite
the export holds the database's write lock while it runs (BEGIN IMMEDIATE), which suits the street- and
district-sized deployments SQLite serves; PostgreSQL writers are not blocked.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from vetvol.activities.models import Activity, ActivityStatus, HourApproval, HourRecord, Project
from vetvol.activities.queries import counting_q
from vetvol.core import audit, events, ids
from vetvol.core.exports import Export
from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers, require, subtree_q
from vetvol.national import layout
from vetvol.national.models import BatchMode, ExportBatch, ExportedRow, RowKind, RowState
from vetvol.national.package import Package
from vetvol.regions.models import Region, ServiceCentre
from vetvol.registry.models import Volunteer

CHUNK = 1000
ROWS_PER_FILE = 1_000_000  # xlsx holds 1,048,576 rows a sheet; larger files are split (志愿者-2.xlsx …)
FILES: dict[str, tuple[str, list[layout.Column]]] = {
    RowKind.VOLUNTEER: ("志愿者", layout.VOLUNTEER_COLUMNS),
    RowKind.PROJECT: ("志愿服务项目", layout.PROJECT_COLUMNS),
    RowKind.HOUR: ("服务时长", layout.HOUR_COLUMNS),
}
REPORT_FILE = "无法导出清单"
NOTE_FILE = "导出说明.txt"
SKIPPED = "无法导出"


def overlap() -> timedelta:
    return timedelta(minutes=settings.VETVOL_NATIONAL_OVERLAP_MINUTES)


def covering_prefixes(code: str) -> list[str]:
    """The region and its ancestors' codes (44, 4403, 440304 …)."""
    return [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]


def last_batch_covering(region_code: str) -> ExportBatch | None:
    """The newest batch whose region contains `region_code`: the cursor of a "changes" export."""
    return (
        ExportBatch.objects.filter(region_code__in=covering_prefixes(region_code))
        .order_by("-as_of", "-id")
        .first()
    )


def export_batch(actor: Any, region: Region, mode: str) -> tuple[ExportBatch, IO[bytes]]:
    """Export the region's volunteers, projects and hour records in the national layout; returns the batch
    and its zip (rewound). Audited; nothing is recorded if anything fails."""
    require(actor, Action.EXPORT, region.code, what="national.export")
    require(actor, Action.UNMASK, region.code, what="national.export")
    if mode not in BatchMode.values:
        raise ValidationError({"mode": ["请选择全量导出或导出上次以来的变更"]})
    with transaction.atomic():
        now = timezone.now()
        number = f"GJ{timezone.localtime(now).year}{ids.allocate('national_batch')[0]:06d}"
        previous = last_batch_covering(region.code)
        since = previous.as_of if previous is not None and mode == BatchMode.CHANGES else None
        batch = ExportBatch.objects.create(
            number=number,
            region=region,
            region_code=region.code,
            mode=mode,
            previous=previous if since is not None else None,
            since=since,
            as_of=now,
            max_hour_id=HourRecord.objects.aggregate(m=Max("pk"))["m"] or 0,
            max_approval_id=HourApproval.objects.aggregate(m=Max("pk"))["m"] or 0,
            created_by=actor,
        )
        run = _Run(actor, batch, previous if since is not None else None)
        package = run.write()
        batch.counts = run.summary()
        batch.skipped = len(run.report)
        batch.save(update_fields=["counts", "skipped", "updated_at"])
        audit.record(
            "national.export",
            actor=actor,
            obj=batch,
            detail={
                "batch": number,
                "mode": mode,
                "since": since.isoformat() if since else "",
                "counts": batch.counts,
                "skipped": batch.skipped,
                "unmasked": True,
            },
        )
        events.emit("national.exported", id=batch.pk, number=number, region_code=region.code)
    return batch, package


class RegionNames:
    """Full names of region codes (广东省深圳市福田区…), loaded in bulk and cached for the run."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def load(self, codes: Iterable[str]) -> None:
        wanted = {p for code in codes for p in covering_prefixes(code)} - self.names.keys()
        if wanted:
            found = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
            self.names.update({code: found.get(code, "") for code in wanted})

    def full(self, code: str) -> str:
        return "".join(self.names.get(p, "") for p in covering_prefixes(code))


def _chunks(qs: QuerySet[Any]) -> Iterator[list[Any]]:
    """The queryset in primary-key order, CHUNK rows at a time (keyset pages: no OFFSET, no long cursor)."""
    last = 0
    while True:
        part = list(qs.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not part:
            return
        yield part
        last = part[-1].pk


class _Run:
    """One batch being written: walks the three kinds of rows, decides each row against its export state,
    writes the rows to the package and the new states to the database, chunk by chunk."""

    def __init__(self, actor: Any, batch: ExportBatch, previous: ExportBatch | None) -> None:
        self.actor = actor
        self.batch = batch
        self.code = batch.region_code
        self.full = batch.mode == BatchMode.FULL
        self.window: datetime | None = batch.since - overlap() if batch.since else None
        self.previous = previous
        self.unmask = allowed_prefixes(actor, Action.UNMASK)
        self.names = RegionNames()
        self.centres: dict[str, str] = {}
        self.counts: dict[str, Counter[str]] = {kind: Counter() for kind in FILES}
        self.report: list[list[Any]] = []
        self.pending_states: list[ExportedRow] = []
        self.dropped_states: list[int] = []
        self.volunteer_reasons: dict[int, str | None] = {}

    # The package -----------------------------------------------------------------------------------------

    def watermark(self) -> str:
        actor = self.actor
        who = getattr(actor, "display_name", "") or actor.get_username()
        at = timezone.localtime(self.batch.as_of).strftime("%Y-%m-%d %H:%M:%S")
        return (
            f"批次 {self.batch.number}，导出人 {who}（{actor.get_username()}），导出时间 {at}；"
            "含个人敏感信息，仅用于报送全国志愿服务信息系统，请勿转发"
        )

    def write(self) -> IO[bytes]:
        package = Package(self.watermark(), f"全国志愿服务信息系统报送 {self.batch.number}")
        sources = {
            RowKind.VOLUNTEER: self.volunteers(),
            RowKind.PROJECT: self.projects(),
            RowKind.HOUR: self.hours(),
        }
        for kind, rows in sources.items():
            name, columns = FILES[kind]
            self._write_parts(package, name, columns, rows)
        report = Export(
            REPORT_FILE,
            REPORT_FILE,
            layout.headers(layout.REPORT_COLUMNS),
            iter(self.report),
            len(self.report),
        )
        package.add_xlsx(f"{REPORT_FILE}.xlsx", report)
        package.add_text(NOTE_FILE, self.note([*package.names, NOTE_FILE]))
        return package.close()

    def _write_parts(
        self, package: Package, name: str, columns: list[layout.Column], rows: Iterator[Any]
    ) -> None:
        """One xlsx per ROWS_PER_FILE rows (the first always, with its headers even when empty)."""
        part = 1
        while True:
            first = next(rows, None)
            if first is None and part > 1:
                return
            head = [first] if first is not None else []
            chunk = itertools.chain(head, itertools.islice(rows, ROWS_PER_FILE - 1))
            filename = f"{name}.xlsx" if part == 1 else f"{name}-{part}.xlsx"
            package.add_xlsx(filename, Export(name, name, layout.headers(columns), chunk, 0))
            if first is None:
                return
            part += 1

    def summary(self) -> dict[str, dict[str, int]]:
        return {kind: dict(sorted(counter.items())) for kind, counter in self.counts.items()}

    def note(self, files: list[str]) -> str:
        batch = self.batch
        region = Region.objects.get(code=self.code)
        lines = [
            f"全国志愿服务信息系统报送批次：{batch.number}",
            f"区划：{self.names.full(self.code) or region.name}（{self.code}）",
        ]
        if batch.since is not None and self.previous is not None:
            since = timezone.localtime(batch.since).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"方式：导出上次以来的变更（上一批次 {self.previous.number}，{since} 起）")
            lines.append("本批次只含上一批次以来新增、变更或撤销的行；未变化的行不再重复报送。")
        elif batch.mode == BatchMode.CHANGES:
            lines.append("方式：导出上次以来的变更（该区划此前没有报送批次，因此包含全部未报送过的行）")
        else:
            lines.append("方式：全量导出（含全部可导出的行；已报送且未变化的行标为“无变化”）")
        lines.append(self.watermark())
        for kind, counter in self.counts.items():
            figures = "，".join(f"{op} {n}" for op, n in sorted(counter.items())) or "无"
            lines.append(f"{FILES[kind][0]}：{figures}")
        lines.append(f"无法导出的行：{len(self.report)}（原因见 {REPORT_FILE}.xlsx）")
        lines.append("文件：" + "、".join(files))
        return "\r\n".join(lines) + "\r\n"

    # Deciding rows -----------------------------------------------------------------------------------------

    def _states(self, kind: str, pks: list[int]) -> dict[int, ExportedRow]:
        return {s.object_id: s for s in ExportedRow.objects.filter(kind=kind, object_id__in=pks)}

    def _skipped_ids(self, kind: str) -> QuerySet[ExportedRow, Any]:
        return (
            ExportedRow.objects.filter(kind=kind, state=RowState.SKIPPED)
            .filter(subtree_q("region_code", [self.code]))
            .values("object_id")
        )

    def _state(
        self, kind: str, pk: int, region_code: str, state: str, digest: str = "", reason: str = ""
    ) -> None:
        self.pending_states.append(
            ExportedRow(
                kind=kind,
                object_id=pk,
                region_code=region_code,
                state=state,
                digest=digest,
                reason=reason[:200],
                batch=self.batch,
                changed_at=self.batch.as_of,
            )
        )

    def _send(
        self,
        kind: str,
        pk: int,
        region_code: str,
        columns: list[layout.Column],
        values: list[Any],
        old: ExportedRow | None,
    ) -> list[Any] | None:
        """The row to write (operation and batch filled in), or None when a "changes" export leaves it out."""
        digest = layout.digest(columns, values)
        if old is not None and old.state == RowState.SENT and old.digest == digest:
            op = layout.OP_SAME
        else:
            op = layout.OP_CHANGED if old is not None and old.state == RowState.SENT else layout.OP_NEW
            self._state(kind, pk, region_code, RowState.SENT, digest=digest)
        self.counts[kind][op] += 1
        if op == layout.OP_SAME and not self.full:
            return None
        values[0], values[-1] = op, self.batch.number
        return values

    def _skip(
        self,
        kind: str,
        pk: int,
        region_code: str,
        reason: str,
        old: ExportedRow | None,
        number: str,
        name: str,
    ) -> None:
        """A row that cannot be sent: on the report, and remembered so later exports look at it again. A row
        the national system already holds keeps its state (what it holds stays as sent)."""
        self.report.append([FILES[kind][0], number, name, region_code, reason])
        self.counts[kind][SKIPPED] += 1
        if old is not None and old.state == RowState.SENT:
            return
        if old is None or old.state != RowState.SKIPPED or old.reason != reason[:200]:
            self._state(kind, pk, region_code, RowState.SKIPPED, reason=reason)

    def _flush(self) -> None:
        if self.pending_states:
            ExportedRow.objects.bulk_create(
                self.pending_states,
                update_conflicts=True,
                unique_fields=["kind", "object_id"],
                update_fields=["region_code", "state", "digest", "reason", "batch", "changed_at"],
            )
            self.pending_states = []
        if self.dropped_states:
            ExportedRow.objects.filter(kind=RowKind.HOUR, object_id__in=self.dropped_states).delete()
            self.dropped_states = []

    # Volunteers --------------------------------------------------------------------------------------------

    def volunteers(self) -> Iterator[list[Any]]:
        qs = Volunteer.objects.restrict(self.actor, Action.EXPORT).within(self.code)
        if self.window is not None:
            qs = qs.filter(Q(updated_at__gte=self.window) | Q(pk__in=self._skipped_ids(RowKind.VOLUNTEER)))
        for part in _chunks(qs.defer("address")):
            states = self._states(RowKind.VOLUNTEER, [v.pk for v in part])
            self.names.load(v.region_code for v in part)
            for v in part:
                old = states.get(v.pk)
                reason = self._volunteer_reason(v)
                if reason:
                    self._skip(
                        RowKind.VOLUNTEER, v.pk, v.region_code, reason, old, v.number, mask(v.name, "name")
                    )
                    continue
                values = layout.volunteer_row(v, self.names.full(v.region_code))
                row = self._send(
                    RowKind.VOLUNTEER, v.pk, v.region_code, layout.VOLUNTEER_COLUMNS, values, old
                )
                if row is not None:
                    yield row
            self._flush()

    def _volunteer_reason(self, v: Volunteer) -> str | None:
        if v.pk not in self.volunteer_reasons:
            self.volunteer_reasons[v.pk] = layout.volunteer_reason(v)
        return self.volunteer_reasons[v.pk]

    # Projects ----------------------------------------------------------------------------------------------

    def projects(self) -> Iterator[list[Any]]:
        qs = (
            Project.objects.restrict(self.actor, Action.EXPORT)
            .within(self.code)
            .select_related("owner_team", "owner_centre")
        )
        for part in _chunks(qs):
            pks = [p.pk for p in part]
            states = self._states(RowKind.PROJECT, pks)
            spans = self._spans(pks)
            self.names.load(p.region_code for p in part)
            for p in part:
                old, span = states.get(p.pk), spans.get(p.pk, layout.Span())
                reason = layout.project_reason(p, span)
                if reason:
                    self._skip(
                        RowKind.PROJECT, p.pk, p.region_code, reason, old, layout.project_number(p.pk), p.name
                    )
                    continue
                values = layout.project_row(p, span, self.names.full(p.region_code))
                row = self._send(RowKind.PROJECT, p.pk, p.region_code, layout.PROJECT_COLUMNS, values, old)
                if row is not None:
                    yield row
            self._flush()

    def _spans(self, pks: list[int]) -> dict[int, layout.Span]:
        acts = Activity.objects.filter(project_id__in=pks).exclude(status=ActivityStatus.CANCELLED).order_by()
        places: dict[int, list[str]] = defaultdict(list)
        for pid, place in (
            acts.values_list("project_id", "place_name").distinct().order_by("project_id", "place_name")
        ):
            places[pid].append(place)
        bounds = acts.values("project_id").annotate(first=Min("starts_at"), last=Max("ends_at"))
        return {
            b["project_id"]: layout.Span(b["first"], b["last"], tuple(places[b["project_id"]]))
            for b in bounds
        }

    # Hour records ------------------------------------------------------------------------------------------

    def _hour_queryset(self) -> QuerySet[HourRecord]:
        qs = HourRecord.objects.restrict(self.actor, Action.EXPORT).within(self.code)
        if self.window is not None:
            prev = self.previous
            max_hour = prev.max_hour_id if prev else 0
            max_approval = prev.max_approval_id if prev else 0
            new = Q(created_at__gte=self.window) | Q(pk__gt=max_hour)
            decided = HourApproval.objects.filter(Q(at__gte=self.window) | Q(pk__gt=max_approval))
            corrected = HourRecord.objects.filter(new, corrects__isnull=False)
            qs = qs.filter(
                new
                | Q(pk__in=decided.values("record_id"))
                | Q(pk__in=corrected.values("corrects_id"))
                | Q(pk__in=self._skipped_ids(RowKind.HOUR))
            )
        return qs.select_related(
            "volunteer", "activity", "activity__project__owner_team", "activity__project__owner_centre"
        ).defer("volunteer__phone", "volunteer__address")

    def hours(self) -> Iterator[list[Any]]:
        for part in _chunks(self._hour_queryset()):
            pks = [r.pk for r in part]
            counted = set(
                HourRecord.objects.filter(pk__in=pks).filter(counting_q()).values_list("pk", flat=True)
            )
            superseded = set(
                HourRecord.objects.filter(corrects_id__in=pks).values_list("corrects_id", flat=True)
            )
            rejected = set(
                HourApproval.objects.filter(record_id__in=pks, approved=False).values_list(
                    "record_id", flat=True
                )
            )
            approvals: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
            for rid, level, at in HourApproval.objects.filter(record_id__in=pks, approved=True).values_list(
                "record_id", "level", "at"
            ):
                approvals[rid].append((level, at))
            states = self._states(RowKind.HOUR, pks)
            self._load_centres(r.region_code for r in part)
            self.names.load(r.region_code for r in part)
            for r in part:
                old = states.get(r.pk)
                pending = r.pk not in counted and r.pk not in superseded and r.pk not in rejected
                ctx = self._hour_context(r, r.pk in counted, pending, approvals.get(r.pk, []))
                row = self._hour(r, ctx, old)
                if row is not None:
                    yield row
            self._flush()

    def _hour_context(
        self, r: HourRecord, counted: bool, pending: bool, approvals: list[tuple[int, datetime]]
    ) -> layout.HourContext:
        v = r.volunteer
        recorded_on: date | None
        if r.required_level is None:
            recorded_on = timezone.localtime(r.created_at).date()
        else:
            ats = [at for level, at in approvals if level >= r.required_level]
            recorded_on = timezone.localtime(min(ats)).date() if ats else None
        place = r.activity.place_name if r.activity_id and r.activity else self.names.full(r.region_code)
        return layout.HourContext(
            counted=counted,
            pending=pending,
            recorded_on=recorded_on,
            volunteer_reason=self._volunteer_reason(v),
            volunteer_in_unmask=covers(self.unmask, v.region_code),
            centre_name=self._centre(r.region_code),
            place=place,
        )

    def _hour(self, r: HourRecord, ctx: layout.HourContext, old: ExportedRow | None) -> list[Any] | None:
        number = layout.record_number(r.pk)
        name = mask(r.volunteer.name, "name")
        if not ctx.counted:
            if old is not None and old.state == RowState.SENT:
                self._state(RowKind.HOUR, r.pk, r.region_code, RowState.REVOKED)
                self.counts[RowKind.HOUR][layout.OP_REVOKED] += 1
                values = layout.hour_row(r, ctx)
                values[0], values[-1] = layout.OP_REVOKED, self.batch.number
                return values
            if ctx.pending:
                self._skip(RowKind.HOUR, r.pk, r.region_code, layout.HOURS_PENDING, old, number, name)
            elif old is not None and old.state == RowState.SKIPPED:
                self.dropped_states.append(r.pk)  # rejected or superseded before it was ever sent
            return None
        reason = layout.hour_reason(r, ctx)
        if reason:
            self._skip(RowKind.HOUR, r.pk, r.region_code, reason, old, number, name)
            return None
        return self._send(
            RowKind.HOUR, r.pk, r.region_code, layout.HOUR_COLUMNS, layout.hour_row(r, ctx), old
        )

    def _load_centres(self, codes: Iterable[str]) -> None:
        wanted = {p for code in codes for p in covering_prefixes(code)} - self.centres.keys()
        if wanted:
            found = dict(
                ServiceCentre.objects.filter(region_code__in=wanted).values_list("region_code", "name")
            )
            self.centres.update({code: found.get(code, "") for code in wanted})

    def _centre(self, code: str) -> str:
        """The service centre (station) of the region or of the nearest region above it that has one."""
        for prefix in reversed(covering_prefixes(code)):
            if self.centres.get(prefix):
                return self.centres[prefix]
        return ""
