"""``manage.py django_cas_ng_clean_sessions``: drop mappings and PGTs of ended sessions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_cas_ng._internal import replay
from django_cas_ng._internal.sessions import clean_deleted_sessions


class Command(BaseCommand):
    help = (
        "Delete SessionTicket and ProxyGrantingTicket rows whose session no longer exists, "
        "and used-ticket records past CAS_REPLAY_WINDOW."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; remove nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows examined per batch (default 5000)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = clean_deleted_sessions(
            dry_run=options["dry_run"], batch_size=options["batch_size"]
        )
        verb = "Would remove" if options["dry_run"] else "Removed"
        self.stdout.write(
            f"{verb} {result.mappings} session mapping(s) and {result.pgts} proxy granting "
            "ticket(s)."
        )
        used = replay.remove_expired(dry_run=options["dry_run"])
        self.stdout.write(f"{verb} {used} used-ticket record(s) past CAS_REPLAY_WINDOW.")
