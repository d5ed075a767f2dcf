"""``SessionTicket`` (service ticket -> Django session) and ``ProxyGrantingTicket``, with the
database work on them as queryset methods."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import F, Func
from django.db.models.constants import OnConflict
from django.http import HttpRequest
from django.utils import timezone

from ._internal.observe import hide_secrets
from ._internal.session_store import live_keys
from ._internal.tenancy import request_config
from .exceptions import ProxyError

__all__ = [
    "SESSION_KEY_MAXLENGTH",
    "CASIdentity",
    "ProxyError",
    "ProxyGrantingTicket",
    "SessionTicket",
    "UsedTicket",
]

#: Longest session key stored; longer keys (signed-cookie sessions) are truncated to it.
SESSION_KEY_MAXLENGTH = 736
#: Characters of the ticket the lookup index holds: within every database's key size limit
#: (MySQL's 3072 bytes in utf8mb4), and far longer than the random part of any real ticket.
TICKET_PREFIX_LENGTH = 255
#: Unclaimed PGTs (callback received, login never completed) older than this are removed.
UNCLAIMED_PGT_MAX_AGE = timedelta(minutes=5)
#: Most expired unclaimed PGTs one callback removes: a flood's backlog slows no callback.
CALLBACK_SWEEP_LIMIT = 100


def mapping_key(session_key: str) -> str:
    """The session key as stored in the mapping (truncated for signed-cookie sessions)."""
    return session_key[:SESSION_KEY_MAXLENGTH]


def ticket_prefix() -> Func:
    """The indexed expression Single Logout looks tickets up by.

    Literal arguments, not query parameters: a database uses an expression index only for
    the very same expression.
    """
    return Func(F("ticket"), template=f"SUBSTR(%(expressions)s, 1, {TICKET_PREFIX_LENGTH})")


def remove_rows_of_ended_sessions(
    rows: models.QuerySet[Any], dry_run: bool, batch_size: int
) -> int:
    """Delete (or, in a dry run, count) the rows whose session is gone or expired."""
    removed = 0
    for ids, keys in _id_batches(rows, batch_size):
        live = live_keys(keys)
        stale = [row_id for row_id, key in zip(ids, keys, strict=True) if key not in live]
        if stale:
            removed += len(stale) if dry_run else rows.filter(id__in=stale).delete()[0]
    return removed


def _id_batches(
    rows: models.QuerySet[Any], batch_size: int
) -> Iterator[tuple[list[int], list[str]]]:
    """Walk the rows that have a session by primary key, ``batch_size`` at a time."""
    last_id = 0
    rows = rows.exclude(session_key__isnull=True).order_by("id")
    while True:
        batch = list(rows.filter(id__gt=last_id).values_list("id", "session_key")[:batch_size])
        if not batch:
            return
        last_id = batch[-1][0]
        yield [row[0] for row in batch], [row[1] for row in batch]


class SessionTicketQuerySet(models.QuerySet["SessionTicket"]):
    """Mapping rows, found by ticket or by session."""

    def remove_ended(self, dry_run: bool = False, batch_size: int = 5000) -> int:
        """Delete the mappings whose session is gone or expired; returns how many."""
        return remove_rows_of_ended_sessions(self, dry_run, batch_size)

    def for_tickets(self, tickets: Iterable[str]) -> SessionTicketQuerySet:
        """Rows of these tickets, in one indexed query, whatever wrote them (ORM or raw SQL)."""
        wanted = set(tickets)
        return self.alias(prefix=ticket_prefix()).filter(
            prefix__in={ticket[:TICKET_PREFIX_LENGTH] for ticket in wanted}, ticket__in=wanted
        )

    def for_sessions(self, session_keys: Iterable[str]) -> SessionTicketQuerySet:
        """Rows of these sessions."""
        return self.filter(session_key__in=list(session_keys))

    def record(self, session_key: str, ticket: str, server_url: str | None = None) -> None:
        """Map ``ticket`` (issued by ``server_url``, when known) to the session: one upsert
        where the database has one (a session has one mapping row), else update-or-create."""
        values = {"ticket": ticket}
        if server_url is not None:
            values["server_url"] = server_url
        using = getattr(self, "_db", None) or router.db_for_write(self.model)
        connection = connections[using]
        features = connection.features
        if not features.supports_update_conflicts:
            self.update_or_create(session_key=session_key, defaults=values)
            return
        if connection.vendor in ("postgresql", "sqlite"):
            # The statement the ORM would build, without building it at every login.
            with connection.cursor() as cursor:
                cursor.execute(*_upsert_sql(connection, session_key, values))
            return
        # The one INSERT ... ON CONFLICT that bulk_create would run, without the transaction
        # bulk_create wraps it in: BEGIN and COMMIT would be a login's two extra statements.
        # _insert is what Model.save and bulk_create call; django-stubs does not declare it.
        meta = self.model._meta
        with_target = features.supports_update_conflicts_with_target
        self._insert(  # type: ignore[attr-defined]
            [SessionTicket(session_key=session_key, **values)],
            fields=[meta.get_field(name) for name in ("session_key", *values)],
            on_conflict=OnConflict.UPDATE,
            update_fields=[meta.get_field(name) for name in values],
            unique_fields=[meta.get_field("session_key")] if with_target else None,
        )

    def server_of(self, session_key: str | None) -> str | None:
        """The CAS server that issued the session's ticket, when recorded (several servers)."""
        if not session_key:
            return None
        return (
            self.filter(session_key=mapping_key(session_key))
            .values_list("server_url", flat=True)
            .first()
        )

    def issued_by(self, server_url: str | None) -> SessionTicketQuerySet:
        """Rows of tickets ``server_url`` issued, and rows whose server is not recorded."""
        if server_url is None:
            return self
        return self.filter(models.Q(server_url__isnull=True) | models.Q(server_url=server_url))


