"""Shafaf settings: one file, driven by the environment.

SQLite (WAL, synchronous=FULL) is the embedded default; set DATABASE_URL for PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED_DATA_DIR = Path(os.environ.get("SHAFAF_SHARED_DATA", BASE_DIR.parent / "shared" / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("SHAFAF_DEBUG", False)
SECRET_KEY = os.environ.get("SHAFAF_SECRET_KEY", "insecure-development-key-set-SHAFAF_SECRET_KEY-in-production")
ALLOWED_HOSTS = [h for h in os.environ.get("SHAFAF_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
# Demo logins (created only by `manage.py seed_demo`) may skip two-factor only while this is on.
SHAFAF_DEMO_MODE = env_bool("SHAFAF_DEMO_MODE", True)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "shafaf.core",
    "shafaf.accounts",
    "shafaf.audit",
    "shafaf.projects",
    "shafaf.reports",
    "shafaf.partners",
    "shafaf.finance",
    "shafaf.donations",
    "shafaf.coordination",
    "shafaf.strategy",
    "shafaf.dashboards",
    "shafaf.interop",
    "shafaf.interop.giving",
    "shafaf.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shafaf.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shafaf.accounts.middleware.UserLanguageMiddleware",
    "shafaf.accounts.middleware.LoginRequiredMiddleware",
    "shafaf.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "shafaf.core.context_processors.shafaf",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Seconds a web worker keeps its database connection between requests (scripts/serve.sh sets 60): a new
        # PostgreSQL backend per request costs more CPU than the request itself. 0 (close after each request)
        # unless set, which keeps tests and one-off commands simple.
        conn_max_age=int(os.environ.get("SHAFAF_DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: a writer takes the lock when its transaction starts, so the audit chain head
        # is read and extended by one writer at a time.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # Statements are prepared only where the code asks for it (shafaf.core.prepared: the donations API's few
    # statements), never automatically: psycopg's counter of executions is set out of reach.
    options.setdefault("prepare_threshold", 2**31 - 1)
    # Prepared statements and the ledger's and audit's trigger functions are planned once per connection (a
    # generic plan). PostgreSQL's default would re-plan them for their values on every execution: for the API's
    # look-up join, planning costs several times what running it does. Django's own queries are not prepared, so
    # this setting leaves them alone.
    options.setdefault("options", "-c plan_cache_mode=force_generic_plan")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Login throttling: this many failures for one username (or from one address) within the window lock it.
SHAFAF_LOGIN_MAX_FAILURES = int(os.environ.get("SHAFAF_LOGIN_MAX_FAILURES", "5"))
SHAFAF_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("SHAFAF_LOGIN_MAX_FAILURES_PER_IP", "30"))
SHAFAF_LOGIN_WINDOW_SECONDS = int(os.environ.get("SHAFAF_LOGIN_WINDOW_SECONDS", "900"))
OTP_TOTP_ISSUER = "Shafaf"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SHAFAF_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_NAME = "shafaf_language"
TIME_ZONE = "Asia/Kuwait"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_ROOT = BASE_DIR / "var" / "media"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even when it serves from the finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# The dashboards' map draws the country boundaries shipped with the project; a tile layer is added only when this
# URL template is set (e.g. "https://tiles.example.org/{z}/{x}/{y}.png"), and its origin is then allowed for images.
SHAFAF_MAP_TILES_URL = os.environ.get("SHAFAF_MAP_TILES_URL", "")
SHAFAF_MAP_TILES_ATTRIBUTION = os.environ.get("SHAFAF_MAP_TILES_ATTRIBUTION", "")
if SHAFAF_MAP_TILES_URL:
    from urllib.parse import urlsplit as _urlsplit

    _tiles = _urlsplit(SHAFAF_MAP_TILES_URL.replace("{s}", "a"))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(f"{_tiles.scheme}://{_tiles.netloc}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shafaf.api.authentication.PersonalTokenAuthentication",
        "shafaf.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "shafaf.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shafaf.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shafaf API",
    "DESCRIPTION": (
        "The API of Shafaf, the charity projects transparency platform. Every error has the body "
        '`{"error": {"code": ..., "message": ..., "fields": {...}, "request_id": ...}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # A project's status and its resume_status share one set of states: one enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "shafaf.projects.choices.ProjectStatus",
        "PhaseStatusEnum": "shafaf.projects.choices.PhaseStatus",
        "DonorKindEnum": "shafaf.donations.models.DonorKind",
        "DonationEntryKindEnum": "shafaf.donations.models.EntryKind",
        "ObjectiveKindEnum": "shafaf.strategy.choices.ObjectiveKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shafaf.api.schema.add_error_responses",
    ],
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("SHAFAF_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

SHAFAF_BASE_URL = os.environ.get("SHAFAF_BASE_URL", "http://127.0.0.1:8000")
# The platform's Ed25519 key that signs donation receipts: a path to a PEM private key (PKCS#8). Unset in
# development and tests: a key is generated once into var/keys/receipt_ed25519.pem (never committed).
SHAFAF_RECEIPT_KEY = os.environ.get("SHAFAF_RECEIPT_KEY", "")
SHAFAF_RECEIPT_DEV_KEY = BASE_DIR / "var" / "keys" / "receipt_ed25519.pem"
# The keys that signed earlier receipts (kept so their codes still verify after `manage.py rotate_receipt_key`):
# a JSON file, by default beside the current key.
SHAFAF_RECEIPT_KEYRING = os.environ.get("SHAFAF_RECEIPT_KEYRING", "")
# One-time sign-in links for donors: at most this many requests per e-mail address and per IP address in 15 minutes.
SHAFAF_LOGIN_LINKS_PER_EMAIL = int(os.environ.get("SHAFAF_LOGIN_LINKS_PER_EMAIL", "3"))
SHAFAF_LOGIN_LINKS_PER_IP = int(os.environ.get("SHAFAF_LOGIN_LINKS_PER_IP", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("SHAFAF_FROM_EMAIL", "Shafaf <no-reply@shafaf.local>")
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
# E-mails (donor notifications, invitations) are written as files to var/mail/ unless another backend is set.
EMAIL_BACKEND = os.environ.get("SHAFAF_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("SHAFAF_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHAFAF_LOG_LEVEL", "WARNING")},
}
