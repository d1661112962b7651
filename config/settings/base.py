"""Settings shared by every variant, all driven by environment variables.

With nothing set the app runs on the embedded default: SQLite and files in ``data/``,
and a Celery broker on the local file system, so a first run needs no server.
``DATABASE_URL`` switches to PostgreSQL and ``CELERY_BROKER_URL`` to Redis.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("SJSJ_DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The insecure default exists only so a first local run works; production.py refuses it.
INSECURE_SECRET_KEY = "django-insecure-local-only-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", INSECURE_SECRET_KEY)
# Key of the HMACs that stand in the audit trail for confidential values (witness values,
# seeds): kept outside the database, so a copy of the database cannot test guesses. Empty:
# derived from SECRET_KEY.
SJSJ_AUDIT_KEY = os.environ.get("SJSJ_AUDIT_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The project's apps come first: their translations win over Django's own catalogs
    # (e.g. "Filter" is 筛选 here, 过滤器 in the admin's).
    "core",
    "exchange",
    "registry",
    "inspectors",
    "lottery",
    "inspections",
    "publication",
    "deadlines",
    "oversight",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PrivateResponsesMiddleware",
    # After the one above, so that its 400 to a signed-in user is not stored either.
    "core.middleware.RejectNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # a refusal → RATELIMIT_VIEW (429)
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "deadlines.context_processors.notifications",
            ],
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'sjsj.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out name and address
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "core.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Failed-login lockout: this many failures in a row lock the account for LOCKOUT_MINUTES.
LOCKOUT_THRESHOLD = int(os.environ.get("SJSJ_LOCKOUT_THRESHOLD", "5"))
LOCKOUT_MINUTES = int(os.environ.get("SJSJ_LOCKOUT_MINUTES", "15"))

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # the public never logs in; guardian needs no anonymous row

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", DATA_DIR / "staticfiles"))
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from the npm registry at set-up time (package-lock.json) and are
# served by the app itself: bureau intranets have no internet, so nothing loads from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("DJANGO_MEDIA_ROOT", str(DATA_DIR / "media"))},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = STORAGES["default"]["OPTIONS"]["location"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Uploaded workbooks and their error reports are deleted this many days after the import ended
# (imported or refused); the job, its counts and its report stay.
SJSJ_IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("SJSJ_IMPORT_FILE_RETENTION_DAYS", "30"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
}
if os.environ.get("REDIS_CACHE_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_CACHE_URL"],
    }

# Celery. The embedded default needs no server: kombu's file-system transport and a
# file result backend under data/. Set CELERY_BROKER_URL=redis://... for real deployments.
_CELERY_DIR = DATA_DIR / "celery"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_CELERY_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "queue"),
        "data_folder_out": str(_CELERY_DIR / "queue"),
        "processed_folder": str(_CELERY_DIR / "processed"),
        # Fan-out exchanges (worker control, beat's pidbox): kombu's default is a "control"
        # folder in whatever directory the process was started from.
        "control_folder": str(_CELERY_DIR / "control"),
        "store_processed": False,
    }
    (_CELERY_DIR / "results").mkdir(parents=True, exist_ok=True)
    CELERY_RESULT_BACKEND = os.environ.get(
        "CELERY_RESULT_BACKEND", f"file://{_CELERY_DIR / 'results'}"
    )
else:
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message taken by a worker that died unacknowledged goes back to the queue after
        # this long (the jobs-stalled-sweep beat job recovers imports, exports, reports and
        # archives sooner).
        "visibility_timeout": 3600,
        # A down broker fails fast instead of holding a request or a worker for minutes.
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
    CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged when it ends, not when it starts: a worker killed mid-job leaves
# its message to be delivered again (every task is harmless to run twice), and one prefetched
# message at a time means a killed worker holds back no other job.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Publishing: a short connection timeout and one quick retry. Jobs are sent through the
# transactional outbox (core/outbox.py), which retries from the database, not from a request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# The worker keeps trying to reach a broker that went away (and at start-up).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "双随机、一公开 API",
    "DESCRIPTION": "Environmental spot-check supervision: registries, plans, draws, results.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Shared vocabularies get one name in the schema, whichever serializer uses them.
    "ENUM_NAME_OVERRIDES": {
        "ExpertiseEnum": "core.vocab.Expertise",
        "SupervisionClassEnum": "core.vocab.SupervisionClass",
        "CheckMethodEnum": "core.vocab.CheckMethod",
        "PlanStatusEnum": "lottery.models.Plan.Status",
        "DrawStatusEnum": "lottery.models.Draw.Status",
        "SubstitutionStatusEnum": "lottery.models.Substitution.Status",
        "SourceStatusEnum": "registry.models.SourceStatus",
        "ImportJobStatusEnum": "exchange.models.ImportJob.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs every laid-out page at INFO: hundreds of lines per large record.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}


# Content-Security-Policy (django-csp): the app serves every script itself and none is
# inline (behaviour is declared with data- attributes, static/js/app.js), so scripts come
# from 'self' only. Inline style attributes stay allowed (layout only, and htmx's indicator
# style); no plugin, no frame of this site elsewhere, forms post only here.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Staff (the Django admin's users) get short sessions: eight hours, one working day.
SJSJ_STAFF_SESSION_SECONDS = int(os.environ.get("SJSJ_STAFF_SESSION_SECONDS", str(8 * 3600)))

# Login throttling (django-axes): per user name and address, so nobody can lock a colleague
# out from elsewhere; a name that does not exist is throttled the same way.
AXES_FAILURE_LIMIT = LOCKOUT_THRESHOLD
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# The client's address (core.auth.client_ip): REMOTE_ADDR, or behind these reverse proxies
# (comma-separated addresses) the last address in X-Forwarded-For that is not one of them.
SJSJ_TRUSTED_PROXIES = [
    a.strip() for a in os.environ.get("SJSJ_TRUSTED_PROXIES", "").split(",") if a.strip()
]
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"
# Login attempts per address across all names (django-ratelimit), besides axes' lockout.
SJSJ_LOGIN_RATE = os.environ.get("SJSJ_LOGIN_RATE", "60/10m")
RATELIMIT_VIEW = "core.auth.rate_limited"
RATELIMIT_KEY_PREFIX = "sjsj-rl"
# API tokens expire (hours after they were issued).
SJSJ_API_TOKEN_HOURS = int(os.environ.get("SJSJ_API_TOKEN_HOURS", "12"))

# Deadlines (the deadlines app): remind this many working days before a deadline; on a first
# run, deadlines further back than DEADLINES_CATCH_UP_DAYS are not turned into obligations.
DEADLINES_REMIND_WORKING_DAYS = int(os.environ.get("DEADLINES_REMIND_WORKING_DAYS", "2"))
DEADLINES_CATCH_UP_DAYS = int(os.environ.get("DEADLINES_CATCH_UP_DAYS", "31"))
# Notifications are also e-mailed (Django's mail backend) to users with an address.
DEADLINES_EMAIL = os.environ.get("DEADLINES_EMAIL", "1") == "1"
DEADLINES_SITE_URL = os.environ.get("DEADLINES_SITE_URL", "")
