"""The ticket -> session mapping: record it at login, end the sessions of a ticket, clean up.

Works with every server-side session engine; lookups go through the indexed ticket digest and
one mapping row per session, written with a single upsert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import log
from .models import SESSION_KEY_MAXLENGTH, ProxyGrantingTicket, SessionTicket, ticket_digest
from .signals import cas_user_logout

#: Unclaimed PGTs (callback received, login never completed) older than this are removed.
UNCLAIMED_PGT_MAX_AGE = timedelta(minutes=5)


def session_store_class() -> type[SessionBase]:
    """The ``SessionStore`` of ``SESSION_ENGINE``, looked up at call time."""
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def mapping_key(session_key: str) -> str:
    """The session key as stored in the mapping (truncated for signed-cookie sessions)."""
    return session_key[:SESSION_KEY_MAXLENGTH]


def get_user_from_session(session: SessionBase) -> Any:
    """The user a session is signed in as, or ``AnonymousUser``."""
    try:
        user_id = session[SESSION_KEY]
        backend = load_backend(session[BACKEND_SESSION_KEY])
    except (KeyError, ImportError):
        return AnonymousUser()
    return backend.get_user(user_id) or AnonymousUser()


def record_session_ticket(session_key: str, ticket: str) -> None:
    """Map ``ticket`` to the session with one upsert (a session has one mapping row)."""
    row = SessionTicket(session_key=mapping_key(session_key), ticket=ticket)
    row.ticket_digest = ticket_digest(ticket)
    db = router.db_for_write(SessionTicket)
    connection = connections[db]
    features = connection.features
    if connection.vendor in ("postgresql", "sqlite") and features.supports_update_conflicts:
        # One autocommit statement; bulk_create would wrap it in BEGIN/COMMIT.
        table = connection.ops.quote_name(SessionTicket._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (session_key, ticket, ticket_digest) VALUES (%s, %s, %s) "  # noqa: S608
                "ON CONFLICT (session_key) DO UPDATE SET ticket = excluded.ticket, "
                "ticket_digest = excluded.ticket_digest",
                [row.session_key, row.ticket, row.ticket_digest],
            )
        return
    if not features.supports_update_conflicts:
        SessionTicket.objects.update_or_create(
            session_key=row.session_key, defaults={"ticket": ticket}
        )
        return
    unique_fields = ["session_key"] if features.supports_update_conflicts_with_target else None
    SessionTicket.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=["ticket", "ticket_digest"],
    )


def ticket_for_session(session_key: str | None) -> str | None:
    """The ticket a session was opened with, if it has a mapping."""
    if not session_key:
        return None
    ticket: str | None = (
        SessionTicket.objects.filter(session_key=mapping_key(session_key))
        .values_list("ticket", flat=True)
        .first()
    )
    return ticket


def forget_session(session_key: str | None) -> None:
    """Delete the mapping and PGTs of one session (manual logout)."""
    if not session_key:
        return
    key = mapping_key(session_key)
    SessionTicket.objects.filter(session_key=key).delete()
    ProxyGrantingTicket.objects.filter(session_key=key).delete()


def end_sessions_for_ticket(ticket: str) -> int:
    """End every session opened with ``ticket``, sending ``cas_user_logout`` for each."""
    keys = list(
        SessionTicket.objects.filter(ticket_digest=ticket_digest(ticket)).values_list(
            "session_key", flat=True
        )
    )
    if not keys:
        log.slo.info("Single Logout for unknown ticket %s: nothing to end", log.redact(ticket))
        return 0
    store_class = session_store_class()
    with transaction.atomic(using=router.db_for_write(SessionTicket)):
        _end_sessions(store_class, keys, ticket)
    return len(keys)


def _end_sessions(store_class: type[SessionBase], keys: list[str], ticket: str) -> None:
    # Plain database sessions are deleted in one statement below; any other engine (cache,
    # cached_db, file, a site's own) deletes its own way.
    plain_db = store_class.__module__ == "django.contrib.sessions.backends.db"
    for key in keys:
        session = store_class(session_key=key)
        user = get_user_from_session(session)
        cas_user_logout.send(sender="slo", user=user, session=session, ticket=ticket)
        if not plain_db:
            session.delete()
        log.slo.info(
            "Single Logout ended a session of %s (ticket %s)",
            user.get_username() or "anonymous",
            log.redact(ticket),
        )
    if plain_db:
        _database_session_model(store_class).objects.filter(session_key__in=keys).delete()
    SessionTicket.objects.filter(session_key__in=keys).delete()
    ProxyGrantingTicket.objects.filter(session_key__in=keys).delete()


@dataclass(frozen=True)
class CleanupResult:
    """What a cleanup removed (or, in a dry run, would remove)."""

    mappings: int = 0
    pgts: int = 0


def clean_deleted_sessions(
    dry_run: bool = False,
    include_mappings: bool = True,
    include_pgts: bool = True,
    batch_size: int = 5000,
) -> CleanupResult:
    """Remove mappings and PGTs whose session is gone, in bounded batches (flat memory)."""
    mappings = _clean(SessionTicket, dry_run, batch_size) if include_mappings else 0
    pgts = 0
    if include_pgts:
        pgts = _clean(ProxyGrantingTicket, dry_run, batch_size)
        unclaimed = ProxyGrantingTicket.objects.filter(
            session_key__isnull=True, date__lt=timezone.now() - UNCLAIMED_PGT_MAX_AGE
        )
        pgts += unclaimed.count() if dry_run else unclaimed.delete()[0]
    return CleanupResult(mappings=mappings, pgts=pgts)


def _clean(model: Any, dry_run: bool, batch_size: int) -> int:
    removed = 0
    for ids, keys in _id_batches(model, batch_size):
        stale = _stale_ids(model, ids, keys)
        if stale:
            removed += len(stale) if dry_run else model.objects.filter(id__in=stale).delete()[0]
    return removed


def _id_batches(model: Any, batch_size: int) -> Iterator[tuple[list[int], list[str]]]:
    """Walk the table by primary key, ``batch_size`` rows at a time."""
    last_id = 0
    rows = model.objects.exclude(session_key__isnull=True).order_by("id")
    while True:
        batch = list(rows.filter(id__gt=last_id).values_list("id", "session_key")[:batch_size])
        if not batch:
            return
        last_id = batch[-1][0]
        yield [row[0] for row in batch], [row[1] for row in batch]


def _stale_ids(model: Any, ids: list[int], keys: list[str]) -> list[int]:
    store_class = session_store_class()
    db_model = _database_session_model(store_class)
    if db_model is not None:
        live = db_model.objects.filter(
            session_key=OuterRef("session_key"), expire_date__gt=timezone.now()
        )
        return list(
            model.objects.filter(id__in=ids).exclude(Exists(live)).values_list("id", flat=True)
        )
    alive = _live_keys(store_class, keys)
    return [row_id for row_id, key in zip(ids, keys, strict=True) if key not in alive]


def _database_session_model(store_class: type[SessionBase]) -> Any:
    """The session model when sessions live in the database (``db``, ``cached_db``)."""
    from django.contrib.sessions.backends.db import SessionStore as DBStore

    if issubclass(store_class, DBStore):
        return store_class.get_model_class()
    return None


def _live_keys(store_class: type[SessionBase], keys: Iterable[str]) -> set[str]:
    from django.contrib.sessions.backends.cache import SessionStore as CacheStore

    keys = list(keys)
    if issubclass(store_class, CacheStore):
        from django.core.cache import caches

        prefix = store_class.cache_key_prefix
        found = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + key for key in keys])
        return {key[len(prefix) :] for key in found}
    store = store_class()
    return {key for key in keys if store.exists(key)}
