"""Roll-up storage: dirty marks (insert-only), figures of each leaf code, totals of each subtree, and the
veteran population entered per region (the denominator of the registration rate)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from vetvol.core.models import RegionScopedModel


class Family(models.TextChoices):
    """Figures recounted together (one recount per leaf and family)."""

    VOLUNTEERS = "volunteers", "志愿者"
    TEAMS = "teams", "队伍"
    HOURS = "hours", "服务时长"
    ACTIVITIES = "activities", "项目与活动"
    DISPATCH = "dispatch", "应急调度"
    CARE = "care", "关爱帮扶"


class DirtyMark(models.Model):
    """A leaf code whose figures of one family (in one year, or in all years when `year` is empty) changed
    since its stored figures were counted. Written inside the change's transaction, never updated; the
    compactor deletes the marks it has folded in."""

    region_code = models.CharField(max_length=12)
    family = models.CharField(max_length=12, choices=Family.choices)
    year = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["region_code", "family"], name="stats_dirty_region")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.family} {self.year or '*'}"


class LeafFigure(models.Model):
    """One figure of the rows carrying exactly `region_code`, for a period: "" (now), "2025" or "2025-03"."""

    region_code = models.CharField(max_length=12)
    family = models.CharField(max_length=12, choices=Family.choices)
    period = models.CharField(max_length=7, blank=True)
    name = models.CharField(max_length=24)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region_code", "family", "period", "name"], name="stats_leaffigure_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.period} {self.name}={self.value}"


class RegionTotal(models.Model):
    """One figure of a whole subtree (the node and everything under it), for a period like LeafFigure."""

    region_code = models.CharField(max_length=12)
    period = models.CharField(max_length=7, blank=True)
    name = models.CharField(max_length=24)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "period", "name"], name="stats_regiontotal_key")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.period} {self.name}={self.value}"


class VeteranPopulation(RegionScopedModel):
    """The number of veterans living in a region in a year, as reported by the veterans affairs department;
    where none is entered the registration rate shows "未填报", never 0."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    veterans = models.PositiveIntegerField("退役军人人数")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="stats_veteranpopulation_key")]
        verbose_name = "退役军人人数"
        verbose_name_plural = "退役军人人数"

    def __str__(self) -> str:
        return f"{self.region_code} {self.year}: {self.veterans}"
