"""Teams: the tree from a city brand down to squads (班), with memberships and liaison points."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class TeamSpecialty(models.TextChoices):
    GENERAL = "general", "综合服务"
    RESCUE = "rescue", "应急救援队"
    COMMANDO = "commando", "突击队"
    PROFESSIONAL = "professional", "专业队"
    LECTURER = "lecturer", "讲师团"
    ART = "art", "艺术团"
    CLINIC = "clinic", "义诊团"
    SQUAD = "squad", "班"


class CivilStatus(models.TextChoices):
    REGISTERED = "registered", "已登记"
    FILED = "filed", "已备案"
    NONE = "none", "未登记"


class Team(RegionScopedModel):
    """A volunteer team (志愿服务队) in the tree: a city brand's corps, district and street teams, specialised
    sub-teams, and squads (specialty `squad`, grouped by discharge year). `path` holds the ids from the
    root (`/12/40/311/`), so a subtree is one prefix query."""

    name = models.CharField("队伍名称", max_length=100)
    brand = models.CharField("品牌", max_length=30, blank=True)
    specialty = models.CharField(
        "类型", max_length=15, choices=TeamSpecialty.choices, default=TeamSpecialty.GENERAL
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上级队伍",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="所属区划"
    )
    founded_on = models.DateField("成立日期", null=True, blank=True)
    civil_status = models.CharField(
        "民政登记状态", max_length=12, choices=CivilStatus.choices, default=CivilStatus.NONE
    )
    civil_number = models.CharField("登记（备案）编号", max_length=50, blank=True)
    civil_date = models.DateField("登记（备案）日期", null=True, blank=True)
    liaison_point = models.OneToOneField(
        "regions.LiaisonPoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="team",
        verbose_name="联络点",
    )
    description = models.TextField("简介", blank=True, max_length=2000)
    squad_year_from = models.PositiveSmallIntegerField("退役年份起", null=True, blank=True)
    squad_year_to = models.PositiveSmallIntegerField("退役年份止", null=True, blank=True)
    is_active = models.BooleanField("在运行", default=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(civil_status="none") | ~Q(civil_number=""),
                name="registry_team_civil_number_when_registered",
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="registry_team_unique_name_in_parent"),
        ]
        indexes = [models.Index(fields=["region_code", "brand"], name="registry_team_region_brand")]
        verbose_name = "志愿服务队"
        verbose_name_plural = "志愿服务队"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """Leaders and deputies manage their own teams and everything under them."""
        if action != Action.CHANGE:
            return None
        led = Membership.objects.filter(volunteer__user_id=user.pk, role__in=LEADING_ROLES, left_on=None)
        paths = list(Team.objects.filter(pk__in=led.values("team_id")).values_list("path", flat=True))
        q = Q(pk__in=[])
        for path in paths:
            q |= Q(path__startswith=path)
        return q


class MemberRole(models.TextChoices):
    LEADER = "leader", "队长"
    DEPUTY = "deputy", "副队长"
    MEMBER = "member", "队员"


LEADING_ROLES = (MemberRole.LEADER, MemberRole.DEPUTY)


class Membership(models.Model):
    """A volunteer's membership of a team, with role and join/leave dates. Leaving closes the row; history
    stays. A person may belong to several teams, but to each at most once at a time."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("角色", max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_on = models.DateField("加入日期")
    left_on = models.DateField("退出日期", null=True, blank=True)
    left_reason = models.CharField("退出原因", max_length=200, blank=True)

    class Meta:
        ordering = ["team", "-role", "joined_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=Q(left_on__isnull=True),
                name="registry_membership_one_active",
                violation_error_message="该志愿者已是本队队员",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="registry_membership_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "left_on"], name="registry_member_vol_left")]
        verbose_name = "队员关系"
        verbose_name_plural = "队员关系"

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.team_id}"
