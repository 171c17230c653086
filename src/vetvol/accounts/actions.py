"""Account state changes: login steps, second factor, role grants, API tokens.

Login throttling reads the audit log itself (failures per account and per client address within a window,
since the account's last success), so there is one record of what happened and no separate counter that
could drift or be lost with a process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from vetvol.accounts.models import ApiToken, RoleGrant, User
from vetvol.accounts.roles import GRANTABLE_BY, REQUIRED_LEVEL, Role
from vetvol.core import audit, events, rawsql
from vetvol.core.context import client_ip
from vetvol.core.models import AuditEntry, AuditOutcome
from vetvol.core.scoping import Action, covers, require
from vetvol.regions.models import Region, RegionLevel

FAILURE_ACTIONS = ("auth.login_failed", "auth.second_factor_failed")


class LoginLocked(Exception):
    """Too many failures: the account or the client address is locked for a while."""

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


@dataclass
class LoginStep:
    user: User
    needs_second_factor: bool
    needs_enrolment: bool


def _window_start() -> Any:
    return timezone.now() - timedelta(minutes=settings.VETVOL_LOGIN_WINDOW_MINUTES)


def is_locked(username: str) -> bool:
    since = _window_start()
    last_success = (
        AuditEntry.objects.filter(action="auth.login", subject=username, at__gte=since)
        .order_by("-id")
        .values_list("at", flat=True)
        .first()
    )
    failures = AuditEntry.objects.filter(
        action__in=FAILURE_ACTIONS, subject=username, at__gte=last_success or since
    )
    if failures.count() >= settings.VETVOL_LOGIN_MAX_FAILURES:
        return True
    ip = client_ip.get()
    if ip is None:
        return False
    by_ip = AuditEntry.objects.filter(action__in=FAILURE_ACTIONS, ip=ip, at__gte=since)
    return by_ip.count() >= settings.VETVOL_LOGIN_MAX_FAILURES_PER_IP


def check_password(username: str, password: str, request: Any = None) -> LoginStep:
    """First login step. Raises LoginLocked, or PermissionDenied for a wrong name or password."""
    username = username.strip()[:150]
    if is_locked(username):
        audit.record("auth.login_locked", outcome=AuditOutcome.DENIED, subject=username)
        raise LoginLocked(settings.VETVOL_LOGIN_WINDOW_MINUTES)
    user = authenticate(request, username=username, password=password)
    if user is None:
        audit.record("auth.login_failed", outcome=AuditOutcome.FAILURE, subject=username)
        raise PermissionDenied("bad credentials")
    assert isinstance(user, User)
    needs = settings.VETVOL_REQUIRE_2FA and user.needs_second_factor
    return LoginStep(user, needs, needs and user.totp_confirmed_at is None)


def record_login(user: User) -> None:
    audit.record("auth.login", actor=user, subject=user.username)
    events.emit("accounts.logged_in", user_id=user.pk)


def record_logout(user: Any, reason: str = "logout") -> None:
    if getattr(user, "is_authenticated", False):
        audit.record(f"auth.{reason}", actor=user, subject=user.username)
        events.emit("accounts.logged_out", user_id=user.pk)


def start_enrolment(user: User) -> str:
    """A fresh TOTP secret for a user who has none confirmed yet; returns the otpauth URI."""
    if user.totp_confirmed_at is not None:
        raise PermissionDenied("second factor already enrolled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.save(update_fields=["totp_secret"])
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="vetvol")


def _accept_code(user: User, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    if not user.totp_secret or len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = timezone.now()
    for offset in (0, -1, 1):  # one step of clock drift either way
        step = totp.timecode(now) + offset
        if step > user.totp_last_step and secrets.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step  # a code is good once: no replay
            return True
    return False


def verify_second_factor(user: User, code: str) -> None:
    """Second login step (also confirms enrolment). Raises LoginLocked or PermissionDenied."""
    if is_locked(user.username):
        audit.record("auth.login_locked", outcome=AuditOutcome.DENIED, subject=user.username)
        raise LoginLocked(settings.VETVOL_LOGIN_WINDOW_MINUTES)
    if not _accept_code(user, code):
        audit.record(
            "auth.second_factor_failed", actor=None, outcome=AuditOutcome.FAILURE, subject=user.username
        )
        raise PermissionDenied("bad code")
    with transaction.atomic():
        fields = ["totp_last_step"]
        if user.totp_confirmed_at is None:
            user.totp_confirmed_at = timezone.now()
            fields.append("totp_confirmed_at")
            audit.record("auth.second_factor_enrolled", actor=user, subject=user.username)
        user.save(update_fields=fields)


def create_user(actor: Any, *, username: str, password: str, display_name: str = "") -> User:
    """Only account managers (admins) create users; the password must pass the complexity rules."""
    if not actor.is_superuser and not actor.region_prefixes(Action.MANAGE_USERS):
        audit.record("accounts.user.create", actor=actor, outcome=AuditOutcome.DENIED, subject=username)
        raise PermissionDenied("cannot manage users")
    user = User(username=username.strip(), display_name=display_name.strip())
    user.full_clean(exclude=["password"])
    password_validation.validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save(force_insert=True)
        audit.record("accounts.user.create", actor=actor, subject=user.username, obj=user)
    return user


def grant_role(actor: Any, user: User, role: str, region: Region) -> RoleGrant:
    """Grant `role` on `region`; the granter must manage users there and may grant that role."""
    require(actor, Action.MANAGE_USERS, region.code, what="accounts.grant.create")
    if role not in Role.values:
        raise ValidationError({"role": gettext("未知角色")})
    if not actor.is_superuser and not any(
        role in GRANTABLE_BY.get(r, ()) and covers([c], region.code) for r, c in actor._grant_pairs()
    ):
        audit.record(
            "accounts.grant.create",
            actor=actor,
            outcome=AuditOutcome.DENIED,
            region_code=region.code,
            detail={"role": role},
        )
        raise PermissionDenied(f"cannot grant {role}")
    needed = REQUIRED_LEVEL.get(Role(role))
    if needed and region.level != needed:
        message = gettext("%(role)s只能授予%(level)s一级的区划") % {
            "role": Role(role).label,
            "level": RegionLevel(needed).label,
        }
        raise ValidationError({"region": message})
    grant = RoleGrant(user=user, role=role, region=region, region_code=region.code, granted_by=actor)
    grant.validate_constraints()
    with transaction.atomic():
        grant.save(force_insert=True)
        audit.record(
            "accounts.grant.create", actor=actor, obj=grant, subject=user.username, detail={"role": role}
        )
    user.forget_grants()
    return grant


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(user: User, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    """A new bearer token for `user`; the plain token is returned once and never stored."""
    prefix = secrets.token_hex(4)
    plain = f"vv_{prefix}_{secrets.token_urlsafe(32)}"
    expires = timezone.now() + timedelta(days=days) if days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100] or "api",
            prefix=prefix,
            key_hash=_token_hash(plain),
            expires_at=expires,
        )
        audit.record("accounts.api_token.create", actor=user, obj=token, subject=user.username)
    return token, plain


TOKEN_TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is a hint for the owner, not written per request


def user_for_token(plain: str) -> User | None:
    """The active user behind a bearer token, or None (expired, revoked, unknown).

    Every API request comes through here, so the token and its user are read with one hand-written query
    (the ORM's compilation of the same select_related query cost more than the rest of this function)."""
    if not plain.startswith("vv_"):
        return None
    sql = (
        "SELECT u.*, t.id AS token_pk, t.expires_at AS token_expires_at,"  # noqa: S608
        " t.last_used_at AS token_last_used_at"
        f' FROM "{ApiToken._meta.db_table}" t INNER JOIN "{User._meta.db_table}" u ON u.id = t.user_id'
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL"
    )
    user = next(iter(User.objects.raw(sql, [_token_hash(plain)])), None)
    if user is None or not user.is_active:
        return None
    now = timezone.now()
    expires_at = rawsql.aware(user.token_expires_at)  # type: ignore[attr-defined]
    if expires_at is not None and expires_at <= now:
        return None
    last_used_at = rawsql.aware(user.token_last_used_at)  # type: ignore[attr-defined]
    if last_used_at is None or now - last_used_at > TOKEN_TOUCH_EVERY:
        _touch_later(user.token_pk, now)  # type: ignore[attr-defined]
    return user


TOUCH_FLUSH_EVERY_S = 1.0
_touches: dict[int, datetime] = {}  # token id → when it was used, not yet written
_touches_lock = threading.Lock()
_touches_flushed = 0.0


def _touch_later(token_pk: int, at: datetime) -> None:
    """Note a token's use; the notes of a second are written together, by whichever request comes after
    (a thousand phones checking in at once each use their token for the first time in minutes: one UPDATE
    a second instead of one per request). A process that stops loses at most its last second of notes."""
    global _touches_flushed
    with _touches_lock:
        _touches[token_pk] = at
        due = time.monotonic() - _touches_flushed >= TOUCH_FLUSH_EVERY_S or len(_touches) >= 500
        if not due:
            return
        batch = dict(_touches)
        _touches.clear()
        _touches_flushed = time.monotonic()
    flush_token_touches(batch)


def flush_token_touches(batch: dict[int, datetime] | None = None) -> None:
    """Write noted token uses (all of this process's pending notes if `batch` is None)."""
    if batch is None:
        with _touches_lock:
            batch = dict(_touches)
            _touches.clear()
    if not batch:
        return
    at = max(batch.values())
    ids = sorted(batch)
    rawsql.execute(
        f'UPDATE "{ApiToken._meta.db_table}" SET "last_used_at" = %s'  # noqa: S608
        f' WHERE "id" IN ({", ".join(["%s"] * len(ids))})',
        [rawsql.db_datetime(at), *ids],
    )


def revoke_api_token(user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied("not your token")
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
        audit.record("accounts.api_token.revoke", actor=user, obj=token, subject=user.username)
