"""The ticket -> session mapping: record it at login, keep it in step with the session key, end
the sessions of a ticket, clean up.

Works with every server-side session engine; one mapping row per session, looked up through
an index on the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import router, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import log
from .models import SESSION_KEY_MAXLENGTH, ProxyGrantingTicket, SessionTicket
from .signals import cas_user_logout

#: Unclaimed PGTs (callback received, login never completed) older than this are removed.
UNCLAIMED_PGT_MAX_AGE = timedelta(minutes=5)
#: Session entries remembering the login's ticket and the session key it is mapped under.
TICKET_SESSION_KEY = "_cas_ng_ticket"
MAPPED_KEY_SESSION_KEY = "_cas_ng_mapped_key"


def session_store_class() -> type[SessionBase]:
    """The ``SessionStore`` of ``SESSION_ENGINE``, looked up at call time."""
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def database_session_model(
    store_class: type[SessionBase], *, sole_store: bool = False
) -> type[AbstractBaseSession] | None:
    """The session model when ``store_class`` keeps sessions in the database (``db``,
    ``cached_db`` and their subclasses); with ``sole_store``, only when no cache holds them too."""
    from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
    from django.contrib.sessions.backends.db import SessionStore as DBStore

    if not issubclass(store_class, DBStore):
        return None
    if sole_store and issubclass(store_class, CachedDBStore):
        return None
    return store_class.get_model_class()


def mapping_key(session_key: str) -> str:
    """The session key as stored in the mapping (truncated for signed-cookie sessions)."""
    return session_key[:SESSION_KEY_MAXLENGTH]


def get_user_from_session(session: SessionBase) -> AbstractBaseUser | AnonymousUser:
    """The user a session is signed in as, or ``AnonymousUser``."""
    try:
        user_id = session[SESSION_KEY]
        backend = load_backend(session[BACKEND_SESSION_KEY])
    except (KeyError, ImportError):
        return AnonymousUser()
    user: AbstractBaseUser | None = backend.get_user(user_id)
    return user or AnonymousUser()


def record_session_ticket(session_key: str, ticket: str, server_url: str | None = None) -> None:
    """Map ``ticket`` to the session (one row per session), with the server that issued it."""
    SessionTicket.objects.record(mapping_key(session_key), ticket, server_url)


def remember_ticket(session: SessionBase, ticket: str) -> None:
    """Note in the session the ticket it was opened with, so its mapping can follow a new key."""
    session[TICKET_SESSION_KEY] = ticket
    session.pop(MAPPED_KEY_SESSION_KEY, None)


def follow_session_key(request: HttpRequest) -> None:
    """Re-record the mapping when the session key changed since it was recorded.

    ``cycle_key()`` (called by ``login`` and ``update_session_auth_hash``) gives the session a
    new key; Single Logout must find the new one. Costs nothing unless the session changed.
    """
    session: SessionBase | None = getattr(request, "session", None)
    if session is None or not session.modified or not session.session_key:
        return
    ticket = session.get(TICKET_SESSION_KEY)
    key = mapping_key(session.session_key)
    old_key = session.get(MAPPED_KEY_SESSION_KEY)
    if not ticket or old_key == key:
        return
    record_session_ticket(key, ticket, server_for_session(old_key))
    if old_key:
        SessionTicket.objects.filter(session_key=old_key).delete()
        ProxyGrantingTicket.objects.filter(session_key=old_key).update(session_key=key)
    session[MAPPED_KEY_SESSION_KEY] = key


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


def server_for_session(session_key: str | None) -> str | None:
    """The CAS server that issued the session's ticket, when recorded (several servers)."""
    if not session_key:
        return None
    server: str | None = (
        SessionTicket.objects.filter(session_key=mapping_key(session_key))
        .values_list("server_url", flat=True)
        .first()
    )
    return server


def forget_session(session_key: str | None) -> None:
    """Delete the mapping and PGTs of one session (manual logout)."""
    if not session_key:
        return
    key = mapping_key(session_key)
    SessionTicket.objects.filter(session_key=key).delete()
    ProxyGrantingTicket.objects.filter(session_key=key).delete()


