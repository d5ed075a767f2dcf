"""Where a sign-in goes before CAS answers: the ``CAS_GATEWAY`` attempt and what the session
remembers of it, and the optional login nonce (``CAS_LOGIN_NONCE``).

Gateway: the session's state goes absent -> ``SENT`` (went to CAS with ``gateway=true``) ->
``RETURNED`` (came back without a ticket: no single sign-on session); the next explicit
sign-in shows the CAS form and starts over. The service URL of an attempt carries a mark, so
its return is known from the URL alone, even when the browser keeps no session cookie.

Nonce: the service URL sent to CAS carries a one-time value kept in the browser's session, and
a returning ticket is validated only with a value this session holds. A ticket link minted in
another browser (login CSRF: the victim would be signed in as the attacker) is refused without
asking the CAS server.
"""

from __future__ import annotations

import re
import secrets
from enum import Enum

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from ..conf import cas_settings

__all__ = [
    "GATEWAY_MARK",
    "GATEWAY_SESSION_KEY",
    "MAX_NONCES",
    "NONCE_PARAM",
    "NONCE_SESSION_KEY",
    "Step",
    "claim_nonce",
    "forget_gateway",
    "is_returning",
    "issue_nonce",
    "marked",
    "next_step",
    "with_mark",
    "with_nonce",
]

# --- The gateway attempt ---------------------------------------------------------------------
#: Session key of the state.
GATEWAY_SESSION_KEY = "_cas_gateway"
#: Query parameter marking a service URL sent with ``gateway=true``.
GATEWAY_MARK = "gatewayed"
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
    return f"{service_url}{'&' if '?' in service_url else '?'}{GATEWAY_MARK}=1"


def marked(request: HttpRequest) -> bool:
    """True when this request is the return from an attempt (its URL carries the mark)."""
    return bool(cas_settings.gateway) and request.GET.get(GATEWAY_MARK) == "1"


def is_returning(request: HttpRequest) -> bool:
    """True when this request comes back from an attempt, by its URL or by the session."""
    return marked(request) or (
        bool(cas_settings.gateway) and request.session.get(GATEWAY_SESSION_KEY) == SENT
    )


def next_step(request: HttpRequest) -> Step:
    """Decide, and record in the session, where a sign-in without a ticket goes."""
    if not cas_settings.gateway:
        return Step.FORM
    state = request.session.get(GATEWAY_SESSION_KEY)
    if state == SENT or marked(request):
        # Without a cookie the mark alone ends the attempt, and no session is written for it.
        if state == SENT:
            request.session[GATEWAY_SESSION_KEY] = RETURNED
        return Step.LAND
    if state is None:
        request.session[GATEWAY_SESSION_KEY] = SENT
        return Step.TRY
    del request.session[GATEWAY_SESSION_KEY]
    return Step.FORM


def forget_gateway(session: SessionBase) -> None:
    """Drop the state (after a sign-in)."""
    session.pop(GATEWAY_SESSION_KEY, None)


# --- The login nonce -------------------------------------------------------------------------
#: Query parameter of the service URL carrying the nonce; it sorts after ``next`` and
#: ``gatewayed``, so a CAS server that sorts the query (django-cas-server) keeps it last.
NONCE_PARAM = "nonce"
#: Session key of the nonces sent to CAS and not used yet, oldest first.
NONCE_SESSION_KEY = "_cas_login_nonces"
#: Outstanding nonces a session keeps (sign-ins started in several tabs); older ones expire.
MAX_NONCES = 8

_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def with_nonce(service_url: str, nonce: str) -> str:
    """``service_url`` with the nonce parameter appended (always last, so both ends agree)."""
    return f"{service_url}{'&' if '?' in service_url else '?'}{NONCE_PARAM}={nonce}"


def issue_nonce(request: HttpRequest, service_url: str) -> str:
    """``service_url`` with a fresh nonce, which the session now holds (at most
    :data:`MAX_NONCES`, the oldest dropped)."""
    nonce = secrets.token_urlsafe(16)
    outstanding = [n for n in request.session.get(NONCE_SESSION_KEY) or [] if isinstance(n, str)]
    request.session[NONCE_SESSION_KEY] = [*outstanding, nonce][-MAX_NONCES:]
    return with_nonce(service_url, nonce)


def claim_nonce(request: HttpRequest) -> str | None:
    """The request's nonce if this session issued it, now used up; else None."""
    nonce = request.GET.get(NONCE_PARAM, "")
    if not _NONCE_RE.fullmatch(nonce):
        return None
    outstanding = request.session.get(NONCE_SESSION_KEY) or []
    held = [n for n in outstanding if isinstance(n, str) and secrets.compare_digest(n, nonce)]
    if not held:
        return None
    request.session[NONCE_SESSION_KEY] = [n for n in outstanding if n != nonce]
    return nonce
