"""The ``django_cas_ng.*`` logger hierarchy and the rule that secrets never reach a log line."""

from __future__ import annotations

import logging

login = logging.getLogger("django_cas_ng.login")
logout = logging.getLogger("django_cas_ng.logout")
slo = logging.getLogger("django_cas_ng.slo")
client = logging.getLogger("django_cas_ng.client")
proxy = logging.getLogger("django_cas_ng.proxy")
redirects = logging.getLogger("django_cas_ng.redirects")


def mask(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by its redacted form."""
    return text.replace(secret, redact(secret)) if secret else text


def redact(ticket: str | None) -> str:
    """Show enough of a ticket to correlate log lines, never enough to replay it."""
    if not ticket:
        return "-"
    prefix, _, rest = ticket.partition("-")
    if not rest:
        return "*" * min(len(ticket), 8)
    return f"{prefix}-{rest[:4]}…"