def end_sessions_for_tickets(tickets: Iterable[str], server_url: str | None = None) -> int:
    """End every session opened with one of ``tickets`` (one lookup query for all of them),
    sending ``cas_user_logout`` for each; returns how many live sessions were ended.

    With ``server_url`` (several CAS servers), only tickets that server issued, or whose
    server is not recorded, are ended.
    """
    tickets = list(tickets)
    found = SessionTicket.objects.for_tickets(tickets).issued_by(server_url)
    rows = dict(found.values_list("session_key", "ticket"))
    if not rows:
        log.slo.info(
            "Single Logout for unknown ticket(s) %s: nothing to end",
            ", ".join(log.redact(ticket) for ticket in tickets),
        )
        return 0
    with transaction.atomic(using=router.db_for_write(SessionTicket)):
        return _end_sessions(session_store_class(), rows)


def end_sessions_for_ticket(ticket: str) -> int:
    """End every session opened with ``ticket``; returns how many live sessions were ended."""
    return end_sessions_for_tickets([ticket])


def _end_sessions(store_class: type[SessionBase], rows: Mapping[str, str]) -> int:
    # Sessions only in database rows are deleted in one statement below; any other engine
    # (cache, cached_db, file, a site's own) deletes its own way.
    rows_only = database_session_model(store_class, sole_store=True)
    ended = 0
    for key, ticket in rows.items():
        session = store_class(session_key=key)
        user = get_user_from_session(session)
        if session.session_key is None:
            continue  # loading found no live session under this key
        ended += 1
        cas_user_logout.send(sender="slo", user=user, session=session, ticket=ticket)
        if rows_only is None:
            session.delete()
        log.slo.info(
            "Single Logout ended a session of %s (ticket %s)",
            user.get_username() or "anonymous",
            log.redact(ticket),
        )
    if rows_only is not None:
        rows_only.objects.using(router.db_for_write(rows_only)).filter(
            session_key__in=list(rows)
        ).delete()
    SessionTicket.objects.for_sessions(rows).delete()
    ProxyGrantingTicket.objects.filter(session_key__in=list(rows)).delete()
    return ended


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
    """Remove mappings and PGTs whose session is gone or expired, in bounded batches."""
    mappings = _clean(SessionTicket, dry_run, batch_size) if include_mappings else 0
    pgts = 0
    if include_pgts:
        pgts = _clean(ProxyGrantingTicket, dry_run, batch_size)
        unclaimed = ProxyGrantingTicket.objects.unclaimed(
            older_than=timezone.now() - UNCLAIMED_PGT_MAX_AGE
        )
        pgts += unclaimed.count() if dry_run else unclaimed.delete()[0]
    return CleanupResult(mappings=mappings, pgts=pgts)


def _clean(model: Any, dry_run: bool, batch_size: int) -> int:
    removed = 0
    for ids, keys in _id_batches(model, batch_size):
        live = live_keys(keys)
        stale = [row_id for row_id, key in zip(ids, keys, strict=True) if key not in live]
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


def live_keys(keys: list[str]) -> set[str]:
    """Those of ``keys`` whose session exists and has not expired.

    Database sessions are checked with one query per batch in the database the session model
    is routed to, which need not be the one holding the mappings.
    """
    store_class = session_store_class()
    db_model = database_session_model(store_class)
    if db_model is not None:
        return set(
            db_model.objects.using(router.db_for_read(db_model))
            .filter(session_key__in=keys, expire_date__gt=timezone.now())
            .values_list("session_key", flat=True)
        )
    from django.contrib.sessions.backends.cache import SessionStore as CacheStore

    if issubclass(store_class, CacheStore):
        from django.core.cache import caches

        prefix = store_class.cache_key_prefix
        found = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + key for key in keys])
        return {key[len(prefix) :] for key in found}
    store = store_class()
    return {key for key in keys if store.exists(key)}
