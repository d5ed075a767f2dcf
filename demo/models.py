"""The event log: one row per signal the demo's receivers saw.

Kept in the database rather than in a session because a Single Logout arrives as a request
from the CAS server, without the browser's cookies.
"""

from django.db import models


class SignalEvent(models.Model):
    """One ``cas_user_authenticated`` or ``cas_user_logout`` call, as its receiver saw it."""

    AUTHENTICATED = "cas_user_authenticated"
    LOGOUT = "cas_user_logout"

    at = models.DateTimeField(auto_now_add=True)
    signal = models.CharField(
        max_length=32, choices=[(AUTHENTICATED, AUTHENTICATED), (LOGOUT, LOGOUT)]
    )
    sender = models.CharField(max_length=200)
    user = models.CharField(max_length=150, blank=True)
    created = models.BooleanField(null=True)
    attributes = models.JSONField(null=True, blank=True)
    ticket = models.CharField(max_length=1024, blank=True)
    service = models.CharField(max_length=2048, blank=True)
    session_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.signal} ({self.sender}) {self.user}"

    @property
    def sender_label(self) -> str:
        """``manual``/``slo``, or the backend's class name (the full path is in ``sender``)."""
        return self.sender.rpartition(".")[2]

    @property
    def short_ticket(self) -> str:
        """Enough of the ticket to match it across rows, not enough to replay it."""
        prefix, _, rest = self.ticket.partition("-")
        return f"{prefix}-{rest[:6]}…" if rest else self.ticket[:8]

    @property
    def attribute_lines(self) -> list[str]:
        """``name: value`` per released attribute, lists joined with commas."""
        items = sorted((self.attributes or {}).items())
        return [
            f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in items
        ]

    @property
    def short_session(self) -> str:
        return f"{self.session_key[:8]}…" if self.session_key else ""
