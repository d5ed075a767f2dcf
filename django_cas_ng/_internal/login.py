"""``CAS_GATEWAY``: one attempt to sign in without a login form, and what the session
remembers of it.

The session's state goes: absent -> ``SENT`` (went to CAS with ``gateway=true``) ->
``RETURNED`` (came back without a ticket: no single sign-on session); the next explicit
sign-in shows the CAS form and starts over. The service URL of an attempt carries a mark, so
its return is known from the URL alone, even when the browser keeps no session cookie.
"""

from __future__ import annotations

from enum import Enum

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from ..conf import cas_settings

__all__ = [
    "MARK",
    "SESSION_KEY",
    "Step",
    "forget",
    "is_returning",
    "marked",
    "next_step",
    "with_mark",
]

#: Session key of the state.
SESSION_KEY = "_cas_gateway"
#: Query parameter marking a service URL sent with ``gateway=true``.
MARK = "gatewayed"
SENT = "sent"
RETURNED = "returned"


class Step(Enum):
    """Where the browser goes instead of the plain CAS login form, if anywhere."""

    #: To CAS with ``gateway=true`` and the marked service URL.
    TRY = "try"
    #: To the CAS login form, as without ``CAS_GATEWAY``.
    FORM = "form"
    #: Back without a ticket: straight to the landing page, signed out.
    LAND = "land"


def with_mark(service_url: str) -> str:
    """``service_url`` with the mark, so its return is known even without a session."""
    return f"{service_url}{'&' if '?' in service_url else '?'}{MARK}=1"


def marked(request: HttpRequest) -> bool:
    """True when this request is the return from an attempt (its URL carries the mark)."""
    return bool(cas_settings.gateway) and request.GET.get(MARK) == "1"


def is_returning(request: HttpRequest) -> bool:
    """True when this request comes back from an attempt, by its URL or by the session."""
    return marked(request) or (
        bool(cas_settings.gateway) and request.session.get(SESSION_KEY) == SENT
    )


def next_step(request: HttpRequest) -> Step:
    """Decide, and record in the session, where a sign-in without a ticket goes."""
    if not cas_settings.gateway:
        return Step.FORM
    state = request.session.get(SESSION_KEY)
    if state == SENT or marked(request):
        # Without a cookie the mark alone ends the attempt, and no session is written for it.
        if state == SENT:
            request.session[SESSION_KEY] = RETURNED
        return Step.LAND
    if state is None:
        request.session[SESSION_KEY] = SENT
        return Step.TRY
    del request.session[SESSION_KEY]
    return Step.FORM


def forget(session: SessionBase) -> None:
    """Drop the state (after a sign-in)."""
    session.pop(SESSION_KEY, None)
