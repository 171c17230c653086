"""Recognition: star ratings (星级志愿者) and signed service certificates (志愿服务记录证明, 服务时长证明).

All these tables are append-only in the database: a request, an award, an issued certificate and each
decision about them are facts that are never rewritten. A request turned down, an award or a certificate
found wrong gets a new row (a rejection or a revocation, with its reason), never an edit or a deletion; a
volunteer asks again for the same level in a new `attempt`. A certificate carries an Ed25519 signature over
the canonical JSON of its content, so a row changed behind the application's back (or one invented
outright) fails verification.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.scoping import ScopedManager


class StarRequest(models.Model):
    """A request for a star level (by the volunteer, or staff for them), waiting for the approving level."""

    volunteer = models.ForeignKey(
        "registry.Volunteer", on_delete=models.PROTECT, related_name="star_requests"
    )
    stars = models.PositiveSmallIntegerField("星级")
    attempt = models.PositiveSmallIntegerField(
        "申请次序", default=1, help_text="1, then one more each time the level is asked for again"
    )
    minutes_at_request = models.PositiveIntegerField("申请时服务时长（分钟）")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    region_code = models.CharField(max_length=12, db_index=True, help_text="the volunteer's region")

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "stars", "attempt"], name="activities_starrequest_once"
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="activities_starrequest_stars_1_5"
            ),
        ]
        verbose_name = "星级申请"
        verbose_name_plural = "星级申请"

    def __str__(self) -> str:
        return f"{self.volunteer_id}★{self.stars}?{self.attempt}"


class StarAward(models.Model):
    """A star level awarded to a volunteer by the approving region's staff."""

    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="star_awards")
    stars = models.PositiveSmallIntegerField("星级")
    attempt = models.PositiveSmallIntegerField("申请次序", default=1, help_text="the attempt of the request")
    minutes_at_award = models.PositiveIntegerField("认定时服务时长（分钟）")
    requested_at = models.DateTimeField("申请时间")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("认定时间", auto_now_add=True)
    region_code = models.CharField(max_length=12, db_index=True, help_text="the approving region node")

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        ordering = ["volunteer", "stars"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "stars", "attempt"], name="activities_staraward_once"
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="activities_staraward_stars_1_5"
            ),
        ]
        verbose_name = "星级认定"
        verbose_name_plural = "星级认定"

    def __str__(self) -> str:
        return f"{self.volunteer_id}★{self.stars}"


class StarRejection(models.Model):
    """A star request turned down by the approving region's staff, with the reason told to the volunteer."""

    request = models.OneToOneField(StarRequest, on_delete=models.PROTECT, related_name="rejection")
    reason = models.CharField("驳回理由", max_length=200)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rejected_at = models.DateTimeField("驳回时间", auto_now_add=True)
    region_code = models.CharField(max_length=12, db_index=True, help_text="the approving region node")

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = "星级申请驳回"
        verbose_name_plural = "星级申请驳回"

    def __str__(self) -> str:
        return f"{self.request} rejected"


class StarRevocation(models.Model):
    """A star award withdrawn (awarded in error, or on hours later found wrong); the award row stays."""

    award = models.OneToOneField(StarAward, on_delete=models.PROTECT, related_name="revocation")
    reason = models.CharField("撤销理由", max_length=200)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField("撤销时间", auto_now_add=True)
    region_code = models.CharField(max_length=12, db_index=True, help_text="the approving region node")

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = "星级认定撤销"
        verbose_name_plural = "星级认定撤销"

    def __str__(self) -> str:
        return f"{self.award} revoked"


class CertificateKind(models.TextChoices):
    RECORD = "record", "志愿服务记录证明"
    HOURS = "hours", "服务时长证明"


class ServiceCertificate(models.Model):
    """An issued certificate. `content` is the snapshot that was signed and is what the PDF prints; the
    columns beside it repeat what lists and look-ups need, and verification checks they agree with it."""

    number = models.CharField("证明编号", max_length=20, unique=True)
    volunteer = models.ForeignKey(
        "registry.Volunteer", on_delete=models.PROTECT, related_name="service_certificates"
    )
    kind = models.CharField("证明类型", max_length=10, choices=CertificateKind.choices)
    issued_at = models.DateTimeField("出具时间")
    issuer = models.CharField("出具单位", max_length=100)
    minutes = models.PositiveIntegerField("服务时长（分钟）")
    period_from = models.DateField("起始日期")
    period_to = models.DateField("截止日期")
    content = models.JSONField("证明内容")
    signature = models.CharField("电子签名", max_length=100)
    key_id = models.CharField(max_length=16, help_text="the signing key: start of its public key's SHA-256")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["volunteer", "issued_at"], name="activities_cert_vol_issued")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_to__gte=models.F("period_from")), name="activities_cert_period"
            ),
        ]
        verbose_name = "志愿服务证明"
        verbose_name_plural = "志愿服务证明"

    def __str__(self) -> str:
        return self.number


class CertificateRevocation(models.Model):
    """A certificate withdrawn because it was found wrong. The certificate and its signature stay as they
    were; public verification then answers "revoked on <date>", and the reason stays internal."""

    certificate = models.OneToOneField(
        ServiceCertificate, on_delete=models.PROTECT, related_name="revocation"
    )
    reason = models.CharField("撤销理由", max_length=200)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField("撤销时间", auto_now_add=True)
    region_code = models.CharField(max_length=12, db_index=True, help_text="the volunteer's region")

    objects = ScopedManager()
    region_field = "region_code"

    class Meta:
        verbose_name = "志愿服务证明撤销"
        verbose_name_plural = "志愿服务证明撤销"

    def __str__(self) -> str:
        return f"{self.certificate_id} revoked"
