"""Settings for the medborgarlöfte portal, read from environment variables.

Safe by default: DEBUG is off, and without DEBUG the portal refuses to start
unless SECRET_KEY and ALLOWED_HOSTS are given. `make run` sets what local
development needs; see `.env.example` for every variable.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from portal.db import check_connection

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; only the words true/false (any case) are accepted."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Tests and `make run` set this; it allows the insecure development defaults.
DEVELOPMENT = env_bool("PORTAL_DEVELOPMENT", False) or DEBUG

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY must be set in production (see .env.example).")
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production"  # noqa: S105
elif not DEVELOPMENT and (len(SECRET_KEY) < 50 or "insecure" in SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is too short or a development key (50+ random characters)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEVELOPMENT else "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set in production, e.g. 'trygghet.example.se'."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The public address of the site, used in e-mails and feeds outside a request.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "portal",
    "surveys",
    "pledges",
    "followup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RequestSizeLimitMiddleware",
    # Public pages from the cache before anything else runs (portal/page_cache.py);
    # the middleware above still applies to every hit.
    "portal.page_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.OfficialSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    # django-axes last: it turns a lockout into the Swedish lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site",
            ],
        },
    },
]

# Database: PostgreSQL only, named by DATABASE_URL. Without it (development
# and tests only) the project's own server in var/postgres (portal/devdb.py),
# which `make run` and `make test` start and stop; manage.py alone reaches it
# while it runs (`scripts/embedded-postgres start`).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "DATABASE_URL must be set in production, e.g. postgres://user:password@host:5432/name."
        )
    from portal.devdb import database_url

    DATABASE_URL = database_url()
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"The portal runs on PostgreSQL only: DATABASE_URL must be postgres://…, not {DATABASE_URL!r}."
    )

# Django's psycopg pool: a connection per request is about 4x slower.
# Connections are checked before use (portal/db.py: a look at the socket,
# a round trip only when the server has sent something), so the portal
# recovers by itself after a database restart.
DATABASES["default"].setdefault("OPTIONS", {})
# No JIT compilation: it spent about 0.2 s compiling each results query
# of a 10 000-response survey whose own work took milliseconds, and
# saved about 5 % on a million responses (make bench, bench/NOTES.md).
options = DATABASES["default"]["OPTIONS"].get("options", "")
if "jit" not in options:
    DATABASES["default"]["OPTIONS"]["options"] = f"{options} -c jit=off".strip()
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": env_int("DB_POOL_MIN", 1),
    "max_size": env_int("DB_POOL_MAX", 4),
    "timeout": env_int("DB_POOL_TIMEOUT", 10),
    "check": check_connection,
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# No public form takes files: bodies above this are refused with 413.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

# Caches: Redis when REDIS_URL is set (shared by all app servers: the
# pledge page cache and the survey rate limit live here; the portal works
# without it while it is away, slower); otherwise the process' own memory,
# which is fine for one development server.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis answers in well under a millisecond: one that has not answered (or
# accepted the connection) within this is taken for away, and the portal
# goes on without it (portal/cache.py).
REDIS_TIMEOUT_SECONDS = env_int("REDIS_TIMEOUT_MS", 1000) / 1000
if REDIS_TIMEOUT_SECONDS <= 0:
    raise ImproperlyConfigured("REDIS_TIMEOUT_MS must be a positive number of milliseconds")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-axes first: it refuses a locked-out username+address before the
# password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEVELOPMENT:
    # Serve straight from the apps' and packages' static folders; production
    # runs `collectstatic` into STATIC_ROOT.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = DEBUG
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers. No inline script or style anywhere: everything the
# pages need is served by the site itself.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60)  # officials: 1 h of inactivity
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

if not DEVELOPMENT:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# E-mail: console in development; SMTP settings from the environment.
if os.environ.get("EMAIL_HOST") or not DEVELOPMENT:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "medborgarlofte@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Administratör", a) for a in env_list("ADMIN_EMAILS")]

LOGIN_URL = "admin:login"

# Two-factor login (TOTP app + recovery codes) for every official in the
# admin. On in production; `make run` turns it off for the demo logins.
PORTAL_REQUIRE_2FA = env_bool("PORTAL_REQUIRE_2FA", not DEVELOPMENT)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Medborgarlöfte")
# Nobody, not even a superuser, can read another person's secret or codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Lockout after repeated failed logins (django-axes). The lock is on the
# combination of username and address, so one person guessing cannot lock
# out everybody behind the same address (a town hall's NAT), and nobody
# can lock out a colleague from elsewhere. The database handler works
# across several app servers.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Successful logins are in the portal's audit log (without addresses).
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "portal.security.client_ip"
# Behind N reverse proxies that append to X-Forwarded-For, the client's
# address is the N-th from the right. 0 (the default) trusts no header and
# uses the connection's address: behind a proxy every login then shares
# one address, so lockouts act per username - never bypassable by a forged
# header. Set it to 1 behind e.g. nginx with $proxy_add_x_forwarded_for.
PORTAL_TRUSTED_PROXY_COUNT = env_int("PORTAL_TRUSTED_PROXY_COUNT", 0)

# Permissions-Policy: the portal uses none of these browser features.
PORTAL_PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Who runs this installation: named in the accessibility statement.
PORTAL_OPERATOR = os.environ.get("PORTAL_OPERATOR", "Östhammars kommun")
PORTAL_CONTACT_EMAIL = os.environ.get("PORTAL_CONTACT_EMAIL", "kommunen@osthammar.se")


# The resident survey: per-client submission limit ("count/unit", unit one
# of s, m, h, d), kept in the cache under an HMAC of the client address;
# how long invitation codes and submission nonces are kept after closing.
SURVEY_RATE_LIMIT = os.environ.get("SURVEY_RATE_LIMIT", "20/h")
if not re.fullmatch(r"\d+/[smhd]", SURVEY_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"SURVEY_RATE_LIMIT must look like '20/h', not {SURVEY_RATE_LIMIT!r}"
    )
SURVEY_INVITATION_RETENTION_DAYS = env_int("SURVEY_INVITATION_RETENTION_DAYS", 30)

# Whole public pages are cached this long at most (portal/page_cache.py);
# every change invalidates them at once, time-driven ones show within this.
PUBLIC_PAGE_CACHE_SECONDS = env_int("PUBLIC_PAGE_CACHE_SECONDS", 300)
