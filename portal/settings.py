"""Settings, read from the environment with safe defaults.

DATABASE_URL  database (default: a SQLite file under var/, the embedded default)
SECRET_KEY    required when DEBUG is off
DEBUG         off unless set to 1/true/yes/on
ALLOWED_HOSTS comma-separated host names (default: localhost names)
PHONE_DEFAULT_REGION  ISO country code used to read national phone numbers (default: none)
REDIS_URL     the shared store of rate limits; required when DEBUG is off
TRUSTED_PROXY_COUNT  reverse proxies in front that append to X-Forwarded-For (default 0)
SUPPRESSION_KEY  the secret of the keyed hashes of erased identifiers (default: derived from
              SECRET_KEY, with a warning); never change it once people are erased
ERASURE_COOLING_OFF_DAYS  days an erasure request waits before it runs (default 7)
MERGE_UNDO_DAYS           days a merge of two people can be undone (default 30)
REVEALS_PER_HOUR  masked values one operator may reveal per hour (default 30)
WORKER_CONCURRENCY  processes of `make worker` (default: the number of cores)
JOB_CHUNK_SIZE    people per chunk of a bulk job, one task each (default 1000)
JOB_QUEUE         the Celery queue of the jobs' tasks (default portal-jobs)
JOB_STALLED_AFTER  seconds without a finished chunk before lost messages are sent again (60)
TRANSFER_ROOT     the folder of large exports' files, shared by the web processes and the
              workers (default var/transfer; import files are kept in the database)
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "pgtrigger",
    "core",
    "jobs",
    "portal",
    "people",
    "installations",
    "directory",
    "privacy",
    "populations",
    "transfer",
]

MIDDLEWARE = [
    "portal.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.request_guards.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their own caching and need no policy.
    "portal.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.SessionLifetimeMiddleware",
    # The operator's time zone for the request (portal.time_zones).
    "portal.time_zones.OperatorTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses sign-in for an account and address locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
# Lock the pair: one account guessed from one address; other operators and addresses go on.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# ... and the address, after AXES_ADDRESS_FAILURE_LIMIT failures whatever the usernames
# (password spraying). The records live in the database, which every worker shares.
AXES_HANDLER = "portal.lockout.AddressAndAccountLockoutHandler"
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
# The address is the trusted proxy's (TRUSTED_PROXY_COUNT below), as for the rate limits.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.personal_data",
                "portal.context_processors.roles",
                "portal.context_processors.time_zones",
            ],
        },
    },
    {
        # The hot partials (portal/templating.py): the search result rows, the installation
        # cards and the sections of the person page; by name only.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "portal.templating.environment"},
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
# A connection the server closed while idle (a restart, a proxy's idle timeout) is noticed
# before the request uses it, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The web process: gunicorn through portal/wsgi.py, `manage.py runserver` and the test suite
# set PORTAL_PROCESS=web. Other management commands (migrate, generate_people, prune_name_terms)
# and future jobs run without the web timeouts below: their statements may rightly run long.
WEB_PROCESS = os.environ.get("PORTAL_PROCESS") == "web"
# A request waits at most this long for one SQL statement, and for a lock, before it is
# answered 503 with Retry-After (portal.middleware): a table locked by a migration or a stuck
# transaction must not hold every worker until gunicorn kills it at 30 s (issue 24, item 8).
# Every statement of a request is an index lookup or a short write (milliseconds at a million
# people, docs/scaling.md): 5 s is far beyond any of them, and well inside gunicorn's 30 s.
# Row locks are held for one short transaction: 3 s of waiting means something is stuck.
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 5000)
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 3000)
# /health answers within this much: a database that cannot read a person in time is down.
HEALTH_DB_TIMEOUT_MS = env_int("HEALTH_DB_TIMEOUT_MS", 1000)

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Every request runs a few short index lookups: starting parallel workers costs them more
    # (5 to 8 ms) than it saves. DB_PARALLEL_WORKERS gives them back (PostgreSQL's own
    # max_parallel_workers_per_gather) where long reports run on the same database.
    server_options = [f"max_parallel_workers_per_gather={env_int('DB_PARALLEL_WORKERS', 0)}"]
    if WEB_PROCESS:
        # Sent when connecting (libpq's options): no statement per request or connection.
        server_options += [
            f"statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            f"lock_timeout={DB_LOCK_TIMEOUT_MS}",
        ]
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", " ".join(f"-c {option}" for option in server_options)
    )
    # A database host that does not answer at all fails the connection in seconds, not after
    # the operating system's TCP timeout (minutes).
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Several writers (a threaded dev server, the tests' threads) wait for the lock
    # instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # The lists' covering indexes (INCLUDE, see people 0012 and installations 0002) are
    # PostgreSQL's; here they are plain indexes on their key columns, as intended.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The reverse proxies in front of the portal that append the address they received a request
# from to X-Forwarded-For (core/client_address.py). 0: the portal is reached directly and
# the header, which anyone can send, is ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# The rate limits count in the default cache, which every worker must share: Redis. Without
# REDIS_URL the cache is this process's memory (each gunicorn worker would count alone, so
# N workers would let N times the rate through): `make run` (DEBUG) only. With DEBUG off the
# portal refuses to start without REDIS_URL, unless LOCAL_MEMORY_CACHE=1 says that one
# process serves everything.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "portal"),
            # A Redis that does not answer fails the request at once (503), not after the
            # worker's timeout.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif DEBUG or env_bool("LOCAL_MEMORY_CACHE", False):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(
        "REDIS_URL must be set when DEBUG is off: the rate limits count in one store shared "
        "by every worker (LOCAL_MEMORY_CACHE=1 for a single process)"
    )

# Request bodies (issue 24, item 12). The largest request of the API is a batch of 1,000
# people (the vendor's documented maximum); 8 MiB admits one of 8 KB an item, where every
# standard field at its longest is 3.3 KB and 8 tags, 5 emails and 2 long custom attributes
# fit beside them. Bodies over it (10 and 50 MB included) are refused unread, by their
# Content-Length: 413 with the vendor's body naming the limit (portal.limits).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 8 * 1024 * 1024)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions: an operator is signed out after SESSION_IDLE_TIMEOUT seconds without a request and
# after SESSION_ABSOLUTE_LIFETIME seconds in any case (portal.middleware).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_ABSOLUTE_LIFETIME = env_int("SESSION_ABSOLUTE_LIFETIME", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Transport security: on unless DEBUG, each overridable (a TLS-terminating proxy in front
# sets X-Forwarded-Proto, which SECURE_PROXY_SSL_HEADER trusts when enabled).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^health$"]

# Content-Security-Policy (django-csp) on every answer of the portal: scripts and styles come
# from the portal's own static files only (no inline script, style or event handler; htmx's
# indicator styles are off, see templates/base.html), nothing is framed, no plugin runs, and
# forms post to the portal only. Django admin and Swagger UI (/api/docs/, from
# drf-spectacular-sidecar) run under the same policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI and the admin draw a few icons from data: URLs.
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files WhiteNoise serves at the site's root: /favicon.ico, which browsers and tools ask for
# whatever the page links (templates/base.html links static/img/favicon.svg).
WHITENOISE_ROOT = BASE_DIR / "static" / "favicon"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies made by collectstatic, served by WhiteNoise (`make serve`).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Used to read phone numbers written in national form (no country code); None means
# such input is rejected as PHONE_INVALID.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION") or None

# The erased identifiers are kept only as HMAC-SHA256 digests with this key
# (people.suppression). Unset, a key derived from SECRET_KEY is used and the deployment check
# warns (privacy.W001): rotating SECRET_KEY would then lift every suppression.
SUPPRESSION_KEY = os.environ.get("SUPPRESSION_KEY", "")
ERASURE_COOLING_OFF_DAYS = int(os.environ.get("ERASURE_COOLING_OFF_DAYS") or 7)
# The most people one "request erasure of these people" on the search page may name.
BULK_ERASURE_MAX = int(os.environ.get("BULK_ERASURE_MAX") or 10_000)
# How many masked values one operator may reveal per hour (privacy.services.reveal).
REVEALS_PER_HOUR = int(os.environ.get("REVEALS_PER_HOUR") or 30)
# How many days a merge of two people can be undone (directory.merge_undo.undo_merge).
MERGE_UNDO_DAYS = int(os.environ.get("MERGE_UNDO_DAYS") or 30)

# Background jobs (README, "Background jobs"): Celery workers take a job's chunks from the Redis
# of REDIS_URL; the job's state and progress live in the database (jobs/). Without REDIS_URL
# (`make run`: DEBUG, SQLite) there is no broker and every task runs in the process that sends
# it, so the same pages work.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A message is acknowledged when its task has finished, not when a worker takes it: a worker
# killed mid-chunk leaves it unacknowledged, and Redis gives it to another worker once the
# visibility timeout has passed (each chunk is done once: jobs.tasks.run_chunk).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker takes one message at a time: the chunks spread over every worker.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Far longer than a chunk takes (seconds): a message unacknowledged this long is delivered
# again. The tests of a killed worker make it short.
JOB_VISIBILITY_TIMEOUT = env_int("JOB_VISIBILITY_TIMEOUT", 30 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": JOB_VISIBILITY_TIMEOUT,
    # How often a worker looks for messages past that timeout: every interval x throttle
    # seconds (kombu's 100 s for long timeouts; every second or so for the tests' short ones).
    "unacked_restore_interval": min(10, max(1, JOB_VISIBILITY_TIMEOUT // 2)),
    "unacked_restore_throttle": 10 if JOB_VISIBILITY_TIMEOUT >= 600 else 1,
    # A Redis that does not answer fails a start at once (the job waits for the queue), not
    # after the operating system's TCP timeout.
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("JOB_QUEUE") or "portal-jobs"
# The results live in the jobs' rows: no result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 0) or None
# People per chunk: one task, one transaction.
JOB_CHUNK_SIZE = env_int("JOB_CHUNK_SIZE", 1000)
# Runs of a chunk that raised before its job fails.
JOB_CHUNK_ATTEMPTS = env_int("JOB_CHUNK_ATTEMPTS", 3)
# A job whose messages were sent this long ago and that has not moved since is sent again
# (jobs.engine.retry_dispatch): its messages were lost with the broker.
JOB_REDISPATCH_AFTER = env_int("JOB_REDISPATCH_AFTER", 2 * JOB_VISIBILITY_TIMEOUT)
# Sooner, when the workers have finished no chunk of any job this long (seconds): Redis keeps
# nothing on disk, so a restart loses every queued message. The workers look every quarter of
# it (portal.celery) and so does an open job page; a message sent once too often does nothing.
JOB_STALLED_AFTER = env_int("JOB_STALLED_AFTER", 60)
# Large exports' files (transfer.exports): a folder every web process and worker reads and
# writes. Import files are kept in the database.
TRANSFER_ROOT = Path(os.environ.get("TRANSFER_ROOT") or BASE_DIR / "var" / "transfer")

API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE") or "6000/min"
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["core.api.json.ExactJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.json.ExactJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.CanUseApi"],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.PerKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Per API key (or operator); per application and client address for the device API.
        "api": API_THROTTLE_RATE,
        "device": os.environ.get("DEVICE_THROTTLE_RATE") or API_THROTTLE_RATE,
    },
    # DRF's own reading of X-Forwarded-For agrees with core.client_address.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "People Portal API",
    "DESCRIPTION": "People API v2: persons, contact information, tags, custom attributes, push.",
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # OpenAPI links between operations (a created person -> read/update/delete by id, ...).
        "core.api.links.add_links",
    ],
    # Two choice sets are both named "type": a person's type and an identifier's type.
    "ENUM_NAME_OVERRIDES": {
        "PersonTypeEnum": ["LEAD", "CUSTOMER"],
        "IdentifierTypeEnum": ["ID", "EXTERNAL_ID", "PHONE", "EMAIL", "PUSH"],
        "GenderEnum": ["MALE", "FEMALE"],
        "SdkGenderEnum": ["Male", "Female"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "portal.logging.PersonalDataFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
