"""Service-hour records: append-only (database triggers refuse UPDATE and DELETE), corrected by new rows.

A record's standing is derived, never stored in place: its approvals are rows of their own, and a record
that a later correction references is superseded by it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.scoping import ScopedManager


class HourSource(models.TextChoices):
    CHECKIN = "checkin", "签到签退"
    BACKFILL = "backfill", "应急补录"
    STAFF = "staff", "工作人员录入"
    CORRECTION = "correction", "更正"
    DISPATCH = "dispatch", "应急调度任务"
    CARE = "care", "关爱帮扶服务"


class ApprovalLevel(models.IntegerChoices):
    """Who must approve: the organiser (backfill, staff entries, reviews), the organiser's parent (8–12 h a
    day), a higher level (over 12 h a day)."""

    ORGANISER = 1, "组织方"
    PARENT = 2, "组织方的上级"
    HIGHER = 3, "更高一级"


class HourRecord(models.Model):
    """Minutes of service one volunteer gave on one day, from one source. Never changed once written."""

    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="hour_records")
    activity = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="hour_records"
    )
    attendance = models.ForeignKey(
        "activities.Attendance", null=True, blank=True, on_delete=models.PROTECT, related_name="hour_records"
    )
    source = models.CharField("来源", max_length=12, choices=HourSource.choices)
    service_date = models.DateField("服务日期")
    started_at = models.DateTimeField("开始", null=True, blank=True)
    ended_at = models.DateTimeField("结束", null=True, blank=True)
    minutes = models.PositiveIntegerField("时长（分钟）")
    content = models.CharField("服务内容", max_length=200)
    region_code = models.CharField(max_length=12, db_index=True, help_text="organising region")
    volunteer_region_code = models.CharField(max_length=12)
    required_level = models.PositiveSmallIntegerField(
        choices=ApprovalLevel.choices, null=True, blank=True, help_text="empty: counts without approval"
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    evidence = models.CharField("佐证材料", max_length=300, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ScopedManager()
    region_field = "region_code"  # the organising region: staff see the hours given in their regions

    class Meta:
        ordering = ["service_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__lte=24 * 60), name="activities_hourrecord_at_most_a_day"
            ),
            models.CheckConstraint(
                condition=~Q(source__in=["backfill", "staff", "correction"]) | ~Q(reason=""),
                name="activities_hourrecord_reason_for_manual",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "service_date"], name="activities_hours_vol_day")]
        verbose_name = "服务时长记录"
        verbose_name_plural = "服务时长记录"

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.service_date} {self.minutes}min"


class HourApproval(models.Model):
    """An approval (or rejection) of an hour record at a level. Append-only too."""

    record = models.ForeignKey(HourRecord, on_delete=models.PROTECT, related_name="approvals")
    level = models.PositiveSmallIntegerField(choices=ApprovalLevel.choices)
    approved = models.BooleanField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(max_length=12, help_text="the region the approver acted for")
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "level"], name="activities_hourapproval_once_per_level"
            ),
        ]
        verbose_name = "时长审核"
        verbose_name_plural = "时长审核"

    def __str__(self) -> str:
        return f"{self.record_id}@{self.level}:{self.approved}"
