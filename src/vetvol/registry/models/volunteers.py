"""Volunteers: real-name records, one per person, with skills, certificates, consents and status history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action, ScopedQuerySet


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    ACTIVE = "active", "在册"
    SUSPENDED = "suspended", "暂停服务"
    LEFT = "left", "已退出"


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class ServiceBranch(models.TextChoices):
    ARMY = "army", "陆军"
    NAVY = "navy", "海军"
    AIR_FORCE = "air_force", "空军"
    ROCKET_FORCE = "rocket_force", "火箭军"
    STRATEGIC_SUPPORT = "strategic_support", "战略支援部队"
    ARMED_POLICE = "armed_police", "武警部队"
    OTHER = "other", "其他"


class RegisteredVia(models.TextChoices):
    SELF = "self", "本人注册"
    STAFF = "staff", "工作人员录入"
    IMPORT = "import", "批量导入"


# Weekly availability is a 21-bit mask: day d (0 = Monday) × period p (0 morning, 1 afternoon, 2 evening).
WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
PERIODS = ["上午", "下午", "晚上"]


def availability_bit(day: int, period: int) -> int:
    return 1 << (day * 3 + period)


def availability_bit_at(moment: datetime) -> int:
    """The availability bit of a moment in local time: morning 06–12, afternoon 12–18, evening 18–06 (the
    small hours belong to the evening of the day before). A mask of 0 means "not stated": such a volunteer
    is not ruled out by time."""
    local = timezone.localtime(moment)
    if local.hour < 6:
        local -= timedelta(hours=6)
        return availability_bit(local.weekday(), 2)
    return availability_bit(local.weekday(), 0 if local.hour < 12 else 1 if local.hour < 18 else 2)


ALL_WEEK = (1 << 21) - 1
WEEKEND = sum(availability_bit(d, p) for d in (5, 6) for p in range(3))


class VolunteerQuerySet(ScopedQuerySet):
    def active(self) -> VolunteerQuerySet:
        return self.filter(status=VolunteerStatus.ACTIVE)


class Volunteer(RegionScopedModel):
    """A registered volunteer: one person, one record (the keyed hash of the ID number is unique).

    The ID number, phone and address are encrypted at rest and shown masked unless the viewer may unmask
    them. The public volunteer number is the identifier shown and exported, never the ID number.
    `region_code` is the home street/town (or community) code.
    """

    # No `unique=True` or `db_index=True` on the CharFields below: on PostgreSQL either adds a second,
    # varchar_pattern_ops index for LIKE, which no query here uses and every insert paid for (an import
    # writes 100,000 rows). Their indexes are declared in Meta instead, one each.
    number = models.CharField("志愿者编号", max_length=20)
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedTextField("身份证号码")
    id_hash = models.CharField(max_length=64)
    phone = EncryptedTextField("手机号码")
    phone_hash = models.CharField(max_length=64)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期")
    home_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="居住街道（乡镇）",
        db_index=False,  # indexed in Meta (a key to a CharField would get the LIKE twin too)
    )
    address = EncryptedTextField("详细地址", blank=True)
    lng = models.FloatField("常驻点经度", null=True, blank=True)
    lat = models.FloatField("常驻点纬度", null=True, blank=True)
    is_veteran = models.BooleanField("退役军人", default=True)
    service_branch = models.CharField("服役军种", max_length=20, choices=ServiceBranch.choices, blank=True)
    enlistment_year = models.PositiveSmallIntegerField("入伍年份", null=True, blank=True)
    discharge_year = models.PositiveSmallIntegerField("退役年份", null=True, blank=True)
    is_retired_cadre = models.BooleanField("军休干部", default=False)
    is_party_member = models.BooleanField("中共党员", default=False)
    availability = models.PositiveIntegerField("每周可服务时段", default=0)
    status = models.CharField(
        "状态", max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    status_reason = models.CharField("状态原因", max_length=200, blank=True)
    publicity_consent = models.BooleanField("同意公开姓名", default=False)
    location_consent = models.BooleanField("同意执勤时共享位置", default=False)
    guardian_name = models.CharField("监护人姓名", max_length=50, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="volunteer"
    )
    registered_via = models.CharField("登记方式", max_length=10, choices=RegisteredVia.choices)
    import_batch = models.CharField(max_length=40, blank=True)
    # The home region (the same code as home_region). Subtree ranges and equality are served by the
    # (status, region_code) and (region_code, discharge_year) indexes; the inherited single-column index
    # (and its LIKE twin) served nothing the first does not.
    region_code = models.CharField(_("行政区划代码"), max_length=12)

    objects = VolunteerQuerySet.as_manager()  # type: ignore[misc]
    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["id_hash"], name="registry_volunteer_unique_id_hash"),
            models.UniqueConstraint(fields=["number"], name="registry_volunteer_unique_number"),
            models.CheckConstraint(
                condition=Q(discharge_year__isnull=True)
                | Q(enlistment_year__isnull=True)
                | Q(discharge_year__gte=models.F("enlistment_year")),
                name="registry_volunteer_discharge_after_enlistment",
            ),
            models.CheckConstraint(
                condition=Q(availability__lte=(1 << 21) - 1), name="registry_volunteer_availability_21_bits"
            ),
        ]
        indexes = [
            models.Index(fields=["phone_hash"], name="registry_vol_phone_hash"),
            models.Index(fields=["import_batch"], name="registry_vol_import_batch"),
            models.Index(fields=["home_region"], name="registry_vol_home_region"),
            models.Index(fields=["status", "region_code"], name="registry_vol_status_region"),
            models.Index(fields=["region_code", "discharge_year"], name="registry_vol_region_discharge"),
            # The talent pool checks each volunteer its skill and certificate indexes found (status, region,
            # scope) and sorts them by number, from this index alone (PostgreSQL reads no table rows; SQLite's
            # rowid lookup makes it idle there). Key columns, not INCLUDE, which SQLite does not have.
            models.Index(
                fields=["id", "number", "status", "region_code", "user"], name="registry_vol_talent_cover"
            ),
        ]
        verbose_name = "志愿者"
        verbose_name_plural = "志愿者"

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """A volunteer sees and edits their own record; a team leader sees their teams' current members."""
        if action == Action.CHANGE:
            return Q(user_id=user.pk)
        if action != Action.VIEW:
            return None
        from vetvol.registry.models.teams import LEADING_ROLES, Membership

        led = Membership.objects.filter(volunteer__user_id=user.pk, role__in=LEADING_ROLES, left_on=None)
        members = Membership.objects.filter(team_id__in=led.values("team_id"), left_on=None)
        return Q(user_id=user.pk) | Q(pk__in=members.values("volunteer_id"))

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class SkillLevel(models.IntegerChoices):
    BASIC = 1, "初级"
    SKILLED = 2, "熟练"
    EXPERT = 3, "专家"


