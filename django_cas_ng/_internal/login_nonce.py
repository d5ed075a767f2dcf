"""The optional login nonce (``CAS_LOGIN_NONCE``): the service URL sent to CAS carries a
one-time value kept in the browser's session, and a returning ticket is validated only with a
value this session holds. A ticket link minted in another browser (login CSRF: the victim
would be signed in as the attacker) is refused without asking the CAS server.
"""

from __future__ import annotations

import re
import secrets

from django.http import HttpRequest

#: Query parameter of the service URL carrying the nonce; it sorts after ``next`` and
#: ``gatewayed``, so a CAS server that sorts the query (django-cas-server) keeps it last.
NONCE_PARAM = "nonce"
#: Session key of the nonces sent to CAS and not used yet, oldest first.
SESSION_KEY = "_cas_login_nonces"
#: Outstanding nonces a session keeps (sign-ins started in several tabs); older ones expire.
MAX_OUTSTANDING = 8

_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def with_nonce(service_url: str, nonce: str) -> str:
    """``service_url`` with the nonce parameter appended (always last, so both ends agree)."""
    return f"{service_url}{'&' if '?' in service_url else '?'}{NONCE_PARAM}={nonce}"


def issue(request: HttpRequest, service_url: str) -> str:
    """``service_url`` with a fresh nonce, which the session now holds (at most
    :data:`MAX_OUTSTANDING`, the oldest dropped)."""
    nonce = secrets.token_urlsafe(16)
    outstanding = [n for n in request.session.get(SESSION_KEY) or [] if isinstance(n, str)]
    request.session[SESSION_KEY] = [*outstanding, nonce][-MAX_OUTSTANDING:]
    return with_nonce(service_url, nonce)


def claim(request: HttpRequest) -> str | None:
    """The request's nonce if this session issued it, now used up; else None."""
    nonce = request.GET.get(NONCE_PARAM, "")
    if not _NONCE_RE.fullmatch(nonce):
        return None
    outstanding = request.session.get(SESSION_KEY) or []
    held = [n for n in outstanding if isinstance(n, str) and secrets.compare_digest(n, nonce)]
    if not held:
        return None
    request.session[SESSION_KEY] = [n for n in outstanding if n != nonce]
    return nonce
