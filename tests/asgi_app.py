"""ASGI entry point of the test project for a real ASGI server (settings ``tests.asgi_settings``)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.asgi_settings")
application = get_asgi_application()
