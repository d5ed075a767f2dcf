"""Proxy granting tickets: receive them on the callback, link them to the session at login, and
exchange them for proxy tickets.

A PGT lets anyone holding it act as the user: it is never logged, and it is deleted with the
session (logout, Single Logout, cleanup of expired sessions and of PGTs nobody claimed).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cas import CASError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone

from . import log
from .client import CASClient, at_server, get_cas_client, parse_proxy_answer
from .exceptions import CASUnavailable, ProxyError
from .models import ProxyGrantingTicket
from .sessions import UNCLAIMED_PGT_MAX_AGE, mapping_key, server_for_session
from .tenancy import request_config
from .tickets import is_well_formed_ticket

__all__ = [
    "claim_pgt",
    "parse_proxy_answer",
    "receive_callback",
    "request_proxy_ticket",
    "retrieve_proxy_ticket",
]

#: Width of the ``pgtiou`` and ``pgt`` columns.
_MAX_TICKET_LENGTH = 255


def receive_callback(request: HttpRequest) -> HttpResponse:
    """Store the ``pgtIou`` -> ``pgtId`` pair the CAS server sends before it answers validation.

    A bare GET is the server's reachability check and gets 200; a half-filled one, or one
    whose values could not be tickets, gets 400. Anyone can call this URL, so nothing is
    stored unless ``CAS_PROXY_CALLBACK`` is set (otherwise no login would ever claim it),
    and each stored pair first removes the unclaimed pairs past their use.
    """
    pgtiou = request.GET.get("pgtIou")
    pgt = request.GET.get("pgtId")
    if not pgtiou and not pgt:
        return _text("ok")
    if not pgtiou or not pgt:
        return _text("pgtIou and pgtId are both required", bad=True)
    if not (_storable(pgtiou) and _storable(pgt)):
        return _text(
            f"pgtIou and pgtId must be tickets: up to {_MAX_TICKET_LENGTH} characters"
            " among A-Z a-z 0-9 . _ ~ + / = : -",
            bad=True,
        )
    if not request_config(request).proxy_callback:
        log.proxy.debug("Ignored a PGT callback: CAS_PROXY_CALLBACK is not set")
        return _text("ok")
    # One DELETE (no signal, no cascade): the table cannot grow without bound.
    ProxyGrantingTicket.objects.unclaimed(
        older_than=timezone.now() - UNCLAIMED_PGT_MAX_AGE
    ).delete()
    # A server that retries the callback sends the same IOU again: keep one unclaimed row per IOU.
    unclaimed = ProxyGrantingTicket.objects.unclaimed(pgtiou)
    if not unclaimed.update(pgt=pgt):
        ProxyGrantingTicket.objects.create(pgtiou=pgtiou, pgt=pgt)
    log.proxy.debug("Stored a PGT for IOU %s", log.redact(pgtiou))
    return _text("ok")


def _storable(value: str) -> bool:
    """A value the CAS server could have issued, and that fits its column."""
    return len(value) <= _MAX_TICKET_LENGTH and is_well_formed_ticket(value)


def _text(message: str, bad: bool = False) -> HttpResponse:
    response_class = HttpResponseBadRequest if bad else HttpResponse
    return response_class(message + "\n", content_type="text/plain")


def claim_pgt(request: HttpRequest, user: Any, session_key: str) -> bool:
    """Link the PGT whose IOU came with the validation answer to this session and user.

    Returns whether a PGT was found. The callback may have been served by another node: the
    shared database is the only meeting point.
    """
    pgtiou = request.session.get("pgtiou")
    if not pgtiou or not request_config(request).proxy_callback:
        return False
    if _claim(pgtiou, user, mapping_key(session_key)):
        return True
    log.proxy.warning(
        "No PGT arrived for IOU %s: the CAS server could not reach CAS_PROXY_CALLBACK",
        log.redact(pgtiou),
    )
    return False


def _claim(pgtiou: str, user: Any, key: str) -> bool:
    """Link the newest unclaimed PGT of ``pgtiou`` to (user, session); True if one is linked.

    Two requests of one session may claim at once (the callback came late and both want a
    proxy ticket). The unclaimed rows are locked, so the second waits and then finds them
    claimed; on a database without row locks, the claimed row is never deleted and the
    update only takes a row still unclaimed. Either way the loser reports the winner's PGT.
    """
    unclaimed = ProxyGrantingTicket.objects.unclaimed(pgtiou)
    session_pgts = ProxyGrantingTicket.objects.filter(user=user, session_key=key)
    with transaction.atomic():
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


def retrieve_proxy_ticket(request: HttpRequest, service: str) -> str:
    """A proxy ticket for ``service`` on behalf of this session's user, or :class:`ProxyError`.

    ``ProxyError.args`` are ``(code, message)``: the CAS error code (``INVALID_TICKET``,
    ``UNAUTHORIZED_SERVICE``, ...) or ``CAS_UNAVAILABLE`` when the server cannot be asked.
    """
    pgt = _session_pgt(request)
    if not pgt:
        raise ProxyError("INVALID_TICKET", "No proxy ticket found for this HttpRequest object")
    # The PGT is only good at the server that issued the session's ticket.
    issuer = server_for_session(request.session.session_key)
    client = at_server(get_cas_client(service_url=service, request=request), issuer)
    # The chain is cut (``from None``): the exceptions below may quote the /proxy URL, whose
    # query holds the PGT, and error trackers print every chained exception.
    try:
        ticket = request_proxy_ticket(client, pgt)
    except ProxyError as error:
        refusal = ProxyError(*_masked(error.args, pgt))
        code = refusal.args[0] if refusal.args else "-"
        log.proxy.warning("CAS refused a proxy ticket for %s: %s", service, code)
        raise refusal from None
    except CASError as error:
        raise ProxyError(*_masked(error.args, pgt)) from None
    except CASUnavailable as error:
        raise ProxyError("CAS_UNAVAILABLE", _without(str(error), pgt)) from None
    except Exception as error:  # 5.1 wraps every failure in ProxyError
        raise ProxyError(_without(str(error), pgt)) from None
    log.proxy.info("Obtained proxy ticket %s for %s", log.redact(ticket), service)
    return ticket


def _session_pgt(request: HttpRequest) -> str | None:
    """The PGT linked to this request's session and user, claiming one that came late."""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or not user.is_authenticated or session is None or not session.session_key:
        return None
    key = mapping_key(session.session_key)
    pgts = ProxyGrantingTicket.objects.filter(user=user, session_key=key).values_list(
        "pgt", flat=True
    )
    pgt: str | None = pgts.first()
    pgtiou = session.get("pgtiou")
    proxying = request_config(request).proxy_callback
    if pgt is None and pgtiou and proxying and _claim(pgtiou, user, key):
        # The callback reached us after the login had looked for it (a slow node or server).
        pgt = pgts.first()
    return pgt


def request_proxy_ticket(client: CASClient, pgt: str) -> str:
    """Exchange ``pgt`` for a proxy ticket for ``client.service_url``.

    The client's ``get_proxy_ticket`` does the work: a site changes how proxy tickets are
    obtained by overriding that method on a subclass of the client classes of
    :mod:`django_cas_ng.client`.
    """
    return str(client.get_proxy_ticket(pgt))


def _masked(args: tuple[Any, ...], pgt: str) -> list[str]:
    """Exception arguments as strings with the PGT masked (a server may echo it back)."""
    return [_without(str(arg), pgt) for arg in args]


def _without(message: str, pgt: str) -> str:
    """``message`` with the PGT masked (transport errors quote the URL, which carries it)."""
    for form in {pgt, quote(pgt, safe=""), quote(pgt)}:
        message = message.replace(form, log.redact(pgt))
    return message
