"""Saidao settings: the only module that reads the environment.

With no environment at all Saidao runs *embedded*: SQLite under ``var/``, media under
``var/media/``, tasks on an in-process worker, one web process. Setting ``DATABASE_URL``
(PostgreSQL) and ``REDIS_URL`` switches to *scaled* mode.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("SAIDAO_VAR_DIR", default=str(Path.cwd() / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY, else a key generated once and kept under var/."""
    configured: str = env.str("SECRET_KEY", default="")
    if configured:
        return configured
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SCALED = "DATABASE_URL" in env
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'saidao.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while the single writer commits; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # Temporary tables and statement journals in memory: not a file made and deleted for a
        # multi-row statement inside a transaction. Pages read through a memory map: each
        # thread's connection rereads what another's commit made stale, without a copy each.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
            "PRAGMA mmap_size=1073741824;"
        ),
    }
    # Tests use a file too, not Django's shared in-memory database, whose table locks ignore the
    # busy timeout: concurrent tests then behave as the embedded server does.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# Connections outlive a request in the server's worker threads (see saidao.core.asgi): opening
# one per request cost SQLite a few milliseconds and a checkpoint of its log.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "saidao.core",
    "saidao.regions",
    "saidao.orgs",
    "saidao.accounts",
    "saidao.uploads",
    "saidao.campaigns",
    "saidao.leaderboards",
    "saidao.entries",
    "saidao.certificates",
    "saidao.quizzes",
    "saidao.competitions",
    "saidao.bench",
    "saidao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "saidao.core.middleware.SecurityHeadersMiddleware",
    "saidao.core.middleware.PrivateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "saidao.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "saidao.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "saidao.config.urls"
ASGI_APPLICATION = "saidao.config.asgi.application"
WSGI_APPLICATION = "saidao.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "saidao.orgs.context_processors.saidao",
                "saidao.core.context_processors.csp_nonce",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["saidao.accounts.backends.PhoneBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:me"
LOGOUT_REDIRECT_URL = "core:home"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME: str = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL: str | None = env.str("AWS_S3_ENDPOINT_URL", default=None)
AWS_ACCESS_KEY_ID: str | None = env.str("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY: str | None = env.str("AWS_SECRET_ACCESS_KEY", default=None)
# A whole 5 MB upload piece stays in memory instead of being spooled to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage",
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# Background tasks: Celery on Redis when scaled, an in-process worker thread when embedded.
SAIDAO_TASK_RUNNER: str = env.str("SAIDAO_TASK_RUNNER", default="celery" if REDIS_URL else "thread")
# The leaderboard aggregator: a thread of the web process when embedded; `saidao aggregator`
# (a process of its own) when scaled; "manual" in tests.
SAIDAO_AGGREGATOR: str = env.str("SAIDAO_AGGREGATOR", default="process" if REDIS_URL else "thread")
SAIDAO_RATE_MIN_MEMBERS: int = env.int("SAIDAO_RATE_MIN_MEMBERS", default=10)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Security headers and HTTPS -------------------------------------------------------------
# Everything here is off by default, as embedded Saidao runs on plain http; a deployment behind
# TLS turns it on from the environment (see README, "Production": `saidao check --deploy` is
# clean with those settings). The headers themselves: saidao.core.middleware.


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """``HTTP_X_FORWARDED_PROTO,https`` -> the header and value that mean the request came over
    https to the proxy. Only for a proxy that sets the header itself on every request."""
    if not value:
        return None
    name, _sep, secure = (part.strip() for part in value.partition(","))
    if not name.startswith("HTTP_") or not secure:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO,https"
        )
    return (name, secure)


_CSP_SOURCE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*:"  # a scheme (https:, wss:) ...
    r"|(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[a-z0-9.-]+(?::(?:\d+|\*))?(?:/[^\s;,']*)?)$",  # or a host
    re.IGNORECASE,
)


def _csp_sources(name: str) -> list[str]:
    """Extra origins for one Content-Security-Policy directive, from a comma-separated variable.
    Each must be a host source or a scheme: nothing that could end the directive."""
    sources: list[str] = env.list(name, default=[])
    for source in sources:
        if not _CSP_SOURCE.match(source):
            raise ImproperlyConfigured(f"{name}: {source!r} is not an origin like https://host")
    return sources


SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe the health check over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(env.str("SECURE_PROXY_SSL_HEADER", default=""))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Other sites (map tiles among them) learn the origin, never a path with its ids and tokens.
SECURE_REFERRER_POLICY = env.str(
    "SECURE_REFERRER_POLICY", default="strict-origin-when-cross-origin"
)
# Extra sources beyond 'self' (and the S3 endpoint, added by the middleware), e.g. map tiles.
SAIDAO_CSP_IMG_SRC: list[str] = _csp_sources("SAIDAO_CSP_IMG_SRC")
SAIDAO_CSP_MEDIA_SRC: list[str] = _csp_sources("SAIDAO_CSP_MEDIA_SRC")
SAIDAO_CSP_CONNECT_SRC: list[str] = _csp_sources("SAIDAO_CSP_CONNECT_SRC")
SAIDAO_CSP_REPORT_URI: str = env.str("SAIDAO_CSP_REPORT_URI", default="")
if SAIDAO_CSP_REPORT_URI and not _CSP_SOURCE.match(SAIDAO_CSP_REPORT_URI):
    raise ImproperlyConfigured("SAIDAO_CSP_REPORT_URI must be a URL")
# Report violations without blocking: for trying a change of policy on a live site first.
SAIDAO_CSP_REPORT_ONLY: bool = env.bool("SAIDAO_CSP_REPORT_ONLY", default=False)
# Browser features pages may use: none of the sensors; video uploads use a file input only.
SAIDAO_PERMISSIONS_POLICY: dict[str, str] = {
    "accelerometer": "()",
    "camera": "()",
    "display-capture": "()",
    "fullscreen": "(self)",
    "geolocation": "()",
    "gyroscope": "()",
    "magnetometer": "()",
    "microphone": "()",
    "midi": "()",
    "payment": "()",
    "usb": "()",
}
# --- end of security headers and HTTPS ------------------------------------------------------

