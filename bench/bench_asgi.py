"""ASGI entry point of the benchmark site (``uvicorn bench_asgi:application``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
application = get_asgi_application()
