"""``SessionTicket`` (service ticket -> Django session) and ``ProxyGrantingTicket``."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from .exceptions import ProxyError

__all__ = ["SESSION_KEY_MAXLENGTH", "ProxyError", "ProxyGrantingTicket", "SessionTicket"]

#: Longest session key stored; longer keys (signed-cookie sessions) are truncated to it.
SESSION_KEY_MAXLENGTH = 736


def ticket_digest(ticket: str) -> str:
    """Fixed-length key for a ticket, so the lookup index fits every database's key limit."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


class SessionTicket(models.Model):
    """The service ticket a session was opened with: Single Logout finds the session by it."""

    session_key = models.CharField(max_length=SESSION_KEY_MAXLENGTH, unique=True)
    ticket = models.CharField(max_length=1024)
    ticket_digest = models.CharField(max_length=64, db_index=True, default="", editable=False)

    def __str__(self) -> str:
        return f"SessionTicket({self.session_key[:8]}…)"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.ticket_digest = ticket_digest(self.ticket)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "ticket" in update_fields:
            kwargs["update_fields"] = {*update_fields, "ticket_digest"}
        super().save(*args, **kwargs)

    @classmethod
    def clean_deleted_sessions(cls) -> None:
        """Delete mappings whose session no longer exists."""
        from .sessions import clean_deleted_sessions

        clean_deleted_sessions(include_pgts=False)


class ProxyGrantingTicket(models.Model):
    """A PGT received on the proxy callback, linked to the session and user at login."""

    # Nullable strings are the 5.1 schema, kept so existing databases need no rewrite.
    session_key = models.CharField(  # noqa: DJ001
        max_length=SESSION_KEY_MAXLENGTH, blank=True, null=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="+", null=True, blank=True, on_delete=models.CASCADE
    )
    pgtiou = models.CharField(max_length=255, null=True, blank=True, db_index=True)  # noqa: DJ001
    pgt = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    date = models.DateTimeField(auto_now_add=True)

    class Meta:
        unique_together = ("session_key", "user")

    def __str__(self) -> str:
        return f"ProxyGrantingTicket({self.pk})"

    @classmethod
    def clean_deleted_sessions(cls) -> None:
        """Delete PGTs whose session no longer exists, and unclaimed ones past their use."""
        from .sessions import clean_deleted_sessions

        clean_deleted_sessions(include_mappings=False)

    @classmethod
    def retrieve_pt(cls, request: HttpRequest, service: str) -> str:
        """A proxy ticket for ``service`` on behalf of the signed-in user, or ProxyError."""
        from .proxy import retrieve_proxy_ticket

        return retrieve_proxy_ticket(request, service)
