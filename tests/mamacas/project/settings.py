"""django-mama-cas 2.5 (Django 3.1, Python 3.9) for the integration tests; see tests/mamacas."""

import json
import os
from pathlib import Path

WORKDIR = Path(os.environ["MAMA_HARNESS_DIR"])
CONFIG = json.loads((WORKDIR / "config.json").read_text())

SECRET_KEY = "mama-cas-harness-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "mama_cas",
]
# No CsrfViewMiddleware: mama-cas's samlValidate is not csrf_exempt (its login form has
# csrf_protect of its own).
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "urls"
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(WORKDIR / "db.sqlite3")}
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
# Not the client app's cookie names: both run on 127.0.0.1.
SESSION_COOKIE_NAME = "cas_sessionid"
CSRF_COOKIE_NAME = "cas_csrftoken"
MAMA_CAS_SERVICES = [
    {
        "SERVICE": CONFIG["service_pattern"],
        "CALLBACKS": ["attributes.from_config"],
        "LOGOUT_ALLOW": True,
        "PROXY_ALLOW": True,
        "PROXY_PATTERN": r"^https://(127\.0\.0\.1|localhost)(:\d+)?/",
    }
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"mama_cas": {"handlers": ["console"], "level": "INFO"}},
}
