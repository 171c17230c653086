"""The maintained taxonomy of skills and certificate types (extendable by admins)."""

from __future__ import annotations

from django.db import models


class SkillCategory(models.TextChoices):
    RESCUE = "rescue", "应急救援"
    MEDICAL = "medical", "医疗卫生"
    PSYCHOLOGY = "psychology", "心理服务"
    LEGAL = "legal", "法律服务"
    EDUCATION = "education", "宣讲教育"
    CULTURE = "culture", "文化文艺"
    TRANSPORT = "transport", "交通驾驶"
    TECHNICAL = "technical", "技术技能"
    ORDER = "order", "秩序维护"
    CARE = "care", "关爱帮扶"


class Skill(models.Model):
    """A skill volunteers can offer (水上救援, 急救, 心理疏导 …)."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    category = models.CharField("类别", max_length=20, choices=SkillCategory.choices)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["category", "code"]
        verbose_name = "技能"
        verbose_name_plural = "技能"

    def __str__(self) -> str:
        return self.name


class CertificateType(models.Model):
    """A qualification with an issuer and usually an expiry (救生员证, 潜水员证, 执业医师资格 …).

    `skill` is the skill the certificate qualifies for, so a search for "water rescue with a valid
    certificate" can ask for both at once.
    """

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificate_types",
        verbose_name="对应技能",
    )
    expires = models.BooleanField("有有效期", default=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "证书类型"
        verbose_name_plural = "证书类型"

    def __str__(self) -> str:
        return self.name
