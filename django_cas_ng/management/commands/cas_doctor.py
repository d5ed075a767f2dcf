"""``manage.py cas_doctor``: check this site's CAS set-up from the inside and print a report."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_cas_ng import doctor
from django_cas_ng.conf import is_http_url

LABELS = {
    doctor.Status.OK: "ok",
    doctor.Status.INFO: "info",
    doctor.Status.WARNING: "WARNING",
    doctor.Status.ERROR: "ERROR",
}


class Command(BaseCommand):
    help = (
        "Check the CAS set-up of this site: the CAS server answers in time over verified TLS, "
        "the validation endpoint of CAS_VERSION, the service URL, Single Logout, the proxy "
        "callback and the system checks. Exits non-zero on errors."
    )
    # The system checks are part of the report; an error there must not stop the report.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--site-url",
            help="Public URL of this site (e.g. https://app.example.org), to show the service "
            "URL; defaults to CAS_ROOT_PROXIED_AS.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        site_url = options.get("site_url")
        if site_url and not is_http_url(site_url):
            # Without a scheme the host would be read as a path: a baffling ALLOWED_HOSTS error.
            raise CommandError(
                f"--site-url takes the site's public URL with its scheme, such as "
                f"https://app.example.org (got {site_url!r})."
            )
        results = doctor.run(site_url=site_url)
        width = max(len(label) for label in LABELS.values())
        for result in results:
            label = LABELS[result.status].ljust(width)
            line = f"[{label}] {result.check}: {result.message}"
            self.stdout.write(self._style(result.status)(line))
            if result.hint and result.status is not doctor.Status.OK:
                self.stdout.write(f"{' ' * (width + 3)}hint: {result.hint}")
        counts = {status: 0 for status in doctor.Status}
        for result in results:
            counts[result.status] += 1
        summary = (
            f"{counts[doctor.Status.ERROR]} error(s), {counts[doctor.Status.WARNING]} "
            f"warning(s), {counts[doctor.Status.OK]} ok"
        )
        self.stdout.write(summary)
        if doctor.has_errors(results):
            raise CommandError(f"cas_doctor found problems: {summary}", returncode=1)

    def _style(self, status: doctor.Status) -> Any:
        if status is doctor.Status.ERROR:
            return self.style.ERROR
        if status is doctor.Status.WARNING:
            return self.style.WARNING
        if status is doctor.Status.OK:
            return self.style.SUCCESS
        return str
