"""Sign-ups with a waiting list, and attendance (check-in/out) with how it was done."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class SignUpStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    CONFIRMED = "confirmed", "已录取"
    WAITLISTED = "waitlisted", "候补中"
    CANCELLED = "cancelled", "已取消"
    REJECTED = "rejected", "未录取"
    NO_SHOW = "no_show", "缺席"


ACTIVE_SIGNUP = (SignUpStatus.PENDING, SignUpStatus.CONFIRMED, SignUpStatus.WAITLISTED)


class SignUp(models.Model):
    """A volunteer's sign-up for an activity. Waiting-list order is the sign-up time (then id)."""

    activity = models.ForeignKey("activities.Activity", on_delete=models.CASCADE, related_name="signups")
    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="signups")
    status = models.CharField("状态", max_length=10, choices=SignUpStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        ordering = ["activity", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"],
                condition=Q(status__in=["pending", "confirmed", "waitlisted"]),
                name="activities_signup_one_active",
            ),
        ]
        indexes = [models.Index(fields=["activity", "status", "created_at"], name="activities_signup_queue")]
        verbose_name = "报名"
        verbose_name_plural = "报名"

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.activity_id}:{self.status}"


class CheckMethod(models.TextChoices):
    ORGANISER_SCAN = "organiser_scan", "组织者扫志愿者电子证"
    VOLUNTEER_SCAN = "volunteer_scan", "志愿者扫活动签到码"
    GPS = "gps", "定位自助签到"
    AUTO_CLOSE = "auto_close", "活动结束自动签退"


class Attendance(models.Model):
    """One volunteer's presence at an activity: check-in, check-out, how each was done and where.

    A volunteer who forgets to check out is closed at the activity's end with `needs_review`, and the hours
    from such a record wait for an organiser instead of being credited silently."""

    activity = models.ForeignKey("activities.Activity", on_delete=models.PROTECT, related_name="attendances")
    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="attendances")
    signup = models.OneToOneField(
        SignUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="attendance"
    )
    checked_in_at = models.DateTimeField("签到时间")
    in_method = models.CharField("签到方式", max_length=20, choices=CheckMethod.choices)
    in_lat = models.FloatField(null=True, blank=True)
    in_lng = models.FloatField(null=True, blank=True)
    in_distance_m = models.PositiveIntegerField("签到距离（米）", null=True, blank=True)
    checked_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    out_method = models.CharField("签退方式", max_length=20, choices=CheckMethod.choices, blank=True)
    outside_fence = models.BooleanField("范围外签到", default=False)
    needs_review = models.BooleanField("待核实", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="activities_attendance_once"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gte=F("checked_in_at")),
                name="activities_attendance_out_after_in",
            ),
        ]
        verbose_name = "签到记录"
        verbose_name_plural = "签到记录"

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.activity_id}"