class VolunteerSkill(models.Model):
    """A skill a volunteer offers, at a level. `region_code` copies the volunteer's, for the talent-pool
    index (skill, region subtree) that answers "who can dive in Futian" without touching every volunteer."""

    # No single-column indexes on the keys: the unique (volunteer, skill) and the talent index (skill, …)
    # lead with them.
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="skills", db_index=False)
    skill = models.ForeignKey("registry.Skill", on_delete=models.PROTECT, related_name="+", db_index=False)
    level = models.PositiveSmallIntegerField("水平", choices=SkillLevel.choices, default=SkillLevel.SKILLED)
    region_code = models.CharField(max_length=12)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "skill"], name="registry_volunteerskill_unique"),
        ]
        # Skill and region subtree to volunteers, from the index alone (level and volunteer in the key).
        indexes = [
            models.Index(fields=["skill", "region_code", "level", "volunteer"], name="registry_vskill_talent")
        ]
        verbose_name = "志愿者技能"
        verbose_name_plural = "志愿者技能"

    def __str__(self) -> str:
        return f"{self.volunteer_id}:{self.skill_id}"


class Certificate(models.Model):
    """A qualification a volunteer holds, with issuer, number and validity."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="certificates")
    # Not indexed alone: the talent index (type, …) leads with it.
    type = models.ForeignKey(
        "registry.CertificateType", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    issuer = models.CharField("发证机构", max_length=100)
    number = models.CharField("证书编号", max_length=50, blank=True)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="空表示长期有效")
    region_code = models.CharField(max_length=12)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(valid_until__gte=models.F("issued_on")),
                name="registry_certificate_valid_after_issue",
            )
        ]
        # Type, region subtree and validity to volunteers, from the index alone.
        indexes = [
            models.Index(
                fields=["type", "region_code", "valid_until", "issued_on", "volunteer"],
                name="registry_cert_talent",
            )
        ]
        verbose_name = "资格证书"
        verbose_name_plural = "资格证书"

    def __str__(self) -> str:
        return f"{self.type_id} {self.number}"

    def valid_on(self, day: date) -> bool:
        return (self.issued_on is None or self.issued_on <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class ConsentKind(models.TextChoices):
    PUBLICITY = "publicity", "公开姓名与服务信息"
    LOCATION = "location", "执勤时共享实时位置"
    SENSITIVE = "sensitive", "处理敏感个人信息（身份证号等）"
    GUARDIAN = "guardian", "监护人同意"


class Consent(models.Model):
    """One consent given or withdrawn, with the version of the text agreed to. Never edited; the latest row
    per kind is in force, and the volunteer's boolean flags mirror it for queries."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField("类型", max_length=12, choices=ConsentKind.choices)
    granted = models.BooleanField("同意")
    version = models.CharField("文本版本", max_length=20)
    at = models.DateTimeField("时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["volunteer", "kind", "-at"]
        verbose_name = "授权同意"
        verbose_name_plural = "授权同意"

    def __str__(self) -> str:
        return f"{self.kind}={self.granted}@{self.version}"


class StatusChange(models.Model):
    """The lifecycle history of a volunteer record (pending → active → suspended / left), with reasons."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=VolunteerStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=VolunteerStatus.choices)
    reason = models.CharField("原因", max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["volunteer", "at"]
        verbose_name = "状态变更"
        verbose_name_plural = "状态变更"

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"
