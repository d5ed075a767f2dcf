"""``manage.py cas_link_users SERVER_URL``: claim a single-server site's accounts for one of its
CAS servers before it starts using several (see docs/identities.rst)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_cas_ng._internal.identities import link_users
from django_cas_ng._internal.tenancy import is_server_url
from django_cas_ng.models import CASIdentity


class Command(BaseCommand):
    help = (
        "Link every user without a CAS identity to SERVER_URL (by username), and move the "
        "identities of the site's only server to it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("server_url", help="The CAS server URL, as CAS_SERVER_URL gives it.")
        parser.add_argument("--dry-run", action="store_true", help="Count; change nothing.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Link even though identities of other servers exist (the site already has "
            "several servers).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = options["server_url"]
        if not is_server_url(server) or server.startswith("/"):
            raise CommandError(f"{server!r} is not an absolute http(s) URL")
        server = server if server.endswith("/") else server + "/"
        others = CASIdentity.objects.exclude(server_url__in=("", server))
        if not options["force"] and others.exists():
            # Every local account without an identity (a superuser made by createsuperuser,
            # say) would become that server's to sign in as.
            raise CommandError(
                "CAS identities of other servers exist: this site already has several CAS "
                f"servers, and linking every account without an identity to {server} would let "
                "that server sign in as each of them, local superusers included. Link chosen "
                "accounts in the admin, or pass --force."
            )
        moved, linked = link_users(server, dry_run=options["dry_run"])
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{linked} user(s) linked by name and {moved} identity(ies) moved to {server} "
            f"({verb} changed)."
        )
