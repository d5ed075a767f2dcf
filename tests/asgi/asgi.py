"""ASGI entry point of the test site: ``uvicorn tests.asgi.asgi:application``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.asgi.settings")
application = get_asgi_application()
