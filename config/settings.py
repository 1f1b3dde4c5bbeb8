"""Pitwall settings: one module, configured entirely from the environment.

The embedded default (no DATABASE_URL, no REDIS_URL) runs on an SQLite file under data/ with
Celery tasks executed eagerly in-process, so `make run` needs no server. Every variable is
listed in the README.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PITWALL_DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
PRODUCTION = DJANGO_ENV == "production"

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-for-pitwall-never-use-in-production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("PITWALL_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "cohort.admin_apps.PitwallAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "accounts",
    "cohort",
    "notifications",
    "pdp",
    "mentoring",
    "events",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cohort.middleware.StaffMFAMiddleware",
    "cohort.middleware.ProgrammeMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cohort.context_processors.programme",
                "notifications.context_processors.bell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A database that cannot be reached fails a request (and /readyz) within seconds
        # instead of hanging it until the OS gives up; a persistent connection that broke
        # (the server restarted) is noticed by the health check and replaced by itself.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", int(os.environ.get("PITWALL_DB_CONNECT_TIMEOUT", "5"))
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "pitwall.sqlite3",
            # WAL lets the dev server read while a task writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down is survivable: the cache then finds and keeps nothing (config/cache.py).
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pitwall",
            # A Redis that does not answer costs a request a second, not a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# Tasks write their effects to the database; nobody waits on a task result.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Without a broker the tasks run in-process, so a first run needs no server.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # Publishing from a web request must not hang when Redis is down: fail at once and leave
    # the message to the outbox sweep (workers reconnect on their own schedule).
    "max_retries": 0,
    # A task taken by a worker that died (acks_late) goes back to the queue after this long.
    "visibility_timeout": int(os.environ.get("PITWALL_BROKER_VISIBILITY_TIMEOUT", "3600")),
}
# An outbox message claimed by a worker that died mid-delivery is offered again after this.
PITWALL_OUTBOX_CLAIM_LEASE_SECONDS = int(
    os.environ.get("PITWALL_OUTBOX_CLAIM_LEASE_SECONDS", "600")
)
# Partner webhooks go to https:// addresses only; plain http to this machine is allowed when
# this is on (tests and local development, never production).
PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST = env_bool("PITWALL_WEBHOOKS_ALLOW_HTTP_LOCALHOST", False)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PITWALL_CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE = {
    # Re-send what is still pending in the outbox (DESIGN §10).
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": 60.0},
    # Partner webhook deliveries that are due: the broker was down, or a retry's pause is over.
    "webhook-sweep": {"task": "notifications.tasks.webhook_sweep", "schedule": 60.0},
    "daily-digest": {
        "task": "notifications.tasks.digest_send_daily",
        "schedule": crontab(hour=7, minute=0),
    },
    # Meetings due soon or overdue, records waiting for sign-off, staff alerts (DESIGN §10).
    # CELERY_TIMEZONE is Europe/London, so this is 07:30 UK time all year.
    "meeting-reminders": {
        "task": "mentoring.tasks.meeting_reminders_daily",
        "schedule": crontab(hour=7, minute=30),
    },
    # Event reminders a day before: every hour at five past, so "a day before" is accurate to
    # the hour (events.services.event_reminders_send sends each one once).
    "event-reminders": {
        "task": "events.tasks.event_reminders_hourly",
        "schedule": crontab(minute=5),
    },
    # Every programme's metrics, computed at night when nobody is waiting for the pages.
    "metric-snapshots": {
        "task": "metrics.tasks.metric_snapshots_nightly",
        "schedule": crontab(hour=2, minute=15),
    },
    # Patient Impact forecast: recomputed when inputs change (metrics.forecasting enqueues it);
    # this nightly pass catches a change whose task was lost, and stores nothing otherwise.
    "forecast-nightly": {
        "task": "metrics.tasks.forecast_recompute_nightly",
        "schedule": crontab(hour=2, minute=45),
    },
}
# A publish that cannot reach the broker gives up fast: the outbox sweep delivers later.
CELERY_TASK_PUBLISH_RETRY = False

# --- Accounts and allauth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "cohort.adapters.InvitationAccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "cohort.forms.SignupExtraForm"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pitwall] "
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated so the policy is visible: failed logins are throttled per
    # address and per account.
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "signup": "20/m/ip",
    # Pitwall's own: the public expression-of-interest form of a call (cohort.views.apply_view).
    "apply": "10/m/ip,60/h/ip",
    # Signing a meeting record or milestone re-checks the mentor's password or code: throttled
    # like a login, per person (keyed by their UUID; mentoring.views.meeting_sign_view).
    "sign_off": "10/m/key,30/h/key",
    # A person's download of their own data (cohort.views.personal_data_view): building it
    # reads every section and evidence file, so a few an hour per person (keyed by UUID).
    "personal_data_export": "5/h/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Pitwall"
# DESIGN §11: programme staff must use MFA in production.
PITWALL_REQUIRE_STAFF_MFA = env_bool("PITWALL_REQUIRE_STAFF_MFA", PRODUCTION)
INVITATION_VALID_DAYS = 14
# seed_demo writes a year of meeting records for every mentorship of the CEP's first cohort;
# a number here limits the other mentorships that get records (the test suite seeds the demo
# many times). Unset: all of them.
PITWALL_DEMO_MEETING_YEARS = (
    int(os.environ["PITWALL_DEMO_MEETING_YEARS"])
    if os.environ.get("PITWALL_DEMO_MEETING_YEARS")
    else None
)

# --- Email ----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Pitwall <no-reply@pitwall.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
# Used only with the file-based backend (EMAIL_BACKEND=django.core.mail.backends.filebased...).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))

# --- Internationalisation: en-GB, Europe/London ---------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English (UK)")]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

# --- Static files: our own static/ plus NHS.UK frontend from node_modules -------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NHSUK_FRONTEND_DIST = BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
STATICFILES_DIRS = [BASE_DIR / "static", ("nhsuk", NHSUK_FRONTEND_DIST)]
# NHS.UK frontend's compiled CSS points at /assets/images/...; serve the collected copy there.
WHITENOISE_ROOT = STATIC_ROOT / "nhsuk"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("PITWALL_MEDIA_ROOT", DATA_DIR / "media"))
# Uploads are private: there is no MEDIA_URL route, and each file is served by a view that
# checks who is asking (pdp.views.evidence_file_view).
PITWALL_EVIDENCE_MAX_BYTES = int(os.environ.get("PITWALL_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))

# --- REST framework (the partner API arrives with its issue) --------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only: no browsable API pages (the docs are at /api/v1/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Set on each endpoint (cohort.partner_api.PartnerViewSet): API keys and their scopes. The
    # defaults refuse, so a view that forgot them is closed, not open.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "cohort.partner_api.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "partner_key": os.environ.get("PITWALL_API_RATE", "600/minute"),
    },
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pitwall partner API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Read a programme's metrics and Patient Impact forecast, your own mentors' "
        "mentorships, consented fellows and ventures and published events, and post your "
        "organisation's opportunities. Authenticate with `Authorization: Api-Key <key>`; the "
        "programme is the key's. Lists are cursor-paginated (`next`/`previous` links; "
        "`page_size` up to 200). Dates are ISO 8601 (times in UTC); amounts and rates are "
        'decimal strings. Every error is `{"error": {"code", "message", "fields"}}`. '
        "Reads carry an ETag: send it back in If-None-Match to get 304 when nothing changed. "
        "A POST may carry an Idempotency-Key header so a retry is safe."
    ),
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProfessionEnum": "cohort.models.Profession",
        "SectorEnum": "cohort.models.Sector",
        "VentureStageEnum": "cohort.models.VentureStage",
        "RegionEnum": "cohort.models.NHSRegion",
        "EventKindEnum": "events.models.Event.Kind",
        "OpportunityKindEnum": "events.models.Opportunity.Kind",
        "OpportunityFundingEnum": "events.models.Opportunity.Funding",
        "OpportunityStatusEnum": "events.models.Opportunity.Status",
        "MetricKindEnum": ["sum", "rate", "mean"],
        "ForecastScopeEnum": "metrics.models.ForecastRun.Scope",
        "WebhookEventEnum": "notifications.models.WebhookEvent",
        "WebhookDeliveryStatusEnum": "notifications.models.WebhookDelivery.Status",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # NHS.UK frontend loads the Frutiger webfont from the NHS asset host.
        "font-src": ["'self'", "https://assets.nhs.uk"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # In-process tasks would log every success into the dev server's console.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # WeasyPrint logs each step of every PDF it lays out (its warnings still show).
        "weasyprint.progress": {"level": "WARNING"},
    },
}
