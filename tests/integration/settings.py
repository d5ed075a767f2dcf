"""tests.settings with an on-disk SQLite test database, for the browser-flow tests.

With tests.settings' in-memory SQLite, pytest-django's live server hands the test's single
database connection to every request thread, so concurrent requests share one transaction
state (``cannot start a transaction within a transaction``, ``no such savepoint``). On disk,
every request thread opens its own connection, as in production. Use it with
``pytest --ds tests.integration.settings tests/integration``.
"""

import os
import tempfile

from tests.settings import *  # noqa: F403

_TEST_DB = os.path.join(tempfile.gettempdir(), f"django_cas_ng-integration-{os.getpid()}.sqlite3")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _TEST_DB,
        "TEST": {"NAME": _TEST_DB},
        # Faster flushes between tests; locking (what the concurrency test is about) is unchanged.
        "OPTIONS": {"init_command": "PRAGMA synchronous=OFF"},
    }
}

# The live server's static files handler needs it (tests.settings has none).
STATIC_URL = "/static/"
