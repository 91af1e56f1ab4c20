"""Settings for the test suite: the project's settings with a throwaway key, over plain HTTP.

DATABASE_URL chooses the database (the Makefile runs the suite on PostgreSQL, then SQLite).
Tests of the production transport settings override them with ``settings``.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 50)
# The test client and the live server speak plain HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
# The cache of production: Redis (scripts/redis.sh, sourced by `make test`, makes sure one
# answers and exports REDIS_URL). Servers the tests start inherit it.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

# The test client stands for the web process: requests run with its database timeouts. Only
# while the settings are read: commands the tests start in subprocesses run as commands.
_process_given = "PORTAL_PROCESS" in os.environ
os.environ.setdefault("PORTAL_PROCESS", "web")
from portal.settings import *  # noqa: E402,F403
from portal.settings import CACHES  # noqa: E402

# This run's keys have their own prefix (other runs may share the Redis); tests/conftest.py
# deletes them after every test, so that no test inherits another's request counts.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}-{secrets.token_hex(4)}"

if not _process_given:
    del os.environ["PORTAL_PROCESS"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files straight from the apps and static/, without collectstatic.
WHITENOISE_USE_FINDERS = True

AUTHENTICATION_BACKENDS = [
    "tests.auth_backends.AxesBackendForTests",
    "django.contrib.auth.backends.ModelBackend",
]

# Jobs run in the test's own process (jobs.engine.send), unless a test of the real worker
# turns this off.
CELERY_TASK_ALWAYS_EAGER = True
