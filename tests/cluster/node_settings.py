"""Settings of a cluster node: PostgreSQL for data, Redis for sessions, a real CAS server."""

import json
import os

from tests.settings import *  # noqa: F403

DEBUG = False
DATABASES = {"default": json.loads(os.environ["CLUSTER_DATABASE"])}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CLUSTER_REDIS_URL"],
    }
}
SESSION_ENGINE = os.environ.get("CLUSTER_SESSION_ENGINE", "django.contrib.sessions.backends.cache")
CAS_SERVER_URL = os.environ["CLUSTER_CAS_URL"]
CAS_VERSION = "3"
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_cas_ng": {"handlers": ["console"], "level": "INFO"}},
}
