"""Projects (志愿服务项目) and their activities (shifts), with eligibility and insurance."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class ServiceDomain(models.TextChoices):
    EMERGENCY_RESCUE = "emergency_rescue", "应急救援"
    EPIDEMIC = "epidemic", "疫情防控"
    PUBLIC_WELFARE = "public_welfare", "公益服务"
    GOVERNANCE = "governance", "基层社会治理"
    RURAL = "rural", "乡村振兴"
    SPRING_TRAVEL = "spring_travel", "春运服务"
    EVENT_ORDER = "event_order", "大型活动秩序维护"
    HOLIDAY_VISIT = "holiday_visit", "节日走访慰问"
    HONOUR_PLAQUE = "honour_plaque", "悬挂光荣牌"
    TOMB_SWEEPING = "tomb_sweeping", "烈士祭扫"
    POLICY_LECTURE = "policy_lecture", "政策宣讲"
    FREE_CLINIC = "free_clinic", "义诊"
    OTHER = "other", "其他"


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "招募中"
    CLOSED = "closed", "已结束"


class Project(RegionScopedModel):
    """A volunteer service project, owned by a team or a service centre; recruitment states its risks."""

    name = models.CharField("项目名称", max_length=100)
    brand = models.CharField("品牌", max_length=30, blank=True)
    owner_team = models.ForeignKey(
        "registry.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name="主办队伍",
    )
    owner_centre = models.ForeignKey(
        "regions.ServiceCentre",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name="主办服务中心（站）",
    )
    domain = models.CharField("服务领域", max_length=20, choices=ServiceDomain.choices)
    description = models.TextField("项目介绍", max_length=4000)
    risk_statement = models.TextField("风险提示", max_length=2000)
    insurance_required = models.BooleanField("须购买保险", default=False)
    status = models.CharField(
        "状态", max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PUBLISHED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_team__isnull=False) | Q(owner_centre__isnull=False),
                name="activities_project_has_owner",
            ),
            models.CheckConstraint(
                condition=~Q(risk_statement=""), name="activities_project_risk_statement_required"
            ),
        ]
        verbose_name = "志愿服务项目"
        verbose_name_plural = "志愿服务项目"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """Leaders of the owning team (or a team above it) run the team's projects."""
        if action != Action.CHANGE:
            return None
        from vetvol.registry.models import Team

        led = Team.owner_q(user, Action.CHANGE)
        return Q(owner_team__in=Team.objects.filter(led).values("pk")) if led is not None else None


class Approval(models.TextChoices):
    AUTO = "auto", "自动通过"
    LEADER = "leader", "组织者审核"


class FencePolicy(models.TextChoices):
    REFUSE = "refuse", "拒绝签到"
    FLAG = "flag", "允许签到并标记"


class ActivityStatus(models.TextChoices):
    SCHEDULED = "scheduled", "未开始"
    CANCELLED = "cancelled", "已取消"


class Activity(RegionScopedModel):
    """A shift under a project: a time window at a place, with seats, eligibility and a sign-up window.

    `seats_taken` counts confirmed sign-ups; a seat is claimed by a conditional UPDATE
    (`seats_taken < capacity`) checked by row count, so it is never over-filled under concurrency on SQLite
    or PostgreSQL."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="activities", verbose_name="所属项目"
    )
    title = models.CharField("活动名称", max_length=100)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    place_name = models.CharField("地点", max_length=100)
    address = models.CharField("详细地址", max_length=200, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    geofence_m = models.PositiveIntegerField("签到范围（米）", default=300)
    fence_policy = models.CharField(
        "范围外签到", max_length=10, choices=FencePolicy.choices, default=FencePolicy.FLAG
    )
    capacity = models.PositiveIntegerField("招募人数")
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    signup_opens_at = models.DateTimeField("报名开始")
    signup_closes_at = models.DateTimeField("报名截止")
    cancel_cutoff_hours = models.PositiveIntegerField("开始前多少小时停止取消", default=2)
    approval = models.CharField("报名审核", max_length=10, choices=Approval.choices, default=Approval.AUTO)
    team_only = models.BooleanField("仅限本队队员", default=False)
    min_age = models.PositiveSmallIntegerField("最小年龄", null=True, blank=True)
    max_age = models.PositiveSmallIntegerField("最大年龄", null=True, blank=True)
    required_skills = models.ManyToManyField(
        "registry.Skill", blank=True, related_name="+", verbose_name="所需技能"
    )
    required_certificates = models.ManyToManyField(
        "registry.CertificateType", blank=True, related_name="+", verbose_name="所需证书（活动当天有效）"
    )
    status = models.CharField(
        "状态", max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.SCHEDULED
    )
    qr_secret = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="activities_activity_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")), name="activities_activity_not_overfilled"
            ),
            models.CheckConstraint(
                condition=Q(signup_closes_at__gt=F("signup_opens_at")),
                name="activities_activity_signup_window",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="activities_activity_capacity_positive"
            ),
        ]
        indexes = [models.Index(fields=["region_code", "starts_at"], name="activities_act_region_start")]
        verbose_name = "志愿服务活动"
        verbose_name_plural = "志愿服务活动"

    def __str__(self) -> str:
        return self.title

    @property
    def is_risky(self) -> bool:
        return self.project.insurance_required

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)


class InsurancePolicy(models.Model):
    """Accident insurance covering a volunteer over a period (the insurance gate of risky activities)."""

    volunteer = models.ForeignKey(
        "registry.Volunteer", on_delete=models.CASCADE, related_name="insurance_policies"
    )
    insurer = models.CharField("保险公司", max_length=100)
    policy_number = models.CharField("保单号", max_length=60)
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("截止日期")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")), name="activities_insurance_period"
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "valid_until"], name="activities_ins_vol_until")]
        verbose_name = "保险"
        verbose_name_plural = "保险"

    def __str__(self) -> str:
        return f"{self.insurer} {self.policy_number}"