#: The mapping upsert's statement by (database vendor, columns written), built on first use.
_upsert_statements: dict[tuple[str, tuple[str, ...]], str] = {}


def _upsert_sql(connection: Any, session_key: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """``INSERT ... ON CONFLICT (session_key) DO UPDATE`` of a mapping row, for the databases
    that write it so (PostgreSQL, SQLite); only quoted names of our own table are formatted in."""
    key = (connection.vendor, tuple(values))
    sql = _upsert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        table = quote(SessionTicket._meta.db_table)
        columns = ", ".join(quote(name) for name in ("session_key", *values))
        updates = ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in values)
        placeholders = ", ".join(["%s"] * (len(values) + 1))
        sql = _upsert_statements[key] = (
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            f"ON CONFLICT ({quote('session_key')}) DO UPDATE SET {updates}"
        )
    return sql, [session_key, *values.values()]


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
        cls.objects.remove_ended()


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

    def sweep_expired(self) -> int:
        """Delete up to :data:`CALLBACK_SWEEP_LIMIT` unclaimed PGTs past their use: one
        statement, found through ``cas_ng_pgt_unclaimed_idx``; returns how many."""
        expired = self.unclaimed(older_than=timezone.now() - UNCLAIMED_PGT_MAX_AGE)
        if connections[router.db_for_write(self.model)].features.update_can_self_select:
            # MySQL cannot limit a subquery of the table it deletes from: the index alone.
            batch = expired.order_by().values("pk")[:CALLBACK_SWEEP_LIMIT]
            expired = self.filter(pk__in=batch)
        return expired.delete()[0]

    def remove_ended(self, dry_run: bool = False, batch_size: int = 5000) -> int:
        """Delete the PGTs whose session is gone or expired and the unclaimed ones past their
        use; returns how many."""
        removed = remove_rows_of_ended_sessions(self, dry_run, batch_size)
        unclaimed = self.unclaimed(older_than=timezone.now() - UNCLAIMED_PGT_MAX_AGE)
        return removed + (unclaimed.count() if dry_run else unclaimed.delete()[0])

    def claim(self, pgtiou: str, user: Any, key: str) -> bool:
        """Link the newest unclaimed PGT of ``pgtiou`` to (user, session); True if one is linked.

        Two requests of one session may claim at once (the callback came late and both want a
        proxy ticket). The unclaimed rows are locked, so the second waits and then finds them
        claimed; on a database without row locks, the claimed row is never deleted and the
        update only takes a row still unclaimed. Either way the loser reports the winner's PGT.
        """
        unclaimed = self.unclaimed(pgtiou)
        session_pgts = self.filter(user=user, session_key=key)
        with transaction.atomic(using=router.db_for_write(self.model)):
            # No LIMIT: some databases cannot lock with one, and an IOU has a row or two.
            pks = list(unclaimed.select_for_update().order_by("-pk").values_list("pk", flat=True))
            if not pks:
                return bool(session_pgts.exists())
            newest = pks[0]
            # One PGT per (session, user): the unique constraint of the 5.1 schema.
            session_pgts.exclude(pk=newest).delete()
            if not unclaimed.filter(pk=newest).update(user=user, session_key=key):
                return bool(session_pgts.exists())
            unclaimed.exclude(pk=newest).delete()
        return True

    def pgt_of(self, request: HttpRequest) -> str | None:
        """The PGT linked to this request's session and user, claiming one that came late."""
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or not user.is_authenticated or session is None or not session.session_key:
            return None
        key = mapping_key(session.session_key)
        pgts = self.filter(user=user, session_key=key).values_list("pgt", flat=True)
        pgt: str | None = pgts.first()
        pgtiou = session.get("pgtiou")
        proxying = request_config(request).proxy_callback
        if pgt is None and pgtiou and proxying and self.claim(pgtiou, user, key):
            # The callback reached us after the login had looked for it (a slow node or server).
            pgt = pgts.first()
        return pgt

    @hide_secrets
    def proxy_ticket(self, request: HttpRequest, service: str) -> str:
        """A proxy ticket for ``service`` on behalf of this session's user, or
        :class:`ProxyError` (``args`` are ``(code, message)``)."""
        pgt = self.pgt_of(request)
        if not pgt:
            raise ProxyError("INVALID_TICKET", "No proxy ticket found for this HttpRequest object")
        # The PGT is only good at the server that issued the session's ticket.
        issuer = SessionTicket.objects.server_of(request.session.session_key)
        # Here, not at the top: loading the models never loads the HTTP stack.
        from ._internal.pgt import exchange_pgt

        return exchange_pgt(request, pgt, service, issuer)


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
        # Unclaimed rows (session_key NULL) past their use, as each callback looks them up.
        indexes = [models.Index(fields=["session_key", "date"], name="cas_ng_pgt_unclaimed_idx")]

    def __str__(self) -> str:
        return f"ProxyGrantingTicket({self.pk})"

    @classmethod
    def clean_deleted_sessions(cls) -> None:
        """Delete PGTs whose session no longer exists, and unclaimed ones past their use."""
        cls.objects.remove_ended()

    @classmethod
    def retrieve_pt(cls, request: HttpRequest, service: str) -> str:
        """A proxy ticket for ``service`` on behalf of the signed-in user, or ProxyError."""
        return cls.objects.proxy_ticket(request, service)


