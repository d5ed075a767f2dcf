"""Settings of the apps of the proxy end-to-end test, run by gunicorn (see proxy_apps.py).

Everything that differs between app A (the proxy) and app B (the back end) comes from
``PROXY_APP_*`` environment variables.
"""

import json
import os

from tests import settings as _base

globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "rest_framework"]
ROOT_URLCONF = "tests.integration.proxy_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGIN_URL = "/accounts/login/"
SESSION_COOKIE_NAME = os.environ.get("PROXY_APP_COOKIE", "sessionid")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["PROXY_APP_DB"],
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}

CAS_SERVER_URL = os.environ["PROXY_APP_CAS_URL"]
CAS_VERSION = "3"
CAS_PROXY_CALLBACK = os.environ.get("PROXY_APP_CALLBACK") or None
CAS_PROXY_CHAINS = json.loads(os.environ.get("PROXY_APP_CHAINS") or "{}")
CAS_LOGIN_MSG = None
CAS_LOGGED_MSG = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_cas_ng": {"handlers": ["console"], "level": "DEBUG"}},
}
