"""Excel imports: one job per uploaded file, from the upload through the check to the written rows.

The job's status, progress and heartbeat live in the database, so a page served by any process can show how
far a background import has got, and a run whose worker died (stale heartbeat) can be resumed. The job id is
also the import batch written onto every volunteer row, which is how a resumed run recognises the rows an
earlier run wrote and skips them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action

# A running import touches its heartbeat at least every few seconds; this long without one means its worker
# is gone (process killed, server restarted) and the job may be resumed.
STALE_AFTER = timedelta(minutes=2)
MAX_STORED_ERRORS = 2000


class ImportKind(models.TextChoices):
    VOLUNTEERS = "volunteers", "志愿者名册"
    TEAMS = "teams", "志愿服务队名单"
    RECIPIENTS = "recipients", "服务对象名册"  # registered by the care app


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    CHECKED = "checked", "已检查"
    IMPORTING = "importing", "正在导入"
    DONE = "done", "已完成"
    FAILED = "failed", "导入失败"


class ImportMode(models.TextChoices):
    VALID = "valid", "导入有效行"
    ALL = "all", "全部无误才导入"


class ImportJob(RegionScopedModel):
    """One uploaded file and what became of it. `region_code` is the uploader's scope (the common prefix of
    their grants, blank for a superuser), so admins above the uploader see the job too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("类型", max_length=12, choices=ImportKind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="上传人"
    )
    filename = models.CharField("原文件名", max_length=200)
    sha256 = models.CharField("文件 SHA-256", max_length=64)
    size = models.PositiveIntegerField("文件大小（字节）", default=0)
    stored_path = models.CharField(max_length=200, blank=True, help_text="relative to VAR_DIR/imports")
    status = models.CharField(
        "状态", max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    mode = models.CharField("导入方式", max_length=5, choices=ImportMode.choices, blank=True)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    valid_rows = models.PositiveIntegerField("有效行数", default=0)
    bad_rows = models.PositiveIntegerField("有误行数", default=0)
    error_count = models.PositiveIntegerField("错误条数", default=0)
    written = models.PositiveIntegerField("已写入", default=0)
    already_imported = models.PositiveIntegerField("此前已导入", default=0)
    progress = models.PositiveIntegerField("本批已写入行数", default=0)
    # [[row, field, message], ...], the first MAX_STORED_ERRORS of them; the counts above are exact.
    errors = models.JSONField("逐行检查结果", default=list, blank=True)
    notes = models.JSONField("提示", default=list, blank=True)
    failure = models.CharField("失败原因", max_length=500, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}
    blank_region_is_province_wide = True

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["uploaded_by", "created_at"], name="registry_importjob_by_at")]
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """The uploader always sees and runs their own job."""
        return Q(uploaded_by_id=user.pk)

    @property
    def batch(self) -> str:
        return str(self.id)

    @property
    def is_stale(self) -> bool:
        return self.status == ImportStatus.IMPORTING and (
            self.heartbeat is None or timezone.now() - self.heartbeat > STALE_AFTER
        )

    @property
    def can_resume(self) -> bool:
        return bool(self.mode and self.stored_path) and (self.status == ImportStatus.FAILED or self.is_stale)

    @property
    def percent(self) -> int:
        if not self.valid_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, round(100 * (self.progress + self.already_imported) / self.valid_rows))

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)
