"""Import jobs: upload and check (nothing written), run in a background thread or synchronously, resume.

1. `upload()` refuses unsafe or unreadable files (see registry/imports.py), checks every row through the
   import engine (`check_rows`, a dry run for volunteers; `check_team_rows` for teams), stores the file
   privately under VAR_DIR/imports and creates the job with its per-row report. Nothing else is written.
2. `start_run()` claims the job with one conditional UPDATE (so two clicks cannot start two runs) and, once
   that commits, starts `run_job()` in a thread. The worker re-reads the stored file, checks again (the
   database may have changed since) and writes through the engine in chunks, keeping progress and a heartbeat
   in the job row.
3. A worker that died leaves the job "importing" with a stale heartbeat (or "failed" when it caught its own
   error); `start_run()` on such a job resumes it: the engine skips the rows this batch already wrote.
4. A finished or discarded job deletes its stored file. A process killed between writing or forgetting a
   file and the commit leaves an orphaned copy; `sweep_stored()` deletes those (at the start of
   `vetvol import_volunteers`, every ten minutes in `vetvol serve --tick`, and `vetvol sweep_imports`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connections, transaction
from django.db.models import Q
from django.utils import timezone

from vetvol.core import audit, events, failpoints
from vetvol.core.scoping import Action, allowed_prefixes, require, require_object
from vetvol.registry.actions.bulk import BulkReport, check_rows, write_rows
from vetvol.registry.actions.team_rows import check_team_rows, write_team_rows
from vetvol.registry.imports import MSG_NO_ROWS, UploadRefused, open_workbook
from vetvol.registry.imports.columns import TEAM_COLUMNS, VOLUNTEER_COLUMNS
from vetvol.registry.models import (
    ImportJob,
    ImportKind,
    ImportMode,
    ImportStatus,
)
from vetvol.registry.models.imports import MAX_STORED_ERRORS, STALE_AFTER

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY_S = 5.0
# An orphaned upload (see `sweep_stored`) older than this is deleted; a committing upload is far younger.
SWEEP_GRACE = timedelta(minutes=10)
SWEEP_EVERY_S = 600.0


@dataclass(frozen=True)
class KindHandler:
    """How the rows of one kind of list are checked (nothing written) and written. Volunteers and teams
    are registered below; other apps register their own lists (care: service recipients) with
    `register_kind` in their AppConfig.ready(), and get the same upload checks, per-row report, background
    run, resume and audit. `write` in mode "all" must write everything or nothing (`all_or_nothing`)."""

    action: str  # the region action the uploader needs
    check: Callable[[Any, Iterable[tuple[int, dict[str, Any]]], str], tuple[BulkReport, list[Any]]]
    write: Callable[..., BulkReport]  # (actor, checked, report, *, mode, batch, progress)
    rolls_back_all: bool = False  # a row refused while writing in mode "all" undoes the whole run


HANDLERS: dict[str, KindHandler] = {}
NEEDED: dict[str, str] = {}


def register_kind(
    kind: str, handler: KindHandler, *, columns: tuple[Any, ...], sheet: str, notes: list[str]
) -> None:
    """Make a list importable: its columns and sheet name, its template and its handler."""
    from vetvol.registry.imports import COLUMNS, SHEET_NAMES, TEMPLATES
    from vetvol.registry.imports.templates import COMMON_NOTES, _template

    HANDLERS[kind] = handler
    NEEDED[kind] = handler.action
    COLUMNS[kind] = columns
    SHEET_NAMES[kind] = sheet
    TEMPLATES[kind] = lambda: _template(kind, [*COMMON_NOTES, *notes])


CODE_LENGTHS = (12, 9, 6, 4, 2)


# ---------------------------------------------------------------------------------------------------------
# Storage


def store_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _store(job: ImportJob, data: bytes) -> None:
    name = f"{job.id}.xlsx"
    target = store_dir() / name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    job.stored_path = name


def _read_stored(job: ImportJob) -> bytes:
    if not job.stored_path:
        raise UploadRefused("上传的文件已删除，请重新上传")
    path = store_dir() / Path(job.stored_path).name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UploadRefused("上传的文件已不存在，请重新上传") from exc
    if hashlib.sha256(data).hexdigest() != job.sha256:
        raise UploadRefused("保存的文件与上传时不一致，请重新上传")
    return data


def _delete_stored(job: ImportJob) -> None:
    if job.stored_path:
        (store_dir() / Path(job.stored_path).name).unlink(missing_ok=True)
        job.stored_path = ""


def _forget_stored(job: ImportJob) -> Path | None:
    """Forget the stored file in the job row; the caller deletes the returned path once that row has
    committed. Deleting it first left, when the process was killed before the commit, a job still
    "importing" whose file was gone: it could never be resumed (found by core/tests/proofs_crash)."""
    if not job.stored_path:
        return None
    path = store_dir() / Path(job.stored_path).name
    job.stored_path = ""
    return path


def sweep_stored(*, actor: Any = None, grace: timedelta = SWEEP_GRACE, record_empty: bool = False) -> int:
    """Delete the stored uploads no unfinished job refers to, once older than `grace`; returns how many.

    Such orphans are copies of personal data left by a process killed between writing a file and the
    commit that records it (or forgets it): after `_store` before the upload's commit, after a finish or
    a discard committed before its unlink. The grace keeps a file whose upload is committing right now;
    the files are listed before the jobs are read, so a job committed in between is seen. Audited when
    something was removed (always, with `record_empty`: an operator's `vetvol sweep_imports`)."""
    cutoff = time.time() - grace.total_seconds()
    old = []
    for path in store_dir().iterdir():
        try:
            info = path.lstat()
        except OSError:  # removed meanwhile by the job's own finish
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
            old.append(path)
    live = {
        Path(name).name
        for name in ImportJob.objects.exclude(stored_path="")
        .exclude(status=ImportStatus.DONE)
        .values_list("stored_path", flat=True)
    }
    removed = 0
    for path in old:
        if path.name in live:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            logger.exception("could not remove the orphaned upload %s", path.name)
            continue
        removed += 1
    if removed or record_empty:
        audit.record("registry.import.sweep", actor=actor, detail={"removed": removed})
    return removed


def run_sweeper(*, every: float = SWEEP_EVERY_S, stop: threading.Event | None = None) -> None:
    """Sweep every `every` seconds until `stop` is set (a thread of `vetvol serve --tick`); a failure is
    logged and tried again next time."""
    stop = stop or threading.Event()
    while not stop.is_set():
        close_old_connections()
        try:
            sweep_stored()
        except Exception:
            logger.exception("sweeping orphaned uploads failed")
        stop.wait(every)
    close_old_connections()


def clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-200:] or "upload.xlsx"


