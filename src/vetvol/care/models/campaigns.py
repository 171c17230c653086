"""Campaigns: holiday visits, honour plaques, martyrs' tomb sweeping and the six deliveries (六送)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.models import RegionScopedModel, TimeStampedModel
from vetvol.core.scoping import Action, ScopedManager


class CampaignKind(models.TextChoices):
    ARMY_DAY = "army_day", "八一建军节走访慰问"
    MARTYRS_DAY = "martyrs_day", "烈士纪念日走访慰问"
    NATIONAL_DAY = "national_day", "国庆节走访慰问"
    SPRING_FESTIVAL = "spring_festival", "春节走访慰问"
    HONOUR_PLAQUE = "honour_plaque", "悬挂光荣牌"
    TOMB_SWEEPING = "tomb_sweeping", "烈士祭扫"
    SIX_DELIVERIES = "six_deliveries", "“六送”服务"


class Delivery(models.TextChoices):
    """The six deliveries (六送)."""

    POLICY = "policy", "送政策"
    JOBS = "jobs", "送岗位"
    SKILLS = "skills", "送技能"
    ASSISTANCE = "assistance", "送帮扶"
    SECURITY = "security", "送保障"
    HONOUR = "honour", "送尊崇"


class CampaignStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    CLOSED = "closed", "已结束"


class Campaign(RegionScopedModel):
    """A campaign over a region's recipients of some categories; each targeted recipient gets one task.
    `region_code` is the organising node (the whole campaign's subtree)."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=CampaignKind.choices)
    delivery = models.CharField("“六送”内容", max_length=12, choices=Delivery.choices, blank=True)
    categories = models.JSONField("服务对象类别", default=list)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    status = models.CharField("状态", max_length=10, choices=CampaignStatus.choices, default="running")
    max_visits_per_volunteer = models.PositiveSmallIntegerField("每名志愿者最多走访户数", default=5)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="care_campaign_dates"
            ),
            models.CheckConstraint(
                condition=Q(max_visits_per_volunteer__gte=1), name="care_campaign_capacity_positive"
            ),
        ]
        verbose_name = "关爱活动"
        verbose_name_plural = "关爱活动"

    def __str__(self) -> str:
        return self.name


class TaskState(models.TextChoices):
    UNASSIGNED = "unassigned", "待分派"
    ASSIGNED = "assigned", "已分派"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class CampaignTask(TimeStampedModel):
    """One recipient's visit in a campaign. `region_code` copies the recipient's (progress by street,
    district and city)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="campaign_tasks")
    volunteer = models.ForeignKey(
        "registry.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="campaign_tasks"
    )
    status = models.CharField("状态", max_length=12, choices=TaskState.choices, default="unassigned")
    planned_on = models.DateField("计划走访日期", null=True, blank=True)
    distance_km = models.FloatField("距离（公里）", null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    region_code = models.CharField(max_length=12)

    objects = ScopedManager()
    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["planned_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "recipient"], name="care_campaigntask_unique"),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(volunteer__isnull=False),
                name="care_campaigntask_assigned_has_volunteer",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "region_code", "status"], name="care_ctask_progress"),
            models.Index(fields=["volunteer", "status"], name="care_ctask_volunteer"),
        ]
        verbose_name = "走访任务"
        verbose_name_plural = "走访任务"

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.recipient_id}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """A volunteer sees the visits assigned to them."""
        if action != Action.VIEW:
            return None
        return Q(volunteer__user_id=user.pk)
