"""The notification outbox: what each person is told (the inbox), and each channel's delivery of it.

A `Notification` is written in the transaction of the change it reports (see `writers`), so a rolled-back
change tells no one. Its `Delivery` rows are the outbox the worker drains: one per channel (one per device
for web push), each with its own time (`not_before`: escalation, quiet hours, backoff), attempts and outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel


class Channel(models.TextChoices):
    PUSH = "push", _("手机推送")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    CLAIMED = "claimed", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("未发送")
    DROPPED = "dropped", _("设备已失效")


class Notification(RegionScopedModel):
    """One message to one person; the inbox lists these. `region_code` is the region of what it is about
    (the incident, the activity, the person), which scopes the staff's delivery log."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=40)
    key = models.CharField(max_length=80, help_text="one notification per (user, kind, key)")
    subject = models.CharField(
        max_length=60, blank=True, help_text="what it is about, e.g. dispatch.invitation:12"
    )
    emergency = models.BooleanField(_("紧急"), default=False)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), max_length=1000)
    url = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(_("送达手机"), null=True, blank=True)
    seen_at = models.DateTimeField(_("已查看"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="notify_notification_once"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="notify_inbox"),
            models.Index(fields=["subject"], name="notify_subject"),
        ]
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")

    def __str__(self) -> str:
        return self.title


class PushSubscription(models.Model):
    """A browser's web-push subscription (one per device and browser). A push service answering 404 or 410
    has forgotten it: it is marked gone and never used again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.TextField()
    endpoint_hash = models.CharField(max_length=64, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "gone_at"], name="notify_push_user")]

    def __str__(self) -> str:
        return f"push {self.pk} of {self.user_id}"


class Delivery(RegionScopedModel):
    """One channel's delivery of a notification: the outbox row a worker claims, sends and marks."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    subscription = models.ForeignKey(PushSubscription, null=True, blank=True, on_delete=models.CASCADE)
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default="pending")
    unless_seen = models.BooleanField(
        default=False, help_text="escalation: skipped if seen or answered by then"
    )
    not_before = models.DateTimeField(_("计划发送时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_by = models.CharField(max_length=40, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    address = EncryptedTextField(_("发送地址"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(_("原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "not_before"], name="notify_delivery_due"),
            models.Index(fields=["status", "lease_until"], name="notify_delivery_lease"),
        ]
        verbose_name = _("发送记录")
        verbose_name_plural = pgettext_lazy("plural", "发送记录")

    @property
    def key(self) -> str:
        """The idempotency key a channel passes on (SMS out-id, Message-ID, push Topic), one per delivery."""
        return f"vv{self.pk}"


class Preference(models.Model):
    """A person's choices: channels, quiet hours, language of messages, and a mobile number for people with
    no volunteer record (a volunteer's own registered number is used otherwise)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notify_preference"
    )
    push = models.BooleanField(_("手机推送"), default=True)
    sms = models.BooleanField(_("短信"), default=True)
    email = models.BooleanField(_("电子邮件"), default=True)
    quiet_start = models.TimeField(_("免打扰开始"), null=True, blank=True)
    quiet_end = models.TimeField(_("免打扰结束"), null=True, blank=True)
    phone = EncryptedTextField(_("手机号码"), blank=True)
    language = models.CharField(_("通知语言"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