# Domain settings.
SAIDAO_PRIVACY_NOTICE_VERSION = "2026-11"
SAIDAO_LOGIN_MAX_FAILURES = env.int("SAIDAO_LOGIN_MAX_FAILURES", default=5)
SAIDAO_LOGIN_LOCK_MINUTES = env.int("SAIDAO_LOGIN_LOCK_MINUTES", default=15)
# The longest a number waits after failures spread over many addresses: a stranger cannot
# keep its owner out for longer than this.
SAIDAO_LOGIN_NUMBER_DELAY_MAX_SECONDS = env.int("SAIDAO_LOGIN_NUMBER_DELAY_MAX_SECONDS", default=60)
# SMS codes: the shortest gap between two to a number, and how many an hour per number and
# per client address.
SAIDAO_SMS_CODE_INTERVAL_SECONDS = env.int("SAIDAO_SMS_CODE_INTERVAL_SECONDS", default=60)
SAIDAO_SMS_CODES_PER_NUMBER_HOUR = env.int("SAIDAO_SMS_CODES_PER_NUMBER_HOUR", default=5)
SAIDAO_SMS_CODES_PER_ADDRESS_HOUR = env.int("SAIDAO_SMS_CODES_PER_ADDRESS_HOUR", default=20)
# Spreadsheet imports (saidao.core.sheets): what an upload may hold before and while it is read,
# and above what size it is imported by a background job.
SAIDAO_SHEET_MAX_FILE_BYTES = env.int("SAIDAO_SHEET_MAX_FILE_BYTES", default=20 * 1024 * 1024)
SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES = env.int(
    "SAIDAO_SHEET_MAX_UNCOMPRESSED_BYTES", default=96 * 1024 * 1024
)
SAIDAO_SHEET_MAX_MEMBER_BYTES = env.int("SAIDAO_SHEET_MAX_MEMBER_BYTES", default=64 * 1024 * 1024)
SAIDAO_SHEET_MAX_MEMBERS = env.int("SAIDAO_SHEET_MAX_MEMBERS", default=2000)
SAIDAO_SHEET_MAX_RATIO = env.int("SAIDAO_SHEET_MAX_RATIO", default=100)
SAIDAO_SHEET_MAX_CELL_CHARS = env.int("SAIDAO_SHEET_MAX_CELL_CHARS", default=10000)
SAIDAO_SHEET_MAX_LINE_CHARS = env.int("SAIDAO_SHEET_MAX_LINE_CHARS", default=100_000)
SAIDAO_IMPORT_BACKGROUND_BYTES = env.int("SAIDAO_IMPORT_BACKGROUND_BYTES", default=1024 * 1024)
SAIDAO_ONE_TIME_CODE_HOURS = env.int("SAIDAO_ONE_TIME_CODE_HOURS", default=72)
SAIDAO_API_TOKEN_DAYS = env.int("SAIDAO_API_TOKEN_DAYS", default=30)
SAIDAO_PUBLIC_URL: str = env.str("SAIDAO_PUBLIC_URL", default="")
SAIDAO_REPORTS_TO_HIDE: int = env.int("SAIDAO_REPORTS_TO_HIDE", default=3)
# Set only by `saidao bench` for the servers it starts: adds the peer paths it compares with.
SAIDAO_BENCH: bool = env.bool("SAIDAO_BENCH", default=False)
# Threads of a server process that run requests (the middleware and views; see saidao.core.asgi).
# More than the cores plus a couple only adds switching between them: one runs Python at a time.
SAIDAO_HTTP_THREADS: int = env.int("SAIDAO_HTTP_THREADS", default=4)
# Embedded, a contest's starts and answer saves run one after another on a thread of their own
# (saidao.core.asgi.single_lane): on SQLite's one writer that costs less than spreading them.
SAIDAO_SINGLE_LANE: bool = env.bool("SAIDAO_SINGLE_LANE", default=not SCALED)
# Embedded, a process remembers bearer tokens it has looked up for a minute, forgetting them
# at once on a change (saidao.accounts.token_cache); scaled processes look every one up.
SAIDAO_TOKEN_CACHE: bool = env.bool("SAIDAO_TOKEN_CACHE", default=not SCALED)
# A line a request from `saidao serve`; off behind a proxy that logs requests itself.
SAIDAO_ACCESS_LOG: bool = env.bool("SAIDAO_ACCESS_LOG", default=True)
SAIDAO_HOST: str = env.str("HOST", default="127.0.0.1")
SAIDAO_PORT: int = env.int("PORT", default=8000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# SMS (saidao.core.sms): verification codes and notices through one backend. Unset: no SMS;
# "console": logged and kept in memory (development); "aliyun" or "tencent": the provider's API.
SAIDAO_SMS_BACKEND: str = env.str("SAIDAO_SMS_BACKEND", default="")
# The provider's URL when not its default one: another region, or a local fake in tests.
SAIDAO_SMS_ENDPOINT: str = env.str("SAIDAO_SMS_ENDPOINT", default="")
SAIDAO_SMS_ACCESS_KEY_ID: str = env.str("SAIDAO_SMS_ACCESS_KEY_ID", default="")
SAIDAO_SMS_ACCESS_KEY_SECRET: str = env.str("SAIDAO_SMS_ACCESS_KEY_SECRET", default="")
SAIDAO_SMS_SIGN_NAME: str = env.str("SAIDAO_SMS_SIGN_NAME", default="")
SAIDAO_SMS_APP_ID: str = env.str("SAIDAO_SMS_APP_ID", default="")
SAIDAO_SMS_REGION: str = env.str("SAIDAO_SMS_REGION", default="")
SAIDAO_SMS_TIMEOUT: float = env.float("SAIDAO_SMS_TIMEOUT", default=10.0)
# The approved template of each kind of message: SAIDAO_SMS_TEMPLATE_CODE for verification codes,
# SAIDAO_SMS_TEMPLATES for any kind, as `verification:SMS_123,notice:SMS_456`.
SAIDAO_SMS_TEMPLATE_CODE: str = env.str("SAIDAO_SMS_TEMPLATE_CODE", default="")


def _sms_templates(items: list[str]) -> dict[str, str]:
    from django.core.exceptions import ImproperlyConfigured

    pairs = [item.split(":", 1) for item in items if item.strip()]
    if any(len(pair) != 2 or not pair[0].strip() or not pair[1].strip() for pair in pairs):
        raise ImproperlyConfigured("SAIDAO_SMS_TEMPLATES: write kind:template pairs, e.g. a:1,b:2")
    return {kind.strip(): template.strip() for kind, template in pairs}


SAIDAO_SMS_TEMPLATES: dict[str, str] = _sms_templates(env.list("SAIDAO_SMS_TEMPLATES", default=[]))
