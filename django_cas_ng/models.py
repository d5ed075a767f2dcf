"""``SessionTicket`` (service ticket -> Django session) and ``ProxyGrantingTicket``, with the
database work on them as queryset methods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connections, models, router
from django.db.models import F, Func
from django.http import HttpRequest

from .exceptions import ProxyError

__all__ = ["SESSION_KEY_MAXLENGTH", "ProxyError", "ProxyGrantingTicket", "SessionTicket"]

#: Longest session key stored; longer keys (signed-cookie sessions) are truncated to it.
SESSION_KEY_MAXLENGTH = 736
#: Characters of the ticket the lookup index holds: within every database's key size limit
#: (MySQL's 3072 bytes in utf8mb4), and far longer than the random part of any real ticket.
TICKET_PREFIX_LENGTH = 255


def ticket_prefix() -> Func:
    """The indexed expression Single Logout looks tickets up by.

    Literal arguments, not query parameters: a database uses an expression index only for
    the very same expression.
    """
    return Func(F("ticket"), template=f"SUBSTR(%(expressions)s, 1, {TICKET_PREFIX_LENGTH})")


class SessionTicketQuerySet(models.QuerySet["SessionTicket"]):
    """Mapping rows, found by ticket or by session."""

    def for_tickets(self, tickets: Iterable[str]) -> SessionTicketQuerySet:
        """Rows of these tickets, in one indexed query, whatever wrote them (ORM or raw SQL)."""
        wanted = set(tickets)
        rows: SessionTicketQuerySet = self.alias(prefix=ticket_prefix()).filter(
            prefix__in={ticket[:TICKET_PREFIX_LENGTH] for ticket in wanted}, ticket__in=wanted
        )
        return rows

    def for_sessions(self, session_keys: Iterable[str]) -> SessionTicketQuerySet:
        """Rows of these sessions."""
        rows: SessionTicketQuerySet = self.filter(session_key__in=list(session_keys))
        return rows

    def record(self, session_key: str, ticket: str, server_url: str | None = None) -> None:
        """Map ``ticket`` (issued by ``server_url``, when known) to the session: one upsert
        where the database has one (a session has one mapping row), else update-or-create."""
        values = {"ticket": ticket}
        if server_url is not None:
            values["server_url"] = server_url
        features = connections[router.db_for_write(self.model)].features
        if not features.supports_update_conflicts:
            self.update_or_create(session_key=session_key, defaults=values)
            return
        with_target = features.supports_update_conflicts_with_target
        self.bulk_create(
            [SessionTicket(session_key=session_key, **values)],
            update_conflicts=True,
            unique_fields=["session_key"] if with_target else None,
            update_fields=list(values),
        )

    def issued_by(self, server_url: str | None) -> SessionTicketQuerySet:
        """Rows of tickets ``server_url`` issued, and rows whose server is not recorded."""
        if server_url is None:
            return self
        rows: SessionTicketQuerySet = self.filter(
            models.Q(server_url__isnull=True) | models.Q(server_url=server_url)
        )
        return rows


class SessionTicket(models.Model):
    """The service ticket a session was opened with: Single Logout finds the session by it."""

    session_key = models.CharField(max_length=SESSION_KEY_MAXLENGTH, unique=True)
    ticket = models.CharField(max_length=1024)
    #: The CAS server that issued the ticket, recorded when a site has several (else NULL).
    server_url = models.CharField(max_length=1024, null=True, blank=True)  # noqa: DJ001

    objects = SessionTicketQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(ticket_prefix(), name="cas_ng_ticket_prefix_idx")]

    def __str__(self) -> str:
        return f"SessionTicket({self.session_key[:8]}…)"

    @classmethod
    def clean_deleted_sessions(cls) -> None:
        """Delete mappings whose session no longer exists."""
        from .sessions import clean_deleted_sessions

        clean_deleted_sessions(include_pgts=False)


class ProxyGrantingTicketQuerySet(models.QuerySet["ProxyGrantingTicket"]):
    """PGTs, claimed (linked to a session) or not yet."""

    def unclaimed(
        self, pgtiou: str | None = None, older_than: datetime | None = None
    ) -> ProxyGrantingTicketQuerySet:
        """PGTs no login has claimed yet, optionally of one IOU or received before a time."""
        rows: ProxyGrantingTicketQuerySet = self.filter(session_key__isnull=True)
        if pgtiou is not None:
            rows = rows.filter(pgtiou=pgtiou)
        if older_than is not None:
            rows = rows.filter(date__lt=older_than)
        return rows


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

    objects = ProxyGrantingTicketQuerySet.as_manager()

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
