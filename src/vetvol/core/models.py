"""Base models and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vetvol.core.scoping import ScopedManager


class TimeStampedModel(models.Model):
    """Creation and last-change times, stored in UTC."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RegionScopedModel(TimeStampedModel):
    """A record that belongs to a region node; `objects.restrict(user, action)` scopes it."""

    region_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        abstract = True


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    DENIED = "denied", _("拒绝")
    FAILURE = "failure", _("失败")


class AuditEntry(models.Model):
    """One append-only, hash-chained row of the audit log.

    `entry_hash` covers this row's content and the previous row's hash in its chain, so changing, inserting
    or deleting a row breaks the chain from there on (`vetvol verify_audit`). The database also refuses
    UPDATE and DELETE. The log is a few interleaved chains (`chain`, numbered by `seq` within each), so that
    concurrent appends need not wait for one another; `id` orders the whole log.
    """

    chain = models.PositiveSmallIntegerField(default=1)
    seq = models.BigIntegerField()
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    subject = models.CharField(max_length=150, blank=True, help_text="login name or other non-secret key")
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    region_code = models.CharField(max_length=12, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = ScopedManager()
    region_field = "region_code"
    blank_region_is_province_wide = True

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="core_audit_chain_seq")]
        indexes = [models.Index(fields=["action", "subject", "at"], name="core_audit_action_subject_at")]
        verbose_name = _("审计记录")
        verbose_name_plural = pgettext_lazy("plural", "审计记录")

    def __str__(self) -> str:
        return f"#{self.chain}.{self.seq} {self.action} {self.outcome}"


class AuditChainHead(models.Model):
    """One row per audit chain holding its last hash and seq; an append locks the head of its chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id__gte=1, id__lte=64), name="core_auditchainhead_id")
        ]

    def __str__(self) -> str:
        return self.last_hash


class Sequence(models.Model):
    """A named counter for human-facing numbers (volunteer numbers, certificate numbers)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class IdempotencyKey(models.Model):
    """The first answer to a request carrying this client-generated key, replayed for retries (phones lose
    signal and resend). The same key with a different body is refused with 409."""

    key = models.CharField(max_length=80)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=40)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="core_idempotency_unique")
        ]

    def __str__(self) -> str:
        return self.key
