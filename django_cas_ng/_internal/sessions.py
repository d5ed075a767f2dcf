"""The ticket -> session mapping: record it at login, keep it in step with the session key, end
the sessions of a ticket, clean up.

Works with every server-side session engine; one mapping row per session, looked up through
an index on the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import router, transaction
from django.http import HttpRequest

from ..models import ProxyGrantingTicket, SessionTicket, mapping_key
from ..signals import cas_user_logout
from . import observe
from .session_store import database_session_model, in_cookies, session_store_class

__all__ = [
    "CleanupResult",
    "clean_deleted_sessions",
    "drop_stale_sign_in",
    "end_sessions_for_ticket",
    "end_sessions_for_tickets",
    "follow_session_key",
    "forget_session",
    "get_user_from_session",
    "record_session_ticket",
    "remember_ticket",
    "sign_out",
    "ticket_for_session",
]

#: Session entries remembering the login's ticket and the session key it is mapped under.
TICKET_SESSION_KEY = "_cas_ng_ticket"
MAPPED_KEY_SESSION_KEY = "_cas_ng_mapped_key"
#: Session entry naming the CAS server that signed the session in (several servers only).
SERVER_SESSION_KEY = "_cas_ng_server"


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


def map_login(session: SessionBase, ticket: str, server_url: str | None = None) -> None:
    """Map the ticket a login was opened with to the session's current key, and note that key
    in the session, so the response-time check (``follow_session_key``) has nothing to redo."""
    key = mapping_key(session.session_key or "")
    record_session_ticket(key, ticket, server_url)
    session[MAPPED_KEY_SESSION_KEY] = key
    if server_url is not None:
        session[SERVER_SESSION_KEY] = server_url


def drop_stale_sign_in(request: HttpRequest) -> None:
    """Flush a session still naming a user who no longer loads (deactivated, deleted), with its
    mapping and PGTs, before a sign-in stores its state in it: Django's ``login`` would flush it
    after, losing that state."""
    session = request.session
    if SESSION_KEY in session and not request.user.is_authenticated:
        forget_session(session.session_key)
        session.flush()


def remember_ticket(session: SessionBase, ticket: str) -> None:
    """Note in the session the ticket it was opened with, so its mapping can follow a new key."""
    session[TICKET_SESSION_KEY] = ticket
    session.pop(MAPPED_KEY_SESSION_KEY, None)


def session_key_moved(request: HttpRequest) -> bool:
    """True when the session holds a CAS login whose mapping names another (older) key.

    Reads only a session already loaded and modified in this request, so it never queries.
    """
    session: SessionBase | None = getattr(request, "session", None)
    if session is None or not session.modified or not session.session_key:
        return False
    key = mapping_key(session.session_key)
    return bool(session.get(TICKET_SESSION_KEY)) and session.get(MAPPED_KEY_SESSION_KEY) != key


def follow_session_key(request: HttpRequest) -> None:
    """Re-record the mapping when the session key changed since it was recorded.

    ``cycle_key()`` (called by ``login`` and ``update_session_auth_hash``) gives the session a
    new key; Single Logout must find the new one. Costs nothing unless the session changed.
    """
    if not session_key_moved(request):
        return
    session: SessionBase = request.session
    key = mapping_key(session.session_key or "")
    old_key = session.get(MAPPED_KEY_SESSION_KEY)
    # The session's own record of its server, should the old mapping row be gone: a row
    # without a server would be ended by any server's Single Logout.
    server = session.get(SERVER_SESSION_KEY) or server_for_session(old_key)
    record_session_ticket(key, session[TICKET_SESSION_KEY], server)
    if old_key:
        SessionTicket.objects.filter(session_key=old_key).delete()
        ProxyGrantingTicket.objects.filter(session_key=old_key).update(session_key=key)
    session[MAPPED_KEY_SESSION_KEY] = key


def ticket_for_session(session_key: str | None) -> str | None:
    """The ticket a session was opened with, if it has a mapping."""
    if not session_key:
        return None
    return (
        SessionTicket.objects.filter(session_key=mapping_key(session_key))
        .values_list("ticket", flat=True)
        .first()
    )


def server_for_session(session_key: str | None) -> str | None:
    """The CAS server that issued the session's ticket, when recorded (several servers)."""
    return SessionTicket.objects.server_of(session_key)


def forget_session(session_key: str | None) -> None:
    """Delete the mapping and PGTs of one session (manual logout)."""
    if not session_key:
        return
    key = mapping_key(session_key)
    SessionTicket.objects.filter(session_key=key).delete()
    ProxyGrantingTicket.objects.filter(session_key=key).delete()


def sign_out(request: HttpRequest, sender: str) -> str | None:
    """End the request's session: ``cas_user_logout`` from ``sender``, the ticket mapping and
    PGTs forgotten, the session flushed. The one sign-out of the logout view, the maximum age
    and the re-check; returns the ticket the session was opened with."""
    session = getattr(request, "session", None)
    session_key = session.session_key if session is not None else None
    ticket = ticket_for_session(session_key)
    user = getattr(request, "user", None)
    cas_user_logout.send(sender=sender, user=user, session=session, ticket=ticket)
    forget_session(session_key)
    auth_logout(request)
    return ticket


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
        observe.slo.info(
            "Single Logout for unknown ticket(s) %s: nothing to end",
            ", ".join(observe.redact(ticket) for ticket in tickets),
        )
        return 0
    store_class = session_store_class()
    if in_cookies(store_class):
        observe.slo.warning(
            "Single Logout cannot end the session(s) of ticket(s) %s: SESSION_ENGINE keeps "
            "sessions in signed cookies, so they stay signed in until the cookie expires",
            ", ".join(observe.redact(ticket) for ticket in rows.values()),
        )
        SessionTicket.objects.for_sessions(rows).delete()
        return 0
    with transaction.atomic(using=router.db_for_write(SessionTicket)):
        return _end_sessions(store_class, rows)


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
        observe.slo.info(
            "Single Logout ended a session of %s (ticket %s)",
            user.get_username() or "anonymous",
            observe.redact(ticket),
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
    mappings: int = (
        SessionTicket.objects.remove_ended(dry_run, batch_size) if include_mappings else 0
    )
    pgts: int = ProxyGrantingTicket.objects.remove_ended(dry_run, batch_size) if include_pgts else 0
    return CleanupResult(mappings=mappings, pgts=pgts)
