"""One settings module, driven by environment variables.

Defaults give a working SQLite demo on a fresh machine. Production sets VETVOL_ENV=production and must
provide its secrets (SECRET_KEY, VETVOL_DATA_KEY, VETVOL_LOOKUP_KEY, VETVOL_SIGNING_KEY) or start-up fails
loudly.
Every secret may also be given as NAME_FILE, a path whose content is the value.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_str(name: str, default: str | None = None) -> str | None:
    """A string from NAME, or from the file NAME_FILE names; `default` when neither is set."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: str = "") -> list[str]:
    raw = env_str(name, default) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


# Under pytest the default is "test" (fast password hashing): pytest-django loads these settings before any
# conftest could set the variable, so a plain `pytest` would otherwise run as "dev".
VETVOL_ENV = env_str("VETVOL_ENV", "test" if "pytest" in sys.modules else "dev")
if VETVOL_ENV not in {"dev", "test", "production"}:
    raise ImproperlyConfigured(f"VETVOL_ENV={VETVOL_ENV!r}: use dev, test or production")
PRODUCTION = VETVOL_ENV == "production"

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("VETVOL_VAR_DIR", str(Path.cwd() / "var")) or "var")

# Development defaults. They are public, so production refuses them.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-vetvol-0000000000000000"  # noqa: S105
_DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktZm9yLXZldHZvbC0wMDA="  # 32 bytes, base64
_DEV_LOOKUP_KEY = "ZGV2LW9ubHktbG9va3VwLWtleS1mb3ItdmV0dm9sLTA="


