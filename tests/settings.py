"""Settings for the test suite: the project's settings with a throwaway key.

DATABASE_URL chooses the database (the Makefile runs the suite on PostgreSQL, then SQLite).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 50)

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
