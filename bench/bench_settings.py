"""Tiny Django settings for the benchmark workers (both implementations use this module).

Everything that differs per run comes from the environment, set by ``bench/__main__.py``:
``BENCH_DB`` ('sqlite' or 'postgres'), ``BENCH_SQLITE_PATH``, ``BENCH_PG_HOST``/``PORT``/``NAME``,
and ``BENCH_CAS_URL`` (the CAS stub's base URL). For the server benchmarks (bench/asgi_bench.py):
``BENCH_CAS_MIDDLEWARE=0`` leaves CASMiddleware out, ``BENCH_SQLITE_SHARED=1`` sets SQLite up
for many threads and processes writing at once (busy timeout, IMMEDIATE transactions, WAL).
"""

import os

SECRET_KEY = "bench-not-secret-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "bench_urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",  # CAS_LOGIN_MSG (on by default) needs the messages framework
    "django_cas_ng",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_cas_ng.middleware.CASMiddleware",
]
if os.environ.get("BENCH_CAS_MIDDLEWARE", "1") == "0":
    MIDDLEWARE.remove("django_cas_ng.middleware.CASMiddleware")
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "django_cas_ng.backends.CASBackend",
    # Only the 'floor with contract' view's credentials reach it; listed last, it is never
    # loaded for a login the CAS backend accepts.
    "bench_floor.FloorBackend",
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
LOGGING_CONFIG = None  # keep logging quiet and cheap; no handler is configured

if os.environ.get("BENCH_DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("BENCH_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("BENCH_PG_PORT", "5432"),
            "NAME": os.environ.get("BENCH_PG_NAME", "bench"),
            "USER": os.environ.get("BENCH_PG_USER", "postgres"),
            "PASSWORD": "",
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BENCH_SQLITE_PATH", "/tmp/bench.sqlite3"),
        }
    }
    if os.environ.get("BENCH_SQLITE_SHARED") == "1":
        DATABASES["default"]["OPTIONS"] = {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }

CAS_SERVER_URL = os.environ.get("BENCH_CAS_URL", "http://127.0.0.1:9/cas/")
# django-cas-ng 5.1 handles back-channel Single Logout only for CAS 3 (and SAML): use 3 for both.
CAS_VERSION = "3"
CAS_REDIRECT_URL = "/"
# Every benchmark signs in from one address, hundreds of times a minute: the per-client rate
# limit (docs/sessions.rst) would answer 429 and the figures would measure refusals. 5.1.1
# ignores the setting.
CAS_RATE_LIMITS: dict[str, str] = {}