# ---------------------------------------------------------------------------------------------------------
# Reports


def _job_region(actor: Any, kind: str) -> str:
    """The common prefix of the actor's grants for the kind (a valid code length); '' for a superuser."""
    prefixes = allowed_prefixes(actor, NEEDED[kind])
    if prefixes is None:
        return ""
    if not prefixes:
        require(actor, NEEDED[kind], "", what="registry.import.upload")  # audits the denial and raises
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    return next((common[:n] for n in CODE_LENGTHS if n <= len(common)), "")


def _apply_report(job: ImportJob, report: BulkReport) -> None:
    job.total_rows = report.total
    job.valid_rows = report.valid + report.already_imported
    job.already_imported = report.already_imported
    job.bad_rows = report.bad_rows
    job.error_count = len(report.errors)
    job.errors = [[e.row, e.field, e.message] for e in report.errors[:MAX_STORED_ERRORS]]


# ---------------------------------------------------------------------------------------------------------
# Upload


def upload(actor: Any, kind: str, filename: str, data: bytes, *, check: bool = True) -> ImportJob:
    """Check a file and create its job with the per-row report; raises UploadRefused for a bad file."""
    if kind not in HANDLERS:
        raise ValidationError(
            {"kind": ["请选择导入类型：" + "、".join(str(ImportKind(k).label) for k in HANDLERS)]}
        )
    handler = HANDLERS[kind]
    region = _job_region(actor, kind)
    job = ImportJob(
        id=uuid.uuid4(),
        kind=kind,
        uploaded_by=actor,
        filename=clean_filename(filename),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        region_code=region,
        status=ImportStatus.UPLOADED,
    )
    with open_workbook(data, kind) as book:
        job.notes = book.header.notes
        if check:
            report, _ = handler.check(actor, book.rows(), job.batch)
            if not report.total:
                raise UploadRefused(MSG_NO_ROWS)
            _apply_report(job, report)
            job.status = ImportStatus.CHECKED
    _store(job, data)
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            audit.record(
                "registry.import.upload",
                actor=actor,
                obj=job,
                detail={
                    "kind": kind,
                    "size": job.size,
                    "sha256": job.sha256,
                    "rows": job.total_rows,
                    "valid": job.valid_rows,
                    "bad": job.bad_rows,
                },
            )
            events.emit("registry.import.checked", id=str(job.id), kind=kind)
    except BaseException:
        _delete_stored(job)
        raise
    return job


