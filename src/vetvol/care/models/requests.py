"""Help requests (条例 Art. 13: verified and answered) and complaints (Art. 26). No fee fields: services to
recipients are free."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class HelpCategory(models.TextChoices):
    DAILY_LIFE = "daily_life", "生活照料"
    MEDICAL = "medical", "陪同就医"
    HOUSING = "housing", "住房修缮"
    EDUCATION = "education", "助学辅导"
    EMPLOYMENT = "employment", "就业创业"
    LEGAL = "legal", "法律咨询"
    PSYCHOLOGICAL = "psychological", "心理疏导"
    OTHER = "other", "其他"


class HelpStatus(models.TextChoices):
    SUBMITTED = "submitted", "待核实"
    VERIFIED = "verified", "已核实，待匹配"
    INVITING = "inviting", "已邀请志愿者"
    ACCEPTED = "accepted", "志愿者已接单"
    DONE = "done", "服务已完成"
    REJECTED = "rejected", "核实未通过"
    CANCELLED = "cancelled", "已撤销"


class HelpRequest(RegionScopedModel):
    """A request for help placed by a recipient or by station staff for them: what, when, where. Staff
    verify it, volunteers are invited (never ordered), one accepts, the service is done (hours through the
    activities' hour rules) and rated once."""

    number = models.CharField("需求编号", max_length=20)
    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="help_requests")
    category = models.CharField("类别", max_length=16, choices=HelpCategory.choices)
    skill = models.ForeignKey(
        "registry.Skill", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = EncryptedTextField("需求说明")
    wanted_from = models.DateTimeField("期望服务开始")
    wanted_until = models.DateTimeField("期望服务结束")
    place = EncryptedTextField("服务地点", blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=HelpStatus.choices, default="submitted")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间")
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_note = models.CharField("核实意见", max_length=300, blank=True)
    volunteer = models.ForeignKey(
        "registry.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="help_requests"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField("服务时长（分钟）", null=True, blank=True)
    hour_record = models.ForeignKey(
        "activities.HourRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rating = models.PositiveSmallIntegerField("评价", null=True, blank=True)
    rating_comment = models.CharField("评价内容", max_length=300, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="care_helprequest_unique_number"),
            models.CheckConstraint(
                condition=Q(wanted_until__gte=models.F("wanted_from")), name="care_helprequest_window"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="care_helprequest_rating_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "region_code", "submitted_at"], name="care_help_status_region"),
            models.Index(fields=["recipient", "status"], name="care_help_recipient"),
        ]
        verbose_name = "帮扶需求"
        verbose_name_plural = "帮扶需求"

    def __str__(self) -> str:
        return self.number

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """A volunteer sees the requests they were invited to or took."""
        if action != Action.VIEW:
            return None
        invited = HelpInvitation.objects.filter(volunteer__user_id=user.pk)
        return Q(volunteer__user_id=user.pk) | Q(pk__in=invited.values("request_id"))


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "待回复"
    ACCEPTED = "accepted", "已接受"
    DECLINED = "declined", "已婉拒"
    WITHDRAWN = "withdrawn", "已撤回"


class HelpInvitation(models.Model):
    """An invitation to serve a help request; the volunteer accepts or declines (Art. 25: no forced
    assignment). The first to accept takes the request; the other invitations are withdrawn."""

    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="invitations")
    volunteer = models.ForeignKey(
        "registry.Volunteer", on_delete=models.PROTECT, related_name="help_invitations"
    )
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default="pending")
    rank = models.PositiveSmallIntegerField(default=0)
    distance_km = models.FloatField(null=True, blank=True)
    served_before = models.BooleanField("曾服务该对象", default=False)
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "volunteer"], name="care_helpinvitation_unique"),
        ]
        indexes = [models.Index(fields=["volunteer", "status"], name="care_helpinv_volunteer")]
        verbose_name = "服务邀请"
        verbose_name_plural = "服务邀请"

    def __str__(self) -> str:
        return f"{self.request_id}:{self.volunteer_id}"


class ComplaintStatus(models.TextChoices):
    OPEN = "open", "待处理"
    HANDLING = "handling", "处理中"
    RESOLVED = "resolved", "已办结"


class ComplaintChannel(models.TextChoices):
    PHONE = "phone", "电话"
    VISIT = "visit", "来访"
    ONLINE = "online", "网上"
    LETTER = "letter", "来信"


class Complaint(RegionScopedModel):
    """A complaint about a service or a volunteer (Art. 26), tracked until it is answered."""

    number = models.CharField("投诉编号", max_length=20)
    recipient = models.ForeignKey(
        "care.Recipient", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    help_request = models.ForeignKey(
        HelpRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField("渠道", max_length=10, choices=ComplaintChannel.choices)
    complainant = models.CharField("投诉人", max_length=50)
    content = EncryptedTextField("投诉内容")
    status = models.CharField("状态", max_length=10, choices=ComplaintStatus.choices, default="open")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField()
    due_at = models.DateTimeField("答复时限")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response = models.CharField("处理结果", max_length=1000, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-filed_at"]
        constraints = [models.UniqueConstraint(fields=["number"], name="care_complaint_unique_number")]
        indexes = [models.Index(fields=["status", "region_code", "due_at"], name="care_complaint_status")]
        verbose_name = "投诉"
        verbose_name_plural = "投诉"

    def __str__(self) -> str:
        return self.number
