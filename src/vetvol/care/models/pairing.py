"""Party-member pairing (党员结对帮扶) and the one record of a visit, whatever asked for it (a pairing's
plan, a campaign, a case, a help request)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class VisitFrequency(models.IntegerChoices):
    """Days between planned visits."""

    WEEKLY = 7, "每周"
    FORTNIGHTLY = 14, "每两周"
    MONTHLY = 30, "每月"
    QUARTERLY = 90, "每季度"


class PairingStatus(models.TextChoices):
    ACTIVE = "active", "结对中"
    ENDED = "ended", "已结束"


class Pairing(RegionScopedModel):
    """A volunteer (a party member) paired with a recipient, visiting on a plan. `next_visit_due` moves on
    with each visit; a pairing past it is a missed visit. A volunteer who leaves hands the pairing over:
    the old one ends, a new one starts with `handed_over_from` set."""

    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="pairings")
    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="pairings")
    frequency_days = models.PositiveSmallIntegerField(
        "探访频次", choices=VisitFrequency.choices, default=VisitFrequency.MONTHLY
    )
    started_on = models.DateField("结对日期")
    next_visit_due = models.DateField("下次探访时限")
    last_visit_on = models.DateField("最近探访", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=PairingStatus.choices, default="active")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=200, blank=True)
    handed_over_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="handed_over_to"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["next_visit_due", "id"]
        constraints = [
            # One active party-member pairing per recipient (a handover ends the old one first).
            models.UniqueConstraint(
                fields=["recipient"],
                condition=Q(status="active"),
                name="care_pairing_one_active_per_recipient",
            ),
        ]
        indexes = [
            models.Index(
                fields=["region_code", "next_visit_due"],
                name="care_pairing_due",
                condition=Q(status="active"),
            ),
            models.Index(fields=["volunteer", "status"], name="care_pairing_volunteer"),
        ]
        verbose_name = "党员结对"
        verbose_name_plural = "党员结对"

    def __str__(self) -> str:
        return f"{self.volunteer_id}↔{self.recipient_id}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        if action != Action.VIEW:
            return None
        return Q(volunteer__user_id=user.pk)


class VisitMode(models.TextChoices):
    HOME = "home", "上门探访"
    PHONE = "phone", "电话联系"
    VIDEO = "video", "视频联系"
    HOSPITAL = "hospital", "医院看望"
    ACTIVITY = "activity", "集体活动"


class Visit(RegionScopedModel):
    """A visit made: who, to whom, when, how and what was done. `region_code` is the recipient's. Linked to
    what asked for it (at most one of pairing, campaign task, case, help request)."""

    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="visits")
    volunteer = models.ForeignKey(
        "registry.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="care_visits"
    )
    visited_on = models.DateField("探访日期")
    mode = models.CharField("方式", max_length=10, choices=VisitMode.choices, default=VisitMode.HOME)
    summary = EncryptedTextField("探访内容", blank=True)
    minutes = models.PositiveIntegerField("时长（分钟）", default=0)
    photo = models.CharField(max_length=200, blank=True, help_text="relative to VAR_DIR/care")
    pairing = models.ForeignKey(
        Pairing, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    campaign_task = models.OneToOneField(
        "care.CampaignTask", null=True, blank=True, on_delete=models.PROTECT, related_name="visit"
    )
    case = models.ForeignKey(
        "care.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            # A phone that resends a visit (same key) writes it once, also when both copies race.
            models.UniqueConstraint(
                fields=["pairing", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="care_visit_pairing_key",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "visited_on"], name="care_visit_recipient"),
            models.Index(fields=["volunteer", "visited_on"], name="care_visit_volunteer"),
            models.Index(fields=["region_code", "visited_on"], name="care_visit_region"),
        ]
        verbose_name = "探访记录"
        verbose_name_plural = "探访记录"

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.visited_on}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        if action != Action.VIEW:
            return None
        return Q(volunteer__user_id=user.pk)
