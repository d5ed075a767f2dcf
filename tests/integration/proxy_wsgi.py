"""WSGI entry point of the apps of the proxy end-to-end test."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integration.proxy_settings")
application = get_wsgi_application()
