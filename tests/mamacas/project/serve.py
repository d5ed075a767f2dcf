"""Migrate a fresh database, create config.json's users, then serve on config.json's port."""

import os
import sys

import django
from django.core.management import call_command

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
for name, password in settings.CONFIG["users"].items():
    get_user_model().objects.create_user(name, password=password)
call_command("runserver", f"127.0.0.1:{settings.CONFIG['port']}", use_reloader=False)
