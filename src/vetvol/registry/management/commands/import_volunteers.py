"""`vetvol import_volunteers FILE --as USERNAME [--mode valid|all]`: the web import, run synchronously.

The same job as an upload on the import page (the same safety checks, the same engine, an ImportJob row
with its report and audit rows), checked and written in one pass, as the user named. For large files and
for the benchmark. Exit status 0 when the job is done, 1 when it failed or was refused.

Run again after the process died (killed, server restarted), the command resumes the same file's
unfinished job: at once if its run never started, and once its heartbeat is stale (STALE_AFTER) if it was
writing; the chunks already written are skipped, so nothing is imported twice. It starts by deleting the
stored uploads no unfinished job refers to (`sweep_stored`), which a killed run can leave behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vetvol.registry.actions import imports as actions
from vetvol.registry.imports import MAX_UPLOAD_BYTES, MSG_TOO_LARGE, UploadRefused
from vetvol.registry.models import ImportJob, ImportKind, ImportMode, ImportStatus


class Command(BaseCommand):
    help = "Import a volunteer roster (xlsx) as the given user, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="the user the import is made as")
        parser.add_argument("--mode", choices=ImportMode.values, default=ImportMode.VALID)
        parser.add_argument("--errors", type=int, default=20, help="how many row errors to print")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        # Copies of earlier uploads orphaned by a killed run (personal data no job will read again).
        actions.sweep_stored()
        try:
            user = get_user_model().objects.get(username=options["username"], is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"没有用户 {options['username']}") from exc
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise UploadRefused(MSG_TOO_LARGE, 413)
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from exc
        except UploadRefused as exc:
            raise CommandError(exc.message) from exc
        try:
            job = self._unfinished(user, data)
            if job is None:
                # Checked and written in one pass by the run (a separate check first would read the file
                # twice).
                job = actions.upload(user, ImportKind.VOLUNTEERS, path.name, data, check=False)
            else:
                self.stderr.write(f"继续此前未完成的导入任务 {job.id}（同一文件）")
            job = actions.start_run(user, job, options["mode"], background=False)
        except UploadRefused as exc:
            raise CommandError(exc.message) from exc
        except PermissionDenied as exc:
            raise CommandError(f"用户 {user} 没有登记志愿者的权限") from exc
        except ValidationError as exc:
            raise CommandError("；".join(m for ms in exc.message_dict.values() for m in ms)) from exc
        for row, field, message in job.errors[: options["errors"]]:
            self.stderr.write(f"第 {row} 行 {field}：{message}")
        summary = {
            "job": str(job.id),
            "status": job.status,
            "rows": job.total_rows,
            "valid": job.valid_rows,
            "bad_rows": job.bad_rows,
            "written": job.written,
            "already_imported": job.already_imported,
            "failure": job.failure,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if job.status != ImportStatus.DONE:
            raise CommandError(job.failure or "导入未完成")

    @staticmethod
    def _unfinished(user: Any, data: bytes) -> ImportJob | None:
        """This user's last job of the same file if it never finished: killed before its run was claimed,
        or interrupted (failed with its file kept, or its heartbeat stale). Running the command again
        then finishes that job (the rows it wrote are skipped) instead of reporting them as duplicates."""
        job = (
            ImportJob.objects.filter(
                uploaded_by=user, kind=ImportKind.VOLUNTEERS, sha256=hashlib.sha256(data).hexdigest()
            )
            .order_by("-created_at")
            .first()
        )
        if job is None or not job.stored_path:
            return None
        if job.can_resume or job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED):
            return job
        return None
