"""Read-only admin for the ticket -> session mappings and PGTs, with one action: end sessions.

Nothing here shows a whole ticket, PGT or session key: each is a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ._internal import observe
from ._internal.session_store import session_store_class
from ._internal.sessions import forget_session, get_user_from_session
from .models import CASIdentity, ProxyGrantingTicket, SessionTicket
from .signals import cas_user_logout

__all__ = [
    "CASIdentityAdmin",
    "ProxyGrantingTicketAdmin",
    "SessionTicketAdmin",
    "end_session",
]

#: ``cas_user_logout`` sender of the action: the site ended the session, CAS did not ask.
LOGOUT_SENDER = "manual"
#: Fields holding credentials: no query-string filter, search or ordering may reach them, or
#: counting the rows a ``__startswith`` filter leaves would read a secret one character at a time.
SECRET_FIELDS = frozenset({"session_key", "ticket", "ticket_digest", "pgt", "pgtiou"})


@dataclass(frozen=True)
class SessionState:
    """What the session engine can tell about one session key."""

    alive: bool
    user: Any
    expires: datetime | None
    store: SessionBase | None = None


def session_state(session_key: str | None) -> SessionState:
    """Load a session by key: alive or not, its user and (where the engine keeps it) its expiry."""
    if not session_key:
        return SessionState(False, AnonymousUser(), None)
    store = session_store_class()(session_key=session_key)
    try:
        alive = bool(list(store.keys()))
    except Exception:  # a broken or foreign session payload is simply not a live session
        return SessionState(False, AnonymousUser(), None)
    if not alive:
        return SessionState(False, AnonymousUser(), None)
    return SessionState(True, get_user_from_session(store), _expiry(store, session_key), store)


def _expiry(store: Any, session_key: str) -> datetime | None:
    """The stored expiry: the database row's, or an explicit one kept in the session."""
    from ._internal.session_store import database_session_model

    model = database_session_model(type(store))
    if model is not None:
        return (
            model.objects.filter(session_key=session_key)
            .values_list("expire_date", flat=True)
            .first()
        )
    if store.get("_session_expiry") is not None:
        return store.get_expiry_date()
    return None


def redact_key(session_key: str | None) -> str:
    """The first characters of a session key: enough to tell rows apart, not to hijack."""
    return f"{session_key[:6]}…" if session_key else "-"


def end_session(session_key: str | None, ticket: str | None) -> bool:
    """End one session as a deliberate logout by this site; True if it was still alive."""
    if not session_key:
        return False
    state = session_state(session_key)
    if state.alive and state.store is not None:
        cas_user_logout.send(
            sender=LOGOUT_SENDER, user=state.user, session=state.store, ticket=ticket
        )
        state.store.delete()
        observe.logout.info(
            "An administrator ended a CAS session of %s (ticket %s)",
            state.user.get_username() or "anonymous",
            observe.redact(ticket),
        )
    forget_session(session_key)
    return state.alive