def discard(actor: Any, job: ImportJob) -> ImportJob:
    """Give up a job that has not been run (or failed): its stored file is deleted."""
    require_object(actor, Action.CHANGE, job, what="registry.import.discard")
    if job.status == ImportStatus.IMPORTING and not job.is_stale:
        raise ValidationError({"status": ["导入正在进行，不能放弃"]})
    if job.status == ImportStatus.DONE:
        raise ValidationError({"status": ["导入已完成"]})
    with transaction.atomic():
        stored = _forget_stored(job)
        job.status, job.failure, job.finished_at = ImportStatus.FAILED, "已放弃本次导入", timezone.now()
        job.save(update_fields=["stored_path", "status", "failure", "finished_at", "updated_at"])
        audit.record("registry.import.discard", actor=actor, obj=job, detail={"kind": job.kind})
    if stored is not None:
        stored.unlink(missing_ok=True)
    return job


# ---------------------------------------------------------------------------------------------------------
# Running


def spawn(job_id: uuid.UUID, actor_id: int) -> None:
    """Run the job in a daemon thread; if the process dies, the heartbeat goes stale and the job resumes."""
    thread = threading.Thread(
        target=_thread_main, args=(job_id, actor_id), name=f"import-{job_id}", daemon=True
    )
    thread.start()


def _thread_main(job_id: uuid.UUID, actor_id: int) -> None:
    try:
        run_job(job_id, actor_id)
    finally:
        connections.close_all()


def start_run(actor: Any, job: ImportJob, mode: str | None = None, *, background: bool = True) -> ImportJob:
    """Start (or resume) writing the job's rows. `mode` "valid" writes the valid rows, "all" only a file
    without a bad row; a resumed job keeps the mode it was started with."""
    require_object(actor, Action.CHANGE, job, what="registry.import.run")
    resume = job.can_resume
    mode = job.mode if resume else (mode or "")
    if mode not in ImportMode.values:
        raise ValidationError({"mode": ["请选择导入方式：导入有效行，或全部无误才导入"]})
    if not resume and job.status not in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
        messages: dict[str, str] = {
            ImportStatus.IMPORTING: "导入正在进行中，请稍候",
            ImportStatus.DONE: "该文件已导入完成",
        }
        raise ValidationError({"status": [messages.get(job.status, "该导入任务不能再运行，请重新上传文件")]})
    if not job.stored_path:
        raise ValidationError({"status": ["上传的文件已删除，请重新上传"]})
    if mode == ImportMode.ALL and job.status == ImportStatus.CHECKED and job.bad_rows:
        raise ValidationError(
            {
                "mode": [
                    f"文件中有 {job.bad_rows} 行有误，选择“全部无误才导入”时不能导入。"
                    "请修改后重新上传，或选择“导入有效行”"
                ]
            }
        )
    now = timezone.now()
    claimable = Q(status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED]) | Q(
        status=ImportStatus.IMPORTING, heartbeat__lt=now - STALE_AFTER
    )
    with transaction.atomic():
        claimed = (
            ImportJob.objects.filter(claimable, pk=job.pk)
            .exclude(stored_path="")
            .update(
                status=ImportStatus.IMPORTING,
                mode=mode,
                heartbeat=now,
                started_at=now,
                finished_at=None,
                failure="",
                progress=0,
                updated_at=now,
            )
        )
        if not claimed:
            raise ValidationError({"status": ["导入正在进行中，请稍候"]})
        audit.record(
            "registry.import.run",
            actor=actor,
            obj=job,
            detail={"mode": mode, "resume": resume, "kind": job.kind},
        )
        if background:
            job_id, actor_id = job.pk, actor.pk
            transaction.on_commit(lambda: spawn(job_id, actor_id))
    if not background:
        run_job(job.pk, actor.pk)
    job.refresh_from_db()
    return job


