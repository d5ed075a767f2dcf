"""``manage.py cas_link_users SERVER_URL``: claim a single-server site's accounts for one of its
CAS servers before it starts using several (see docs/identities.rst)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_cas_ng._internal.identities import link_users
from django_cas_ng._internal.tenancy import is_server_url


class Command(BaseCommand):
    help = (
        "Link every user without a CAS identity to SERVER_URL (by username), and move the "
        "identities of the site's only server to it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("server_url", help="The CAS server URL, as CAS_SERVER_URL gives it.")
        parser.add_argument("--dry-run", action="store_true", help="Count; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        server = options["server_url"]
        if not is_server_url(server) or server.startswith("/"):
            raise CommandError(f"{server!r} is not an absolute http(s) URL")
        server = server if server.endswith("/") else server + "/"
        moved, linked = link_users(server, dry_run=options["dry_run"])
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{linked} user(s) linked by name and {moved} identity(ies) moved to {server} "
            f"({verb} changed)."
        )
