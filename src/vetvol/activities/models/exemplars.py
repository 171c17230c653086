"""Model volunteers (先进典型): nominated by a district (or city), decided by the city or the province by the
honour's tier, and published on the portal only while the volunteer's consent stands.

A nomination is one row whose status moves once, nominated → approved or rejected, by a conditional update
(`status = nominated`) decided by row count, so two deciders at the same moment cannot both win; who did
what is in the audit log. The consents are append-only rows (the latest one is in force) mirrored on the
nomination for the portal's query, as the volunteer's consent flags mirror their `Consent` rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class ExemplarTier(models.TextChoices):
    """The level of the honour; the city decides county- and city-level honours, the province its own."""

    COUNTY = "county", "区县级"
    CITY = "city", "市级"
    PROVINCE = "province", "省级"


class ExemplarCategory(models.TextChoices):
    SERVICE = "service", "优秀志愿者"
    RESCUE = "rescue", "应急救援先锋"
    CARE = "care", "关爱帮扶模范"
    LECTURE = "lecture", "宣讲先进个人"
    ORGANISER = "organiser", "优秀志愿服务组织者"


class ExemplarStatus(models.TextChoices):
    NOMINATED = "nominated", "待审核"
    APPROVED = "approved", "已认定"
    REJECTED = "rejected", "已驳回"


class NameForm(models.TextChoices):
    """How the volunteer agreed to be named on the portal."""

    FULL = "full", "公开全名"
    MASKED = "masked", "仅公开姓氏（如 张*明）"


class Exemplar(RegionScopedModel):
    """A nomination of a volunteer as a model volunteer for a year, with its citation and the figures of the
    period it was judged on (a snapshot taken at nomination). `region_code` is the volunteer's home;
    `approver_code` the node whose staff decide (the city, or the province for provincial honours)."""

    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="exemplars")
    year = models.PositiveSmallIntegerField("年度")
    tier = models.CharField("级别", max_length=10, choices=ExemplarTier.choices)
    category = models.CharField("类别", max_length=12, choices=ExemplarCategory.choices)
    citation = models.TextField("事迹简介", max_length=1000)
    period_from = models.DateField("统计起始日期")
    period_to = models.DateField("统计截止日期")
    minutes = models.PositiveIntegerField("期间服务时长（分钟）")
    stars = models.PositiveSmallIntegerField("星级")
    missions = models.PositiveIntegerField("期间应急任务")
    care_visits = models.PositiveIntegerField("期间关爱探访")
    status = models.CharField(
        "状态", max_length=10, choices=ExemplarStatus.choices, default=ExemplarStatus.NOMINATED
    )
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver_code = models.CharField("审核单位区划", max_length=12)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = models.CharField("驳回理由", max_length=200, blank=True)
    consent_granted = models.BooleanField("本人同意公开", default=False)
    name_form = models.CharField(
        "公开姓名方式", max_length=10, choices=NameForm.choices, default=NameForm.MASKED
    )
    consent_at = models.DateTimeField("授权时间", null=True, blank=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-year", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "year", "tier"],
                condition=~Q(status="rejected"),
                name="activities_exemplar_once_per_year_tier",
            ),
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")), name="activities_exemplar_period"
            ),
            models.CheckConstraint(
                condition=Q(status="nominated") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="activities_exemplar_decided_by",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decision_reason=""),
                name="activities_exemplar_rejection_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "region_code"], name="activities_exemplar_status_rgn"),
            models.Index(fields=["approver_code", "status"], name="activities_exemplar_approver"),
        ]
        verbose_name = "先进典型"
        verbose_name_plural = "先进典型"

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.year}/{self.tier} {self.status}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """The volunteer sees their own nominations (to give or withdraw consent)."""
        if action != Action.VIEW:
            return None
        return Q(volunteer__user_id=user.pk)


class ExemplarConsent(models.Model):
    """The volunteer's consent to publication given or withdrawn, by themselves or recorded by staff from a
    signed form. Never edited; the latest row is in force and mirrored on the nomination."""

    exemplar = models.ForeignKey(Exemplar, on_delete=models.PROTECT, related_name="consents")
    granted = models.BooleanField("同意公开")
    name_form = models.CharField("公开姓名方式", max_length=10, choices=NameForm.choices)
    version = models.CharField("文本版本", max_length=20)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_volunteer = models.BooleanField("本人操作")
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["exemplar", "-at", "-id"]
        verbose_name = "先进典型公开授权"
        verbose_name_plural = "先进典型公开授权"

    def __str__(self) -> str:
        return f"{self.exemplar_id}:{self.granted}@{self.version}"
