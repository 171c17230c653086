"""Users, their role grants on region nodes, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vetvol.accounts.roles import ROLE_ACTIONS, SECOND_FACTOR_ROLES, Role
from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel, TimeStampedModel


class User(AbstractUser):
    """A person who logs in. What they may see comes only from their role grants (`grants`)."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    totp_secret = EncryptedTextField(_("TOTP 密钥"), blank=True)
    totp_confirmed_at = models.DateTimeField(_("TOTP 启用时间"), null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0, help_text="last accepted TOTP time step (no replays)")

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def _grant_pairs(self) -> list[tuple[str, str]]:
        cache = getattr(self, "_grant_cache", None)
        if cache is None:
            cache = list(self.grants.values_list("role", "region_code"))
            self._grant_cache = cache
        return cache

    def forget_grants(self) -> None:
        self.__dict__.pop("_grant_cache", None)

    def region_prefixes(self, action: str) -> list[str] | None:
        """Region prefixes on which this user may take `action`; None means everywhere (superuser)."""
        if self.is_superuser:
            return None
        return [code for role, code in self._grant_pairs() if action in ROLE_ACTIONS.get(role, ())]

    @property
    def roles(self) -> set[str]:
        return {role for role, _ in self._grant_pairs()}

    @property
    def needs_second_factor(self) -> bool:
        return self.is_superuser or bool(self.roles & SECOND_FACTOR_ROLES)


class RoleGrant(RegionScopedModel):
    """A role held on a region node; it covers every node whose code starts with `region_code`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name=_("用户"))
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("授权区划")
    )
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("授权人")
    )

    class Meta:
        ordering = ["region_code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="accounts_rolegrant_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_rolegrant_role_valid"
            ),
        ]
        verbose_name = _("角色授权")
        verbose_name_plural = pgettext_lazy("plural", "角色授权")

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.region_code}"


class ApiToken(TimeStampedModel):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = pgettext_lazy("plural", "API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
