"""Service recipients (服务对象): veterans, their families, martyrs' families and other entitled groups."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class RecipientCategory(models.TextChoices):
    VETERAN = "veteran", "退役军人"
    VETERAN_FAMILY = "veteran_family", "退役军人家属"
    MARTYR_FAMILY = "martyr_family", "烈士遗属"
    DISABLED_VETERAN = "disabled_veteran", "伤残军人"
    SERVING_FAMILY = "serving_family", "现役军人家属"
    DECEASED_FAMILY = "deceased_family", "因公牺牲、病故军人遗属"
    OTHER_ENTITLED = "other_entitled", "其他优抚对象"


class RecipientStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    MOVED = "moved", "已迁出"
    DECEASED = "deceased", "已故"


class Need(models.TextChoices):
    """What a recipient may need help with (the report's list of daily-life difficulties)."""

    DAILY_LIFE = "daily_life", "生活照料"
    MEDICAL = "medical", "就医"
    HOUSING = "housing", "住房"
    EDUCATION = "education", "子女教育"
    EMPLOYMENT = "employment", "就业创业"
    LEGAL = "legal", "法律援助"
    PSYCHOLOGICAL = "psychological", "心理疏导"
    COMPANIONSHIP = "companionship", "陪伴探访"


MASK_KIND = {
    "id_number": "id_number",
    "phone": "phone",
    "address": "address",
    "contact_phone": "phone",
    "health_notes": "text",
    "hardship_notes": "text",
    "family_notes": "text",
}


class Recipient(RegionScopedModel):
    """A person the teams serve: one person, one record (the keyed hash of the ID number is unique).

    Identifiers, the address and the health, hardship and family notes are encrypted at rest and shown
    masked unless the viewer may unmask them (each reveal audited); none of it is ever on a public page.
    `region_code` is the community or village (or street) the household belongs to.
    """

    number = models.CharField("服务对象编号", max_length=20)
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedTextField("身份证号码")
    id_hash = models.CharField(max_length=64)
    gender = models.CharField("性别", max_length=1, choices=[("M", "男"), ("F", "女")])
    birth_date = models.DateField("出生日期")
    category = models.CharField("类别", max_length=20, choices=RecipientCategory.choices)
    phone = EncryptedTextField("联系电话", blank=True)
    address = EncryptedTextField("家庭住址", blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    household_size = models.PositiveSmallIntegerField("家庭人口", default=1)
    lives_alone = models.BooleanField("独居", default=False)
    contact_name = models.CharField("紧急联系人", max_length=50, blank=True)
    contact_phone = EncryptedTextField("紧急联系人电话", blank=True)
    needs = models.JSONField("需求", default=list, blank=True)
    health_notes = EncryptedTextField("健康状况", blank=True)
    hardship_notes = EncryptedTextField("困难情况", blank=True)
    family_notes = EncryptedTextField("家庭情况", blank=True)
    has_honour_plaque = models.BooleanField("已悬挂光荣牌", default=False)
    plaque_hung_on = models.DateField("光荣牌悬挂日期", null=True, blank=True)
    service_consent = models.BooleanField("同意接受服务并登记信息", default=False)
    status = models.CharField("状态", max_length=10, choices=RecipientStatus.choices, default="active")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    import_batch = models.CharField(max_length=40, blank=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["id_hash"], name="care_recipient_unique_id_hash"),
            models.UniqueConstraint(fields=["number"], name="care_recipient_unique_number"),
            models.CheckConstraint(
                condition=Q(household_size__gte=1) & Q(household_size__lte=30),
                name="care_recipient_household_size",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "region_code", "category"], name="care_recipient_scope"),
            models.Index(fields=["import_batch"], name="care_recipient_import_batch"),
        ]
        verbose_name = "服务对象"
        verbose_name_plural = "服务对象"

    def __str__(self) -> str:
        return f"{self.name}（{self.number}）"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """A volunteer sees the recipients they are paired with or have a visit or service assigned for."""
        if action != Action.VIEW:
            return None
        from vetvol.care.models.campaigns import CampaignTask
        from vetvol.care.models.pairing import Pairing
        from vetvol.care.models.requests import HelpRequest

        mine = Q(volunteer__user_id=user.pk)
        return (
            Q(pk__in=Pairing.objects.filter(mine, status="active").values("recipient_id"))
            | Q(pk__in=CampaignTask.objects.filter(mine, status="assigned").values("recipient_id"))
            | Q(pk__in=HelpRequest.objects.filter(mine, status="accepted").values("recipient_id"))
        )

    @property
    def needs_display(self) -> list[str]:
        labels = dict(Need.choices)
        return [str(labels.get(n, n)) for n in self.needs]