class _ReadOnlyCASAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No add, change or delete; the one action is allowed to holders of the delete permission."""

    actions = ["end_cas_sessions"]
    list_display_links = None
    search_fields = ()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Refuse every lookup on a secret field, as ``UserAdmin`` refuses ``password``."""
        if lookup.split(LOOKUP_SEP, 1)[0] in SECRET_FIELDS:
            return False
        return bool(super().lookup_allowed(lookup, value, request))  # type: ignore[arg-type]

    def get_search_fields(self, request: HttpRequest | None) -> tuple[str, ...]:
        fields = super().get_search_fields(request)  # type: ignore[arg-type]
        return tuple(f for f in fields if f.lstrip("^=@").split(LOOKUP_SEP)[0] not in SECRET_FIELDS)

    def get_sortable_by(self, request: HttpRequest | None) -> tuple[Any, ...]:
        columns = super().get_sortable_by(request)  # type: ignore[arg-type]
        return tuple(name for name in columns if name not in SECRET_FIELDS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_end_sessions_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return bool(request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"))

    def _state(self, obj: Any) -> SessionState:
        cached: SessionState | None = getattr(obj, "_cas_session_state", None)
        if cached is None:
            cached = session_state(obj.session_key)
            obj._cas_session_state = cached
        return cached

    @admin.display(description=_("session"))
    def session(self, obj: Any) -> str:
        return redact_key(obj.session_key)

    @admin.display(description=_("session alive"), boolean=True)
    def alive(self, obj: Any) -> bool:
        return self._state(obj).alive

    @admin.display(description=_("session expires"))
    def expires(self, obj: Any) -> datetime | None:
        return self._state(obj).expires

    def ticket_of(self, obj: Any) -> str | None:
        raise NotImplementedError

    @admin.action(
        description=_("End the selected users' CAS sessions"), permissions=["end_sessions"]
    )
    def end_cas_sessions(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ended = 0
        for obj in list(queryset):
            ended += end_session(obj.session_key, self.ticket_of(obj))
        self.message_user(
            request,
            ngettext("Ended %d CAS session.", "Ended %d CAS sessions.", ended) % ended,
            messages.SUCCESS,
        )


class SessionTicketAdmin(_ReadOnlyCASAdmin):
    """Who signed in with which ticket, and whether that session still lives."""

    list_display = ("user", "redacted_ticket", "session", "expires", "alive")
    fields = readonly_fields = list_display

    @admin.display(description=_("user"))
    def user(self, obj: SessionTicket) -> str:
        state = self._state(obj)
        return state.user.get_username() if state.alive else "-"

    @admin.display(description=_("service ticket"))
    def redacted_ticket(self, obj: SessionTicket) -> str:
        return observe.redact(obj.ticket)

    def ticket_of(self, obj: Any) -> str | None:
        return obj.ticket


class ProxyGrantingTicketAdmin(_ReadOnlyCASAdmin):
    """The PGTs held for signed-in users: for whom, since when, for which session."""

    list_display = ("user", "date", "redacted_pgt", "session", "expires", "alive")
    fields = readonly_fields = list_display
    list_select_related = ["user"]

    @admin.display(description=_("proxy-granting ticket"))
    def redacted_pgt(self, obj: ProxyGrantingTicket) -> str:
        return observe.redact(obj.pgt)

    def ticket_of(self, obj: Any) -> str | None:
        if not obj.session_key:
            return None
        return (
            SessionTicket.objects.filter(session_key=obj.session_key)
            .values_list("ticket", flat=True)
            .first()
        )


class CASIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which (server, id) signs in which user; add a row to link a second server's name."""

    list_display = ("server_url", "uid", "name", "user", "linked_by_name", "created")
    list_filter = ("server_url",)
    search_fields = ("uid", "name")
    raw_id_fields = ("user",)
    list_select_related = ["user"]

    # A row lets its (server, id) sign in as the user: writing one is changing that user.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_change_users(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_change_users(request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Only a superuser links an identity to a superuser (it would sign in as one)."""
        if getattr(obj.user, "is_superuser", False) and not request.user.is_superuser:
            observe.login.warning(
                "Refused %s linking a CAS identity to superuser %s: only a superuser may",
                request.user.get_username(),
                obj.user.get_username(),
            )
            raise PermissionDenied
        super().save_model(request, obj, form, change)


def may_change_users(request: HttpRequest) -> bool:
    """Whether the admin user holds the user model's change permission."""
    opts = get_user_model()._meta
    return bool(
        request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")
    )


# Importable without the admin app (the default site needs it), e.g. by tools that walk modules.
if apps.is_installed("django.contrib.admin"):
    admin.site.register(SessionTicket, SessionTicketAdmin)
    admin.site.register(ProxyGrantingTicket, ProxyGrantingTicketAdmin)
    admin.site.register(CASIdentity, CASIdentityAdmin)