class CASIdentity(models.Model):
    """Who a CAS server says a local user is: (server, id) -> user, as OIDC's (iss, sub).

    Used only on a site with several CAS servers or a stable id attribute (see
    docs/identities.rst); a single-server site finds users by name, as 5.1 did.
    """

    #: The server that names the user; empty on a single-server site (its only server).
    server_url = models.CharField(max_length=255, blank=True)
    #: The CAS name, or the value of ``CAS_USER_ID_ATTRIBUTE`` when a site sets it.
    uid = models.CharField(max_length=255)
    #: The CAS name last seen (differs from ``uid`` with a stable id).
    name = models.CharField(max_length=255, blank=True)
    #: True for a row linked by name ahead of time (``cas_link_users``) whose id is not yet known.
    linked_by_name = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="cas_identities", on_delete=models.CASCADE
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "CAS identity"
        verbose_name_plural = "CAS identities"
        constraints = [
            models.UniqueConstraint(fields=["server_url", "uid"], name="cas_ng_identity_unique")
        ]

    def __str__(self) -> str:
        return f"CASIdentity({self.server_url or '-'}, {self.uid})"


#: Databases whose tables and columns of this app were found complete (checked once each).
_schema_complete: set[str] = set()


def missing_schema() -> list[str]:
    """The tables (``table``) and columns (``table.column``) of this app its databases lack:
    ``manage.py migrate`` was not run. Empty once complete, and not asked again after that."""
    missing: list[str] = []
    for model in (SessionTicket, ProxyGrantingTicket, CASIdentity):
        alias = router.db_for_write(model)
        if alias in _schema_complete:
            continue
        connection = connections[alias]
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if table not in connection.introspection.table_names(cursor):
                missing.append(table)
                continue
            present = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
        missing += [
            f"{table}.{f.column}"
            for f in model._meta.local_concrete_fields
            if f.column not in present
        ]
    if not missing:
        _schema_complete.update(
            router.db_for_write(m) for m in (SessionTicket, ProxyGrantingTicket, CASIdentity)
        )
    return missing


class UsedTicket(models.Model):
    """A ticket this site accepted (a keyed digest, never the ticket), refused if presented
    again until ``expires`` (:mod:`django_cas_ng._internal.replay`)."""

    digest = models.CharField(max_length=64, primary_key=True)
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"UsedTicket({self.digest[:8]}…)"