class _Beat:
    """Heartbeat and progress writes, at most every few seconds, outside the engine's transactions."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, progress: int | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < HEARTBEAT_EVERY_S and progress is None:
            return
        self.last = now
        fields: dict[str, Any] = {"heartbeat": timezone.now()}
        if progress is not None:
            fields["progress"] = progress
        ImportJob.objects.filter(pk=self.job_id).update(**fields)

    def rows(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any]]]:
        for i, row in enumerate(rows):
            if i % 1000 == 0:
                self()
            yield row


def run_job(job_id: uuid.UUID, actor_id: int) -> ImportJob:
    """The worker: check the stored file again, then write (volunteers in resumable chunks, teams in one
    transaction). Ends "done", or "failed" with a reason; never raises for a bad file or a failed write."""
    job = ImportJob.objects.get(pk=job_id)
    actor = get_user_model().objects.get(pk=actor_id)
    beat = _Beat(job.pk)
    report = BulkReport()
    try:
        data = _read_stored(job)
        with open_workbook(data, job.kind) as book:
            rows = beat.rows(book.rows())
            handler = HANDLERS[job.kind]
            report, checked = handler.check(actor, rows, job.batch)
            _apply_report(job, report)
            job.save(update_fields=_REPORT_FIELDS)
            if job.mode == ImportMode.ALL and report.errors:
                return _finish(job, actor, report, f"重新检查时发现 {report.bad_rows} 行有误，未导入任何数据")
            handler.write(actor, checked, report, mode=job.mode, batch=job.batch, progress=beat)
            if handler.rolls_back_all and job.mode == ImportMode.ALL and report.errors:
                return _finish(job, actor, report, "导入时有行被拒绝，已撤销本次导入，未写入任何数据")
    except UploadRefused as exc:
        return _finish(job, actor, report, exc.message)
    except PermissionDenied:
        return _finish(job, actor, report, "您已无权导入这些数据，未继续导入")
    except Exception:
        logger.exception("import job %s failed", job_id)
        return _finish(
            job,
            actor,
            report,
            "导入中断（系统错误）。已写入的行会保留，可点击“继续导入”接着导入",
            keep_file=True,
        )
    return _finish(job, actor, report, "")


_REPORT_FIELDS = [
    "total_rows",
    "valid_rows",
    "already_imported",
    "bad_rows",
    "error_count",
    "errors",
    "updated_at",
]


def _finish(
    job: ImportJob, actor: Any, report: BulkReport, failure: str, *, keep_file: bool = False
) -> ImportJob:
    """Record how the run ended. Only an interrupted run keeps its file (to be resumed); otherwise the
    stored copy of the personal data is deleted: it has arrived where it belongs, or it will not."""
    if report.total:
        _apply_report(job, report)
    job.written = job.progress = report.written
    job.failure = failure[:500]
    job.status = ImportStatus.FAILED if failure else ImportStatus.DONE
    job.finished_at = job.heartbeat = timezone.now()
    stored = None if keep_file else _forget_stored(job)
    with transaction.atomic():
        job.save()
        audit.record(
            "registry.import.finish",
            actor=actor,
            obj=job,
            detail={
                "status": job.status,
                "written": job.written,
                "already_imported": job.already_imported,
                "bad": job.bad_rows,
            },
        )
        events.emit("registry.import.finished", id=str(job.id), status=job.status, written=job.written)
    failpoints.pause("registry.import.finished")  # a crash test's kill: committed, the file not yet deleted
    if stored is not None:
        stored.unlink(missing_ok=True)
    return job


register_kind(
    ImportKind.VOLUNTEERS,
    KindHandler(
        Action.CHANGE_PEOPLE,
        check=lambda actor, rows, batch: check_rows(actor, rows, batch=batch),
        write=lambda actor, checked, report, *, mode, batch, progress: write_rows(
            actor, checked, report, batch=batch, progress=progress
        ),
    ),
    columns=VOLUNTEER_COLUMNS,
    sheet="志愿者",
    notes=[
        "身份证号码列已设为文本格式；从其他表格粘贴时请选择“只粘贴值”，以免变成数字后丢失末几位。",
        "同一身份证号码只能登记一次；已登记的志愿者不会重复导入。",
    ],
)
register_kind(
    ImportKind.TEAMS,
    KindHandler(
        Action.CHANGE,
        check=lambda actor, rows, batch: check_team_rows(actor, rows),
        write=lambda actor, checked, report, *, mode, batch, progress: write_team_rows(
            actor, checked, report, mode=mode, progress=progress
        ),
        rolls_back_all=True,
    ),
    columns=TEAM_COLUMNS,
    sheet="志愿服务队",
    notes=["上级队伍须已存在，或在本文件中写在下级队伍之前的行。"],
)
