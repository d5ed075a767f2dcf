"""Proxy tickets both ways. Out: receive PGTs on the callback, link them to the session at
login, exchange them for proxy tickets. In: accept the tickets other services present.

A PGT lets anyone holding it act as the user: it is never logged, and it is deleted with the
session (logout, Single Logout, cleanup of expired sessions and of PGTs nobody claimed).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from ._internal import observe
from ._internal.presented import (
    AcceptedTicket,
    authenticate_proxy_ticket,
    chain_is_allowed,
    ticket_from_request,
)
from ._internal.tenancy import request_config
from ._internal.tickets import is_well_formed_ticket
from .models import ProxyGrantingTicket, mapping_key

__all__ = [
    "AcceptedTicket",
    "authenticate_proxy_ticket",
    "chain_is_allowed",
    "claim_pgt",
    "receive_callback",
    "retrieve_proxy_ticket",
    "ticket_from_request",
]

#: Width of the ``pgtiou`` and ``pgt`` columns.
_MAX_TICKET_LENGTH = 255


@observe.hide_secrets
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
        observe.proxy.debug("Ignored a PGT callback: CAS_PROXY_CALLBACK is not set")
        return _text("ok")
    # One bounded, indexed DELETE (no signal, no cascade): the table cannot grow without
    # bound, and a flood's backlog makes no callback slow.
    ProxyGrantingTicket.objects.sweep_expired()
    # A server that retries the callback sends the same IOU again: keep one unclaimed row per IOU.
    unclaimed = ProxyGrantingTicket.objects.unclaimed(pgtiou)
    if not unclaimed.update(pgt=pgt):
        ProxyGrantingTicket.objects.create(pgtiou=pgtiou, pgt=pgt)
    observe.proxy.debug("Stored a PGT for IOU %s", observe.redact(pgtiou))
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
    observe.proxy.warning(
        "No PGT arrived for IOU %s: the CAS server could not reach CAS_PROXY_CALLBACK",
        observe.redact(pgtiou),
    )
    return False


def _claim(pgtiou: str, user: Any, key: str) -> bool:
    """Link the newest unclaimed PGT of ``pgtiou`` to (user, session); True if one is linked."""
    return ProxyGrantingTicket.objects.claim(pgtiou, user, key)


def retrieve_proxy_ticket(request: HttpRequest, service: str) -> str:
    """A proxy ticket for ``service`` on behalf of this session's user, or
    :class:`~django_cas_ng.exceptions.ProxyError`.

    ``ProxyError.args`` are ``(code, message)``: the CAS error code (``INVALID_TICKET``,
    ``UNAUTHORIZED_SERVICE``, ...) or ``CAS_UNAVAILABLE`` when the server cannot be asked.
    The same path as ``ProxyGrantingTicket.retrieve_pt``.
    """
    return ProxyGrantingTicket.objects.proxy_ticket(request, service)
