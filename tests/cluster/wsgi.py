"""WSGI entry point of a cluster node."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.cluster.node_settings")
application = get_wsgi_application()
