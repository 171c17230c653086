"""Export batches and the per-row export state.

A batch is one audited export to the national system: who, when, which region, full or changes only, and
its cursors. `ExportedRow` holds, per volunteer, project and hour record, what the national system was last
sent (a digest of the row as sent) or why it could not be sent; "changes since the last export" compares
the rows that may have changed against it, so a row is sent again only when what would be sent differs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vetvol.core.models import RegionScopedModel


class BatchMode(models.TextChoices):
    FULL = "full", _("全量导出")
    CHANGES = "changes", _("导出上次以来的变更")


class ExportBatch(RegionScopedModel):
    """One export to the national system over a region's subtree (`region_code`).

    `as_of` is the export's cursor: the next "changes" export of a region this one covers looks at rows
    changed from `as_of` (less an overlap for transactions that committed late) and at hour records and
    approvals with ids above `max_hour_id` / `max_approval_id`. `since` is the cursor this batch started
    from (empty for a full export or the first one)."""

    number = models.CharField(_("批次号"), max_length=20)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(_("方式"), max_length=10, choices=BatchMode.choices)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("上一批次")
    )
    since = models.DateTimeField(_("变更起点"), null=True, blank=True)
    as_of = models.DateTimeField(_("导出时间"))
    max_hour_id = models.BigIntegerField(default=0)
    max_approval_id = models.BigIntegerField(default=0)
    counts = models.JSONField(_("行数"), default=dict)
    skipped = models.PositiveIntegerField(_("无法导出行数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="national_exportbatch_unique_number")]
        indexes = [models.Index(fields=["region_code", "as_of"], name="national_batch_region_asof")]
        verbose_name = _("报送批次")
        verbose_name_plural = pgettext_lazy("plural", "报送批次")

    def __str__(self) -> str:
        return self.number


class RowKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("志愿者")
    PROJECT = "project", _("志愿服务项目")
    HOUR = "hour", _("服务时长")


class RowState(models.TextChoices):
    SENT = "sent", _("已报送")
    REVOKED = "revoked", _("已报送撤销")
    SKIPPED = "skipped", _("无法导出")


class ExportedRow(models.Model):
    """What the national system last received for one row (its digest), or why the row could not be sent.

    Rows never sent and never refused have no entry. `region_code` is the row's own region (home region of
    a volunteer, organising region of a project or hour record), so the refused rows of a subtree are
    re-examined by every later export of that subtree."""

    kind = models.CharField(max_length=10, choices=RowKind.choices)
    object_id = models.BigIntegerField()
    region_code = models.CharField(max_length=12)
    state = models.CharField(max_length=10, choices=RowState.choices)
    digest = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    batch = models.ForeignKey(ExportBatch, on_delete=models.PROTECT, related_name="rows")
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="national_exportedrow_unique_row")
        ]
        indexes = [
            models.Index(fields=["kind", "state", "region_code"], name="national_row_kind_state_region"),
            models.Index(fields=["batch", "kind"], name="national_row_batch_kind"),
        ]
        verbose_name = _("报送状态")
        verbose_name_plural = pgettext_lazy("plural", "报送状态")

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.state}"