def _secret(name: str, dev_default: str) -> str:
    value = env_str(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when VETVOL_ENV=production")
    return dev_default


SECRET_KEY = _secret("SECRET_KEY", _DEV_SECRET_KEY)
# Field encryption keys: comma-separated base64 32-byte keys, newest first (older ones still decrypt).
VETVOL_DATA_KEY = env_list("VETVOL_DATA_KEY") or ([] if PRODUCTION else [_DEV_DATA_KEY])
if not VETVOL_DATA_KEY:
    raise ImproperlyConfigured("VETVOL_DATA_KEY must be set when VETVOL_ENV=production")
# Keyed-hash key for lookups of encrypted values (one person, one record). Never rotate it casually:
# every lookup hash would have to be recomputed.
VETVOL_LOOKUP_KEY = _secret("VETVOL_LOOKUP_KEY", _DEV_LOOKUP_KEY)


def _dev_signing_key(purpose: bytes) -> str:
    """Development only: a key derived from SECRET_KEY (HKDF-SHA256), so a dev database's certificates keep
    verifying across restarts. Production refuses to start without its own key (see `_secret`)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(SECRET_KEY.encode())
    return base64.b64encode(raw).decode("ascii")


# Ed25519 key that signs service certificates: base64 of the 32-byte raw private key. Certificates are
# verified with its public key, so keep it for as long as the certificates it signed must verify.
VETVOL_SIGNING_KEY = _secret(
    "VETVOL_SIGNING_KEY", "" if PRODUCTION else _dev_signing_key(b"vetvol-certificates")
)

DEBUG = env_bool("VETVOL_DEBUG", not PRODUCTION)
# Demo mode shows the current TOTP code of demo accounts on the second-factor page. Never in production.
VETVOL_DEMO_MODE = env_bool("VETVOL_DEMO_MODE", False)
if PRODUCTION and VETVOL_DEMO_MODE:
    raise ImproperlyConfigured("VETVOL_DEMO_MODE cannot be on when VETVOL_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "vetvol.core",
    "vetvol.regions",
    "vetvol.accounts",
    "vetvol.registry",
    "vetvol.activities",
    "vetvol.dispatch",
    "vetvol.care",
    "vetvol.notify",
    "vetvol.fund",
    "vetvol.stats",
    "vetvol.portal",
    "vetvol.demo",
    "vetvol.national",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vetvol.core.middleware.SecurityHeadersMiddleware",
    "vetvol.core.uploads.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "vetvol.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vetvol.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if PRODUCTION:
    # The app process serves its own static files (collected into STATIC_ROOT at deploy); in development
    # runserver and the test live server serve them from the source tree.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "vetvol.urls"
WSGI_APPLICATION = "vetvol.wsgi.application"
ASGI_APPLICATION = "vetvol.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vetvol.accounts.context.navigation",
                "vetvol.notify.context.bell",
            ],
        },
    }
]

# Database: SQLite (WAL) under var/ by default; DATABASE_URL=postgres://... in production.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'vetvol.sqlite3'}"
# Persistent connections serve the WSGI workers. Under ASGI (`vetvol serve`) each request may run in another
# thread, so connections would pile up: there they are closed after each request (VETVOL_ASGI is set by
# vetvol/asgi.py).
_conn_max_age = 0 if env_bool("VETVOL_ASGI", False) else env_int("DATABASE_CONN_MAX_AGE", 60)
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=_conn_max_age)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue instead of failing with "database is locked" half-way through.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    _db["TEST"] = {"NAME": env_str("VETVOL_TEST_SQLITE_NAME")}
elif env_bool("DATABASE_PREPARED_STATEMENTS", True):
    # core.rawsql's server-bound statements are prepared by the server once seen five times, so the hot
    # paths' statements are parsed and planned once per connection. Django turns psycopg's prepared
    # statements off by default (Django's own cursors bind client-side and never prepare). Set
    # DATABASE_PREPARED_STATEMENTS=false behind a pooler that cannot keep them (PgBouncer before 1.21, or
    # without max_prepared_statements, in transaction mode).
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = 5
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "vetvol.accounts.passwords.CharacterClassValidator"},
]
if VETVOL_ENV == "test":
    # Tests only: fast hashing. Everywhere else Django's default (PBKDF2) applies.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Login throttling and sessions.
VETVOL_LOGIN_MAX_FAILURES = env_int("VETVOL_LOGIN_MAX_FAILURES", 5)  # per account within the window
VETVOL_LOGIN_MAX_FAILURES_PER_IP = env_int("VETVOL_LOGIN_MAX_FAILURES_PER_IP", 30)
VETVOL_LOGIN_WINDOW_MINUTES = env_int("VETVOL_LOGIN_WINDOW_MINUTES", 15)
VETVOL_IDLE_TIMEOUT_MINUTES = env_int("VETVOL_IDLE_TIMEOUT_MINUTES", 30)
# Request bodies above this are refused (413) before they are read (core/uploads.py): a 20 MiB Excel file
# with its multipart framing, or a 10 MB evidence file as base64 in the API's JSON. Bodies that are not
# files (that JSON) may be read into memory up to the same size.
VETVOL_MAX_REQUEST_BYTES = env_int("VETVOL_MAX_REQUEST_BYTES", 21 * 1024 * 1024)
# A national-system "changes" export looks this far before the last batch, for changes committed late.
VETVOL_NATIONAL_OVERLAP_MINUTES = env_int("VETVOL_NATIONAL_OVERLAP_MINUTES", 10)
DATA_UPLOAD_MAX_MEMORY_SIZE = VETVOL_MAX_REQUEST_BYTES
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Pages and scripts take the CSRF token from the page (<meta name="csrf-token">), never from the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("VETVOL_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Admin roles must use a second factor (TOTP).
VETVOL_REQUIRE_2FA = env_bool("VETVOL_REQUIRE_2FA", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Redis backs the cache and the channel layer in production; local memory otherwise. The in-memory channel
# layer reaches only the process it lives in: a deployment with more than one process (gunicorn workers,
# the dispatch clock, the websocket server) needs REDIS_URL so that events reach every live board.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CHANNEL_LAYERS = {
    "default": (
        # Redis Pub/Sub: one publish per group, and each server process subscribes once per group and fans
        # out to its own websockets in memory (the list-based layer sends one Redis message per client:
        # too slow for hundreds of boards). At most once; a board that misses something replays the journal.
        {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
# The live board draws boundaries from shipped GeoJSON; a tile server (e.g. https://tiles.example/{z}/{x}/{y}.png)
# may be named to draw a base map under them. Its origin is added to the page's Content-Security-Policy.
VETVOL_MAP_TILE_URL = env_str("VETVOL_MAP_TILE_URL") or ""

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VETVOL_LOG_LEVEL", "INFO")},
    # WeasyPrint logs every rendering step at INFO (certificate PDFs): its warnings are enough.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}

VETVOL_SITE_NAME = _("退役军人志愿服务信息系统")

# Service certificates: who issues them, and the public address their QR codes point to (no trailing "/").
VETVOL_CERTIFICATE_ISSUER = env_str("VETVOL_CERTIFICATE_ISSUER") or "广东省退役军人志愿服务信息系统"
VETVOL_PUBLIC_URL = (env_str("VETVOL_PUBLIC_URL") or "").rstrip("/") or (
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://127.0.0.1:8000"
)

# Dispatch: a volunteer's shared position (on duty, with consent) stands for where they are this long; after
# that the search uses their home base again.
VETVOL_LIVE_POSITION_MAX_MINUTES = env_int("VETVOL_LIVE_POSITION_MAX_MINUTES", 30)

# Audit log: interleaved hash chains on PostgreSQL, so that concurrent appends do not queue on one lock
# (SQLite serialises writers anyway and uses one). Raising it later is safe; lowering it strands nothing.
VETVOL_AUDIT_CHAINS = env_int("VETVOL_AUDIT_CHAINS", 8)
# The fund's ledger: interleaved hash chains on PostgreSQL, as for the audit log (at least the number of
# concurrent writers expected, so that postings do not queue on a chain head).
VETVOL_LEDGER_CHAINS = env_int("VETVOL_LEDGER_CHAINS", 16)

# Notifications (vetvol.notify). The outbox worker (`vetvol notify_worker`, or `vetvol serve --tick`) retries
# transient failures with exponential backoff (base seconds, doubled each try) up to the attempt limit, and
# sends at most this many messages a second per channel and worker. An emergency invitation is pushed at once
# and texted if not seen within the escalation time. Reminders go this many hours before a shift or a task.
VETVOL_NOTIFY_ESCALATE_SECONDS = env_int("VETVOL_NOTIFY_ESCALATE_SECONDS", 120)
VETVOL_NOTIFY_MAX_ATTEMPTS = env_int("VETVOL_NOTIFY_MAX_ATTEMPTS", 6)
VETVOL_NOTIFY_BACKOFF_SECONDS = env_int("VETVOL_NOTIFY_BACKOFF_SECONDS", 30)
VETVOL_NOTIFY_RATE_PUSH = env_int("VETVOL_NOTIFY_RATE_PUSH", 200)
VETVOL_NOTIFY_RATE_SMS = env_int("VETVOL_NOTIFY_RATE_SMS", 50)
VETVOL_NOTIFY_RATE_EMAIL = env_int("VETVOL_NOTIFY_RATE_EMAIL", 50)
VETVOL_NOTIFY_REMIND_HOURS = env_int("VETVOL_NOTIFY_REMIND_HOURS", 24)
# A worker's claim on a batch lasts this long; a worker that died is taken over after it (keep it well above
# the time one batch takes to send).
VETVOL_NOTIFY_LEASE_SECONDS = env_int("VETVOL_NOTIFY_LEASE_SECONDS", 60)
# Web push (VAPID): base64 of the 32-byte P-256 private key (`vetvol vapid_key` makes one). Without it in
# production, web push is off (SMS and e-mail still work).
VETVOL_VAPID_PRIVATE_KEY = env_str("VETVOL_VAPID_PRIVATE_KEY") or (
    "" if PRODUCTION else _dev_signing_key(b"vetvol-vapid")
)
VETVOL_VAPID_CONTACT = env_str("VETVOL_VAPID_CONTACT") or "mailto:admin@vetvol.invalid"
# SMS: no gateway unless the operator names one. `http`: a generic JSON gateway; `aliyun`: Alibaba Cloud SMS.
VETVOL_SMS_GATEWAY = env_str("VETVOL_SMS_GATEWAY") or ""
VETVOL_SMS_URL = env_str("VETVOL_SMS_URL") or ""
VETVOL_SMS_TOKEN = env_str("VETVOL_SMS_TOKEN") or ""
VETVOL_SMS_ALIYUN_ENDPOINT = env_str("VETVOL_SMS_ALIYUN_ENDPOINT") or "https://dysmsapi.aliyuncs.com/"
VETVOL_SMS_ALIYUN_ACCESS_KEY_ID = env_str("VETVOL_SMS_ALIYUN_ACCESS_KEY_ID") or ""
VETVOL_SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("VETVOL_SMS_ALIYUN_ACCESS_KEY_SECRET") or ""
VETVOL_SMS_ALIYUN_SIGN_NAME = env_str("VETVOL_SMS_ALIYUN_SIGN_NAME") or ""
VETVOL_SMS_ALIYUN_TEMPLATE_CODE = env_str("VETVOL_SMS_ALIYUN_TEMPLATE_CODE") or ""
# E-mail over SMTP: off unless EMAIL_HOST is set.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST") or ""
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "vetvol <noreply@vetvol.invalid>"
VETVOL_NOTIFY_MAIL_DOMAIN = env_str("VETVOL_NOTIFY_MAIL_DOMAIN") or "vetvol.invalid"

# Covering indexes (INCLUDE) serve PostgreSQL; SQLite ignores the included columns, which is harmless.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
