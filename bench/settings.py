"""The project's settings for the benchmark: its own URLs (the stock admin and the floor) on top
of the portal's, DEBUG off, and no throttling (the bench sends thousands of API requests)."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-key-" + "x" * 50)
# One process and no throttling: the cache need not be shared.
os.environ.setdefault("LOCAL_MEMORY_CACHE", "1")

from portal.settings import *  # noqa: E402,F403
from portal.settings import REST_FRAMEWORK  # noqa: E402

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "api": None},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# The stock admin reads through its own connection with PostgreSQL's defaults (parallel
# workers allowed), as a team's first admin would: the portal's connections turn them off
# (portal/settings.py, DB_PARALLEL_WORKERS), which would only slow its sequential scans down.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["stock"] = {  # noqa: F405
        **DATABASES["default"],  # noqa: F405
        "OPTIONS": {
            key: value
            for key, value in DATABASES["default"].get("OPTIONS", {}).items()  # noqa: F405
            if key != "options"
        },
    }
