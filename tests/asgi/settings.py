"""Settings of the test site served by uvicorn in tests/asgi (a separate process).

Based on tests.settings. What differs per run comes from ``ASGI_SITE_*`` environment variables
set by tests/asgi/conftest.py: the SQLite file (on disk, so every request thread of the server
and the migrate command share it), the CAS server and the site's own origin.
"""

import os

from tests import settings as _base

globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "tests.asgi.apps.ASGISiteConfig"]
ROOT_URLCONF = "tests.asgi.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGIN_URL = "/accounts/login/"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ASGI_SITE_DB", "/nonexistent/asgi-site.sqlite3"),
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}

_ORIGIN = os.environ.get("ASGI_SITE_ORIGIN", "http://127.0.0.1:1/")
CAS_SERVER_URL = os.environ.get("ASGI_SITE_CAS_URL", "http://127.0.0.1:1/cas/")
CAS_VERSION = "3"
CAS_LOGIN_MSG = None
CAS_LOGGED_MSG = None
# django-cas-server delivers PGTs to http://127.0.0.1 too; a real site uses https.
CAS_PROXY_CALLBACK = _ORIGIN + "accounts/callback/"
CAS_PROXY_CHAINS = {_ORIGIN + "api/whoami/": [[CAS_PROXY_CALLBACK]]}
SILENCED_SYSTEM_CHECKS = ["django_cas_ng.E010"]  # the http callback above, test only

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_cas_ng": {"handlers": ["console"], "level": "DEBUG"},
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}
