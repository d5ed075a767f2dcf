"""The test settings served by uvicorn: a file database shared with the test, async views."""

import os

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CAS_TEST_ASGI_DB"]}
}
ROOT_URLCONF = "tests.async_views"
